"""/polymarket/ctf/{split,merge,redeem}: conditional-token operations for the caller's Polymarket
wallet on Polymarket's ConditionalTokens contract, or its NegRiskAdapter for a neg-risk market (split
and merge ask the venue whether the condition's market is neg-risk; redeem says so itself, with
per-outcome amounts). The answer carries the transaction hash and the state its receipt shows; a
retry with the same Idempotency-Key follows the same transaction instead of sending another."""
from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Header

from ..api.auth import ActingCustomer
from ..api.errors import ApiError, NotSupported, ValidationFailed
from ..auth import credentials as credstore
from ..contract.common import WireModel
from ..ctf.relayer import relayer

router = APIRouter(prefix="/polymarket/ctf", tags=["ctf"])


class AmountRequest(WireModel):
    condition_id: str
    amount: str


class RedeemRequest(WireModel):
    condition_id: str
    neg_risk: bool = False
    amounts: list[str] | None = None


class CtfResponse(WireModel):
    transaction_hash: str | None = None
    status: str | None = None


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


def _bytes32(value: str, field: str) -> str:
    v = value.strip()
    if not (v.startswith("0x") and len(v) == 66 and all(c in "0123456789abcdefABCDEF" for c in v[2:])):
        raise ValidationFailed([f"{field} must be a 0x-prefixed bytes32 hex string"])
    return v.lower()


def _units(value: str, field: str, *, zero: bool = False) -> int:
    if not value.isascii() or not value.isdigit() or (int(value) == 0 and not zero):
        kind = "a non-negative" if zero else "a positive"
        raise ValidationFailed([f"{field} must be {kind} integer of USDC base units (6 decimals), e.g. \"1000000\""])
    return int(value)


async def _neg_risk(condition_id: str) -> bool:
    """Whether the venue lists this condition's market as neg-risk. A condition the venue does not list
    is a plain ConditionalTokens one (the contract refuses it if nobody prepared it)."""
    from ..exchanges import errors as venue
    from ..exchanges.registry import get_adapter

    try:
        market = await get_adapter("polymarket").get_market(condition_id)
    except venue.MarketNotFound:
        return False
    return bool(market.extra.get("neg_risk"))


async def _submit(customer_id: str, action: str, payload: dict, key: str | None, submitter=None) -> CtfResponse:
    stored = credstore.load(customer_id, "polymarket")
    if stored is None or not stored.address:
        raise ApiError("no Polymarket wallet: onboard Polymarket (managed, or self with private_key) first",
                       status=403, code="credentials_required")
    creds = stored.credentials
    if creds.signature_type != 0 or (creds.funder and creds.funder.lower() != stored.address.lower()):
        # The positions sit in the proxy or Safe, which only a relayer transaction can move.
        raise NotSupported("CTF operations for proxy and Safe wallets need a relayer, which is not configured; "
                           "EOA wallets (managed, or onboarded with their key) work")
    # The request id scopes the chain intent: the same key (per customer and action) is the same transaction.
    request_id = f"{customer_id}:{key}" if key else str(uuid.uuid4())
    submitter = submitter or relayer()
    # Sending waits for the receipt: off the event loop.
    out = await asyncio.to_thread(submitter.submit, stored.address, action, payload,
                                  private_key=stored.credentials.private_key, request_id=request_id)
    return CtfResponse(**out)


@router.post("/split", response_model=CtfResponse)
async def split(customer_id: ActingCustomer, body: Annotated[AmountRequest, Body()],
               key: IdempotencyKey = None) -> CtfResponse:
    payload = {"condition_id": _bytes32(body.condition_id, "condition_id"), "amount": _units(body.amount, "amount")}
    submitter = relayer()  # no chain: 503 before asking the venue anything
    payload["neg_risk"] = await _neg_risk(payload["condition_id"])
    return await _submit(customer_id, "split", payload, key, submitter)


@router.post("/merge", response_model=CtfResponse)
async def merge(customer_id: ActingCustomer, body: Annotated[AmountRequest, Body()],
               key: IdempotencyKey = None) -> CtfResponse:
    payload = {"condition_id": _bytes32(body.condition_id, "condition_id"), "amount": _units(body.amount, "amount")}
    submitter = relayer()  # no chain: 503 before asking the venue anything
    payload["neg_risk"] = await _neg_risk(payload["condition_id"])
    return await _submit(customer_id, "merge", payload, key, submitter)


@router.post("/redeem", response_model=CtfResponse)
async def redeem(customer_id: ActingCustomer, body: Annotated[RedeemRequest, Body()],
                 key: IdempotencyKey = None) -> CtfResponse:
    payload: dict = {"condition_id": _bytes32(body.condition_id, "condition_id"), "neg_risk": body.neg_risk}
    if body.neg_risk:
        if not body.amounts:
            raise ValidationFailed(["amounts is required when neg_risk is true (one per outcome)"])
        # One amount per outcome; holding none of one outcome is normal, holding none at all is not.
        payload["amounts"] = [_units(a, f"amounts[{i}]", zero=True) for i, a in enumerate(body.amounts)]
        if not any(payload["amounts"]):
            raise ValidationFailed(["amounts must redeem something: at least one amount above 0"])
    elif body.amounts:
        raise ValidationFailed(["amounts is only used with neg_risk=true"])
    return await _submit(customer_id, "redeem", payload, key)
