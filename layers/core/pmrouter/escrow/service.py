"""Escrow records: one per fee authorization, keyed by its canonical order id (lower-case bytes32),
so one signed PullFee pays for exactly one order. Every state change is a conditional write, so a
retry, a concurrent duplicate or a second settlement run can never move money twice.

States (`state`, mirrored in `status`):
    pulling  -> recorded, the fee is being pulled (a crash here is resolved from the chain)
    held     -> pulled, its order exists (being sent, resting, or final and waiting for settlement)
    released -> pulled, but the order certainly never reached the venue: a retry with the same
                Idempotency-Key and authorization takes it back (no second pull); otherwise the
                settlement refunds it after RETRY_WINDOW_S
    settling -> claimed by one settlement run, amounts fixed (a run that died is finished by the next)
    settled  -> distributed (affiliate, treasury) and/or refunded; `refund_amount` says how much came back
    void     -> nothing was ever pulled; nothing to return
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ..errors import InvalidInput
from ..store import escrow as store
from ..store import orders as order_store
from .chain import AlreadyDone, chain

log = logging.getLogger("pmrouter.escrow")

RETRY_WINDOW_S = 600  # a released or interrupted escrow waits this long for the caller's retry
PENDING_NO_VENUE_ID_S = 600  # an order pending without a venue id this long never reached it
STALE_S = 24 * 3600  # an escrow whose order is still not final after a day is settled as it stands
SETTLE_LEASE_S = 300  # a settlement claim older than this belongs to a run that died


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _age(iso: str | None, now: float) -> float:
    return now - datetime.fromisoformat(iso).timestamp() if iso else 0.0


def _spent(message: str = "fee_auth.order_id was already used; sign a new authorization"):
    return InvalidInput([message])


def hold(escrow_id: str, *, customer_id: str, builder_id: str, order_uid: str, payer: str, fee: int, deadline: int,
         signature: str, affiliate: str, affiliate_bps: int) -> None:
    """Record the escrow, then pull the fee: before the order is sent. A retry of the same order (same
    customer, Idempotency-Key, payer and fee) takes back its released fee or finishes an interrupted pull;
    anything else reusing the id is refused."""
    attempt = _now()
    recorded = store.put_new({
        "escrow_id": escrow_id, "status": "pulling", "state": "pulling", "customer_id": customer_id,
        "builder_id": builder_id, "order_uid": order_uid, "payer": payer.lower(), "fee": fee,
        "affiliate": affiliate, "affiliate_bps": affiliate_bps, "created_at": attempt, "attempt_at": attempt})
    if not recorded:
        resumed = _resume(escrow_id, customer_id=customer_id, order_uid=order_uid, payer=payer, fee=fee)
        if resumed is None:
            return
        attempt = resumed
    try:
        tx = chain().pull_fee(escrow_id, payer, fee, deadline, signature)
    except AlreadyDone:
        tx = None  # an earlier attempt of this same order pulled it
    try:
        store.move(escrow_id, "held", expect={"state": "pulling", "attempt_at": attempt},
                   values={"pull_tx": tx} if tx else None)
    except store.Moved:
        raise _spent("fee_auth: this authorization was settled while the order was being placed; "
                     "sign a new authorization") from None


def _resume(escrow_id: str, *, customer_id: str, order_uid: str, payer: str, fee: int) -> str | None:
    """For a retry of the same order: None when its released fee was taken back (held again), or the
    new attempt stamp when an interrupted pull is to be finished."""
    existing = get(escrow_id)
    same = (existing is not None and existing.get("customer_id") == customer_id
            and existing.get("order_uid") == order_uid and str(existing.get("payer", "")).lower() == payer.lower()
            and int(existing.get("fee", -1)) == fee)
    if not same:
        raise _spent()
    assert existing is not None
    state = existing.get("state")
    if state == "held":
        # The caller holds the claim of this order (we are past it), so no earlier attempt of it is
        # live: the fee it pulled pays for this attempt.
        return None
    try:
        if state == "released":
            store.move(escrow_id, "held", expect={"state": "released", "order_uid": order_uid})
            return None
        if state == "pulling":
            attempt = _now()
            store.move(escrow_id, "pulling", expect={"state": "pulling", "attempt_at": existing["attempt_at"]},
                       values={"attempt_at": attempt})
            return attempt
    except store.Moved:
        pass
    if state in ("settling", "settled", "void", "released"):
        raise _spent("fee_auth.order_id: this authorization's fee was refunded; sign a new authorization")
    raise _spent()


def release(escrow_id: str) -> None:
    """The order certainly never reached the venue: its fee is released (refunded after the retry
    window unless a retry takes it back). Only a `held` escrow (fee known pulled) is released."""
    try:
        store.move(escrow_id, "released", expect={"state": "held"}, values={"released_at": _now()})
    except store.Moved:
        pass


def request_refund(order_uid: str) -> None:
    for item in store.by_order(order_uid):
        store.set_attribute(item["escrow_id"], "refund_requested", _now())


def get(escrow_id: str) -> dict | None:
    return store.get(escrow_id)


def in_state(state: str) -> list[dict]:
    return store.in_state(state)


def shares(fee: int, filled_fraction: Decimal, affiliate_bps: int) -> tuple[int, int, int]:
    """(affiliate, treasury, refund) in base units; they always add up to the fee."""
    used = int(Decimal(fee) * min(Decimal(1), max(Decimal(0), filled_fraction)))
    affiliate = used * affiliate_bps // 10_000
    return affiliate, used - affiliate, fee - used


REFUND = Decimal(0)  # the filled fraction of an order that never was: everything comes back


def _decide(item: dict, now: float) -> Decimal | str | None:
    """What the settlement does with one escrow: a filled fraction to settle at, "void", or None (wait)."""
    state = item["state"]
    if state == "released":
        return REFUND if _age(item.get("released_at"), now) > RETRY_WINDOW_S else None
    if state == "pulling":
        if _age(item.get("attempt_at"), now) <= RETRY_WINDOW_S:
            return None
        return REFUND if chain().pulled(item["escrow_id"]) else "void"
    record = order_store.get(item["customer_id"], item["order_uid"])
    if record is None:
        return REFUND  # the order is gone: nothing can ever use this fee
    fraction = (record.filled / record.size) if record.size else Decimal(0)
    if record.status in order_store.FINAL:
        return fraction
    if record.status == "pending" and not record.venue_order_id and _age(record.created_at, now) > PENDING_NO_VENUE_ID_S:
        return REFUND
    if _age(item.get("created_at"), now) > STALE_S:
        return fraction  # stale: what filled is earned, the rest comes back
    return None


def _settle_one(item: dict, now: float) -> str:
    escrow_id = item["escrow_id"]
    if item["state"] == "settling":
        if _age(item.get("settling_at"), now) <= SETTLE_LEASE_S:
            return "waiting"  # another run is on it
        return _finish(item)
    decision = _decide(item, now)
    if decision is None:
        return "waiting"
    expect: dict[str, Any] = {"state": item["state"]}
    if item["state"] == "pulling":
        expect["attempt_at"] = item["attempt_at"]  # a retry that resumed the pull wins
    try:
        if decision == "void":
            store.move(escrow_id, "void", expect=expect, values={"settled_at": _now()})
            return "void"
        affiliate, treasury, refund = shares(int(item["fee"]), Decimal(decision), int(item["affiliate_bps"]))
        amounts = {"affiliate_amount": affiliate, "treasury_amount": treasury, "refund_amount": refund}
        store.move(escrow_id, "settling", expect=expect, values={**amounts, "settling_at": _now()})
    except store.Moved:
        return "waiting"  # a concurrent run or a retry moved it first
    return _finish({**item, **amounts})


def _finish(item: dict) -> str:
    """The chain call (skipped if the chain already has it), then `settled`. Rerunnable."""
    escrow_id = item["escrow_id"]
    c = chain()
    tx = None
    if not c.settled(escrow_id):
        try:
            tx = c.distribute(escrow_id, item["affiliate"], int(item["affiliate_amount"]),
                              int(item["treasury_amount"]), int(item["refund_amount"]))
        except AlreadyDone:
            tx = None
    values: dict[str, Any] = {"settled_at": _now()}
    if tx:
        values["settle_tx"] = tx
    try:
        store.move(escrow_id, "settled", expect={"state": "settling"}, values=values)
    except store.Moved:
        return "waiting"
    return "settled"


def settle_once(now: float | None = None) -> dict[str, Any]:
    """Settle every escrow that can be: finished orders by their filled fraction; released fees,
    interrupted pulls, orders gone, pending without a venue id for 10 minutes or stale for a day,
    refunded; settlements a dead run left half done, finished. Safe to run concurrently and to rerun;
    one escrow failing never stops the others."""
    now = time.time() if now is None else now
    report: dict[str, Any] = {"settled": 0, "void": 0, "waiting": 0, "errors": 0}
    from .chain import available

    if not available():  # no chain: touch nothing rather than claim settlements nobody can make
        log.warning("settle_fees: no chain or escrow contract configured; nothing settled")
        return {**report, "chain": "not configured"}
    for state in ("held", "released", "pulling", "settling"):
        for item in in_state(state):
            try:
                outcome = _settle_one(item, now)
            except Exception as exc:  # noqa: BLE001 - logged, counted, retried by the next run
                log.warning("escrow %s: settlement failed (%s); the next run retries", item["escrow_id"],
                            type(exc).__name__)
                outcome = "errors"
            report[outcome] += 1
    return report
