"""Limits under concurrency, against moto with threads (issue 8).

Item 4: the shared token bucket's optimistic lock never loses an update, even when every write lands
in the same millisecond, so concurrent requests never get more than the burst.

DynamoDB applies each conditional write atomically; moto's in-process backend checks the condition
and writes without a lock, so `atomic_writes` gives it the service's atomicity (it changes nothing
about which writes succeed when they do not overlap)."""
from __future__ import annotations

import threading
import time
import types

import pytest
from moto.dynamodb.models import DynamoDBBackend

from pmrouter.usage import limits

FROZEN = 1_800_000_000.0  # one instant for every writer: the clock cannot tell their writes apart


@pytest.fixture(autouse=True)
def atomic_writes(monkeypatch):
    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def locked(self, *a, _original=original, **kw):
            with lock:
                return _original(self, *a, **kw)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


@pytest.fixture()
def frozen_clock(monkeypatch):
    monkeypatch.setattr(limits, "time", types.SimpleNamespace(time=lambda: FROZEN, monotonic=time.monotonic))


class _ReadTogether:
    """Wraps the usage table so that the first read of each thread waits until all of them have
    read: every writer then holds the same snapshot of the bucket, the worst interleaving."""

    def __init__(self, table, parties: int):
        self._table, self._barrier, self._seen = table, threading.Barrier(parties, timeout=30), threading.local()

    def get_item(self, **kw):
        item = self._table.get_item(**kw)
        if not getattr(self._seen, "done", False):
            self._seen.done = True
            self._barrier.wait()
        return item

    def __getattr__(self, name):
        return getattr(self._table, name)


def _take_concurrently(n: int, burst: int) -> list[int]:
    granted = [0] * n

    def worker(i: int) -> None:
        granted[i], _ = limits._lease_bucket("bucket#same-ms", 5.0, burst, 1)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return granted


def test_writes_in_one_millisecond_never_lose_a_token(tables, frozen_clock, monkeypatch):
    burst = 5
    assert limits._lease_bucket("bucket#same-ms", 5.0, burst, 1)[0] == 1  # the bucket exists: 4 left
    real = limits._table()
    n = 8
    together = _ReadTogether(real, n)
    monkeypatch.setattr(limits, "_table", lambda: together)
    granted = _take_concurrently(n, burst)
    assert sum(granted) <= burst - 1, granted
    left = real.get_item(Key={"pk": "bucket#same-ms"}, ConsistentRead=True)["Item"]
    assert float(left["tokens"]) + sum(granted) == pytest.approx(burst - 1)


def test_many_limiters_at_one_instant_never_exceed_the_burst(tables, frozen_clock):
    tier = limits.tier_of("free")  # burst 5, leases of 1 token
    admitted = []
    lock = threading.Lock()

    def instance() -> None:
        mine = limits.Limiter()  # one Lambda container each
        for _ in range(3):
            try:
                mine.admit("key#stampede", "cust-stampede", tier)
            except limits.Limited:
                continue
            with lock:
                admitted.append(1)

    threads = [threading.Thread(target=instance) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) <= tier.burst, len(admitted)
