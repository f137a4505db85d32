"""FastAPI pieces every endpoint group shares: app factory, auth dependency, error mapping."""
