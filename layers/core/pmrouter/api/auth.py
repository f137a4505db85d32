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
