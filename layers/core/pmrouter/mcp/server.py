"""One MCP server definition for both transports: the tool list (names, schemas, annotations) and
the dispatcher. What differs per transport is only how a call reaches the API (`Context.api`)."""
from __future__ import annotations

import functools
import json
import logging
from typing import Any, Callable

import mcp.types as types
from mcp.server.lowlevel import Server

from .tools import Context, Result, ToolDef, all_tools

log = logging.getLogger("pmrouter.mcp")

SERVER_NAME = "pmrouter"
INSTRUCTIONS = (
    "pmrouter: one API for Polymarket, Kalshi, Limitless, Opinion and Predict.fun. Start with "
    "parsec.market.find_market, look closer with parsec.market.get_market_snapshot, and always run "
    "parsec.trade.preview_order before parsec.trade.create_order. Reuse an order's idempotency_key on any "
    "retry. Prices are probabilities between 0 and 1; sizes are contracts.")


def annotations(t: ToolDef) -> types.ToolAnnotations:
    # MCP's defaults assume the worst (destructive unless said otherwise), so every hint is explicit.
    return types.ToolAnnotations(
        title=t.name, read_only_hint=t.effect == "read", destructive_hint=t.effect == "destructive",
        idempotent_hint=t.effect == "read" or t.idempotent, open_world_hint=True)


@functools.lru_cache(maxsize=1)
def tool_list() -> tuple[types.Tool, ...]:
    return tuple(types.Tool(name=t.name, description=t.description, input_schema=t.schema(),
                            annotations=annotations(t)) for t in all_tools().values())


@functools.lru_cache(maxsize=1)
def _schemas() -> dict[str, dict[str, Any]]:
    return {t.name: t.input_schema for t in tool_list()}


def to_call_result(result: Result) -> types.CallToolResult:
    text = json.dumps(result.body, default=str, separators=(",", ":"))
    content = [types.TextContent(type="text", text=text)]
    content += [types.TextContent(type="text", text=n) for n in result.notes]
    return types.CallToolResult(
        content=content, is_error=result.is_error,
        structured_content=result.body if isinstance(result.body, dict) else None, meta=result.meta)


async def dispatch(ctx: Context, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
    tool = all_tools().get(name)
    if tool is None:
        return to_call_result(Result({"error": f"unknown tool {name}", "code": "not_found", "retryable": False},
                                     is_error=True))
    try:
        result = await tool.run(ctx, dict(arguments or {}))
    except Exception:  # a tool's own bug: the agent gets the contract's 500 body, never a traceback
        log.exception("tool %s failed", name)
        result = Result({"error": "internal error", "code": "internal_error", "retryable": True}, is_error=True)
    return to_call_result(result)


def build_server(context: Callable[[], Context]) -> Server:
    """`context()` gives the Context of the connection (stdio) or of this request (hosted)."""

    async def list_tools(_ctx, _params) -> types.ListToolsResult:
        return types.ListToolsResult(tools=list(tool_list()))

    async def call_tool(_ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        return await dispatch(context(), params.name, params.arguments)

    return Server(SERVER_NAME, version="1.0.0", instructions=INSTRUCTIONS, on_list_tools=list_tools,
                  on_call_tool=call_tool, get_tool_input_schema=_schemas().get)
