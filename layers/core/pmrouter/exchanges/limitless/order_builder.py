"""Limitless orders, exactly as limitless-sdk 1.3.0 builds, signs and sends them (tests compare byte
for byte).

The signed struct is the 12-field CTF v1 order (`ctf_orders`) under the domain "Limitless CTF
Exchange"/1/8453 whose verifying contract is the market's own `venue.exchange` (simple, neg-risk and
collateral-fee venues each have theirs). Amounts are integers with 6 decimals on both legs.
- GTC and FAK: the price is snapped to the 0.001 tick; shares (x1e6) are floored to the tick's share
  step (1000 units) so that shares x price is a whole number of USDC units; a BUY pays
  ceil(shares x price), a SELL receives floor(shares x price). The body carries `price` (unsigned).
- FOK: the venue's market order: makerAmount is the USDC to spend (BUY) or the shares to sell
  (SELL), takerAmount is 1, and there is no price.
- feeRateBps is the account's rank rate (`GET /profiles/{address}`), 0 on collateral-fee venues.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .. import ctf_orders
from ..ctf_orders import BUY, SELL, V1Order
from . import config

DOMAIN_NAME = "Limitless CTF Exchange"
DOMAIN_VERSION = "1"
SCALE = 1_000_000
COLLATERAL_FEE_VENUE = "COLLATERAL"


def domain(exchange: str) -> ctf_orders.Domain:
    return ctf_orders.Domain(DOMAIN_NAME, DOMAIN_VERSION, config.CHAIN_ID, exchange)


def _tick_decimals(tick: float) -> int:
    text = str(tick)
    return len(text.split(".")[-1]) if "." in text else 0


def snap_price(price: float, tick: float = config.TICK) -> float:
    snapped = round(round(price / tick) * tick, _tick_decimals(tick))
    if not 0 < snapped < 1:
        raise ValueError(f"price {price} is outside (0, 1) on the {tick} tick")
    return snapped


def limit_amounts(side: int, price: Decimal | float, size: Decimal | float,
                  tick: float = config.TICK) -> tuple[float, int, int]:
    """(snapped price, makerAmount, takerAmount) of a GTC/FAK order for `size` shares at `price`. The
    SDK snaps and scales in floats, so the exact price and size become floats here, once."""
    price, size = float(price), float(size)
    p = snap_price(price, tick)
    if size <= 0:
        raise ValueError("size must be positive")
    price_int, tick_int = round(p * SCALE), round(tick * SCALE)
    step = SCALE // tick_int
    shares = round(size * SCALE) // step * step
    if shares <= 0:
        raise ValueError(f"size {size} is below one share step ({step / SCALE})")
    num, den = shares * price_int * SCALE, SCALE * SCALE
    if side == BUY:
        return p, (num + den - 1) // den, shares
    return p, shares, num // den


def fok_amount(amount: float) -> int:
    """A FOK order's makerAmount (USDC for a BUY, shares for a SELL), at most 6 decimals."""
    text = str(amount)
    if amount <= 0:
        raise ValueError("amount must be positive")
    if "." in text and len(text.split(".")[1]) > 6:
        raise ValueError(f"amount {amount} has more than 6 decimals")
    return int(amount * SCALE)


def salt_for(client_order_id: str) -> int:
    """A salt in the SDK's range (1..2^32-1) derived from pmrouter's order uid: the same order
    signed again is the same order, and reconciliation finds a lost one by its salt."""
    return int.from_bytes(hashlib.sha256(client_order_id.encode()).digest()[:4], "big") % (2**32 - 1) + 1


@dataclass(frozen=True)
class SignedOrder:
    signed: ctf_orders.SignedV1Order
    price: float | None  # GTC/FAK only; not signed

    def order_json(self) -> dict[str, Any]:
        o = self.signed.order
        out: dict[str, Any] = {
            "salt": o.salt, "maker": o.maker, "signer": o.signer, "taker": o.taker, "tokenId": o.token_id,
            "makerAmount": o.maker_amount, "takerAmount": o.taker_amount, "expiration": str(o.expiration),
            "nonce": o.nonce, "feeRateBps": o.fee_rate_bps, "side": o.side, "signatureType": o.signature_type,
        }
        if self.price is not None:
            out["price"] = self.price
        out["signature"] = self.signed.signature
        return out

    def body(self, owner_id: int, order_type: str, market_slug: str, post_only: bool | None = None) -> str:
        """The exact `POST /orders` body text (compact JSON, as the SDK's HTTP client serialises it)."""
        payload: dict[str, Any] = {"order": self.order_json(), "ownerId": owner_id, "orderType": order_type,
                                   "marketSlug": market_slug}
        if post_only is not None and order_type == "GTC":
            payload["postOnly"] = post_only
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def fee_rate_for(venue: dict[str, Any], account_fee_bps: int) -> int:
    return 0 if (venue or {}).get("feeModuleType") == COLLATERAL_FEE_VENUE else account_fee_bps


def sign_order(account, *, exchange: str, token_id: str, side: int, maker_amount: int, taker_amount: int,
               fee_rate_bps: int, salt: int, price: float | None = None, expiration: int = 0) -> SignedOrder:
    order = V1Order(salt=salt, maker=account.address, signer=account.address, token_id=str(token_id),
                    maker_amount=maker_amount, taker_amount=taker_amount, side=side, fee_rate_bps=fee_rate_bps,
                    expiration=expiration)
    return SignedOrder(ctf_orders.sign_v1(account, order, domain(exchange)), price)


__all__ = ["BUY", "SELL", "SignedOrder", "domain", "fee_rate_for", "fok_amount", "limit_amounts", "salt_for",
           "sign_order", "snap_price"]
