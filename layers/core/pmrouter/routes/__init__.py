"""FastAPI routers, one module per endpoint family. Functions group them (see functions/*/app.py)."""
