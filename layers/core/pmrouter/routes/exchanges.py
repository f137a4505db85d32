from __future__ import annotations

from fastapi import APIRouter

from ..api.auth import CurrentPrincipal
from ..contract.exchanges import ExchangeCapability
from ..exchanges.registry import all_adapters

router = APIRouter(tags=["exchanges"])


@router.get("/exchanges", response_model=list[ExchangeCapability])
def list_exchanges(_: CurrentPrincipal) -> list[ExchangeCapability]:
    """Derived from each adapter's declared capability map."""
    return [ExchangeCapability(id=a.id, name=a.name, has=a.capabilities.as_dict()) for a in all_adapters()]
