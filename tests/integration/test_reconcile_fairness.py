"""Issue 8, item 5: reconciliation that no tenant can stall. Orders that cannot be checked (no
credentials, a deactivated user) leave the queue with a recorded reason; every customer is reached
each run; a metric reports the oldest unreconciled order's age; deactivating a user cancels its
open orders at the venue first."""
from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import boto3
import pytest
from eth_account import Account

from pmrouter.settings import get_settings
from pmrouter.store import orders as store
from shared.localstack.stack import load_function


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="milliseconds")


def _record(customer_id: str, exchange: str, market_id: str, at: datetime) -> store.OrderRecord:
    uid = "r" + uuid.uuid4().hex[:31]
    return store.OrderRecord(customer_id=customer_id, order_uid=uid, exchange=exchange, market_id=market_id,
                             outcome="yes", side="buy", price=Decimal("0.02"), size=Decimal("5"), order_type="gtc",
                             client_order_id="never-sent-" + uid, fingerprint="fp", cred_mode="stored",
                             created_at=_iso(at), updated_at=_iso(at))


def _item(rec: store.OrderRecord) -> dict:
    return boto3.resource("dynamodb").Table(get_settings().orders_table).get_item(
        Key={"customer_id": rec.customer_id, "order_uid": rec.order_uid}, ConsistentRead=True)["Item"]


@pytest.fixture()
def trader(polymarket_linked):
    """A trader linked to Polymarket (stored credentials), so its orders can be checked."""
    with polymarket_linked("trader", "reconcile") as (c, customer_id):
        market = next(m for m in c.get("/markets", params={"exchanges": "polymarket", "limit": 50}).json()["markets"]
                      if m["status"] == "active")
        yield customer_id, market["exchange_market_id"]


def test_orders_nobody_can_check_do_not_stall_everyone_else(api, trader, caplog):
    customer_id, market_id = trader
    long_ago = datetime(2020, 1, 1, tzinfo=timezone.utc)
    # 210 orders of a customer we hold no credentials for, older than anything else in the queue...
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    ghosts = [_record(ghost, "kalshi", "KX-GHOST", long_ago + timedelta(milliseconds=i)) for i in range(210)]
    # ...one of a builder's deactivated user...
    user = api.post("/builder/users", json={"external_id": f"gone-{uuid.uuid4().hex[:8]}"}).json()
    assert api.delete(f"/builder/users/{user['customer_id']}").status_code == 204
    gone = _record(user["customer_id"], "polymarket", market_id, long_ago + timedelta(seconds=1))
    # ...and one the venue never received, of a customer we can check: it must be settled.
    mine = _record(customer_id, "polymarket", market_id, datetime.now(timezone.utc) - timedelta(minutes=10))
    for rec in [*ghosts, gone, mine]:
        store.claim(rec)

    with caplog.at_level(logging.INFO, logger="pmrouter.metrics"):
        report = load_function("reconcile_fills").handler({}, None)

    assert _item(mine)["status"] == "rejected", report  # reached despite 211 unreachable orders ahead of it
    for rec, reason in [(ghosts[0], "no_credentials"), (ghosts[-1], "no_credentials"), (gone, "user_deactivated")]:
        item = _item(rec)
        assert "recon" not in item, "an order nobody can check must leave the queue"
        assert item["recon_parked"] == reason and item["recon_parked_at"], item
        assert item["status"] == "pending"  # its state is unknown, and stays recorded as such
    queue = {(r.customer_id, r.order_uid) for r in store.to_reconcile(limit=1000)}
    assert not queue & {(r.customer_id, r.order_uid) for r in [*ghosts, gone, mine]}
    assert report["outcomes"].get("no_credentials") == 210 and report["outcomes"].get("user_deactivated") == 1

    ages = [json.loads(r.getMessage()) for r in caplog.records
            if r.name == "pmrouter.metrics" and "OldestUnreconciledOrderAge" in r.getMessage()]
    assert ages, "the run reports the oldest unreconciled order's age"
    unit = ages[-1]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"]
    assert unit == "Seconds" and ages[-1]["OldestUnreconciledOrderAge"] >= 0


def test_every_customer_is_reached_within_one_run(trader, polymarket_linked, monkeypatch):
    """A customer with many open orders gets a fair share, not the whole run: a later customer's
    order is checked in the same run even when the first one's orders outnumber the run's share."""
    from pmrouter.trading import reconcile

    customer_id, market_id = trader
    monkeypatch.setattr(reconcile, "PER_ACCOUNT_PER_RUN", 3)
    with polymarket_linked("trader", "busy") as (_, busy_id):
        pass
    early = datetime(2021, 1, 1, tzinfo=timezone.utc)
    crowd = [_record(busy_id, "polymarket", market_id, early + timedelta(milliseconds=i)) for i in range(8)]
    late = _record(customer_id, "polymarket", market_id, datetime.now(timezone.utc) - timedelta(minutes=10))
    for rec in [*crowd, late]:
        store.claim(rec)
    load_function("reconcile_fills").handler({}, None)
    assert _item(late)["status"] == "rejected"
    assert sum(_item(r)["status"] == "rejected" for r in crowd) == 3  # its share this run, the rest next run
    load_function("reconcile_fills").handler({}, None)
    load_function("reconcile_fills").handler({}, None)
    assert all(_item(r)["status"] == "rejected" for r in crowd)


def test_deactivating_a_user_cancels_its_open_orders_at_the_venue_first(api, trader):
    _, market_id = trader
    user = api.post("/builder/users", json={"external_id": f"leaving-{uuid.uuid4().hex[:8]}"}).json()
    as_user = {"X-Builder-Customer-Id": user["customer_id"]}
    r = api.post("/builder/onboard", json={"customer_id": user["customer_id"], "exchange": "polymarket", "mode": "self",
                                           "private_key": "0x" + bytes(Account.create().key).hex()})
    assert r.status_code == 200, r.text
    placed = api.post("/orders", params={"exchange": "polymarket"}, headers=as_user,
                      json={"market_id": market_id, "outcome": "yes", "side": "buy", "price": 0.02, "size": 10})
    assert placed.status_code == 200 and placed.json()["status"] == "open", placed.text
    assert api.delete(f"/builder/users/{user['customer_id']}").status_code == 204
    rec = store.find_by_venue_id(user["customer_id"], "polymarket", placed.json()["id"])
    assert rec is not None and rec.status == "cancelled", rec  # the venue answered the cancel
    assert "recon" not in _item(rec)  # nothing left for reconciliation to chase


def test_a_run_cut_short_is_continued_by_the_next_from_where_it_stopped(stack, monkeypatch):
    """Round-robin by customer: when the time budget ends a run after one account, the next run
    starts with the account after it, not again with the first."""
    import asyncio

    from pmrouter.trading import reconcile

    tag = uuid.uuid4().hex[:8]
    mine = [f"rr-{tag}-{c}" for c in "abc"]
    for customer in mine:
        store.claim(_record(customer, "kalshi", "KX-RR", datetime(2020, 6, 1, tzinfo=timezone.utc)))
    real_queue, real_visit = store.reconcile_queue, reconcile._reconcile_account
    visits: list[str] = []

    def only_mine(max_items):  # the real queue, seen through this test's customers only
        records, cut = real_queue(max_items)
        return [r for r in records if r.customer_id in mine], cut

    async def slow_visit(customer_id, *args):
        visits.append(customer_id)  # and nothing else: the orders stay in the queue
        await asyncio.sleep(0.3)  # longer than the whole budget: no other account starts this run
        return 0

    monkeypatch.setattr(store, "reconcile_queue", only_mine)
    monkeypatch.setattr(reconcile, "_reconcile_account", slow_visit)
    monkeypatch.setattr(reconcile, "ACCOUNT_CONCURRENCY", 1)
    first = asyncio.run(reconcile.reconcile_once(budget_s=0.1))
    assert visits == [mine[0]] and first["accounts_deferred"] == 2, first
    asyncio.run(reconcile.reconcile_once(budget_s=0.1))
    assert visits == [mine[0], mine[1]]
    asyncio.run(reconcile.reconcile_once(budget_s=0.1))
    assert visits == mine
    asyncio.run(reconcile.reconcile_once(budget_s=0.1))
    assert visits == [*mine, mine[0]]  # and round again
    monkeypatch.setattr(reconcile, "_reconcile_account", real_visit)
    asyncio.run(reconcile.reconcile_once())  # leave nothing of this test in the queue


def test_a_queue_read_longer_than_the_budget_still_moves_the_rotation(stack, monkeypatch):
    """A run whose queue read alone spends the whole budget still visits the next account in the
    rotation, so a slow read can never stall reconciliation for everyone."""
    import asyncio

    from pmrouter.trading import reconcile

    tag = uuid.uuid4().hex[:8]
    mine = [f"slow-{tag}-{c}" for c in "ab"]
    for customer in mine:
        store.claim(_record(customer, "kalshi", "KX-SLOW", datetime(2020, 6, 1, tzinfo=timezone.utc)))
    real_queue, real_visit = store.reconcile_queue, reconcile._reconcile_account
    visits: list[str] = []

    def slow_queue(max_items):
        records, cut = real_queue(max_items)
        time.sleep(0.15)  # the read alone outlasts the budget below
        return [r for r in records if r.customer_id in mine], cut

    async def visit(customer_id, *args):
        visits.append(customer_id)
        return 0

    monkeypatch.setattr(store, "reconcile_queue", slow_queue)
    monkeypatch.setattr(reconcile, "_reconcile_account", visit)
    monkeypatch.setattr(reconcile, "ACCOUNT_CONCURRENCY", 1)
    asyncio.run(reconcile.reconcile_once(budget_s=0.1))
    asyncio.run(reconcile.reconcile_once(budget_s=0.1))
    assert visits == mine
    monkeypatch.setattr(store, "reconcile_queue", real_queue)
    monkeypatch.setattr(reconcile, "_reconcile_account", real_visit)
    asyncio.run(reconcile.reconcile_once())  # leave nothing of this test in the queue
