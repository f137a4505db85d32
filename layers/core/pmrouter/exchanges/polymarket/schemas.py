"""Polymarket wire payloads -> venue-neutral types.

Gamma encodes `outcomes`, `outcomePrices` and `clobTokenIds` as JSON strings inside the JSON. The
CLOB book lists bids ascending and asks descending (best LAST); everything there is a string.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from ..base import OrderBook, PublicTrade, VenueMarket, VenueOutcome
from ..http import default_error_message
from ..parsing import to_datetime as ts
from ..parsing import to_float as num
from . import config


def error_message(body: Any, fallback: str) -> str:
    """Every CLOB error is {"error": "<message>"}; Gamma and the Data API use the same or plain text."""
    return default_error_message(body, fallback)


def _json_list(value: Any) -> list:
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
            return parsed if isinstance(parsed, list) else []
        except ValueError:
            return []
    return []






def _status(raw: dict[str, Any], prices: list[float | None]) -> str:
    if raw.get("archived"):
        return "archived"
    if raw.get("closed"):
        resolved = str(raw.get("umaResolutionStatus") or "").lower() == "resolved" or \
            any(p is not None and p >= 0.999 for p in prices)
        return "resolved" if resolved else "closed"
    return "active" if raw.get("active", True) else "closed"


def parse_market(raw: dict[str, Any]) -> VenueMarket:
    names = [str(n) for n in _json_list(raw.get("outcomes"))] or ["Yes", "No"]
    prices = [num(p) for p in _json_list(raw.get("outcomePrices"))]
    tokens = [str(t) for t in _json_list(raw.get("clobTokenIds"))]
    outcomes = [VenueOutcome(n, tokens[i] if i < len(tokens) else None, prices[i] if i < len(prices) else None)
                for i, n in enumerate(names)]
    events = raw.get("events") or []
    event = events[0] if events else {}
    binary = [n.lower() for n in names] == ["yes", "no"]
    return VenueMarket(
        exchange=config.EXCHANGE_ID,
        exchange_market_id=str(raw["id"]),
        question=str(raw.get("question") or raw.get("title") or raw.get("slug") or raw["id"]),
        outcomes=outcomes,
        status=_status(raw, prices),
        market_type="binary" if binary else "categorical",
        exchange_group_id=str(event.get("id") or ""),
        group_title=str(event.get("title") or ""),
        volume_total=num(raw.get("volumeNum")) or num(raw.get("volume")) or 0.0,
        volume_24h=num(raw.get("volume24hr")),
        liquidity=num(raw.get("liquidityNum")) or num(raw.get("liquidity")),
        best_bid=num(raw.get("bestBid")),
        best_ask=num(raw.get("bestAsk")),
        last_price=num(raw.get("lastTradePrice")),
        tick_size=num(raw.get("orderPriceMinTickSize")),
        min_order_size=num(raw.get("orderMinSize")),
        slug=raw.get("slug"),
        url=f"https://polymarket.com/event/{event.get('slug') or raw.get('slug')}",
        description=raw.get("description"),
        condition_id=raw.get("conditionId"),
        created_at=ts(raw.get("createdAt")),
        updated_at=ts(raw.get("updatedAt")),
        end_date=ts(raw.get("endDate")),
        event_start_time=ts(raw.get("eventStartTime") or raw.get("gameStartTime")),
        image_url=raw.get("image"),
        icon_url=raw.get("icon"),
        extra={"neg_risk": bool(raw.get("negRisk")), "event_id": event.get("id"),
               "enable_order_book": raw.get("enableOrderBook", True),
               "leg": raw.get("groupItemTitle") or None},  # the outcome this market stands for in its event
    )


def parse_book(raw: dict[str, Any]) -> OrderBook:
    def levels(rows: list[dict[str, Any]], descending: bool) -> list[tuple[float, float]]:
        out = [(float(r["price"]), float(r["size"])) for r in rows if float(r.get("size") or 0) > 0]
        return sorted(out, key=lambda x: -x[0] if descending else x[0])

    return OrderBook(
        bids=levels(raw.get("bids") or [], descending=True),
        asks=levels(raw.get("asks") or [], descending=False),
        timestamp=ts(int(raw["timestamp"])) if str(raw.get("timestamp") or "").isdigit() else None,
        tick_size=num(raw.get("tick_size")),
        min_order_size=num(raw.get("min_order_size")),
        token_id=raw.get("asset_id"),
    )


def parse_history(raw: dict[str, Any]) -> list[tuple[int, float]]:
    return [(int(p["t"]), float(p["p"])) for p in raw.get("history") or [] if p.get("p") is not None]


def parse_trade(raw: dict[str, Any], outcome_name: str) -> PublicTrade:
    side = str(raw.get("side") or "").lower() or None
    return PublicTrade(
        price=float(raw["price"]),
        size=float(raw["size"]),
        timestamp=ts(raw.get("timestamp")) or datetime.now(timezone.utc),
        source_channel="polymarket_data_trades",
        id=raw.get("transactionHash") and f"{raw.get('transactionHash')}:{raw.get('asset')}:{raw.get('timestamp')}",
        side=side,
        aggressor_side=side,
        outcome=raw.get("outcome") or outcome_name,
        tx_hash=raw.get("transactionHash"),
        taker_address=raw.get("proxyWallet"),
    )
