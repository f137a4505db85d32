"""Pre-trade validation shared by every venue: each failure is a 400 naming the field, except an
order type the venue cannot take, which is a 501 that must not be retried."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ..errors import InvalidInput, NotSupported
from ..exchanges.base import ExchangeAdapter, OrderType, VenueMarket

ORDER_TYPES: tuple[OrderType, ...] = ("gtc", "ioc", "fok", "gtd")
KNOWN_PARAMS = {"order_type", "expiration"}
GTD_MIN_LEAD_S = 60


@dataclass(frozen=True)
class OrderParams:
    order_type: OrderType
    expiration: int | None


def parse_params(params: dict[str, str], now: float | None = None) -> OrderParams:
    problems = []
    unknown = sorted(set(params) - KNOWN_PARAMS)
    if unknown:
        problems.append(f"params: unknown keys {', '.join(unknown)} (supported: order_type, expiration)")
    kind = (params.get("order_type") or "gtc").strip().lower()
    if kind not in ORDER_TYPES:
        problems.append(f"params.order_type must be one of gtc, ioc, fok, gtd; got {params.get('order_type')!r}")
    expiration = None
    raw = params.get("expiration")
    if raw is not None and raw != "":
        try:
            expiration = int(raw)
        except ValueError:
            problems.append(f"params.expiration must be Unix seconds; got {raw!r}")
    if kind == "gtd" and not problems:
        now = time.time() if now is None else now
        if expiration is None:
            problems.append("params.expiration is required when order_type is gtd")
        elif expiration < now + GTD_MIN_LEAD_S:
            problems.append(f"params.expiration must be at least {GTD_MIN_LEAD_S} s in the future "
                            f"(got {expiration}, now {int(now)})")
    elif kind != "gtd" and expiration is not None:
        problems.append("params.expiration is only valid with order_type gtd")
    if problems:
        raise InvalidInput(problems)
    return OrderParams(kind, expiration)  # type: ignore[arg-type]


def require_order_type(adapter: ExchangeAdapter, kind: str) -> None:
    if kind not in adapter.order_types:
        supported = ", ".join(t for t in ORDER_TYPES if t in adapter.order_types)
        raise NotSupported(f"{adapter.name} does not support order_type {kind} (supported: {supported})")


def _on_grid(value: float, step: float) -> bool:
    steps = value / step
    return math.isclose(steps, round(steps), abs_tol=1e-6)


def check_price_and_size(adapter: ExchangeAdapter | None, market: VenueMarket, price: float, size: float) -> None:
    """`adapter` None checks against the market's own tick (MCP's preview, which has only the API's answers)."""
    problems = []
    if not (isinstance(price, (int, float)) and math.isfinite(price) and 0 < price < 1):
        problems.append(f"price must be strictly between 0 and 1; got {price}")
    else:
        tick = tick_for(adapter, market, price)
        if tick and not _on_grid(price, tick):
            problems.append(f"price {price} is not on the market's tick size {tick}")
        elif tick and not (tick - 1e-12 <= price <= 1 - tick + 1e-12):
            problems.append(f"price must be between {tick} and {1 - tick:g} for this market")
    if not (isinstance(size, (int, float)) and math.isfinite(size) and size > 0):
        problems.append(f"size must be a positive number of contracts; got {size}")
    elif market.min_order_size and size + 1e-12 < market.min_order_size:
        problems.append(f"size {size} is below the market's minimum order size {market.min_order_size:g}")
    if problems:
        raise InvalidInput(problems)


def tick_for(adapter: ExchangeAdapter | None, market: VenueMarket, price: float) -> float | None:
    """The tick at `price` (Kalshi's grids vary by price: `ExchangeAdapter.tick_at`)."""
    return adapter.tick_at(market, price) if adapter is not None else market.tick_size
