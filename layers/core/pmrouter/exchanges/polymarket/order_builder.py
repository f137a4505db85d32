"""CLOB V2 orders: amounts from price and size, the EIP-712 struct, hash, signature and JSON body,
exactly as Polymarket's official V2 client produces them (tests compare byte for byte).

Amounts are integers with 6 decimals on both legs. The rounding (including the official client's
float arithmetic, which the venue's books are used to) follows the tick size's rounding config.
"""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from .. import ctf_orders
from . import config

BYTES32_ZERO = "0x" + "00" * 32
# tick -> (price decimals, size decimals, amount decimals)
ROUNDING = {"0.1": (1, 2, 3), "0.01": (2, 2, 4), "0.005": (3, 2, 5), "0.0025": (4, 2, 6), "0.001": (3, 2, 5),
            "0.0001": (4, 2, 6)}
ORDER_FIELDS = [("salt", "uint256"), ("maker", "address"), ("signer", "address"), ("tokenId", "uint256"),
                ("makerAmount", "uint256"), ("takerAmount", "uint256"), ("side", "uint8"),
                ("signatureType", "uint8"), ("timestamp", "uint256"), ("metadata", "bytes32"), ("builder", "bytes32")]
BUY, SELL = ctf_orders.BUY, ctf_orders.SELL


def _floor(x: float, d: int) -> float:
    return math.floor(x * 10 ** d) / 10 ** d


def _nearest(x: float, d: int) -> float:
    return round(x * 10 ** d) / 10 ** d


def _ceil(x: float, d: int) -> float:
    return math.ceil(x * 10 ** d) / 10 ** d


def _places(x: float) -> int:
    return abs(Decimal(str(x)).as_tuple().exponent)


def _base_units(x: float) -> int:
    f = 10 ** 6 * x
    if _places(f) > 0:
        f = _nearest(f, 0)
    return int(f)


def _fit(amount: float, amount_dp: int) -> float:
    if _places(amount) > amount_dp:
        amount = _ceil(amount, amount_dp + 4)
        if _places(amount) > amount_dp:
            amount = _floor(amount, amount_dp)
    return amount


def tick_key(tick: float) -> str:
    key = f"{tick:g}" if tick >= 0.001 else f"{tick:.4f}"
    if key not in ROUNDING:
        raise ValueError(f"unsupported tick size {tick}")
    return key


def limit_amounts(side: int, size: Decimal | float, price: Decimal | float, tick: float) -> tuple[int, int]:
    """(makerAmount, takerAmount) of a limit order for `size` shares at `price`. The official client
    rounds in floats, so the exact price and size become floats here, once, and follow its steps."""
    price_dp, size_dp, amount_dp = ROUNDING[tick_key(tick)]
    p = _nearest(float(price), price_dp)
    shares = _floor(float(size), size_dp)
    usdc = _fit(shares * p, amount_dp)
    return (_base_units(usdc), _base_units(shares)) if side == BUY else (_base_units(shares), _base_units(usdc))


def market_amounts(side: int, amount: float, price: float, tick: float) -> tuple[int, int]:
    """(makerAmount, takerAmount) of a FOK/FAK order: BUY spends `amount` USDC, SELL sells `amount`
    shares, at worst `price` (the V2 client rounds this price down)."""
    price_dp, size_dp, amount_dp = ROUNDING[tick_key(tick)]
    p = _floor(price, price_dp)
    maker = _floor(amount, size_dp)
    taker = _fit(maker / p if side == BUY else maker * p, amount_dp)
    return _base_units(maker), _base_units(taker)


def fill_or_kill_amounts(side: int, size: Decimal | float, price: Decimal | float, tick: float) -> tuple[int, int]:
    """(makerAmount, takerAmount) for the contract's fok/ioc order (`size` shares at `price` or
    better) in the venue's market-order shape, computed exactly so that the signed price never
    crosses the caller's limit: a BUY spends whole cents (the venue's market-BUY precision) and
    asks for at least that many dollars' worth of shares at the limit; a SELL sells `size` shares
    for at least size x price."""
    price_dp, size_dp, amount_dp = ROUNDING[tick_key(tick)]
    q = lambda x, d, mode: x.quantize(Decimal(1).scaleb(-d), rounding=mode)  # noqa: E731
    p = q(Decimal(str(price)), price_dp, ROUND_FLOOR if side == BUY else ROUND_CEILING)
    s = q(Decimal(str(size)), size_dp, ROUND_FLOOR)
    if p <= 0 or s <= 0:
        raise ValueError("price and size must be positive")
    if side == BUY:
        usd = q(s * p, 2, ROUND_FLOOR)
        if usd <= 0:
            raise ValueError("order too small: less than one cent")
        shares = q(usd / p, amount_dp, ROUND_CEILING)
        return int(usd * 10**6), int(shares * 10**6)
    usd = q(s * p, amount_dp, ROUND_CEILING)
    return int(s * 10**6), int(usd * 10**6)


def new_salt() -> int:
    return int(random.random() * (time.time_ns() // 1_000_000))


@dataclass(frozen=True)
class SignedOrder:
    salt: int
    maker: str
    signer: str
    token_id: str
    maker_amount: int
    taker_amount: int
    side: int
    signature_type: int
    timestamp: int
    expiration: int
    exchange: str
    signature: str
    order_hash: str
    metadata: str = BYTES32_ZERO
    builder: str = BYTES32_ZERO

    def body(self, owner: str, order_type: str, post_only: bool = False) -> str:
        """The exact POST /order body text (compact JSON; salt and signatureType are numbers)."""
        payload = {
            "order": {
                "salt": self.salt, "maker": self.maker, "signer": self.signer, "tokenId": self.token_id,
                "makerAmount": str(self.maker_amount), "takerAmount": str(self.taker_amount),
                "side": "BUY" if self.side == BUY else "SELL", "expiration": str(self.expiration),
                "signatureType": self.signature_type, "timestamp": str(self.timestamp), "metadata": self.metadata,
                "builder": self.builder, "signature": self.signature,
            },
            "owner": owner, "orderType": order_type, "deferExec": False, "postOnly": post_only,
        }
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def typed_data(exchange: str, salt: int, maker: str, signer: str, token_id: str, maker_amount: int,
               taker_amount: int, side: int, signature_type: int, timestamp: int,
               metadata: str = BYTES32_ZERO, builder: str = BYTES32_ZERO) -> dict:
    return ctf_orders.typed_data(
        "Polymarket CTF Exchange", "2", config.CHAIN_ID, exchange, ORDER_FIELDS,
        {"salt": salt, "maker": maker, "signer": signer, "tokenId": int(token_id), "makerAmount": maker_amount,
         "takerAmount": taker_amount, "side": side, "signatureType": signature_type, "timestamp": timestamp,
         "metadata": bytes.fromhex(metadata[2:]), "builder": bytes.fromhex(builder[2:])})


def sign_order(account, *, token_id: str, side: int, maker_amount: int, taker_amount: int, neg_risk: bool,
               funder: str | None = None, signature_type: int = 0, expiration: int = 0, salt: int | None = None,
               timestamp_ms: int | None = None) -> SignedOrder:
    exchange = config.NEG_RISK_EXCHANGE_V2 if neg_risk else config.EXCHANGE_V2
    salt = new_salt() if salt is None else salt
    ts = time.time_ns() // 1_000_000 if timestamp_ms is None else timestamp_ms
    maker = funder or account.address
    td = typed_data(exchange, salt, maker, account.address, token_id, maker_amount, taker_amount, side,
                    signature_type, ts)
    signature, digest = ctf_orders.sign(account, td)
    return SignedOrder(salt, maker, account.address, token_id, maker_amount, taker_amount, side, signature_type, ts,
                       expiration, exchange, signature, digest)
