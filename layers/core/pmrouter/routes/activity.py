"""/user-activity: a wallet's activity across venues, best effort per venue (a venue that fails or
cannot answer is reported in `status`, never failing the call)."""
from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ..api.auth import CurrentPrincipal
from ..api.errors import MissingParameter, ValidationFailed
from ..api.selectors import clamp_limit, exchanges_param
from ..contract.account import UserActivityResponse, VenueStatus
from ..exchanges.errors import VenueError
from ..exchanges.registry import get_adapter

router = APIRouter(tags=["account"])
DEFAULT_VENUES = ["polymarket", "opinion", "limitless", "predictfun"]




async def _one(exchange: str, address: str, limit: int) -> tuple[str, Any, VenueStatus]:
    adapter = get_adapter(exchange)
    if not adapter.capabilities.fetch_user_activity:
        return exchange, [], VenueStatus(success=False, error=f"{adapter.name} activity is not available in pmrouter")
    try:
        return exchange, await adapter.user_activity(address, limit), VenueStatus(success=True)
    except VenueError as exc:
        return exchange, [], VenueStatus(success=False, error=exc.message)


@router.get("/user-activity", response_model=UserActivityResponse, response_model_exclude_none=True)
async def user_activity(_: CurrentPrincipal, address: Annotated[str | None, Query()] = None,
                        exchanges: Annotated[str | None, Query()] = None,
                        limit: Annotated[int | None, Query()] = None) -> UserActivityResponse:
    if not address:
        raise MissingParameter("address is required (an EVM address)")
    if not (address.startswith("0x") and len(address) == 42):
        raise ValidationFailed([f"address must be a 0x-prefixed 20-byte EVM address, got {address[:50]!r}"])
    venues = exchanges_param(exchanges) or DEFAULT_VENUES
    size = clamp_limit(limit, default=100, maximum=500)
    results = await asyncio.gather(*(_one(v, address, size) for v in venues))
    return UserActivityResponse(exchanges={ex: rows for ex, rows, _ in results},
                                status={ex: st for ex, _, st in results})
