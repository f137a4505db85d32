"""The X-API-Key dependency: every route takes a `Principal` through it."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from ..auth.apikeys import Principal, authenticate
from .errors import Unauthorized


def require_principal(x_api_key: Annotated[str | None, Header(alias="X-API-Key")] = None) -> Principal:
    if not x_api_key:
        raise Unauthorized("missing X-API-Key header")
    principal = authenticate(x_api_key)
    if principal is None:
        raise Unauthorized("invalid API key")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]

HISTORY_DAYS = {"free": 5, "pro": 30, "scale": None}


def history_window_days(principal: Principal) -> int | None:
    """How far back this caller may read history (None = unlimited)."""
    return HISTORY_DAYS.get(principal.tier, 5)


def acting_customer(
    principal: CurrentPrincipal,
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
    return str(user["customer_id"])


ActingCustomer = Annotated[str, Depends(acting_customer)]
