"""Limitless wire payloads -> venue-neutral types. Units per tests/fixtures/venues/limitless/."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

from ..base import OrderBook, PublicTrade, VenueMarket, VenueOutcome
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


def shares(raw: Any) -> float | None:
    """An integer amount in 1e6 units (string or number) -> shares (or USDC)."""
    v = _num(raw)
    return round(v / config.SIZE_SCALE, 6) if v is not None else None


def _probability(raw: Any) -> float | None:
    p = _num(raw)
    return p if p is not None and 0 <= p <= 1 else None


def is_clob(raw: dict[str, Any]) -> bool:
    """AMM markets have neither book nor history here (the web app prices them on-chain)."""
    return str(raw.get("tradeType") or "clob").lower() != "amm"


def fee_enabled(raw: dict[str, Any]) -> bool:
    """`metadata.fee` is a flag (limitless-sdk MarketMetadata.fee: bool), not a rate."""
    return bool((raw.get("metadata") or {}).get("fee"))


def parse_market(raw: dict[str, Any], group: dict[str, Any] | None = None) -> VenueMarket:
    tokens = raw.get("tokens") or {}
    # `prices` on a CLOB market are [yes, no] probabilities (the web app multiplies them by 100).
    prices = raw.get("prices") or []
    yes_p = _probability(prices[0]) if len(prices) > 0 else None
    no_p = _probability(prices[1]) if len(prices) > 1 else None
    settings = raw.get("settings") or {}
    venue = raw.get("venue") or {}
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
        min_order_size=shares(settings.get("minSize")),
        slug=slug,
        url=f"https://limitless.exchange/markets/{slug}",
        description=raw.get("description"),
        condition_id=raw.get("conditionId"),
        created_at=_ts(raw.get("createdAt")),
        updated_at=_ts(raw.get("updatedAt")),
        end_date=_ts(raw.get("expirationTimestamp")) or _ts(raw.get("expirationDate")),
        image_url=raw.get("logo") or raw.get("imageUrl"),
        # Only a neg-risk group (one with a negRiskMarketId) ties its children together; a "ladder"
        # group is a display grouping of independent markets.
        extra={"id": raw.get("id"), "venue": venue, "neg_risk": bool(group and group.get("negRiskMarketId")),
               "fee_enabled": fee_enabled(raw), "trade_type": raw.get("tradeType"),
               "collateral_fee": str(venue.get("feeModuleType") or "").upper() == "COLLATERAL"},
    )


def is_group(raw: dict[str, Any]) -> bool:
    """A group row carries its binary markets in `markets`. Its children say `marketType: group`
    too (live bodies), but they carry tokens and no `markets`: they are tradable markets."""
    if raw.get("markets"):
        return True
    return str(raw.get("marketType") or "").lower() == "group" and not raw.get("tokens")


def event_rows(body: Any) -> list[Any]:
    """`/markets/{slug}/events` rows: live bodies list them under `events` (2026); the 2025 web app
    read `data`."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        return list(body.get("events") or body.get("data") or [])
    return []


def parse_listing(raw: dict[str, Any]) -> list[VenueMarket]:
    """A listing row is a single market or a group of binary markets."""
    if is_group(raw):
        return [parse_market(child, group=raw) for child in raw.get("markets") or [] if is_clob(child)]
    return [parse_market(raw)] if is_clob(raw) else []


def _levels(rows: Iterable[dict[str, Any]]) -> list[tuple[float, float]]:
    out = []
    for r in rows:
        p, s = _probability(r.get("price")), shares(r.get("size"))
        if p is None or s is None or s <= 0:
            continue
        out.append((round(p, 6), s))
    return out


def parse_orderbook(raw: dict[str, Any], outcome_index: int) -> OrderBook:
    """The venue publishes the YES book (bids descending, asks ascending). The NO book mirrors it:
    a NO bid at 1 − p for every YES ask at p, and a NO ask at 1 − p for every YES bid."""
    bids = sorted(_levels(raw.get("bids") or []), key=lambda x: -x[0])
    asks = sorted(_levels(raw.get("asks") or []), key=lambda x: x[0])
    if outcome_index == 1:
        bids, asks = ([(round(1 - p, 6), s) for p, s in asks], [(round(1 - p, 6), s) for p, s in bids])
    return OrderBook(bids=bids, asks=asks, timestamp=datetime.now(timezone.utc), tick_size=config.TICK,
                     min_order_size=shares(raw.get("minSize")),
                     token_id=str(raw.get("tokenId")) if raw.get("tokenId") and outcome_index == 0 else None)


def _series(raw: Any, title: str | None) -> dict[str, Any]:
    """A single market answers `{title, prices}`; a group answers a list of them (one per
    child market): take the one titled like the market, else the first."""
    if isinstance(raw, dict):
        return raw
    rows = [r for r in raw or [] if isinstance(r, dict)]
    for r in rows:
        if title and str(r.get("title") or "") == title:
            return r
    return rows[0] if rows else {}


def parse_history(raw: Any, title: str | None = None) -> list[tuple[int, float]]:
    """`{title, prices: [{timestamp, price}]}` -> ascending (unix_s, YES price) points. `price`
    is a 0..1 probability; `timestamp` epoch milliseconds, sent as a number or a digit string
    (an ISO string is read too). The venue lists newest first."""
    out = []
    for point in _series(raw, title).get("prices") or []:
        when, val = _ts(point.get("timestamp")), _probability(point.get("price"))
        if when is None or val is None:
            continue
        out.append((int(when.timestamp()), round(val, 6)))
    return sorted(out)


def parse_trade_event(event: dict[str, Any], market: VenueMarket, outcome_index: int) -> PublicTrade | None:
    """One `/markets/{slug}/events` trade seen from the requested outcome. The event's `price` is
    that of its `tokenId`, and `side` (0 buy, 1 sell) is the taker's on that token; on the other
    outcome the same fill is at 1 − p with the aggressor on the opposite side. A token of another
    market (a group's tape carries all its children) is skipped."""
    tokens = [o.token_id for o in market.outcomes]
    token = str(event.get("tokenId") or "")
    if token not in tokens:
        return None
    price, size, when = _probability(event.get("price")), shares(event.get("matchedSize")), _ts(event.get("createdAt"))
    if price is None or not size or when is None:
        return None
    taker_buys = str(event.get("side")) in ("0", "BUY", "buy")
    if tokens.index(token) != outcome_index:
        price, taker_buys = 1 - price, not taker_buys
    yes_price = price if outcome_index == 0 else 1 - price
    side = "buy" if taker_buys else "sell"
    tx = str(event.get("txHash") or "") or None
    profile = event.get("profile") or {}
    return PublicTrade(
        price=round(price, 6), size=size, timestamp=when, source_channel="limitless_market_events",
        id=tx and f"{tx}:{token}", side=side, aggressor_side=side, outcome=market.outcomes[outcome_index].name,
        yes_price=round(yes_price, 6), no_price=round(1 - yes_price, 6), tx_hash=tx,
        taker_address=str(profile.get("smartWallet") or profile.get("account") or "") or None,
    )
