"""The tool set: the 44 tools Parsec's MCP server documents, by the same names. Each plain tool
is one REST operation (its input schema is that operation's, see schema.py); composites and stream
tools are functions over the same API (composites.py, streams.py). Both transports serve exactly
this list."""
from __future__ import annotations

import functools
import os
import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Literal

from .api import Api, Reply
from .schema import Operation, operation

Effect = Literal["read", "write", "destructive"]
ALLOW_KEY_EXPORT_ENV = "PMROUTER_MCP_ALLOW_KEY_EXPORT"


@dataclass
class Result:
    """What a tool answers: a contract-shaped body, or the contract's error body with is_error."""

    body: Any
    is_error: bool = False
    notes: list[str] = field(default_factory=list)  # extra text for the agent (e.g. a generated key)
    meta: dict[str, Any] | None = None

    @classmethod
    def of(cls, reply: Reply) -> "Result":
        body = reply.body if reply.body is not None else {"status": reply.status}
        return cls(body, is_error=not reply.ok)


def error(message: str, code: str, retryable: bool = False, problems: list[str] | None = None) -> Result:
    body: dict[str, Any] = {"error": message, "code": code, "retryable": retryable}
    if problems:
        body["validation_errors"] = problems
    return Result(body, is_error=True)


@dataclass
class Context:
    """One tool call: the caller's API, and the operator's switches."""

    api: Api
    allow_key_export: bool = False
    api_key: str = ""  # the caller's key, for the `/ws` (stream tools)
    ws_url: str | None = None  # the deployment's `/ws`, where this server can reach it


Runner = Callable[[Context, dict[str, Any]], Awaitable[Result]]


@dataclass(frozen=True)
class ToolDef:
    name: str
    description: str
    effect: Effect
    schema: Callable[[], dict[str, Any]]
    run: Runner
    idempotent: bool = False
    operation: tuple[str, str] | None = None  # the REST operation a plain tool is


def allow_key_export_from_env() -> bool:
    return os.environ.get(ALLOW_KEY_EXPORT_ENV, "").strip().lower() in ("1", "true", "yes")


@functools.lru_cache(maxsize=None)
def op(method: str, path: str) -> Operation:
    return operation(method, path)


async def call_op(ctx: Context, method: str, path: str, args: dict[str, Any]) -> Reply:
    o = op(method, path)
    url, query, headers, body = o.split(args)
    return await ctx.api.call(o.method, url, query=query, headers=headers, body=body)


def rest_tool(name: str, method: str, path: str, description: str, effect: Effect = "read",
              idempotent: bool = False) -> ToolDef:
    async def run(ctx: Context, args: dict[str, Any]) -> Result:
        return Result.of(await call_op(ctx, method, path, args))

    return ToolDef(name, description, effect, lambda: op(method, path).input_schema(), run, idempotent,
                   (method, path))


# --- the two plain tools with rules of their own ------------------------------------------------------

async def _create_order(ctx: Context, args: dict[str, Any]) -> Result:
    """An agent's order always carries an Idempotency-Key: a retry with the same key is answered
    with the first order, never a second one. A key the agent did not give is generated and
    returned so that it can retry safely."""
    args = dict(args)
    generated = not args.get("idempotency_key")
    if generated:
        args["idempotency_key"] = "mcp-" + uuid.uuid4().hex
    result = Result.of(await call_op(ctx, "POST", "/orders", args))
    key = args["idempotency_key"]
    result.meta = {"idempotency_key": key}
    result.notes.append(f"Idempotency-Key: {key}" + (" (generated)" if generated else "")
                        + ". To retry this order safely, call again with idempotency_key set to this value.")
    return result


async def _export_key(ctx: Context, args: dict[str, Any]) -> Result:
    if not ctx.allow_key_export:
        return error(f"wallet key export is disabled for agents on this server; the operator enables it with "
                     f"{ALLOW_KEY_EXPORT_ENV}=true", "forbidden")
    return Result.of(await call_op(ctx, "POST", "/wallet/export-key", args))


def _schema_of(method: str, path: str, omit: tuple[str, ...] = ()) -> Callable[[], dict[str, Any]]:
    return lambda: op(method, path).input_schema(omit=omit)


P = "parsec."

PLAIN: tuple[ToolDef, ...] = (
    # market
    rest_tool(P + "market.list_exchanges", "GET", "/exchanges", "The venues and what each supports (capability map)."),
    rest_tool(P + "market.list_markets", "GET", "/markets",
              "Markets across venues: search, filter by exchange/status/volume, or look up by parsec_id(s)."),
    rest_tool(P + "market.get_orderbook", "GET", "/orderbook", "A market outcome's live order book (or its history)."),
    rest_tool(P + "market.get_execution_price", "GET", "/execution-price",
              "Walk the live book: average and worst price, slippage and fee for a buy or sell of `amount`."),
    rest_tool(P + "market.get_price", "GET", "/price", "Price candles of a market outcome."),
    rest_tool(P + "market.list_trades", "GET", "/trades", "Recent trades of a market outcome."),
    rest_tool(P + "market.list_events", "GET", "/events", "Events (groups of markets) across venues."),
    # trade
    ToolDef(P + "trade.create_order", "Place a limit order on a venue (moves money). Always carries an "
            "Idempotency-Key: pass idempotency_key and reuse it on any retry; if absent one is generated and "
            "returned. Preview first with parsec.trade.preview_order.", "destructive",
            _schema_of("POST", "/orders"), _create_order, operation=("POST", "/orders")),
    rest_tool(P + "trade.cancel_order", "DELETE", "/orders/{order_id}", "Cancel an open order.", "destructive",
              idempotent=True),
    rest_tool(P + "trade.list_orders", "GET", "/orders", "The caller's orders on one exchange (open by default)."),
    rest_tool(P + "trade.get_order", "GET", "/orders/{order_id}", "One order, refreshed from the venue."),
    rest_tool(P + "trade.list_positions", "GET", "/positions", "The caller's positions on one exchange."),
    rest_tool(P + "trade.list_fills", "GET", "/fills", "The caller's fills on one exchange."),
    rest_tool(P + "trade.get_balance", "GET", "/balance", "The caller's balance on one exchange."),
    # account / wallet
    rest_tool(P + "account.ping", "GET", "/ping", "Check the stored venue credentials (per exchange)."),
    rest_tool(P + "account.get_usage", "GET", "/usage", "API usage and the tier's limits."),
    rest_tool(P + "account.get_ws_usage", "GET", "/ws/usage", "WebSocket usage."),
    rest_tool(P + "account.get_user_activity", "GET", "/user-activity", "On-chain/venue activity of an address."),
    rest_tool(P + "account.onboard", "POST", "/onboard", "Link the account to a venue (managed wallet or own keys).",
              "write"),
    rest_tool(P + "wallet.get_state", "GET", "/wallet", "Managed wallets and linked exchanges."),
    ToolDef(P + "wallet.export_key", "Export the managed wallet's private key (a secret that controls funds). "
            "Disabled unless the operator enables it.", "destructive",
            _schema_of("POST", "/wallet/export-key"), _export_key, operation=("POST", "/wallet/export-key")),
    # builder
    rest_tool(P + "builder.create_user", "POST", "/builder/users", "Create an end user.", "write"),
    rest_tool(P + "builder.list_users", "GET", "/builder/users", "The builder's end users."),
    rest_tool(P + "builder.get_user", "GET", "/builder/users/{customer_id}", "One end user."),
    rest_tool(P + "builder.update_user", "PATCH", "/builder/users/{customer_id}", "Change an end user.", "write",
              idempotent=True),
    rest_tool(P + "builder.delete_user", "DELETE", "/builder/users/{customer_id}",
              "Deactivate an end user (its records are kept).", "write", idempotent=True),
    rest_tool(P + "builder.onboard_user", "POST", "/builder/onboard", "Onboard an end user on a venue.", "write"),
    rest_tool(P + "builder.get_pool", "GET", "/builder/pool", "The builder's QPS pool."),
    rest_tool(P + "builder.get_escrow_config", "GET", "/builder/escrow/config", "Fee-escrow terms for this builder."),
    # ctf (Polymarket conditional tokens: moves collateral on chain)
    rest_tool(P + "ctf.split", "POST", "/polymarket/ctf/split", "Split collateral into outcome tokens.", "destructive"),
    rest_tool(P + "ctf.merge", "POST", "/polymarket/ctf/merge", "Merge outcome tokens back into collateral.",
              "destructive"),
    rest_tool(P + "ctf.redeem", "POST", "/polymarket/ctf/redeem", "Redeem a resolved market's tokens.",
              "destructive"),
)


@functools.lru_cache(maxsize=1)
def all_tools() -> dict[str, ToolDef]:
    from . import composites, streams

    tools = [*PLAIN, *composites.TOOLS, *streams.TOOLS]
    out = {t.name: t for t in tools}
    assert len(out) == len(tools), "duplicate tool names"
    return out
