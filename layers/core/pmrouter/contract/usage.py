"""/usage and /ws/usage: a key's limits and counters, and the stream's totals."""
from __future__ import annotations

from .common import WireModel


class UsageLimits(WireModel):
    monthly_requests: int
    rest_qps: int
    rest_qps_burst: int
    ws_max_subscriptions: int
    ws_max_depth: int
    history_max_age_days: int


class UsageCounts(WireModel):
    monthly_requests: int
    ws_active_connections: int
    ws_active_subscriptions: int


class UsageResponse(WireModel):
    tier: str
    billing_period_start: int
    billing_period_end: int
    limits: UsageLimits
    usage: UsageCounts


class WsTotals(WireModel):
    active_connections: int
    active_subscriptions: int
    connections_opened_total: int
    connections_closed_total: int
    auth_failures_total: int
    subscribe_requests_total: int
    unsubscribe_requests_total: int
    messages_sent_total: int
    bytes_sent_total: int


class CustomerUsage(WsTotals):
    customer_id: str


class TopMarket(WireModel):
    parsec_id: str
    subscriptions_total: int


class WsUsageResponse(WireModel):
    scope: str
    updated_at_ms: int
    totals: WsTotals
    customers: list[CustomerUsage]
    top_markets: list[TopMarket]
    customer: CustomerUsage | None = None
