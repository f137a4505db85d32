from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from .common import PaginationInfo, WireModel


class Outcome(WireModel):
    name: str
    price: float | None = None
    token_id: str | None = None


class RelatedMarketLink(WireModel):
    parsec_id: str
    exchange: str
    confidence: float
    confidence_tier: str
    source: str
    status: str | None = None
    dependency_type: str | None = None
    dependency_direction: str | None = None


class Market(WireModel):
    parsec_id: str
    parsec_group_id: str
    exchange: str
    exchange_market_id: str
    exchange_group_id: str
    question: str
    group_title: str
    status: str
    market_type: str
    outcomes: list[Outcome]
    volume_total: float
    slug: str | None = None
    url: str | None = None
    description: str | None = None
    rules: str | None = None
    outcome_count: int | None = None
    best_bid: float | None = None
    best_ask: float | None = None
    last_price: float | None = None
    volume_24h: float | None = None
    liquidity: float | None = None
    open_interest: float | None = None
    min_order_size: float | None = None
    tick_size: float | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    end_date: datetime | None = None
    event_start_time: datetime | None = None
    collection_date: datetime | None = None
    last_collected: datetime | None = None
    price_updated_at: datetime | None = None
    image_url: str | None = None
    icon_url: str | None = None
    condition_id: str | None = None
    xref: dict[str, Any] | None = None
    matched_markets: list[RelatedMarketLink] | None = None
    related_markets: list[RelatedMarketLink] | None = None


class EventInfo(WireModel):
    event_id: str
    title: str
    market_count: int
    exchange_count: int


class MarketsResponse(WireModel):
    scope: Literal["list", "market", "market_batch", "event"]
    markets: list[Market]
    pagination: PaginationInfo
    event: EventInfo | None = None
    duplicate_ids: list[str] | None = None
    not_found_ids: list[str] | None = None


class MatchedEventLink(WireModel):
    event_id: str
    title: str
    source: str
    exchanges: list[str]
    confidence: float
    confidence_tier: str


class EventSummary(WireModel):
    event_id: str
    title: str
    status: str
    market_count: int
    total_volume: float
    exchanges: list[str]
    close_time: datetime | None = None
    markets: list[Market] | None = None
    matched_events: list[MatchedEventLink] | None = None


class EventsResponse(WireModel):
    events: list[EventSummary]
    pagination: PaginationInfo
