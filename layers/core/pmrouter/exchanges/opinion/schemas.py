"""Opinion wire payloads -> pmrouter types.

Every Open API answer is an envelope `{errno, errmsg, result}`; `errno == 0` is success and anything
else is an error even under HTTP 200 (the official SDK raises on it). Lists are `result.list` +
`result.total`, details `result.data`. Prices and sizes are decimal strings; books are per token,
bids descending and asks ascending; timestamps are Unix seconds except the book's (milliseconds).
"""
from __future__ import annotations

from typing import Any, Mapping

from ..base import OrderBook, VenueMarket, VenueOutcome
from ..errors import ErrorWords, MarketNotFound, VenueError, VenueProtocolError, error_from_words
from ..http import default_error_message
from ..parsing import to_datetime
from ..parsing import to_float as _float
from ..parsing import to_int as _int
from . import config

# --- envelope and errors ----------------------------------------------------------------------------

_WORDS = ErrorWords(rate_limited=("rate limit", "too many", "frequent"),
                    not_found=("not found", "not exist", "no such", "notfound", "invalid market", "invalid token"),
                    auth=("apikey", "api key", "api-key", "unauthor", "forbidden", "auth", "permission"))


def error_message(body: Any, fallback: str) -> str:
    """`VenueHttp.error_message`: Opinion spells its message `errmsg` (older docs: `msg`); the shared
    extractor reads both."""
    return default_error_message(body, fallback)


def envelope_error(errno: Any, errmsg: str, *, status: int | None = None) -> VenueError:
    """Map a non-zero `errno` to a VenueError. Opinion does not publish its errno table, so the
    message decides; the numeric code is kept in the text for operators."""
    return error_from_words(config.EXCHANGE_ID, errmsg or "", _WORDS, status=status,
                            text=f"opinion error {errno}: {errmsg or 'no message'}")


def unwrap(body: Any) -> dict[str, Any]:
    """The `result` object of a successful envelope; raises the mapped VenueError otherwise."""
    if not isinstance(body, Mapping):
        raise VenueProtocolError(config.EXCHANGE_ID, "opinion sent a non-object body")
    errno = body.get("errno", body.get("code"))
    if errno is None:
        raise VenueProtocolError(config.EXCHANGE_ID, "opinion response has no errno")
    try:
        failed = int(errno) != 0
    except (TypeError, ValueError):
        raise VenueProtocolError(config.EXCHANGE_ID, f"opinion errno is not a number: {errno!r}") from None
    if failed:
        raise envelope_error(errno, str(body.get("errmsg") or body.get("msg") or ""))
    result = body.get("result")
    if result is None:
        return {}
    if not isinstance(result, Mapping):
        raise VenueProtocolError(config.EXCHANGE_ID, "opinion `result` is not an object")
    return dict(result)


def page_items(result: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
    items = result.get("list") or []
    if not isinstance(items, list):
        raise VenueProtocolError(config.EXCHANGE_ID, "opinion `result.list` is not a list")
    return [x for x in items if isinstance(x, Mapping)], _int(result.get("total"), len(items))


def detail(result: Mapping[str, Any]) -> dict[str, Any]:
    data = result.get("data")
    if not isinstance(data, Mapping):
        raise MarketNotFound(config.EXCHANGE_ID, "opinion returned no market data")
    return dict(data)


# --- scalars ----------------------------------------------------------------------------------------





def map_status(code: Any) -> str:
    code = _int(code, -1)
    if code == config.STATUS_ACTIVATED:
        return "active"
    if code == config.STATUS_RESOLVED:
        return "resolved"
    return "closed"  # created (not yet trading), resolving, failed, deleted


# --- markets ----------------------------------------------------------------------------------------

def _outcomes(raw: Mapping[str, Any]) -> list[VenueOutcome]:
    yes = str(raw.get("yesLabel") or "").strip() or "Yes"
    no = str(raw.get("noLabel") or "").strip() or "No"
    return [
        VenueOutcome(yes, str(raw.get("yesTokenId") or "") or None),
        VenueOutcome(no, str(raw.get("noTokenId") or "") or None),
    ]


def _market_type(outcomes: list[VenueOutcome]) -> str:
    names = [o.name.lower() for o in outcomes]
    return "binary" if names == ["yes", "no"] else "categorical"


def _child_question(parent_title: str, child_title: str) -> str:
    """Child markets are titled by their option ("Chiefs"); the question needs the parent's words."""
    parent = parent_title.strip().rstrip("?").strip()
    child = child_title.strip()
    if not parent:
        return child
    if not child or child.lower().startswith(parent.lower()):
        return child or parent_title
    return f"{parent} - {child}"


def parse_binary(raw: Mapping[str, Any], parent: Mapping[str, Any] | None = None) -> VenueMarket:
    """One tradable yes/no market: a top-level binary market or a categorical market's child."""
    market_id = str(raw.get("marketId") or "").strip()
    if not market_id:
        raise VenueProtocolError(config.EXCHANGE_ID, "opinion market without marketId")
    title = str(raw.get("marketTitle") or "")
    outcomes = _outcomes(raw)
    group_id = group_title = ""
    question = title
    if parent is not None:
        group_id = str(parent.get("marketId") or "")
        group_title = str(parent.get("marketTitle") or "")
        question = _child_question(group_title, title)
    rules = raw.get("rules") or (parent or {}).get("rules")
    extra: dict[str, Any] = {
        "status_code": _int(raw.get("status"), -1),
        "quote_token": raw.get("quoteToken") or (parent or {}).get("quoteToken"),
        "chain_id": str(raw.get("chainId") or (parent or {}).get("chainId") or config.CHAIN_ID),
        "question_id": raw.get("questionId"),
        "option_title": title if parent is not None else None,
    }
    if raw.get("resultTokenId"):
        extra["result_token_id"] = str(raw["resultTokenId"])
    volume = _float(raw.get("volume")) or 0.0
    return VenueMarket(
        exchange=config.EXCHANGE_ID,
        exchange_market_id=market_id,
        question=question,
        outcomes=outcomes,
        status=map_status(raw.get("status")),
        market_type=_market_type(outcomes),
        exchange_group_id=group_id,
        group_title=group_title,
        volume_total=volume,
        volume_24h=_float(raw.get("volume24h")),
        tick_size=config.TICK_SIZE,
        url=config.MARKET_URL.format(market_id=group_id or market_id),
        description=str(rules) if rules else None,
        rules=str(rules) if rules else None,
        condition_id=str(raw.get("conditionId") or "") or None,
        created_at=to_datetime(raw.get("createdAt")),
        end_date=to_datetime(raw.get("cutoffAt")),
        image_url=raw.get("thumbnailUrl") or (parent or {}).get("thumbnailUrl"),
        extra={k: v for k, v in extra.items() if v is not None},
    )


def is_categorical(raw: Mapping[str, Any]) -> bool:
    return _int(raw.get("marketType"), 0) == config.MARKET_TYPE_CATEGORICAL or bool(raw.get("childMarkets"))


def parse_listing(raw: Mapping[str, Any]) -> list[VenueMarket]:
    """One `result.list` row -> the tradable markets in it (a categorical parent yields its children)."""
    if is_categorical(raw):
        children = raw.get("childMarkets") or []
        return [parse_binary(c, parent=raw) for c in children if isinstance(c, Mapping)]
    return [parse_binary(raw)]


# --- books and history ------------------------------------------------------------------------------

def _levels(rows: Any) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for row in rows or []:
        if not isinstance(row, Mapping):
            continue
        price, size = _float(row.get("price")), _float(row.get("size"))
        if price is None or size is None or size <= 0:
            continue
        out.append((price, size))
    return out


def parse_orderbook(result: Mapping[str, Any], depth: int) -> OrderBook:
    # The venue documents bids descending and asks ascending; sort anyway so a reordering upstream
    # can never hand a crossed-looking book to the pricing code.
    bids = sorted(_levels(result.get("bids")), key=lambda lv: -lv[0])[:depth]
    asks = sorted(_levels(result.get("asks")), key=lambda lv: lv[0])[:depth]
    return OrderBook(
        bids=bids,
        asks=asks,
        timestamp=to_datetime(result.get("timestamp")),
        tick_size=config.TICK_SIZE,
        token_id=str(result.get("tokenId") or "") or None,
    )


def parse_history(result: Mapping[str, Any]) -> list[tuple[int, float]]:
    points: list[tuple[int, float]] = []
    for row in result.get("history") or []:
        if not isinstance(row, Mapping):
            continue
        t, p = _float(row.get("t")), _float(row.get("p"))
        if t is None or p is None:
            continue
        if t > 10_000_000_000:
            t /= 1000.0
        points.append((int(t), p))
    return points
