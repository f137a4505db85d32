"""Pydantic models of the Parsec v1 wire contract: the single definition of what pmrouter sends and
accepts. FastAPI's OpenAPI document is generated from these."""
