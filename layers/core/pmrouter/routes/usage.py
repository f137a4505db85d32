"""/usage and /ws/usage: the caller's tier, limits and consumption."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..api.auth import CurrentPrincipal
from ..api.errors import Forbidden, ValidationFailed
from ..api.selectors import clamp_limit
from ..contract.usage import CustomerUsage, TopMarket, UsageCounts, UsageLimits, UsageResponse, WsTotals, WsUsageResponse
from ..stream.usage import usage as stream_usage
from ..usage import limits

router = APIRouter(tags=["usage"])




@router.get("/usage", response_model=UsageResponse)
def usage(principal: CurrentPrincipal) -> UsageResponse:
    tier = limits.tier_of(principal.tier)
    counted, qps, burst = principal.customer_id, tier.qps, tier.burst
    if principal.account_type == "end_user":
        # An end user's key draws from its builder: the builder's tier and month, the user's own QPS.
        from ..builders.users import end_user_terms

        terms = end_user_terms(principal.customer_id)
        if terms is not None:
            tier = limits.tier_of(terms.builder_tier)
            counted, qps = terms.builder_id, terms.qps_limit
            burst = max(1, int(qps * tier.burst / tier.qps))
    start, end = limits.month_bounds()
    ws = stream_usage.customer(principal.customer_id)
    return UsageResponse(
        tier=tier.name, billing_period_start=start, billing_period_end=end,
        limits=UsageLimits(monthly_requests=tier.monthly, rest_qps=qps, rest_qps_burst=burst,
                           ws_max_subscriptions=tier.ws_subscriptions, ws_max_depth=tier.ws_depth,
                           history_max_age_days=tier.history_days),
        usage=UsageCounts(monthly_requests=limits.monthly_used(counted),
                          ws_active_connections=ws["active_connections"],
                          ws_active_subscriptions=ws["active_subscriptions"]))


@router.get("/ws/usage", response_model=WsUsageResponse, response_model_exclude_none=True)
def ws_usage(principal: CurrentPrincipal, scope: Annotated[str, Query()] = "self",
             limit: Annotated[int | None, Query()] = None) -> WsUsageResponse:
    """This process's `/ws` counters for the caller (the contract calls them in-memory aggregates)."""
    if scope not in ("self", "global"):
        raise ValidationFailed([f"scope must be self or global, got {scope!r}"])
    if scope == "global":
        raise Forbidden("scope=global is for operators")
    top = clamp_limit(limit, default=20, maximum=100)
    counts = stream_usage.customer(principal.customer_id)
    me = CustomerUsage(customer_id=principal.customer_id, **counts)
    # scope=self: the caller's own counters and its own most-subscribed markets (never another
    # customer's interest).
    return WsUsageResponse(scope="self", updated_at_ms=stream_usage.updated_at_ms, totals=WsTotals(**counts),
                           customers=[me], top_markets=[TopMarket(parsec_id=p, subscriptions_total=n)
                                                        for p, n in stream_usage.top_markets(top, principal.customer_id)],
                           customer=me)
