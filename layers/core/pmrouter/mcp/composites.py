"""The five composite tools: several API calls behind one question an agent actually asks. Their
arguments are picked from the REST operations they stand on (schema.py), never restated."""
from __future__ import annotations

import asyncio
from typing import Any

from .preview import preview
from .tools import Context, Result, ToolDef, error, op


def picked(method: str, path: str, only: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema = op(method, path).input_schema(only=only)
    if required:
        schema["required"] = sorted(set(schema.get("required", [])) | set(required))
    return schema


# --- find_market ---------------------------------------------------------------------------------------

FIND_ARGS = ("search", "exchanges", "status", "min_volume", "limit")


async def find_market(ctx: Context, args: dict[str, Any]) -> Result:
    """Search with an agent's defaults: active markets, cross-venue matches included, five results."""
    query = {k: args.get(k) for k in FIND_ARGS}
    query["status"] = query["status"] or "active"
    query["limit"] = query["limit"] or 5
    query["include_matches"] = True
    return Result.of(await ctx.api.get("/markets", **query))


# --- get_market_snapshot ------------------------------------------------------------------------------

async def market_snapshot(ctx: Context, args: dict[str, Any]) -> Result:
    """The market, its live book and its latest trades, fetched together."""
    pid, outcome, depth = args.get("parsec_id"), args.get("outcome"), args.get("limit") or 10
    market, book, trades = await asyncio.gather(
        ctx.api.get("/markets", parsec_id=pid),
        ctx.api.get("/orderbook", parsec_id=pid, outcome=outcome, limit=depth),
        ctx.api.get("/trades", parsec_id=pid, outcome=outcome, limit=10))
    if not market.ok:
        return Result.of(market)
    markets = (market.body or {}).get("markets") or []
    if not markets:
        return error(f"market {pid} not found", "market_not_found")
    # A venue without a trade tape answers 501: the snapshot still stands, with that answer in place.
    return Result({"market": markets[0], "orderbook": book.body, "trades": trades.body},
                  is_error=False, notes=[] if book.ok else ["orderbook unavailable: see orderbook.error"])


# --- get_trading_setup_status -------------------------------------------------------------------------

async def trading_setup(ctx: Context, args: dict[str, Any]) -> Result:
    """Can this key trade, and where: each trading venue's capability, stored credentials (and
    whether the venue accepts them), the balance there, and the managed wallet."""
    exchanges = await ctx.api.get("/exchanges")
    if not exchanges.ok:
        return Result.of(exchanges)
    wanted = args.get("exchange")
    venues = [e["id"] for e in exchanges.body if e["has"]["create_order"] and (not wanted or e["id"] == wanted)]
    if wanted and not venues:
        return error(f"{wanted} does not trade through pmrouter (market data only) or does not exist", "not_supported")
    pings, wallet = await asyncio.gather(ctx.api.get("/ping"), ctx.api.get("/wallet"))
    by_venue = {p["exchange"]: p for p in (pings.body if pings.ok else [])}
    balances = await asyncio.gather(*(ctx.api.get("/balance", exchange=v) for v in venues))
    rows = []
    for venue, bal in zip(venues, balances):
        ping = by_venue.get(venue, {})
        ready = bool(ping.get("authenticated")) and bal.ok
        rows.append({"exchange": venue, "ready_to_trade": ready, "has_credentials": bool(ping.get("has_credentials")),
                     "authenticated": bool(ping.get("authenticated")), "message": ping.get("message"),
                     "balance": bal.body,
                     "next_step": None if ready else "parsec.account.onboard (managed wallet or own keys)"})
    return Result({"exchanges": rows, "wallet": wallet.body, "ready": [r["exchange"] for r in rows if r["ready_to_trade"]]})


def _setup_schema() -> dict[str, Any]:
    return picked("GET", "/ping", ("exchange",))


# --- preview_order ------------------------------------------------------------------------------------

async def preview_order(ctx: Context, args: dict[str, Any]) -> Result:
    return Result(await preview(ctx.api, args))


def _preview_schema() -> dict[str, Any]:
    return op("POST", "/orders").input_schema(omit=("idempotency_key", "credentials"))


# --- open_market_feed ---------------------------------------------------------------------------------

async def open_market_feed(ctx: Context, args: dict[str, Any]) -> Result:
    from .streams import open_feed

    return await open_feed(ctx, args)


def _feed_schema() -> dict[str, Any]:
    from .streams import selectors_schema

    return selectors_schema()


P = "parsec."
TOOLS: tuple[ToolDef, ...] = (
    ToolDef(P + "market.find_market", "Find markets by words (active ones, with cross-venue matches); start here.",
            "read", lambda: picked("GET", "/markets", FIND_ARGS, required=("search",)), find_market),
    ToolDef(P + "market.get_market_snapshot", "One market with its live order book and latest trades.", "read",
            lambda: picked("GET", "/orderbook", ("parsec_id", "outcome", "limit"), required=("parsec_id",)),
            market_snapshot),
    ToolDef(P + "trade.preview_order", "Validate an order completely (exchange, market, outcome, order type, tick, "
            "size, credentials, balance or position, fee-escrow terms) and price it against the live book. Sends "
            "nothing.", "read", _preview_schema, preview_order),
    ToolDef(P + "account.get_trading_setup_status", "Where this key can trade now: credentials, balances, wallet, "
            "and the next step where it cannot.", "read", _setup_schema, trading_setup),
    ToolDef(P + "stream.open_market_feed", "Open a live order-book feed for markets in one call (connect, "
            "subscribe, first snapshot); read it with parsec.stream.read.", "read", _feed_schema, open_market_feed),
)
