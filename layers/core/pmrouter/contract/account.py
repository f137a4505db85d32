"""/wallet and /user-activity answers."""
from __future__ import annotations

from typing import Any

from .builder import WalletInfo
from .common import WireModel


class LinkedExchange(WireModel):
    exchange: str
    has_credentials: bool


class WalletResponse(WireModel):
    wallets: list[WalletInfo]
    linked_exchanges: list[LinkedExchange]
    wallet: WalletInfo | None = None


class VenueStatus(WireModel):
    success: bool
    error: str | None = None


class UserActivityResponse(WireModel):
    exchanges: dict[str, Any]
    status: dict[str, VenueStatus]
