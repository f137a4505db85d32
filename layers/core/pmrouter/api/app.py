"""The app factory every endpoint group uses (and the local stack, which mounts all groups)."""
from __future__ import annotations

import logging
import time
import uuid
from typing import Any, Awaitable, Callable, Iterable

from fastapi import APIRouter, FastAPI

from .errors import install_error_handlers

log = logging.getLogger("pmrouter.access")

API_PREFIX = "/api/v1"
MAX_REQUEST_ID = 128

Message = dict[str, Any]


class RequestContext:
    """A correlation id on every response (the caller's, API Gateway's trace id, or a new one), the
    server's own time as `Server-Timing`, and one access-log line per request.

    Plain ASGI rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs each
    request in an extra task group with memory streams, which costs more than the rest of a cached
    market-data request."""

    def __init__(self, app: Callable[..., Awaitable[None]]):
        self.app = app

    async def __call__(self, scope: Message, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        rid = (headers.get(b"x-request-id") or headers.get(b"x-amzn-trace-id") or uuid.uuid4().hex.encode())
        rid = rid[:MAX_REQUEST_ID]
        # Routes that audit (key export) name the request: `request.state.request_id`.
        scope.setdefault("state", {})["request_id"] = rid.decode("latin-1")
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # The whole answer is computed before its first byte is sent, so this is the
                # server's time for the request (the standard Server-Timing header).
                took = f"app;dur={(time.perf_counter() - start) * 1000:.2f}".encode()
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid), (b"server-timing", took)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info("request", extra={"request_id": rid.decode("latin-1"), "method": scope.get("method"),
                                           "path": scope.get("path"), "status": status,
                                           "ms": round((time.perf_counter() - start) * 1000, 2)})


def create_app(routers: Iterable[APIRouter], *, title: str = "pmrouter",
               root_routers: Iterable[APIRouter] = ()) -> FastAPI:
    """`routers` serve under /api/v1; `root_routers` at the root (the `/ws` WebSocket)."""
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
    for router in root_routers:
        app.include_router(router)
    app.add_middleware(RequestContext)
    return app
