"""Live market data: /orderbook, /price, /trades, /execution-price. Each answers from the venue
through its adapter; the venue's capability map decides what is 501."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from ..api.auth import CurrentPrincipal, history_window_days
from ..api.errors import BadRequest, ValidationFailed
from ..api.selectors import (
    adapter_for,
    clamp_limit,
    decode_cursor,
    encode_cursor,
    market_ref,
    pick_outcome,
)
from ..contract.marketdata import (
    CandleOut,
    ExecutionPriceResponse,
    FeeInfo,
    OrderbookHistoryResult,
    OrderbookResponse,
    PriceResponse,
    TradesResponse,
)
from ..exchanges.base import Interval
from ..pricing.candles import INTERVAL_SECONDS
from ..pricing.execution import estimate_fee, walk_book

router = APIRouter(tags=["market data"])

Str = Annotated[str | None, Query()]
Int = Annotated[int | None, Query()]

# Default look-back per candle width when start_ts is omitted.
DEFAULT_RANGE = {"1m": 6 * 3600, "1h": 7 * 86400, "6h": 30 * 86400, "1d": 90 * 86400, "1w": 365 * 86400,
                 "max": 3650 * 86400}


def _now() -> int:
    return int(time.time())


def _check_history(principal, start: int, explicit: bool) -> int:
    """Tier-gated look-back: an explicit start past the window is a 400; a default one is clamped."""
    days = history_window_days(principal)
    if days is None:
        return start
    floor = _now() - days * 86400
    if start >= floor:
        return start
    if explicit:
        raise BadRequest(f"historical data limited to {days} days on the {principal.tier} tier")
    return floor


@router.get("/orderbook", response_model=OrderbookResponse | OrderbookHistoryResult, response_model_exclude_none=True)
async def get_orderbook(
    principal: CurrentPrincipal,
    parsec_id: Str = None,
    exchange: Str = None,
    market_id: Str = None,
    outcome: Str = None,
    limit: Int = None,
    depth: Int = None,
    start_ts: Int = None,
    end_ts: Int = None,
    cursor: Str = None,
):
    ref = market_ref(parsec_id, exchange, market_id)
    adapter = adapter_for(ref.exchange)
    historical = start_ts is not None or end_ts is not None
    if historical:
        adapter.require("fetch_orderbook_history", "historical order books")
    adapter.require("fetch_orderbook", "order books")
    levels = clamp_limit(limit if limit is not None else depth, default=50, maximum=100,
                         name="limit" if limit is not None else "depth")
    market = await adapter.get_market(ref.market_id)
    chosen = pick_outcome(market, outcome)
    book = await adapter.get_orderbook(market, chosen, levels)
    return OrderbookResponse(
        parsec_id=market.parsec_id,
        exchange=market.exchange,
        outcome=chosen.name,
        token_id=book.token_id or chosen.token_id or market.exchange_market_id,
        market_id=market.exchange_market_id,
        bids=[[p, s] for p, s in book.bids[:levels]],
        asks=[[p, s] for p, s in book.asks[:levels]],
        timestamp=book.timestamp or datetime.now(timezone.utc),
        tick_size=book.tick_size if book.tick_size is not None else market.tick_size,
        min_order_size=book.min_order_size if book.min_order_size is not None else market.min_order_size,
    )


@router.get("/price", response_model=PriceResponse)
async def get_price(
    principal: CurrentPrincipal,
    parsec_id: Str = None,
    exchange: Str = None,
    market_id: Str = None,
    outcome: Str = None,
    interval: Str = None,
    start_ts: Int = None,
    end_ts: Int = None,
    at_ts: Int = None,
):
    ref = market_ref(parsec_id, exchange, market_id)
    width = (interval or "1h").strip()
    if width not in INTERVAL_SECONDS:
        raise ValidationFailed([f"interval must be one of 1m, 1h, 6h, 1d, 1w, max; got {interval!r}"])
    if at_ts is not None and (start_ts is not None or end_ts is not None):
        raise ValidationFailed(["at_ts cannot be combined with start_ts or end_ts"])
    adapter = adapter_for(ref.exchange)
    adapter.require("fetch_price_history", "price history")
    now = _now()
    if at_ts is not None:
        if at_ts > now:
            raise ValidationFailed([f"at_ts is in the future ({at_ts})"])
        step = INTERVAL_SECONDS[width]
        start, end = _check_history(principal, at_ts - 2 * step, False), at_ts + 2 * step
        _check_history(principal, at_ts, True)
    else:
        end = min(end_ts if end_ts is not None else now, now)
        start = start_ts if start_ts is not None else end - DEFAULT_RANGE[width]
        if start_ts is not None and end_ts is not None and start_ts > end_ts:
            raise ValidationFailed([f"start_ts ({start_ts}) must not be after end_ts ({end_ts})"])
        start = _check_history(principal, start, start_ts is not None)
    market = await adapter.get_market(ref.market_id)
    chosen = pick_outcome(market, outcome)
    wide: Interval = width  # type: ignore[assignment]
    candles = await adapter.get_price_history(market, chosen, wide, start, end)
    if at_ts is not None and candles:
        closest = min(candles, key=lambda c: abs(c.timestamp.timestamp() - at_ts))
        candles = [closest]
    return PriceResponse(
        parsec_id=market.parsec_id, exchange=market.exchange, outcome=chosen.name, interval=wide,
        candles=[CandleOut(timestamp=c.timestamp, open=c.open, high=c.high, low=c.low, close=c.close,
                           volume=c.volume, open_interest=c.open_interest) for c in candles],
    )


@router.get("/trades", response_model=TradesResponse)
async def list_trades(
    principal: CurrentPrincipal,
    parsec_id: Str = None,
    exchange: Str = None,
    market_id: Str = None,
    outcome: Str = None,
    limit: Int = None,
    start_ts: Int = None,
    end_ts: Int = None,
    cursor: Str = None,
):
    ref = market_ref(parsec_id, exchange, market_id)
    size = clamp_limit(limit, default=200, maximum=500)
    if start_ts is not None and end_ts is not None and start_ts > end_ts:
        raise ValidationFailed([f"start_ts ({start_ts}) must not be after end_ts ({end_ts})"])
    adapter = adapter_for(ref.exchange)
    adapter.require("fetch_trades", "public trades")
    state = decode_cursor(cursor)
    venue_cursor = None
    if state is not None:
        if state.get("m") != ref.parsec_id:
            raise ValidationFailed(["cursor: belongs to a different market"])
        venue_cursor = state.get("c")
    start = start_ts
    if start is not None:
        start = _check_history(principal, start, True)
    elif history_window_days(principal) is not None:
        start = _check_history(principal, 0, False)
    market = await adapter.get_market(ref.market_id)
    chosen = pick_outcome(market, outcome)
    page = await adapter.get_trades(market, chosen, start, end_ts, size, venue_cursor)
    trades = page.trades[:size]
    has_more = page.next_cursor is not None
    return TradesResponse(
        parsec_id=market.parsec_id, exchange=market.exchange, outcome=chosen.name,
        market_id=market.exchange_market_id, token_id=chosen.token_id, trades=trades, has_more=has_more,
        next_cursor=encode_cursor({"m": market.parsec_id, "c": page.next_cursor}) if has_more else None,
        reason=None if trades or cursor else "no_data_yet",
    )


@router.get("/execution-price", response_model=ExecutionPriceResponse)
async def execution_price(
    principal: CurrentPrincipal,
    amount: Annotated[float, Query()],
    side: Annotated[Literal["buy", "sell"], Query()],
    parsec_id: Str = None,
    exchange: Str = None,
    market_id: Str = None,
    outcome: Str = None,
):
    if not amount > 0 or amount != amount or amount == float("inf"):
        raise ValidationFailed([f"amount must be a positive number of contracts, got {amount}"])
    ref = market_ref(parsec_id, exchange, market_id)
    adapter = adapter_for(ref.exchange)
    adapter.require("fetch_orderbook", "order books")
    market = await adapter.get_market(ref.market_id)
    chosen = pick_outcome(market, outcome)
    book = await adapter.get_orderbook(market, chosen, 100)
    fill = walk_book(book, side, amount)
    model = await adapter.fee_model_for(market)
    fee = estimate_fee(model, fill.legs) if fill.filled_amount > 0 else None
    # The contract defines net_cost as total_cost + fee_estimate for both sides.
    net = fill.total_cost + fee if fee is not None else None
    return ExecutionPriceResponse(
        filled_amount=fill.filled_amount, fully_filled=fill.fully_filled, levels_consumed=fill.levels_consumed,
        total_cost=fill.total_cost, avg_price=fill.avg_price, slippage=fill.slippage, worst_price=fill.worst_price,
        fee_estimate=fee, net_cost=round(net, 10) if net is not None else None,
        fee_info=FeeInfo(exchange=market.exchange, fee_type=model.kind, is_estimate=True, note=model.note),
    )
