"""The X-API-Key dependency: every route takes a `Principal` through it."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Response

from ..auth.apikeys import Principal, authenticate
from ..cache import TtlCache
from ..usage import limits
from .errors import ApiError, Unauthorized


def _limited(exc: limits.Limited) -> ApiError:
    tier = exc.tier
    if exc.kind == "monthly":
        return ApiError(f"monthly request limit reached for the {tier.name} tier", status=429,
                        code="monthly_limit_exceeded", retryable=False, headers={"x-should-retry": "false"},
                        extra={"tier": tier.name})
    return ApiError("rate limit exceeded", status=429, code="rate_limit_exceeded", retryable=True,
                    headers={"Retry-After": limits.retry_after_header(exc.retry_after)},
                    extra={"tier": tier.name, "limit_qps": tier.qps})


def require_principal(response: Response,
                      x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None) -> Principal:
    if not x_api_key:
        raise Unauthorized("missing X-API-Key header")
    principal = authenticate(x_api_key)
    if principal is None:
        raise Unauthorized("invalid API key")
    if principal.account_type == "end_user":
        return _end_user_principal(principal, response)
    tier = limits.tier_of(principal.tier)
    try:
        admission = limits.limiter.admit(f"key#{principal.key_hash}", principal.customer_id, tier)
    except limits.Limited as exc:
        raise _limited(exc) from None
    _tier_headers(response, tier, admission)
    return principal


def _tier_headers(response: Response, tier: limits.Tier, admission: limits.Admission) -> None:
    response.headers["x-parsec-tier"] = tier.name
    if tier.monthly and admission.monthly_used is not None:
        _, reset = limits.month_bounds()
        response.headers["x-ratelimit-monthly-limit"] = str(tier.monthly)
        response.headers["x-ratelimit-monthly-remaining"] = str(max(0, tier.monthly - admission.monthly_used))
        response.headers["x-ratelimit-monthly-reset"] = str(reset)


def _admit_user(response: Response, user_id: str, builder_id: str, tier: limits.Tier, qps: int, pool: int,
                *, count_month: bool) -> limits.Admission:
    """One bucket per end user (`user#<id>`) at the user's own QPS, whether the user calls with its
    own key or the builder impersonates it; the month is always the builder's."""
    try:
        admitted = limits.limiter.admit(f"user#{user_id}", builder_id, tier, qps, count_month=count_month)
    except limits.Limited as exc:
        err = _limited(exc)
        if exc.kind == "rate":
            err.extra["limit_qps"] = qps
        raise err from None
    response.headers["x-ratelimit-pool-limit"] = str(pool)
    response.headers["x-ratelimit-user-limit"] = str(qps)
    response.headers["x-ratelimit-user-remaining"] = str(max(0, admitted.tokens_left))
    return admitted


def _end_user_principal(principal: Principal, response: Response) -> Principal:
    """An end user's own key draws from its builder: the user's qps_limit is its rate and its
    requests count against the builder's monthly quota (a user has no capacity of its own, so
    creating users cannot mint any)."""
    from ..builders.users import end_user_terms

    terms = end_user_terms(principal.customer_id)
    if terms is None:  # deactivated (the key's revocation may still be cached) or orphaned
        raise Unauthorized("invalid API key")
    tier = limits.tier_of(terms.builder_tier)
    admission = _admit_user(response, principal.customer_id, terms.builder_id, tier, terms.qps_limit, terms.pool,
                            count_month=True)
    _tier_headers(response, tier, admission)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]

def history_window_days(principal: Principal) -> int | None:
    """How far back this caller may read history (None = unlimited)."""
    return limits.tier_of(principal.tier).history_days or None


def acting_customer(
    principal: CurrentPrincipal,
    response: Response,
    x_builder_customer_id: Annotated[str | None, Header(alias="X-Builder-Customer-Id")] = None,
) -> str:
    """The customer a request acts for: the caller, or, with `X-Builder-Customer-Id`, one of the
    calling builder's active end users (403 otherwise)."""
    if not x_builder_customer_id:
        return principal.customer_id
    from ..builders.users import acting_user

    user = acting_user(principal, x_builder_customer_id.strip())
    qps = int(user.get("qps_limit") or 1)
    _admit_user(response, str(user["customer_id"]), principal.customer_id, limits.tier_of(principal.tier), qps,
                _pool_size(principal.customer_id), count_month=False)
    return str(user["customer_id"])


ActingCustomer = Annotated[str, Depends(acting_customer)]


_pools = TtlCache(60.0, 10_000)


def _pool_size(builder_id: str) -> int:
    """The builder's QPS pool (cached a minute: it changes by operator action only)."""
    size = _pools.get(builder_id)
    if size is None:
        from ..builders.users import pool_size

        size = pool_size(builder_id)
        _pools.put(builder_id, size)
    return size
