"""Order records double as idempotency records: claimed once, moved forward, never resurrected."""
from __future__ import annotations

from decimal import Decimal

import pytest

from pmrouter.store import orders


def _record(uid="i1", mode="stored", **kw):
    base = dict(customer_id="c1", order_uid=uid, exchange="kalshi", market_id="KX-1", outcome="Yes", side="buy",
                price=Decimal("0.55"), size=Decimal("10"), order_type="gtc", client_order_id="cid-" + uid,
                fingerprint="fp1", cred_mode=mode)
    base.update(kw)
    return orders.OrderRecord(**base)


def test_claim_is_once_and_returns_the_first_record(tables):
    orders.claim(_record())
    with pytest.raises(orders.AlreadyClaimed) as exc:
        orders.claim(_record(fingerprint="other"))
    assert exc.value.existing.fingerprint == "fp1"
    assert exc.value.existing.price == Decimal("0.55")


def test_same_idempotency_key_gives_same_uid_per_customer_and_venue():
    a = orders.order_uid("c1", "kalshi", "key-1")
    assert a == orders.order_uid("c1", "kalshi", "key-1")
    assert a != orders.order_uid("c2", "kalshi", "key-1") != orders.order_uid("c1", "polymarket", "key-1")
    assert orders.order_uid("c1", "kalshi", None) != orders.order_uid("c1", "kalshi", None)


def test_final_state_is_never_overwritten(tables):
    rec = _record()
    orders.claim(rec)
    orders.update_state(rec, status="open", venue_order_id="v-1")
    orders.update_state(rec, status="cancelled")
    stale = orders.get("c1", "i1")
    back = orders.update_state(stale, status="open", filled=Decimal("3"))
    assert back.status == "cancelled"
    assert orders.get("c1", "i1").status == "cancelled"
    assert orders.find_by_venue_id("c1", "kalshi", "v-1").order_uid == "i1"
    assert orders.find_by_venue_id("c2", "kalshi", "v-1") is None


def test_reconcile_queue_holds_only_unfinished_stored_orders(tables):
    pending, per_request, done = _record("a"), _record("b", mode="per_request"), _record("c")
    for r in (pending, per_request, done):
        orders.claim(r)
    orders.update_state(done, status="filled", filled=Decimal("10"))
    assert [r.order_uid for r in orders.to_reconcile()] == ["a"]


def test_listing_one_venue_follows_pages_past_other_venues_orders(tables):
    for i in range(9):  # interleaved: one Kalshi order per three
        orders.claim(_record(f"u{i:02d}", exchange="kalshi" if i % 3 == 0 else "polymarket"))
    got = orders.list_for("c1", "kalshi", page_size=2)
    assert sorted(r.order_uid for r in got) == ["u00", "u03", "u06"]
    assert len(orders.list_for("c1", "polymarket", limit=4, page_size=3)) == 4
    assert orders.list_for("c2", "kalshi") == []


def test_venue_id_already_in_the_claim_is_not_rewritten(tables):
    rec = _record("p1", exchange="polymarket", venue_order_id="0xabc")
    orders.claim(rec)
    orders.update_state(rec, status="open", venue_order_id="0xabc", filled=Decimal("0"))
    assert orders.find_by_venue_id("c1", "polymarket", "0xabc").status == "open"
    orders.update_state(rec, status="open", venue_order_id="0xdef")  # a venue that re-keys is still followed
    assert orders.find_by_venue_id("c1", "polymarket", "0xdef").order_uid == "p1"
