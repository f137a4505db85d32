"""Predict.fun wire payloads -> pmrouter types.

Answers are `{success, data, cursor?, message?}`; `success: false` is an error whatever the HTTP
status. Markets carry integer ids, outcomes `[{name, indexSet, onChainId, status}]`, a per-market
`feeRateBps` and `decimalPrecision` (2 or 3). The order book is one per market, priced on the YES
(indexSet 1) side: `asks`/`bids` are `[price, shares]` number pairs, best first. Order match events
carry wei strings (`amountFilled`, `priceExecuted`) and ISO `executedAt`.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from ..base import OrderBook, PublicTrade, VenueMarket, VenueOutcome
from ..errors import ErrorWords, VenueError, VenueProtocolError, error_from_words
from ..http import default_error_message
from ..parsing import to_datetime
from ..parsing import to_float as _float
from ..parsing import to_int as _int
from . import config

_WEI = Decimal(10) ** config.TOKEN_DECIMALS

# --- envelope and errors ----------------------------------------------------------------------------


def error_message(body: Any, fallback: str) -> str:
    """`VenueHttp.error_message`: Predict spells it `message` (sometimes `error`), which the shared
    extractor already reads."""
    return default_error_message(body, fallback)


_WORDS = ErrorWords(rate_limited=("rate limit", "too many"), not_found=("not found", "does not exist", "unknown market"),
                    auth=("unauthor", "api key", "forbidden", "x-api-key"))


def envelope_error(message: str) -> VenueError:
    return error_from_words(config.EXCHANGE_ID, message, _WORDS)


def unwrap(body: Any) -> tuple[Any, str | None]:
    """(data, next cursor) of a successful envelope; raises the mapped VenueError otherwise."""
    if not isinstance(body, Mapping):
        raise VenueProtocolError(config.EXCHANGE_ID, "predict.fun sent a non-object body")
    if body.get("success") is not True:
        raise envelope_error(error_message(body, "predict.fun answered success=false"))
    cursor = body.get("cursor")
    return body.get("data"), (str(cursor) if cursor not in (None, "") else None)


# --- scalars ----------------------------------------------------------------------------------------





def from_wei(value: Any) -> float:
    try:
        return float(Decimal(str(value)) / _WEI)
    except (InvalidOperation, ValueError):
        raise VenueProtocolError(config.EXCHANGE_ID, f"predict.fun sent a bad wei amount: {value!r}") from None




# --- markets ----------------------------------------------------------------------------------------

def map_status(raw: Mapping[str, Any]) -> str:
    status = str(raw.get("status") or "").upper()
    if raw.get("resolution") or status == "RESOLVED":
        return "resolved"
    trading = str(raw.get("tradingStatus") or "").upper()
    if trading == config.TRADING_OPEN and (not status or status in config.TRADING_STATUSES):
        return "active"
    return "closed"


def _outcomes(raw: Mapping[str, Any]) -> list[VenueOutcome]:
    rows = [o for o in raw.get("outcomes") or [] if isinstance(o, Mapping)]
    rows.sort(key=lambda o: _int(o.get("indexSet"), 99) or 99)
    return [VenueOutcome(str(o.get("name") or f"Outcome {i + 1}"), str(o.get("onChainId") or "") or None)
            for i, o in enumerate(rows)]


def parse_market(raw: Mapping[str, Any], categories: Mapping[str, Mapping[str, Any]] | None = None) -> VenueMarket:
    market_id = raw.get("id")
    if market_id in (None, ""):
        raise VenueProtocolError(config.EXCHANGE_ID, "predict.fun market without id")
    outcomes = _outcomes(raw)
    if len(outcomes) < 2:
        raise VenueProtocolError(config.EXCHANGE_ID, f"predict.fun market {market_id} has {len(outcomes)} outcomes")
    names = [o.name.lower() for o in outcomes]
    slug = str(raw.get("categorySlug") or "")
    category = (categories or {}).get(slug) or {}
    precision = _int(raw.get("decimalPrecision"), 2)
    fee_bps = _int(raw.get("feeRateBps"), config.DEFAULT_FEE_BPS)
    title = str(raw.get("title") or "")
    question = str(raw.get("question") or "") or title
    extra: dict[str, Any] = {
        "fee_rate_bps": fee_bps,
        "is_neg_risk": bool(raw.get("isNegRisk")),
        "is_yield_bearing": bool(raw.get("isYieldBearing")),
        "decimal_precision": precision,
        "trading_status": raw.get("tradingStatus"),
        "venue_status": raw.get("status"),
        "title": title,
        "question_index": raw.get("questionIndex"),
        "oracle_question_id": raw.get("oracleQuestionId"),
        "index_sets": [_int(o.get("indexSet")) for o in sorted(
            (o for o in raw.get("outcomes") or [] if isinstance(o, Mapping)),
            key=lambda o: _int(o.get("indexSet"), 99) or 99)],
    }
    if raw.get("polymarketConditionIds"):
        extra["polymarket_condition_ids"] = list(raw["polymarketConditionIds"])
    if raw.get("kalshiMarketTicker"):
        extra["kalshi_market_ticker"] = raw["kalshiMarketTicker"]
    resolution = raw.get("resolution")
    if isinstance(resolution, Mapping):
        extra["resolved_outcome"] = resolution.get("name")
    return VenueMarket(
        exchange=config.EXCHANGE_ID,
        exchange_market_id=str(market_id),
        question=question,
        outcomes=outcomes,
        status=map_status(raw),
        market_type="binary" if names == ["yes", "no"] else "categorical",
        exchange_group_id=slug,
        group_title=str(category.get("title") or ""),
        tick_size=config.tick_size(precision),
        slug=slug or None,
        url=config.MARKET_URL.format(slug=slug) if slug else None,
        description=str(raw.get("description") or "") or None,
        rules=str(raw.get("description") or "") or None,
        condition_id=str(raw.get("conditionId") or "") or None,
        created_at=to_datetime(raw.get("createdAt")),
        end_date=to_datetime(category.get("endsAt")),
        event_start_time=to_datetime(category.get("startsAt")),
        image_url=str(raw.get("imageUrl") or "") or None,
        extra={k: v for k, v in extra.items() if v is not None},
    )


def category_info(raw: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """slug -> the category facts a market borrows (title, start/end)."""
    return str(raw.get("slug") or ""), {k: raw.get(k) for k in ("title", "startsAt", "endsAt", "status")}


# --- order book -------------------------------------------------------------------------------------

def _levels(rows: Any) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for row in rows or []:
        if not isinstance(row, (list, tuple)) or len(row) < 2:
            continue
        price, size = _float(row[0]), _float(row[1])
        if price is None or size is None or size <= 0:
            continue
        out.append((price, size))
    return out


def parse_orderbook(data: Mapping[str, Any], *, yes_side: bool, decimals: int, depth: int,
                    tick: float | None, token_id: str | None) -> OrderBook:
    """The book of one outcome. The venue prices the YES side only; the NO book is its mirror:
    a NO bid at q is a YES ask at 1 - q (same shares), a NO ask at q a YES bid at 1 - q."""
    if not isinstance(data, Mapping):
        raise VenueProtocolError(config.EXCHANGE_ID, "predict.fun orderbook is not an object")
    bids, asks = _levels(data.get("bids")), _levels(data.get("asks"))
    if not yes_side:
        bids, asks = ([(round(1 - p, decimals), s) for p, s in asks],
                      [(round(1 - p, decimals), s) for p, s in bids])
    bids.sort(key=lambda lv: -lv[0])
    asks.sort(key=lambda lv: lv[0])
    return OrderBook(
        bids=bids[:depth],
        asks=asks[:depth],
        timestamp=to_datetime(_int(data.get("updateTimestampMs"))),
        tick_size=tick,
        token_id=token_id,
    )


# --- trades -----------------------------------------------------------------------------------------

def parse_match(event: Mapping[str, Any], outcome_index_set: int, outcome_name: str) -> PublicTrade | None:
    """One order match event seen from the requested outcome (indexSet 1 or 2 of a two-outcome
    market). `priceExecuted` is the price of the taker's outcome; on the other outcome the same
    fill is at 1 - p with the aggressor on the opposite side."""
    taker = event.get("taker")
    if not isinstance(taker, Mapping):
        return None
    taker_outcome = taker.get("outcome") if isinstance(taker.get("outcome"), Mapping) else {}
    taker_set = _int(taker_outcome.get("indexSet"), 1)
    raw_price = event.get("priceExecuted", taker.get("price"))
    raw_size = event.get("amountFilled", taker.get("amount"))
    if raw_price in (None, "") or raw_size in (None, ""):
        return None
    price = from_wei(raw_price)
    size = from_wei(raw_size)
    taker_buys = str(taker.get("quoteType") or "").lower() == "bid"
    same = taker_set == outcome_index_set
    if not same:
        price = 1 - price
        taker_buys = not taker_buys
    executed = to_datetime(event.get("executedAt"))
    if executed is None:
        return None
    yes_price = price if outcome_index_set == 1 else 1 - price
    side = "buy" if taker_buys else "sell"
    tx = str(event.get("transactionHash") or "") or None
    return PublicTrade(
        price=round(price, 10),
        size=size,
        timestamp=executed,
        source_channel="rest",
        id=tx,
        side=side,
        aggressor_side=side,
        outcome=outcome_name,
        yes_price=round(yes_price, 10),
        no_price=round(1 - yes_price, 10),
        tx_hash=tx,
        taker_address=str(taker.get("signer") or "") or None,
    )


# --- price history ----------------------------------------------------------------------------------

def parse_timeseries(samples: list[Mapping[str, Any]], first_outcome: bool) -> list[tuple[int, float]]:
    """`{x: Unix seconds, y: chance in percent}` samples of the first outcome (indexSet 1) ->
    (unix_s, price 0..1) points of the requested outcome; the second outcome is 1 - p."""
    out: list[tuple[int, float]] = []
    for row in samples:
        x, y = _int(row.get("x")), _float(row.get("y"))
        if x is None or y is None or not 0 <= y <= 100:
            continue
        p = round(y / 100, 6)
        out.append((x, p if first_outcome else round(1 - p, 6)))
    return sorted(out)
