"""Predict.fun orders, exactly as predict-sdk 0.0.22 computes and signs them (tests compare byte for
byte: amounts, typed data, hash and signature).

- Domain "predict.fun CTF Exchange"/1/56; the verifying contract is one of four exchanges, picked by
  the market's `isNegRisk` and `isYieldBearing`.
- USDT and shares are both 18-decimal wei. LIMIT amounts: the price truncated to 3 significant
  digits, the quantity to 5, at least 1e16 (0.01 share); BUY pays price x qty / 1e18.
- MARKET amounts walk the book (`getMarketOrderAmounts` by quantity, slippage 0): pmrouter passes
  only the levels at or better than the caller's limit, so the signed worst price never crosses it.
- Expiration: LIMIT orders default to 2100-01-01 (or the caller's GTD time), MARKET orders expire
  five minutes after signing.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any, Sequence

from .. import ctf_orders
from ..ctf_orders import BUY, SELL, V1Order
from . import config

DOMAIN_NAME = "predict.fun CTF Exchange"
DOMAIN_VERSION = "1"
WEI = 10**18
MIN_QUANTITY = 10**16
MAX_SALT = 2_147_483_648
LIMIT_EXPIRATION = 4102444800  # 2100-01-01T00:00:00Z, the SDK's "no expiration"
MARKET_EXPIRY_S = 300
# (isNegRisk, isYieldBearing) -> exchange (predict-sdk constants.py, BNB mainnet)
EXCHANGES = {
    (False, False): "0x8BC070BEdAB741406F4B1Eb65A72bee27894B689",
    (True, False): "0x365fb81bd4A24D6303cd2F19c349dE6894D8d58A",
    (False, True): "0x6bEb5a40C032AFc305961162d8204CDA16DECFa5",
    (True, True): "0x8A289d458f5a134bA40015085A8F50Ffb681B41d",
}


def exchange_for(neg_risk: bool, yield_bearing: bool) -> str:
    return EXCHANGES[(bool(neg_risk), bool(yield_bearing))]


def domain(neg_risk: bool, yield_bearing: bool) -> ctf_orders.Domain:
    return ctf_orders.Domain(DOMAIN_NAME, DOMAIN_VERSION, config.CHAIN_ID, exchange_for(neg_risk, yield_bearing))


def to_wei(value: Decimal | float) -> int:
    return int((Decimal(str(value)) * WEI).quantize(Decimal(1), rounding=ROUND_DOWN))


def significant(num: int, digits: int) -> int:
    excess = len(str(abs(num))) - digits
    if num == 0 or excess <= 0:
        return num
    return (num // 10**excess) * 10**excess


@dataclass(frozen=True)
class Amounts:
    price_per_share: int  # wei
    maker: int
    taker: int


def limit_amounts(side: int, price: Decimal | float, size: Decimal | float) -> Amounts:
    price_wei, qty = significant(to_wei(price), 3), significant(to_wei(size), 5)
    if price_wei <= 0:
        raise ValueError("price must be positive")
    if qty < MIN_QUANTITY:
        raise ValueError("size must be at least 0.01 shares")
    cash = price_wei * qty // WEI
    return Amounts(price_wei, cash, qty) if side == BUY else Amounts(price_wei, qty, cash)


def market_amounts(side: int, size: Decimal | float, levels: Sequence[tuple[float, float]]) -> Amounts:
    """A MARKET order for `size` shares against `levels` (the asks for a BUY, the bids for a SELL,
    best first)."""
    want = significant(to_wei(size), 5)
    if want < MIN_QUANTITY:
        raise ValueError("size must be at least 0.01 shares")
    got = total = last = 0
    for price, qty in levels:
        left = want - got
        if left <= 0:
            break
        p, q = to_wei(price), to_wei(qty)
        take = min(left, q)
        got += take
        total += p * take
        last = p
    if got == 0:
        raise ValueError("no liquidity within the limit price")
    cash = last * got // WEI
    return Amounts(total // got, cash, got) if side == BUY else Amounts(total // got, got, cash)


def salt_for(client_order_id: str) -> int:
    """A salt in the SDK's range [0, 2^31] derived from pmrouter's order uid (the same order signs to
    the same hash, and a lost one is found by it)."""
    return int.from_bytes(hashlib.sha256(client_order_id.encode()).digest()[:4], "big") % (MAX_SALT + 1)


@dataclass(frozen=True)
class SignedOrder:
    signed: ctf_orders.SignedV1Order

    @property
    def order_hash(self) -> str:
        return self.signed.order_hash

    def order_json(self) -> dict[str, Any]:
        """The signed order as the API takes it: every field a string but side and signatureType."""
        o = self.signed.order
        return {"hash": self.signed.order_hash, "salt": str(o.salt), "maker": o.maker, "signer": o.signer,
                "taker": o.taker, "tokenId": str(o.token_id), "makerAmount": str(o.maker_amount),
                "takerAmount": str(o.taker_amount), "expiration": str(o.expiration), "nonce": str(o.nonce),
                "feeRateBps": str(o.fee_rate_bps), "side": o.side, "signatureType": o.signature_type,
                "signature": self.signed.signature}

    def body(self, price_per_share: int, strategy: str, fill_or_kill: bool | None = None) -> str:
        data: dict[str, Any] = {"pricePerShare": str(price_per_share), "strategy": strategy, "slippageBps": "0"}
        if fill_or_kill is not None:
            data["isFillOrKill"] = fill_or_kill
        data["order"] = self.order_json()
        return json.dumps({"data": data}, separators=(",", ":"))


def expiration_for(strategy: str, gtd: int | None = None, now: float | None = None) -> int:
    if strategy == "MARKET":
        return int(time.time() if now is None else now) + MARKET_EXPIRY_S
    return int(gtd) if gtd else LIMIT_EXPIRATION


def sign_order(account, *, token_id: str, side: int, amounts: Amounts, fee_rate_bps: int, salt: int,
               expiration: int, neg_risk: bool, yield_bearing: bool) -> SignedOrder:
    order = V1Order(salt=salt, maker=account.address, signer=account.address, token_id=str(token_id),
                    maker_amount=amounts.maker, taker_amount=amounts.taker, side=side, fee_rate_bps=fee_rate_bps,
                    expiration=expiration)
    return SignedOrder(ctf_orders.sign_v1(account, order, domain(neg_risk, yield_bearing)))


__all__ = ["BUY", "SELL", "Amounts", "SignedOrder", "domain", "exchange_for", "expiration_for", "limit_amounts",
           "market_amounts", "salt_for", "sign_order"]
