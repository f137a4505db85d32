"""Opinion orders, exactly as opinion-clob-sdk 0.7.0 builds, signs and sends them (tests compare the
`POST /openapi/order` body byte for byte).

- Domain "OPINION CTF Exchange"/1/56; the verifying contract is the market's quote token's
  `ctfExchangeAddress` (`GET /openapi/quoteToken`).
- maker = the user's Safe ("multi-sig address"), signer = the key's EOA, signatureType 2
  (POLY_GNOSIS_SAFE), feeRateBps/nonce/expiration 0.
- LIMIT (tradingMethod 2): the maker amount in quote-token wei is rounded to 4 significant digits
  and the amounts are scaled from the price's fraction so that their ratio is the price exactly.
  A BUY of n shares spends n x price (the SDK's `makerAmountInBaseToken`); a SELL sells n shares.
- MARKET (tradingMethod 1): takerAmount 0 and price "0": a BUY spends the quote amount, a SELL sells
  the shares, at whatever the book gives (the venue takes no limit price; the session sizes it).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .. import ctf_orders
from ..ctf_orders import BUY, POLY_GNOSIS_SAFE, SELL, V1Order
from . import config

DOMAIN_NAME = "OPINION CTF Exchange"
DOMAIN_VERSION = "1"
MARKET, LIMIT = 1, 2
MIN_PRICE, MAX_PRICE = Decimal("0.001"), Decimal("0.999")


def domain(exchange: str) -> ctf_orders.Domain:
    return ctf_orders.Domain(DOMAIN_NAME, DOMAIN_VERSION, config.CHAIN_ID, exchange)


def to_wei(amount: float, decimals: int) -> int:
    wei = int(Decimal(str(amount)) * Decimal(10) ** decimals)
    if wei <= 0:
        raise ValueError("amount is zero")
    return wei


def _four_digits(value: int) -> int:
    excess = len(str(abs(value))) - 4
    return value if excess <= 0 else int(round(value / 10**excess) * 10**excess)


def maker_amount(side: int, method: int, price: str, size: Decimal | float) -> float:
    """The human maker amount the SDK derives from an order for `size` shares: BUY spends
    size x price (a MARKET BUY spends it as quote), SELL sells `size` shares."""
    amount = float(Decimal(str(size)) * Decimal(price)) if side == BUY else float(size)
    if amount < 1:
        raise ValueError("Opinion orders are at least 1 (quote token for a BUY, shares for a SELL)")
    return amount


def limit_amounts(side: int, price: str, maker_wei: int) -> tuple[int, int]:
    p = Decimal(price)
    if not MIN_PRICE <= p <= MAX_PRICE or p.as_tuple().exponent < -6:  # type: ignore[operator]
        raise ValueError(f"price must be within [0.001, 0.999] with at most 6 decimals, got {price}")
    frac = Fraction(price).limit_denominator(1_000_000)
    target = _four_digits(maker_wei)
    if side == BUY:
        k = max(target // frac.numerator, 1)
        maker, taker = k * frac.numerator, k * frac.denominator
    else:
        k = max(target // frac.denominator, 1)
        maker, taker = k * frac.denominator, k * frac.numerator
    return max(1, maker), max(1, taker)


def salt_for(client_order_id: str) -> int:
    """pmrouter's order uid as the salt (the same order signs the same way)."""
    return int.from_bytes(hashlib.sha256(client_order_id.encode()).digest()[:4], "big") or 1


@dataclass(frozen=True)
class SignedOrder:
    signed: ctf_orders.SignedV1Order
    method: int
    price: str  # "0" for MARKET

    def body(self, market_id: int, currency: str, timestamp: int | None = None) -> str:
        """The exact body text: the SDK's request model (fields in its order) through json.dumps."""
        o = self.signed.order
        payload: dict[str, Any] = {
            "contractAddress": "", "currencyAddress": currency, "expiration": str(o.expiration),
            "feeRateBps": str(o.fee_rate_bps), "maker": o.maker, "makerAmount": str(o.maker_amount),
            "nonce": str(o.nonce), "orderExpTime": "0", "price": self.price, "safeRate": "0", "salt": str(o.salt),
            "side": str(o.side), "sign": self.signed.signature, "signature": self.signed.signature,
            "signatureType": str(o.signature_type), "signer": o.signer, "taker": o.taker,
            "takerAmount": str(o.taker_amount), "timestamp": int(time.time()) if timestamp is None else timestamp,
            "tokenId": str(o.token_id), "topicId": market_id, "tradingMethod": self.method,
        }
        return json.dumps(payload)


def sign_order(account, *, safe: str, exchange: str, token_id: str, side: int, method: int, price: str,
               size: Decimal | float, decimals: int, salt: int, amount: float | None = None) -> SignedOrder:
    """`amount` overrides the human maker amount derived from size and price (a MARKET order sized
    from the book: the quote to spend for a BUY, the shares for a SELL)."""
    if amount is not None and amount < 1:
        raise ValueError("Opinion orders are at least 1 (quote token for a BUY, shares for a SELL)")
    amount = to_wei(amount if amount is not None else maker_amount(side, method, price, size), decimals)
    if method == LIMIT:
        maker, taker = limit_amounts(side, price, amount)
    else:
        maker, taker, price = amount, 0, "0"
    order = V1Order(salt=salt, maker=ctf_orders.checksum(safe), signer=account.address, token_id=str(token_id),
                    maker_amount=maker, taker_amount=taker, side=side, signature_type=POLY_GNOSIS_SAFE)
    return SignedOrder(ctf_orders.sign_v1(account, order, domain(exchange)), method, price)


__all__ = ["BUY", "LIMIT", "MARKET", "SELL", "SignedOrder", "domain", "limit_amounts", "maker_amount", "salt_for",
           "sign_order", "to_wei"]
