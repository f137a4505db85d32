"""/usage and /ws/usage: the caller's tier, limits and consumption."""
from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query

from ..api.auth import CurrentPrincipal
from ..api.errors import Forbidden, ValidationFailed
from ..api.selectors import clamp_limit
from ..contract.common import WireModel
from ..usage import limits

router = APIRouter(tags=["usage"])


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


WS_FIELDS = ("active_connections", "active_subscriptions", "connections_opened_total", "connections_closed_total",
             "auth_failures_total", "subscribe_requests_total", "unsubscribe_requests_total", "messages_sent_total",
             "bytes_sent_total")


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


@router.get("/usage", response_model=UsageResponse)
def usage(principal: CurrentPrincipal) -> UsageResponse:
    tier = limits.tier_of(principal.tier)
    start, end = limits.month_bounds()
    return UsageResponse(
        tier=tier.name, billing_period_start=start, billing_period_end=end,
        limits=UsageLimits(monthly_requests=tier.monthly, rest_qps=tier.qps, rest_qps_burst=tier.burst,
                           ws_max_subscriptions=tier.ws_subscriptions, ws_max_depth=tier.ws_depth,
                           history_max_age_days=tier.history_days),
        usage=UsageCounts(monthly_requests=limits.monthly_used(principal.customer_id), ws_active_connections=0,
                          ws_active_subscriptions=0))


@router.get("/ws/usage", response_model=WsUsageResponse, response_model_exclude_none=True)
def ws_usage(principal: CurrentPrincipal, scope: Annotated[str, Query()] = "self",
             limit: Annotated[int | None, Query()] = None) -> WsUsageResponse:
    """pmrouter serves no WebSocket yet, so every counter is zero; the shape is the contract's."""
    if scope not in ("self", "global"):
        raise ValidationFailed([f"scope must be self or global, got {scope!r}"])
    if scope == "global":
        raise Forbidden("scope=global is for operators")
    clamp_limit(limit, default=20, maximum=100)
    zero = {f: 0 for f in WS_FIELDS}
    me = CustomerUsage(customer_id=principal.customer_id, **zero)
    return WsUsageResponse(scope="self", updated_at_ms=int(time.time() * 1000), totals=WsTotals(**zero),
                           customers=[me], top_markets=[], customer=me)
