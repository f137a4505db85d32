"""The REST API as one app: the source of every tool's input schema (its OpenAPI document, which
FastAPI derives from the contract models and the routes' parameters) and, hosted, the routes the
tools call in-process."""
from __future__ import annotations

import functools
import importlib
from typing import Any

# Every HTTP endpoint group's route modules (the functions' ROUTERS, all together).
ROUTE_MODULES = ("exchanges", "catalog", "marketdata", "orders", "account", "usage", "activity", "builder", "ctf")


def build_rest_app():
    from ..api.app import create_app

    routers = [importlib.import_module(f"pmrouter.routes.{m}").router for m in ROUTE_MODULES]
    return create_app(routers, title="pmrouter (in-process for MCP)")


@functools.lru_cache(maxsize=1)
def rest_app():
    return build_rest_app()


@functools.lru_cache(maxsize=1)
def openapi() -> dict[str, Any]:
    return rest_app().openapi()
