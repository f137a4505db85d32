"""The X-API-Key dependency: every route takes a `Principal` through it."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Response

from ..auth.apikeys import Principal, authenticate
from ..exchanges.cache import TtlCache
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
    tier = limits.tier_of(principal.tier)
    try:
        admission = limits.limiter.admit(f"key#{principal.key_hash}", principal.customer_id, tier)
    except limits.Limited as exc:
        raise _limited(exc) from None
    response.headers["x-parsec-tier"] = tier.name
    if tier.monthly and admission.monthly_used is not None:
        _, reset = limits.month_bounds()
        response.headers["x-ratelimit-monthly-limit"] = str(tier.monthly)
        response.headers["x-ratelimit-monthly-remaining"] = str(max(0, tier.monthly - admission.monthly_used))
        response.headers["x-ratelimit-monthly-reset"] = str(reset)
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
    from ..api.errors import Forbidden
    from ..store import builder_users

    if principal.account_type != "builder":
        raise Forbidden("X-Builder-Customer-Id requires a builder account")
    user = builder_users.get(x_builder_customer_id.strip())
    if user is None or user.get("builder_id") != principal.customer_id:
        raise Forbidden("X-Builder-Customer-Id: user not found or not owned by this builder")
    if user.get("status") != "active":
        raise Forbidden("X-Builder-Customer-Id: this user is deactivated")
    qps = int(user.get("qps_limit") or 1)
    try:
        admitted = limits.limiter.admit(f"user#{user['customer_id']}", principal.customer_id,
                                        limits.tier_of(principal.tier), qps, count_month=False)
    except limits.Limited as exc:
        err = _limited(exc)
        err.extra["limit_qps"] = qps
        raise err from None
    response.headers["x-ratelimit-pool-limit"] = str(_pool_size(principal.customer_id))
    response.headers["x-ratelimit-user-limit"] = str(qps)
    response.headers["x-ratelimit-user-remaining"] = str(max(0, admitted.tokens_left))
    return str(user["customer_id"])


ActingCustomer = Annotated[str, Depends(acting_customer)]


_pools = TtlCache(60.0, 10_000)


def _pool_size(builder_id: str) -> int:
    """The builder's QPS pool (cached a minute: it changes by operator action only)."""
    size = _pools.get(builder_id)
    if size is None:
        from ..store import builder_users
        from ..store.accounts import get_account

        size = int((get_account(builder_id) or {}).get("qps_pool", builder_users.DEFAULT_POOL))
        _pools.put(builder_id, size)
    return size
