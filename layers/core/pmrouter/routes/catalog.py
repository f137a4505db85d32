"""/markets and /events: answered from the in-memory catalog index (loaded from the DynamoDB
snapshot that `catalog_sync` writes), never by fanning out to the venues per request."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ..api.auth import CurrentPrincipal
from ..api.errors import EventNotFoundError, MarketNotFoundError, ServiceUnavailable, ValidationFailed
from ..api.selectors import clamp_limit, csv_list, exchanges_param, offset_cursor, split_parsec_id
from ..catalog.loader import CatalogNotReady, get_index
from ..contract.common import PaginationInfo
from ..contract.markets import EventInfo, EventsResponse, EventSummary, Market, MarketsResponse, Outcome, RelatedMarketLink
from ..exchanges.base import VenueMarket
from ..exchanges.registry import EXCHANGE_IDS

router = APIRouter(tags=["markets"])

Str = Annotated[str | None, Query()]
Num = Annotated[float | None, Query()]
Bool = Annotated[bool, Query()]

STATUSES = ("active", "closed", "resolved", "archived", "all")
MAX_BATCH = 100

# Which parameters each scope accepts (the contract: "each scope accepts its own parameters").
SCOPE_PARAMS = {
    "list": {"exchanges", "status", "search", "min_volume", "min_liquidity", "cursor"},
    "market": {"parsec_id", "exchange", "exchange_market_id"},
    "market_batch": {"parsec_ids", "external_market_keys"},
    "event": {"event_id", "exchange", "exchange_group_id", "cursor", "status"},
}
COMMON = {"limit", "include_matches", "include_related", "scope"}


def _index():
    try:
        return get_index()
    except CatalogNotReady:
        raise ServiceUnavailable("the market catalog is still loading; retry in a few seconds") from None


def _related(m: VenueMarket, index: Any) -> list[RelatedMarketLink]:
    """Related markets: the other legs of the same venue event (mutually exclusive outcomes of one
    question, e.g. the candidates of a neg-risk event)."""
    if not m.parsec_group_id:
        return []
    summary = index.event(m.parsec_group_id)
    if summary is None:
        return []
    return [RelatedMarketLink(parsec_id=o.parsec_id, exchange=o.exchange, confidence=1.0, confidence_tier="HIGH",
                              source="same_event", status=o.status, dependency_type="mutually_exclusive")
            for o in summary.markets if o.parsec_id != m.parsec_id]


def _collected_at(index: Any) -> datetime | None:
    raw = (getattr(index, "meta", None) or {}).get("created_at")
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def to_market(m: VenueMarket, index: Any, include_matches: bool, include_related: bool) -> Market:
    matched = related = None
    if include_matches:
        matched = [RelatedMarketLink(**link) for link in index.matches_for(m.parsec_id)]
    if include_related:
        related = _related(m, index)
    return Market(
        parsec_id=m.parsec_id, parsec_group_id=m.parsec_group_id, exchange=m.exchange,
        exchange_market_id=m.exchange_market_id, exchange_group_id=m.exchange_group_id, question=m.question,
        group_title=m.group_title, status=m.status, market_type=m.market_type,
        outcomes=[Outcome(name=o.name, price=o.price, token_id=o.token_id) for o in m.outcomes],
        outcome_count=len(m.outcomes), volume_total=m.volume_total, volume_24h=m.volume_24h,
        liquidity=m.liquidity, open_interest=m.open_interest, best_bid=m.best_bid, best_ask=m.best_ask,
        last_price=m.last_price, tick_size=m.tick_size, min_order_size=m.min_order_size, slug=m.slug, url=m.url,
        description=m.description, rules=m.rules, condition_id=m.condition_id, created_at=m.created_at,
        updated_at=m.updated_at, end_date=m.end_date, event_start_time=m.event_start_time, image_url=m.image_url,
        icon_url=m.icon_url, last_collected=_collected_at(index), matched_markets=matched, related_markets=related,
    )


def _status(value: str | None, default: str | None) -> str | None:
    if value is None or value == "":
        return default
    v = value.strip().lower()
    if v not in STATUSES:
        raise ValidationFailed([f"status must be one of {', '.join(STATUSES)}; got {value!r}"])
    return None if v == "all" else v


@router.get("/markets", response_model=MarketsResponse, response_model_exclude_none=True)
def list_markets(
    _: CurrentPrincipal,
    scope: Str = None,
    exchanges: Str = None,
    parsec_id: Str = None,
    parsec_ids: Str = None,
    exchange: Str = None,
    exchange_market_id: Str = None,
    external_market_keys: Str = None,
    exchange_group_id: Str = None,
    event_id: Str = None,
    status: Str = None,
    search: Str = None,
    min_volume: Num = None,
    min_liquidity: Num = None,
    include_matches: Bool = False,
    include_related: Bool = False,
    limit: Annotated[int | None, Query()] = None,
    cursor: Str = None,
) -> MarketsResponse:
    given = {k for k, v in {
        "exchanges": exchanges, "parsec_id": parsec_id, "parsec_ids": parsec_ids, "exchange": exchange,
        "exchange_market_id": exchange_market_id, "external_market_keys": external_market_keys,
        "exchange_group_id": exchange_group_id, "event_id": event_id, "status": status, "search": search,
        "min_volume": min_volume, "min_liquidity": min_liquidity, "cursor": cursor}.items() if v is not None}
    if scope is None:
        if parsec_ids is not None or external_market_keys is not None:
            scope = "market_batch"
        elif parsec_id is not None or exchange_market_id is not None:
            scope = "market"
        elif event_id is not None or exchange_group_id is not None:
            scope = "event"
        else:
            scope = "list"
    if scope not in SCOPE_PARAMS:
        raise ValidationFailed([f"scope must be one of list, market, market_batch, event; got {scope!r}"])
    stray = sorted(given - SCOPE_PARAMS[scope])
    if stray:
        raise ValidationFailed([f"{p} is not valid with scope={scope}" for p in stray])
    size = clamp_limit(limit, default=100, maximum=100)
    index = _index()

    def render(rows: list[VenueMarket]) -> list[Market]:
        return [to_market(m, index, include_matches, include_related) for m in rows]

    if scope == "list":
        if min_volume is not None and min_volume < 0:
            raise ValidationFailed(["min_volume must be >= 0"])
        if min_liquidity is not None and min_liquidity < 0:
            raise ValidationFailed(["min_liquidity must be >= 0"])
        offset = offset_cursor(cursor)
        rows, total = index.search(
            query=(search or "").strip() or None, status=_status(status, "active"),
            exchanges=exchanges_param(exchanges), min_volume=min_volume, min_liquidity=min_liquidity,
            offset=offset, limit=size,
        )
        return MarketsResponse(scope="list", markets=render(rows), pagination=_page(len(rows), total, offset))

    if scope == "market":
        if parsec_id and (exchange or exchange_market_id):
            raise ValidationFailed(["pass either parsec_id or exchange+exchange_market_id, not both"])
        if parsec_id:
            ex, native = split_parsec_id(parsec_id)
        elif exchange and exchange_market_id:
            ex, native = exchange.strip().lower(), exchange_market_id.strip()
            if ex not in EXCHANGE_IDS:
                from ..api.errors import unknown_exchange
                raise unknown_exchange(exchange)
        else:
            raise ValidationFailed(["scope=market requires parsec_id, or exchange and exchange_market_id"])
        market = index.get(f"{ex}:{native}")
        if market is None:
            raise MarketNotFoundError(f"market {ex}:{native} not found")
        return MarketsResponse(scope="market", markets=render([market]), pagination=_page(1, 1, 0))

    if scope == "market_batch":
        if parsec_ids is not None and external_market_keys is not None:
            raise ValidationFailed(["pass either parsec_ids or external_market_keys, not both"])
        param = "parsec_ids" if parsec_ids is not None else "external_market_keys"
        ids = csv_list(parsec_ids if parsec_ids is not None else external_market_keys)
        if not ids:
            raise ValidationFailed(["scope=market_batch requires parsec_ids or external_market_keys"])
        if len(ids) > MAX_BATCH:
            raise ValidationFailed([f"{param} may contain at most {MAX_BATCH} items (got {len(ids)})"])
        seen: set[str] = set()
        duplicates: list[str] = []
        found: list[VenueMarket] = []
        missing: list[str] = []
        for raw in ids:
            ex, native = split_parsec_id(raw, param)
            key = f"{ex}:{native}"
            if key in seen:
                if key not in duplicates:
                    duplicates.append(key)
                continue
            seen.add(key)
            market = index.get(key)
            if market is None:
                missing.append(key)
            else:
                found.append(market)
        return MarketsResponse(scope="market_batch", markets=render(found), pagination=_page(len(found), len(found), 0),
                               duplicate_ids=duplicates, not_found_ids=missing)

    # scope == "event"
    eid = _event_id(event_id, exchange, exchange_group_id, "exchange_group_id")
    summary = index.event(eid)
    if summary is None:
        raise EventNotFoundError(f"event {eid} not found")
    wanted = _status(status, None)
    members = [m for m in summary.markets if wanted is None or m.status == wanted]
    offset = offset_cursor(cursor)
    page = members[offset: offset + size]
    return MarketsResponse(
        scope="event", markets=render(page), pagination=_page(len(page), len(members), offset),
        event=EventInfo(event_id=summary.event_id, title=summary.title, market_count=summary.market_count,
                        exchange_count=len(summary.exchanges)),
    )


def _event_id(event_id: str | None, exchange: str | None, group_id: str | None, group_param: str) -> str:
    if event_id and (exchange or group_id):
        raise ValidationFailed([f"pass either event_id or exchange+{group_param}, not both"])
    if event_id:
        eid = event_id.strip()
        if eid.startswith("ev:"):
            eid = eid[3:]
        if ":" not in eid:
            raise ValidationFailed([f"event_id must look like '{{exchange}}:{{group_id}}' (or 'ev:' + that), got {event_id!r}"])
        return eid
    if exchange and group_id:
        ex = exchange.strip().lower()
        if ex not in EXCHANGE_IDS:
            from ..api.errors import unknown_exchange
            raise unknown_exchange(exchange)
        return f"{ex}:{group_id.strip()}"
    raise ValidationFailed([f"an event selector is required: event_id, or exchange and {group_param}"])


def _page(count: int, total: int, offset: int) -> PaginationInfo:
    has_more = offset + count < total
    return PaginationInfo(count=count, total=total, has_more=has_more,
                          next_cursor=str(offset + count) if has_more else None)


@router.get("/events", response_model=EventsResponse, response_model_exclude_none=True)
def list_events(
    _: CurrentPrincipal,
    event_id: Str = None,
    exchange: Str = None,
    exchange_group_id: Str = None,
    exchanges: Str = None,
    search: Str = None,
    status: Str = None,
    min_volume: Num = None,
    include_markets: Bool = False,
    include_matches: Bool = False,
    limit: Annotated[int | None, Query()] = None,
    cursor: Str = None,
) -> EventsResponse:
    size = clamp_limit(limit, default=50, maximum=100)
    index = _index()
    if event_id is not None or exchange_group_id is not None or exchange is not None:
        if exchanges or search:
            raise ValidationFailed(["exchanges and search are list-mode filters; not valid with an event lookup"])
        eid = _event_id(event_id, exchange, exchange_group_id, "exchange_group_id")
        summary = index.event(eid)
        rows = [summary] if summary is not None else []
        total, offset = len(rows), 0
    else:
        if min_volume is not None and min_volume < 0:
            raise ValidationFailed(["min_volume must be >= 0"])
        offset = offset_cursor(cursor)
        rows, total = index.events(search=(search or "").strip() or None, status=_status(status, None),
                                   exchanges=exchanges_param(exchanges), min_volume=min_volume,
                                   offset=offset, limit=size)
    out = []
    for row in rows:
        markets = None
        if include_markets:
            markets = [to_market(m, index, include_matches, False) for m in row.markets]
        out.append(EventSummary(
            event_id=row.event_id, title=row.title, status=row.status, market_count=row.market_count,
            total_volume=row.total_volume, exchanges=row.exchanges, close_time=row.close_time,
            markets=markets, matched_events=row.matched_events if include_matches else None,
        ))
    return EventsResponse(events=out, pagination=_page(len(out), total, offset))



