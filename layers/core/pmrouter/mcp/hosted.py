"""The hosted MCP endpoint, `POST /mcp` (Streamable HTTP, stateless, JSON answers), so that it
runs on Lambda behind API Gateway like every other route.

Each request: the caller's X-API-Key is authenticated here (401 with the contract's body
otherwise); a protocol message that calls no API (initialize, tools/list, ping) is admitted by the
key's rate limit as one request, and a `tools/call` is admitted and metered per API call it makes,
because each of those goes through the REST routes in-process with the same key (one that made
none is charged one request afterwards). Then a fresh, stateless MCP transport answers the message:
no session outlives the request."""
from __future__ import annotations

import json
import os
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response

MCP_PATH = "/mcp"


def _methods(body: bytes) -> set[str]:
    try:
        msg = json.loads(body)
    except ValueError:
        return set()
    msgs = msg if isinstance(msg, list) else [msg]
    return {m.get("method") for m in msgs if isinstance(m, dict) and isinstance(m.get("method"), str)}


def _admit(response: Response, api_key: str | None, body: bytes) -> bool:
    """Authenticate always. Take a rate-limit token now unless the message is only tool calls, whose
    API calls each take their own as the same REST calls would; True when the token is still owed
    (charged after the call if the tools made no API call, so no message is ever free)."""
    from ..api.auth import require_principal
    from ..api.errors import Unauthorized
    from ..auth.apikeys import authenticate

    methods = _methods(body)
    if methods and methods <= {"tools/call"}:
        if not api_key:
            raise Unauthorized("missing X-API-Key header")
        if authenticate(api_key) is None:
            raise Unauthorized("invalid API key")
        return True
    require_principal(response, api_key)
    return False


async def _run_asgi(app, scope: dict[str, Any], body: bytes) -> Response:
    """Drive the MCP transport (an ASGI app) for one buffered request and collect its answer."""
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status, headers, chunks = 500, [], []

    async def send(message):
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], message.get("headers", [])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    keep = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers
            if k.lower() not in (b"content-length", b"transfer-encoding")}
    return Response(b"".join(chunks), status_code=status, headers=keep)


def _ws_url(request: Request) -> str | None:
    """Where the stream tools find `/ws`: PMROUTER_WS_URL (the stack's WebSocket API), else this
    server's own port, as the local stack serves both; a Lambda without it polls the REST book."""
    url = os.environ.get("PMROUTER_WS_URL")
    if url or os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return url or None
    from .stdio import ws_url_for

    return ws_url_for(str(request.base_url))


def make_router(rest_app_factory) -> APIRouter:
    """`rest_app_factory()` gives the app whose routes the tools call (all REST groups)."""
    router = APIRouter(tags=["mcp"])

    @router.post(MCP_PATH, summary="MCP (Streamable HTTP, stateless)", response_class=Response)
    async def mcp_endpoint(request: Request, response: Response,
                           x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None) -> Response:
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

        from ..api.auth import require_principal
        from .api import in_process
        from .server import build_server
        from .tools import Context, allow_key_export_from_env

        body = await request.body()
        owed = _admit(response, x_api_key, body)
        api = in_process(rest_app_factory(), x_api_key or "", request.headers.get("x-request-id"))
        ctx = Context(api, allow_key_export=allow_key_export_from_env(), api_key=x_api_key or "",
                      ws_url=_ws_url(request))
        manager = StreamableHTTPSessionManager(app=build_server(lambda: ctx), stateless=True, json_response=True)
        try:
            async with manager.run():
                answer = await _run_asgi(manager.handle_request, dict(request.scope), body)
        finally:
            await api.aclose()
        if owed and api.calls == 0:  # e.g. an unknown tool or stream.connect: one request, like any other
            require_principal(response, x_api_key)
        for k, v in response.headers.items():  # the rate-limit headers of the admission
            if k.startswith("x-"):
                answer.headers[k] = v
        return answer

    return router
