"""Polymarket order amounts (CLOB V2): price/size -> the signed order's makerAmount/takerAmount.

Two sets of functions:

- `limit_order_amounts` / `market_order_amounts` reproduce py-clob-client-v2 1.2.1
  (`OrderBuilder.get_order_amounts` / `get_market_order_amounts`) exactly, float artefacts
  included: they round with `floor(x * 10**d) / 10**d` on binary floats, so `round_down(0.57, 2)`
  is 0.56. The unit tests compare them with the official client over a grid of inputs.
- `contract_market_amounts` is what pmrouter signs for a contract order of type fok/ioc. On
  Polymarket those are "market" shapes (BUY is an amount of dollars, SELL an amount of shares), and
  the contract gives us (price, size). We want "buy `size` shares paying at most `price` each", so,
  in exact decimal arithmetic (no float artefacts):
    BUY : makerAmount (USD) = size x price rounded DOWN to the cent (market BUYs carry 2 decimals);
          takerAmount (shares) = makerAmount / price rounded UP to the tick's amount decimals.
          Rounding the dollars down and the shares up keeps the implied price maker/taker <= price,
          so the order never pays more than the limit. When size x price is a whole number of cents
          (e.g. whole shares at a 0.01 tick: 10 @ 0.57 -> $5.70 / 10 shares) takerAmount == size;
          otherwise it is a hair under size (the dollars lost to the cent rounding).
          The venue spends the dollars: at better prices than the limit, more than `size` shares.
    SELL: makerAmount (shares) = size rounded DOWN to 2 decimals;
          takerAmount (USD) = makerAmount x price rounded UP to the tick's amount decimals, so the
          implied price taker/maker >= price.
All amounts are in 6-decimal token units (pUSD and outcome tokens both have 6 decimals).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from math import ceil, floor

BUY, SELL = "BUY", "SELL"
UNITS = 10**6


@dataclass(frozen=True)
class RoundConfig:
    price: int
    size: int
    amount: int


# py-clob-client-v2 order_builder/builder.py ROUNDING_CONFIG
ROUNDING_CONFIG: dict[str, RoundConfig] = {
    "0.1": RoundConfig(price=1, size=2, amount=3),
    "0.01": RoundConfig(price=2, size=2, amount=4),
    "0.005": RoundConfig(price=3, size=2, amount=5),
    "0.0025": RoundConfig(price=4, size=2, amount=6),
    "0.001": RoundConfig(price=3, size=2, amount=5),
    "0.0001": RoundConfig(price=4, size=2, amount=6),
}


def tick_key(tick: float | str | None) -> str:
    """The ROUNDING_CONFIG key for a tick given as a number or string ("0.01")."""
    if tick is None:
        raise ValueError("tick size unknown")
    key = format(Decimal(str(tick)).normalize(), "f")
    if key not in ROUNDING_CONFIG:
        raise ValueError(f"unsupported tick size {tick}")
    return key


# --- the official client's float helpers (order_builder/helpers.py), kept bit-for-bit -----------

def round_down(x: float, sig_digits: int) -> float:
    return floor(x * (10**sig_digits)) / (10**sig_digits)


def round_normal(x: float, sig_digits: int) -> float:
    return round(x * (10**sig_digits)) / (10**sig_digits)


def round_up(x: float, sig_digits: int) -> float:
    return ceil(x * (10**sig_digits)) / (10**sig_digits)


def decimal_places(x: float) -> int:
    return abs(Decimal(x.__str__()).as_tuple().exponent)  # type: ignore[arg-type]


def to_token_decimals(x: float) -> int:
    f = UNITS * x
    if decimal_places(f) > 0:
        f = round_normal(f, 0)
    return int(f)


def _fit(amount: float, rc: RoundConfig) -> float:
    if decimal_places(amount) > rc.amount:
        amount = round_up(amount, rc.amount + 4)
        if decimal_places(amount) > rc.amount:
            amount = round_down(amount, rc.amount)
    return amount


def limit_order_amounts(side: str, size: float, price: float, tick: str) -> tuple[int, int]:
    """(makerAmount, takerAmount) of a limit order, as py-clob-client-v2 computes them."""
    rc = ROUNDING_CONFIG[tick]
    raw_price = round_normal(price, rc.price)
    if side == BUY:
        taker = round_down(size, rc.size)
        maker = _fit(taker * raw_price, rc)
        return to_token_decimals(maker), to_token_decimals(taker)
    if side == SELL:
        maker = round_down(size, rc.size)
        taker = _fit(maker * raw_price, rc)
        return to_token_decimals(maker), to_token_decimals(taker)
    raise ValueError(f"side must be {BUY} or {SELL}")


def market_order_amounts(side: str, amount: float, price: float, tick: str) -> tuple[int, int]:
    """(makerAmount, takerAmount) of a market order (BUY: `amount` dollars; SELL: `amount` shares),
    as py-clob-client-v2 computes them (V2: price rounded DOWN, float artefacts and all)."""
    rc = ROUNDING_CONFIG[tick]
    raw_price = round_down(price, rc.price)
    if side == BUY:
        maker = round_down(amount, rc.size)
        taker = _fit(maker / raw_price, rc)
        return to_token_decimals(maker), to_token_decimals(taker)
    if side == SELL:
        maker = round_down(amount, rc.size)
        taker = _fit(maker * raw_price, rc)
        return to_token_decimals(maker), to_token_decimals(taker)
    raise ValueError(f"side must be {BUY} or {SELL}")


# --- pmrouter's fok/ioc mapping (exact decimals) ------------------------------------------------

def _q(x: Decimal, places: int, rounding: str) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=rounding)


def contract_market_amounts(side: str, size: float, price: float, tick: str) -> tuple[int, int]:
    """(makerAmount, takerAmount) for a contract fok/ioc order: buy/sell `size` shares at `price` or
    better. See the module docstring for the rounding rules."""
    rc = ROUNDING_CONFIG[tick]
    p = _q(Decimal(str(price)), rc.price, ROUND_FLOOR if side == BUY else ROUND_CEILING)
    s = _q(Decimal(str(size)), rc.size, ROUND_FLOOR)
    if p <= 0 or s <= 0:
        raise ValueError("price and size must be positive")
    if side == BUY:
        usd = _q(s * p, 2, ROUND_FLOOR)
        if usd <= 0:
            raise ValueError("order too small: less than one cent")
        shares = _q(usd / p, rc.amount, ROUND_CEILING)
        return int(usd * UNITS), int(shares * UNITS)
    if side == SELL:
        usd = _q(s * p, rc.amount, ROUND_CEILING)
        return int(s * UNITS), int(usd * UNITS)
    raise ValueError(f"side must be {BUY} or {SELL}")
