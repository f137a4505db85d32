"""The app factory every endpoint group uses (and the local stack, which mounts all groups)."""
from __future__ import annotations

import logging
import time
import uuid
from typing import Iterable

from fastapi import APIRouter, FastAPI, Request

from .errors import install_error_handlers

log = logging.getLogger("pmrouter.access")

API_PREFIX = "/api/v1"


def create_app(routers: Iterable[APIRouter], *, title: str = "pmrouter") -> FastAPI:
    app = FastAPI(
        title=title,
        version="1.0.0",
        description="Unified prediction-market trading API, wire-compatible with Parsec API v1.",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)

    @app.middleware("http")
    async def correlation(request: Request, call_next):
        # A correlation id per request: taken from the caller or API Gateway, else new.
        rid = request.headers.get("x-request-id") or request.headers.get("x-amzn-trace-id") or uuid.uuid4().hex
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["x-request-id"] = rid
        log.info("request", extra={"request_id": rid, "method": request.method, "path": request.url.path,
                                   "status": response.status_code,
                                   "ms": round((time.perf_counter() - start) * 1000, 2)})
        return response

    return app
