from __future__ import annotations

from datetime import datetime
from typing import Literal

from ..exchanges.base import PublicTrade
from .common import WireModel

Level = list[float]  # [price, size]


class OrderbookResponse(WireModel):
    parsec_id: str
    exchange: str
    outcome: str
    token_id: str
    market_id: str
    bids: list[Level]
    asks: list[Level]
    timestamp: datetime | None = None
    tick_size: float | None = None
    min_order_size: float | None = None


class OrderbookSnapshot(WireModel):
    timestamp: datetime
    bids: list[Level]
    asks: list[Level]
    recorded_at: datetime | None = None
    hash: str | None = None


class OrderbookHistoryResult(WireModel):
    parsec_id: str
    exchange: str
    outcome: str
    token_id: str
    market_id: str
    has_more: bool
    snapshots: list[OrderbookSnapshot]
    next_cursor: str | None = None
    tick_size: float | None = None
    min_order_size: float | None = None


IntervalName = Literal["1m", "1h", "6h", "1d", "1w", "max"]


class CandleOut(WireModel):
    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    open_interest: float | None = None


class PriceResponse(WireModel):
    parsec_id: str
    exchange: str
    outcome: str
    interval: IntervalName
    candles: list[CandleOut]


class TradesResponse(WireModel):
    parsec_id: str
    exchange: str
    outcome: str
    market_id: str
    trades: list[PublicTrade]  # the adapters' type is the wire model (one definition)
    token_id: str | None = None
    has_more: bool | None = None
    next_cursor: str | None = None
    reason: str | None = None


class FeeInfo(WireModel):
    exchange: str
    fee_type: str
    is_estimate: bool
    note: str | None = None


class ExecutionPriceResponse(WireModel):
    filled_amount: float
    fully_filled: bool
    levels_consumed: int
    total_cost: float
    avg_price: float | None = None
    slippage: float | None = None
    worst_price: float | None = None
    fee_estimate: float | None = None
    net_cost: float | None = None
    fee_info: FeeInfo | None = None
