"""The sandbox matching engine: the venue simulators are only as honest as this."""
from __future__ import annotations

import time
from decimal import Decimal as D

import pytest

from shared.sandbox.matching import MatchingEngine, Order, Rejected


def engine() -> MatchingEngine:
    e = MatchingEngine()
    e.seed("T", "mm", bids=[(D("0.50"), D("10")), (D("0.48"), D("20"))], asks=[(D("0.52"), D("10")), (D("0.55"), D("30"))])
    return e


def test_crossing_buy_walks_asks_in_price_order_and_rests_the_rest():
    e = engine()
    o = Order("a", "alice", "T", "buy", D("0.55"), D("50"))
    fills = e.submit(o)
    assert [(f.price, f.size) for f in fills] == [(D("0.52"), D("10")), (D("0.55"), D("30"))]
    assert o.filled == D("40") and o.status == "open"
    assert e.book("T").depth("buy")[0] == (D("0.55"), D("10"))
    assert e.book("T").asks == []


def test_price_time_priority_at_one_level():
    e = MatchingEngine()
    e.submit(Order("first", "a", "T", "sell", D("0.6"), D("5")))
    e.submit(Order("second", "b", "T", "sell", D("0.6"), D("5")))
    fills = e.submit(Order("taker", "c", "T", "buy", D("0.6"), D("5"), tif="IOC"))
    assert [f.maker_order for f in fills] == ["first"]


def test_ioc_cancels_remainder_and_fok_is_all_or_nothing():
    e = engine()
    ioc = Order("i", "alice", "T", "buy", D("0.52"), D("15"), tif="IOC")
    assert sum(f.size for f in e.submit(ioc)) == D("10")
    assert ioc.status == "cancelled" and ioc not in e.book("T").bids
    fok = Order("f", "bob", "T", "sell", D("0.48"), D("31"), tif="FOK")
    with pytest.raises(Rejected):
        e.submit(fok)
    assert e.book("T").depth("buy") == [(D("0.50"), D("10")), (D("0.48"), D("20"))]
    ok = Order("g", "bob", "T", "sell", D("0.48"), D("30"), tif="FOK")
    assert sum(f.size for f in e.submit(ok)) == D("30") and ok.status == "filled"


def test_post_only_rejects_when_crossing():
    e = engine()
    with pytest.raises(Rejected):
        e.submit(Order("p", "alice", "T", "buy", D("0.53"), D("1"), post_only=True))
    e.submit(Order("q", "alice", "T", "buy", D("0.51"), D("1"), post_only=True))
    assert e.book("T").depth("buy")[0] == (D("0.51"), D("1"))


def test_gtd_expires_and_cancel_is_owner_scoped():
    e = engine()
    o = Order("x", "alice", "T", "buy", D("0.40"), D("1"), tif="GTD", expires_at=time.time() + 0.05)
    e.submit(o)
    assert e.open_orders("alice") == [o]
    time.sleep(0.06)
    assert e.open_orders("alice") == [] and o.status == "expired"
    y = Order("y", "alice", "T", "buy", D("0.40"), D("1"))
    e.submit(y)
    with pytest.raises(KeyError):
        e.cancel("y", owner="mallory")
    assert e.cancel("y", owner="alice").status == "cancelled"


def test_self_trade_prevention_cancels_taker():
    e = MatchingEngine()
    e.submit(Order("m", "alice", "T", "sell", D("0.6"), D("5")))
    t = Order("t", "alice", "T", "buy", D("0.6"), D("5"), stp="cancel_taker")
    assert e.submit(t) == [] and t.status == "cancelled"
