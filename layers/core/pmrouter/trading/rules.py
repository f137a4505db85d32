"""Pre-trade validation shared by every venue: each failure is a 400 naming the field, except an
order type the venue cannot take, which is a 501 that must not be retried."""
from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

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


def exact(value: object) -> Decimal | None:
    """The decimal a client wrote: a JSON number arrives as the nearest float, whose shortest repr is
    the text that was sent (0.57, not 0.56999999999999995). None for anything that is not a finite number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, (int, float)):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    else:
        return None
    return number if number.is_finite() else None


def check_price_and_size(adapter: ExchangeAdapter | None, market: VenueMarket, price: object, size: object) -> None:
    """`adapter` None checks against the market's own tick (MCP's preview, which has only the API's answers).
    Exact decimal maths: a price is on the grid when it is a whole multiple of the tick, no tolerance."""
    problems = []
    p, s = exact(price), exact(size)
    if p is None or not 0 < p < 1:
        problems.append(f"price must be strictly between 0 and 1; got {price}")
    else:
        raw_tick = tick_for(adapter, market, float(p))
        tick = exact(raw_tick) if raw_tick else None
        if tick and p % tick != 0:
            problems.append(f"price {p} is not on the market's tick size {raw_tick}")
        elif tick and not tick <= p <= 1 - tick:
            problems.append(f"price must be between {raw_tick} and {(1 - tick).normalize():f} for this market")
    if s is None or s <= 0:
        problems.append(f"size must be a positive number of contracts; got {size}")
    elif market.min_order_size and s < (minimum := exact(market.min_order_size) or 0):
        problems.append(f"size {s} is below the market's minimum order size {minimum.normalize():f}")
    if problems:
        raise InvalidInput(problems)


def tick_for(adapter: ExchangeAdapter | None, market: VenueMarket, price: float) -> float | None:
    """The tick at `price` (Kalshi's grids vary by price: `ExchangeAdapter.tick_at`)."""
    return adapter.tick_at(market, price) if adapter is not None else market.tick_size
