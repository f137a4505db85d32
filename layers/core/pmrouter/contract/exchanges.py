from __future__ import annotations

from .common import WireModel


class CapabilityMap(WireModel):
    fetch_markets: bool
    create_order: bool
    cancel_order: bool
    fetch_positions: bool
    fetch_balance: bool
    fetch_orderbook: bool
    fetch_price_history: bool
    fetch_trades: bool
    fetch_events: bool
    fetch_user_activity: bool
    refresh_balance: bool
    websocket: bool
    fetch_orderbook_history: bool
    fetch_fills: bool
    fetch_order_history: bool
    watch_address: bool


class ExchangeCapability(WireModel):
    id: str
    name: str
    has: CapabilityMap
