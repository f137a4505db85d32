"""Kalshi wire payloads -> venue-neutral types. Prices are fixed-point dollar strings ("0.5600"),
counts fixed-point strings ("10.00"); the legacy integer-cent fields are gone."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ..base import Candle, OrderBook, PublicTrade, VenueMarket, VenueOutcome
from ..http import default_error_message
from ..parsing import to_datetime as ts
from ..parsing import to_datetime_or_now
from . import config

_RESOLVED = {"determined", "disputed", "amended", "finalized", "settled"}
_ACTIVE = {"active", "open"}
ONE = Decimal(1)


def error_message(body: Any, fallback: str) -> str:
    """Kalshi errors: {"error": {code, message, details}} or {code, message, details}; 429 {"error": "..."}."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        inner = body["error"]
        return str(inner.get("message") or inner.get("code") or fallback)
    return default_error_message(body, fallback)


def dollars(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(Decimal(str(value)))
    except Exception:
        return None


def status(raw: str | None) -> str:
    s = (raw or "").lower()
    if s in _RESOLVED:
        return "resolved"
    if s in _ACTIVE:
        return "active"
    return "closed"


def tick_at(price_ranges: list[dict[str, Any]] | None, price: float) -> float | None:
    """The step of the `price_ranges` band containing `price` (the authoritative tick grid)."""
    for band in price_ranges or []:
        lo, hi, step = dollars(band.get("start")), dollars(band.get("end")), dollars(band.get("step"))
        if lo is not None and hi is not None and step and lo - 1e-9 <= price <= hi + 1e-9:
            return step
    return None


def parse_market(raw: dict[str, Any], event: dict[str, Any] | None) -> VenueMarket:
    yes_bid, yes_ask = dollars(raw.get("yes_bid_dollars")), dollars(raw.get("yes_ask_dollars"))
    last = dollars(raw.get("last_price_dollars"))
    mid = (yes_bid + yes_ask) / 2 if yes_bid is not None and yes_ask is not None and yes_ask > 0 else last
    ranges = raw.get("price_ranges") or []
    fractional = bool(raw.get("fractional_trading_enabled"))
    event = event or {}
    title = raw.get("title") or event.get("title") or raw["ticker"]
    return VenueMarket(
        exchange=config.EXCHANGE_ID,
        exchange_market_id=raw["ticker"],
        question=str(title),
        outcomes=[VenueOutcome("Yes", None, round(mid, 6) if mid is not None else None),
                  VenueOutcome("No", None, round(1 - mid, 6) if mid is not None else None)],
        status=status(raw.get("status")),
        market_type="binary",
        exchange_group_id=str(raw.get("event_ticker") or ""),
        group_title=str(event.get("title") or ""),
        volume_total=dollars(raw.get("volume_fp")) or 0.0,
        volume_24h=dollars(raw.get("volume_24h_fp")),
        liquidity=dollars(raw.get("liquidity_dollars")),
        open_interest=dollars(raw.get("open_interest_fp")),
        best_bid=yes_bid,
        best_ask=yes_ask,
        last_price=last,
        tick_size=tick_at(ranges, mid if mid is not None else 0.5) or 0.01,
        min_order_size=0.01 if fractional else 1.0,
        url=f"https://kalshi.com/markets/{str(event.get('series_ticker') or '').lower()}",
        description=raw.get("subtitle") or raw.get("yes_sub_title") or None,
        rules=raw.get("rules_primary"),
        created_at=ts(raw.get("open_time")),
        updated_at=ts(raw.get("updated_time")),
        end_date=ts(raw.get("close_time")),
        extra={"series_ticker": event.get("series_ticker"), "price_ranges": ranges,
               "price_level_structure": raw.get("price_level_structure"), "fractional": fractional,
               # close_time on long-dated markets is the latest possible expiration; the expected one says
               # when the question is decided (cross-venue matching compares it with other venues' end dates)
               "expected_expiration": raw.get("expected_expiration_time") or None,
               "leg": raw.get("yes_sub_title") or None},
    )


def parse_orderbook(raw: dict[str, Any], outcome_index: int, depth: int) -> OrderBook:
    """`orderbook_fp` holds only bids, one array per side, ascending (best last). A YES ask at
    1 - p stands for every NO bid at p, and the other way round."""
    book = raw.get("orderbook_fp") or {}
    yes = [(Decimal(p), Decimal(q)) for p, q in book.get("yes_dollars") or []]
    no = [(Decimal(p), Decimal(q)) for p, q in book.get("no_dollars") or []]
    own, other = (yes, no) if outcome_index == 0 else (no, yes)
    bids = [(float(p), float(q)) for p, q in sorted(own, key=lambda x: -x[0]) if q > 0][:depth]
    asks = [(float(ONE - p), float(q)) for p, q in sorted(other, key=lambda x: -x[0]) if q > 0][:depth]
    return OrderBook(bids=bids, asks=asks, timestamp=datetime.now(timezone.utc))


def _ohlc(block: dict[str, Any] | None) -> tuple[float, float, float, float] | None:
    if not block:
        return None
    vals = [dollars(block.get(k)) for k in ("open_dollars", "high_dollars", "low_dollars", "close_dollars")]
    if any(v is None for v in vals):
        return None
    return vals[0], vals[1], vals[2], vals[3]  # type: ignore[return-value]


def parse_candles(raw: dict[str, Any], period_minutes: int, outcome_index: int) -> list[Candle]:
    """Candles carry `end_period_ts`; ours start the period. A period without trades has no
    `price` OHLC: we use the bid/ask midpoint there so that the series has no holes."""
    out = []
    for c in raw.get("candlesticks") or []:
        ohlc = _ohlc(c.get("price"))
        if ohlc is None:
            bid, ask = _ohlc(c.get("yes_bid")), _ohlc(c.get("yes_ask"))
            if bid is None or ask is None:
                continue
            ohlc = tuple((b + a) / 2 for b, a in zip(bid, ask))  # type: ignore[assignment]
        o, h, lo, cl = ohlc
        if outcome_index == 1:
            o, h, lo, cl = 1 - o, 1 - lo, 1 - h, 1 - cl
        start = int(c["end_period_ts"]) - period_minutes * 60
        out.append(Candle(datetime.fromtimestamp(start, tz=timezone.utc), round(o, 6), round(h, 6), round(lo, 6),
                          round(cl, 6), dollars(c.get("volume_fp")) or 0.0, dollars(c.get("open_interest_fp"))))
    return out


def parse_trade(raw: dict[str, Any], outcome_index: int) -> PublicTrade:
    yes_p, no_p = dollars(raw.get("yes_price_dollars")), dollars(raw.get("no_price_dollars"))
    taker = (raw.get("taker_outcome_side") or raw.get("taker_side") or "").lower()
    price = yes_p if outcome_index == 0 else no_p
    mine = "yes" if outcome_index == 0 else "no"
    return PublicTrade(
        price=price if price is not None else 0.0,
        size=dollars(raw.get("count_fp")) or 0.0,
        timestamp=to_datetime_or_now(raw.get("created_time")),
        source_channel="kalshi_rest_trade",
        id=raw.get("trade_id"),
        side=("buy" if taker == mine else "sell") if taker else None,
        aggressor_side=taker or None,
        outcome="Yes" if outcome_index == 0 else "No",
        yes_price=yes_p,
        no_price=no_p,
    )
