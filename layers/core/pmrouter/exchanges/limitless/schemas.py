"""Limitless wire payloads -> venue-neutral types."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

from ..base import OrderBook, VenueMarket, VenueOutcome
from ..http import default_error_message
from ..parsing import to_datetime as _ts
from ..parsing import to_float as _num
from . import config

_ACTIVE = {"FUNDED", "ACTIVE", "OPEN", "CREATED"}
_RESOLVED = {"RESOLVED", "SETTLED"}


def error_message(body: Any, fallback: str) -> str:
    """NestJS errors: {message: str | [ {property, constraints} | str ], error?, statusCode}."""
    return default_error_message(body, fallback)






def _status(raw: dict[str, Any]) -> str:
    s = str(raw.get("status") or "").upper()
    if s in _RESOLVED or raw.get("winningOutcomeIndex") is not None:
        return "resolved"
    if s in _ACTIVE and not raw.get("expired"):
        return "active"
    return "closed"


def _usd(raw: dict[str, Any], key: str) -> float | None:
    """`volumeFormatted` is USD; `volume` is collateral base units (6 decimals)."""
    formatted = _num(raw.get(f"{key}Formatted"))
    if formatted is not None:
        return formatted
    base = _num(raw.get(key))
    decimals = int((raw.get("collateralToken") or {}).get("decimals") or 6)
    return base / 10 ** decimals if base is not None else None


def parse_market(raw: dict[str, Any], group: dict[str, Any] | None = None) -> VenueMarket:
    tokens = raw.get("tokens") or {}
    prices = raw.get("prices") or []
    # `prices` are [yes, no] in percent on the listing endpoints.
    yes_p = _num(prices[0]) / 100 if len(prices) > 0 and _num(prices[0]) is not None else None
    no_p = _num(prices[1]) / 100 if len(prices) > 1 and _num(prices[1]) is not None else None
    settings = raw.get("settings") or {}
    slug = str(raw["slug"])
    return VenueMarket(
        exchange=config.EXCHANGE_ID,
        exchange_market_id=slug,
        question=str(raw.get("title") or slug),
        outcomes=[VenueOutcome("Yes", str(tokens["yes"]) if tokens.get("yes") else None, yes_p),
                  VenueOutcome("No", str(tokens["no"]) if tokens.get("no") else None, no_p)],
        status=_status(raw),
        market_type="binary",
        exchange_group_id=str(group["slug"]) if group else "",
        group_title=str(group.get("title") or "") if group else "",
        volume_total=_usd(raw, "volume") or 0.0,
        liquidity=_usd(raw, "liquidity"),
        open_interest=_usd(raw, "openInterest"),
        last_price=yes_p,
        tick_size=config.TICK,
        min_order_size=_num(settings.get("minSize")),
        slug=slug,
        url=f"https://limitless.exchange/markets/{slug}",
        description=raw.get("description"),
        condition_id=raw.get("conditionId"),
        created_at=_ts(raw.get("createdAt")),
        updated_at=_ts(raw.get("updatedAt")),
        end_date=_ts(raw.get("expirationTimestamp")) or _ts(raw.get("expirationDate")),
        image_url=raw.get("logo") or raw.get("imageUrl"),
        extra={"id": raw.get("id"), "venue": raw.get("venue") or {}, "neg_risk": bool(group),
               "fee_bps": (raw.get("metadata") or {}).get("fee"), "trade_type": raw.get("tradeType")},
    )


def parse_listing(raw: dict[str, Any]) -> list[VenueMarket]:
    """A listing row is a single market or a group (`marketType: group`) of binary markets."""
    if str(raw.get("marketType") or "").lower() == "group" or raw.get("markets"):
        return [parse_market(child, group=raw) for child in raw.get("markets") or []]
    return [parse_market(raw)]


def _levels(rows: Iterable[dict[str, Any]], scale: float) -> list[tuple[float, float]]:
    out = []
    for r in rows:
        p, s = _num(r.get("price")), _num(r.get("size"))
        if p is None or s is None or s <= 0:
            continue
        out.append((round(p, 6), round(s / scale, 6)))
    return out


def parse_orderbook(raw: dict[str, Any], outcome_index: int) -> OrderBook:
    """The venue publishes the YES book (bids descending, asks ascending). The NO book mirrors it:
    a NO bid at 1 − p for every YES ask at p, and a NO ask at 1 − p for every YES bid."""
    bids = sorted(_levels(raw.get("bids") or [], config.SIZE_SCALE), key=lambda x: -x[0])
    asks = sorted(_levels(raw.get("asks") or [], config.SIZE_SCALE), key=lambda x: x[0])
    if outcome_index == 1:
        bids, asks = ([(round(1 - p, 6), s) for p, s in asks], [(round(1 - p, 6), s) for p, s in bids])
    min_size = _num(raw.get("minSize"))
    return OrderBook(bids=bids, asks=asks, timestamp=datetime.now(timezone.utc), tick_size=config.TICK,
                     min_order_size=min_size / config.SIZE_SCALE if min_size and min_size >= config.SIZE_SCALE else min_size,
                     token_id=str(raw.get("tokenId")) if raw.get("tokenId") and outcome_index == 0 else None)


def parse_history(raw: Any) -> list[tuple[int, float]]:
    """`[{title, prices: [{timestamp (ms), value}]}]` -> (unix_s, YES price) points. Values are
    percentages, like the listing's `prices` (what limitless.exchange charts plot)."""
    rows = raw if isinstance(raw, list) else [raw]
    out = []
    for series in rows:
        for point in (series or {}).get("prices") or []:
            ts, val = point.get("timestamp"), _num(point.get("value"))
            if ts is None or val is None:
                continue
            t = int(ts / 1000) if ts > 1e11 else int(ts)
            out.append((t, round(val / 100, 6)))
    return out
