"""`pmrouter mcp`: the MCP server on stdin/stdout, calling the deployment named by
PMROUTER_API_URL with the key in PMROUTER_API_KEY (what Parsec's `parsec-mcp serve` does)."""
from __future__ import annotations

import os
import sys

import anyio

from .api import over_http
from .tools import Context, allow_key_export_from_env

DEFAULT_URL = "http://127.0.0.1:8000"


def ws_url_for(base_url: str) -> str:
    """`make run` serves `/ws` on the API's port; a deployment whose WebSocket API lives elsewhere
    sets PMROUTER_WS_URL."""
    base = base_url.rstrip("/")
    return ("wss://" + base[len("https://"):] if base.startswith("https://")
            else "ws://" + base.removeprefix("http://")) + "/ws"


async def serve(base_url: str, api_key: str) -> None:
    from mcp.server.stdio import stdio_server

    from .server import build_server

    api = over_http(base_url, api_key)
    ctx = Context(api, allow_key_export=allow_key_export_from_env(), api_key=api_key,
                  ws_url=os.environ.get("PMROUTER_WS_URL") or ws_url_for(base_url))
    server = build_server(lambda: ctx)
    try:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
    finally:
        await api.aclose()


def main() -> int:
    # Parsec's variable names work too, so a parsec-mcp configuration carries over unchanged.
    key = (os.environ.get("PMROUTER_API_KEY") or os.environ.get("PARSEC_API_KEY") or "").strip()
    if not key:
        print("pmrouter mcp: set PMROUTER_API_KEY (and PMROUTER_API_URL, default " + DEFAULT_URL + ")", file=sys.stderr)
        return 2
    url = os.environ.get("PMROUTER_API_URL") or os.environ.get("PARSEC_API_BASE_URL") or DEFAULT_URL
    anyio.run(serve, url, key)
    return 0
