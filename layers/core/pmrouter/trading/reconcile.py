"""Fill reconciliation: the scheduled `reconcile_fills` function.

For every order whose final state we do not know (the sparse `to-reconcile` index: pending sends,
resting orders), ask the venue with the customer's stored credentials and move the record forward.
A pending order the venue has never heard of, older than `NOT_FOUND_GRACE_S`, never reached it:
it is marked rejected. Fills are written once each (conditional put keyed by the venue's fill id).

Orders placed with per-request credentials are not in the index (we hold no credentials for them);
they are brought up to date whenever their owner reads them with credentials again.

No tenant can stall the run: the whole queue is read and grouped by account; every account gets at
most `PER_ACCOUNT_PER_RUN` orders checked per run, accounts are visited in a fixed rotation within a
time budget (a run cut short is continued by the next from where it stopped), and orders nobody can
check (no stored credentials, a deactivated user) leave the queue with the reason recorded
(`recon_parked`, `recon_parked_at`). Each run emits `OldestUnreconciledOrderAge` (seconds, by
creation time) and `UnreconciledOrders`.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from .. import observability as metrics
from ..auth import credentials as credstore
from ..exchanges import errors as venue
from ..exchanges.base import TradingSession, VenueFill
from ..exchanges.registry import get_adapter
from ..store import accounts, fills
from ..store import orders as store

log = logging.getLogger("pmrouter.reconcile")

NOT_FOUND_GRACE_S = 120.0
PER_ACCOUNT_PER_RUN = 25  # each account's share of a run: no customer's backlog crowds out the others
ACCOUNT_CONCURRENCY = 8
RUN_BUDGET_S = 90.0  # the function's timeout is 120 s; what is not reached in time is next run's first
MAX_QUEUE_READ = 20_000


def record_fill(customer_id: str, exchange: str, fill: VenueFill) -> bool:
    """Store a fill once. Returns False when it was already stored."""
    return fills.put_once(customer_id, exchange, fill_id=fill.fill_id, order_id=fill.order_id,
                          market_id=fill.market_id, outcome=fill.outcome, side=fill.side,
                          price=Decimal(repr(fill.price)), size=Decimal(repr(fill.size)),
                          fee=Decimal(repr(fill.fee)), is_taker=fill.is_taker, created_at=fill.created_at)


async def _reconcile_order(session: TradingSession, rec: store.OrderRecord) -> str:
    try:
        market = await get_adapter(rec.exchange).get_market(rec.market_id)
        if rec.venue_order_id:
            try:
                live = await session.get_order(rec.venue_order_id)
            except venue.MarketNotFound:
                live = await session.find_order(rec.client_order_id, market)
        else:
            live = await session.find_order(rec.client_order_id, market)
    except venue.VenueError as exc:
        log.warning("reconcile: %s %s unreadable: %s", rec.exchange, rec.order_uid, type(exc).__name__)
        return "error"
    if live is None:
        age = time.time() - datetime.fromisoformat(rec.created_at).timestamp()
        if rec.status == "pending" and age > NOT_FOUND_GRACE_S and session.lost_orders_findable:
            store.update_state(rec, status="rejected",
                               error={"status": 503, "error": "the order never reached the venue", "code":
                                      "service_unavailable", "retryable": True})
            return "rejected"
        return "unknown"
    store.update_state(rec, status=live.status, filled=Decimal(repr(live.filled)), venue_order_id=live.id)
    return live.status


def _uncheckable(customer_id: str, exchange: str) -> tuple[str | None, Any]:
    """(reason, stored credentials): a reason when nobody can check this account's orders."""
    account = accounts.get_account(customer_id)
    if account is not None and account.get("status") == "deactivated":
        return "user_deactivated", None
    stored = credstore.load(customer_id, exchange)
    if stored is None:
        return "no_credentials", None
    return None, stored


def _rotation(keys: list[tuple[str, str]], after: str) -> list[tuple[str, str]]:
    """Accounts in a fixed order, starting after the one a cut-short run stopped at, so that a run
    that cannot reach everyone is continued by the next (round-robin by customer)."""
    ordered = sorted(keys, key=_account_key)
    start = next((i for i, k in enumerate(ordered) if _account_key(k) > after), 0) if after else 0
    return ordered[start:] + ordered[:start]


def _account_key(key: tuple[str, str]) -> str:
    return f"{key[0]}#{key[1]}"


async def _reconcile_account(customer_id: str, exchange: str, recs: list[store.OrderRecord],
                             outcome: dict[str, int], settled: set[str]) -> int:
    """Check one account's share of orders and read its fills; returns the fills newly recorded."""
    reason, stored = _uncheckable(customer_id, exchange)
    if reason is not None:
        for rec in recs:  # all of them, not a share: leaving the queue is one cheap write each
            store.park(rec, reason)
            settled.add(rec.order_uid)
        outcome[reason] = outcome.get(reason, 0) + len(recs)
        return 0
    share = recs[:PER_ACCOUNT_PER_RUN]
    try:
        session = get_adapter(exchange).open_session(stored.credentials)
    except (ValueError, NotImplementedError) as exc:
        log.warning("reconcile: %s session for an account failed: %s", exchange, type(exc).__name__)
        outcome["error"] = outcome.get("error", 0) + len(share)
        return 0
    results = await asyncio.gather(*(_reconcile_order(session, r) for r in share))
    for rec, result in zip(share, results):
        outcome[result] = outcome.get(result, 0) + 1
        if result in store.FINAL:
            settled.add(rec.order_uid)
    try:
        rows = await session.fills(market_id=None, limit=500)
    except venue.VenueError:
        return 0
    return sum(record_fill(customer_id, exchange, f) for f in rows)


def _oldest_age(records: list[store.OrderRecord], settled: set[str]) -> float:
    now = time.time()
    ages = [now - datetime.fromisoformat(r.created_at).timestamp() for r in records if r.order_uid not in settled]
    return round(max(ages), 3) if ages else 0.0


async def reconcile_once(budget_s: float = RUN_BUDGET_S) -> dict[str, Any]:
    """One fair run: read the whole queue, group it by account, and visit the accounts in rotation,
    each for at most PER_ACCOUNT_PER_RUN orders, until every account is visited or the time budget
    is spent (then the next run continues from there). Accounts nobody can check leave the queue."""
    started = time.perf_counter()
    deadline = time.monotonic() + budget_s
    records, truncated = store.reconcile_queue(MAX_QUEUE_READ)
    by_account: dict[tuple[str, str], list[store.OrderRecord]] = {}
    for rec in records:
        by_account.setdefault((rec.customer_id, rec.exchange), []).append(rec)
    order = _rotation(list(by_account), fills.rotation_cursor())
    outcome: dict[str, int] = {}
    settled: set[str] = set()
    visited: list[int] = []
    gate = asyncio.Semaphore(ACCOUNT_CONCURRENCY)

    async def visit(i: int, key: tuple[str, str]) -> int:
        async with gate:
            # The first account of the rotation is always visited, even when reading the queue took
            # the whole budget: otherwise a slow read would stall every run without moving the cursor.
            if visited and time.monotonic() > deadline:
                return 0
            visited.append(i)
            return await _reconcile_account(key[0], key[1], by_account[key], outcome, settled)

    fills_new = sum(await asyncio.gather(*(visit(i, k) for i, k in enumerate(order))))
    deferred = len(order) - len(visited)
    fills.save_rotation_cursor(_account_key(order[max(visited)]) if deferred and visited else "",
                               datetime.now(timezone.utc).isoformat())
    oldest = _oldest_age(records, settled)
    metrics.emit("OldestUnreconciledOrderAge", oldest, "Seconds")
    metrics.emit("UnreconciledOrders", len(records) - len(settled))
    if truncated or deferred:
        log.warning("reconcile: queue read cut at %d orders: %s; %d accounts deferred to the next run",
                    MAX_QUEUE_READ, truncated, deferred)
    checked = sum(min(len(by_account[order[i]]), PER_ACCOUNT_PER_RUN) for i in visited)
    return {"orders_checked": checked, "outcomes": outcome, "fills_recorded": fills_new,
            "accounts": len(order), "accounts_deferred": deferred, "queue_truncated": truncated,
            "oldest_unreconciled_s": oldest, "seconds": round(time.perf_counter() - started, 3)}


def run_reconcile(remaining_ms: int | None = None) -> dict[str, Any]:
    budget = RUN_BUDGET_S if remaining_ms is None else max(1.0, min(RUN_BUDGET_S, remaining_ms / 1000 - 20))
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(reconcile_once(budget))
    finally:
        loop.close()
