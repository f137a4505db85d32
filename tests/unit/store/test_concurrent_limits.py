"""Limits under concurrency, against moto with threads (issue 8).

Item 4: the shared token bucket's optimistic lock never loses an update, even when every write lands
in the same millisecond, so concurrent requests never get more than the burst.

DynamoDB applies each conditional write atomically; moto's in-process backend checks the condition
and writes without a lock, so `atomic_writes` gives it the service's atomicity (it changes nothing
about which writes succeed when they do not overlap)."""
from __future__ import annotations

import asyncio
import threading
import time
import types

import pytest

from pmrouter.store import usage as usage_store
from pmrouter.usage import limits

FROZEN = 1_800_000_000.0  # one instant for every writer: the clock cannot tell their writes apart


@pytest.fixture(autouse=True)
def atomic_writes(monkeypatch):
    from tests.unit.moto_atomic import serialize

    serialize(monkeypatch)


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
    real = usage_store._table()
    n = 8
    together = _ReadTogether(real, n)
    monkeypatch.setattr(usage_store, "_table", lambda: together)
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


# --- item 3: the builder's QPS pool --------------------------------------------------------------

@pytest.fixture()
def builder(tables, monkeypatch):
    """A builder account with a pool of 20 QPS, and the platform secret end-user keys derive from."""
    import boto3

    from pmrouter.auth import apikeys, platform_secrets
    from pmrouter.store.accounts import create_account, _table

    boto3.client("secretsmanager").create_secret(Name="unit/platform", SecretString='{"api_key_pepper": "p" }')
    monkeypatch.setenv("PMROUTER_PLATFORM_SECRET_ID", "unit/platform")
    from pmrouter.settings import reload_settings

    reload_settings()
    platform_secrets.reset()
    account = create_account("builder", "pro", name="pool")
    _table().update_item(Key={"customer_id": account["customer_id"]}, UpdateExpression="SET qps_pool = :p",
                         ExpressionAttributeValues={":p": 20})
    yield apikeys.Principal(account["customer_id"], "builder", "pro", "pk_live_xxxxxx")
    platform_secrets.reset()


def _create_all(principal, external_ids, qps):
    from pmrouter.api.errors import from_domain_error
    from pmrouter.errors import PmrouterError
    from pmrouter.builders import users
    from pmrouter.contract.builder import CreateUserRequest

    results: dict[str, object] = {}

    def worker(ext: str) -> None:
        try:
            results[ext] = users.create(principal, CreateUserRequest(external_id=ext, qps_limit=qps))[1]
        except PmrouterError as exc:
            results[ext] = from_domain_error(exc).status  # what the caller is answered

    threads = [threading.Thread(target=worker, args=(e,)) for e in external_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _allocated(builder_id: str) -> int:
    from pmrouter.store import builder_users

    return sum(int(u.get("qps_limit") or 0) for u in builder_users.all_users(builder_id) if u.get("status") == "active")


class _SoftBarrier:
    """Lets every thread read the pool's users before any of them writes, when the code reads them
    per request (the check-then-write race); code that does not gives up waiting after a second."""

    def __init__(self, parties: int, real):
        self._barrier, self._real, self._seen = threading.Barrier(parties, timeout=1), real, threading.local()

    def __call__(self, *a, **kw):
        out = self._real(*a, **kw)
        if not getattr(self._seen, "done", False):
            self._seen.done = True
            try:
                self._barrier.wait()
            except threading.BrokenBarrierError:
                pass
        return out


def test_concurrent_creates_never_over_allocate_the_pool(builder, monkeypatch):
    from pmrouter.store import builder_users

    monkeypatch.setattr(builder_users, "all_users", _SoftBarrier(10, builder_users.all_users))
    results = _create_all(builder, [f"ext-{i}" for i in range(10)], 5)
    monkeypatch.undo()
    assert sum(1 for r in results.values() if r is True) == 4, results  # 4 x 5 = the pool of 20
    assert all(r is True or r == 400 for r in results.values()), results
    assert _allocated(builder.customer_id) == 20


def test_deactivating_and_recreating_users_mints_nothing(builder):
    from pmrouter.errors import PmrouterError as ApiError
    from pmrouter.builders import users
    from pmrouter.contract.builder import CreateUserRequest

    made = [users.create(builder, CreateUserRequest(external_id=f"u{i}", qps_limit=10))[0] for i in range(2)]
    with pytest.raises(ApiError):
        users.create(builder, CreateUserRequest(external_id="u2", qps_limit=1))
    target = made[0].customer_id
    threads = [threading.Thread(target=lambda: asyncio.run(users.deactivate(builder, target))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    again, created = users.create(builder, CreateUserRequest(external_id="u0", qps_limit=10))
    assert created is False and again.status == "deactivated"  # the same user, not a new allocation
    users.create(builder, CreateUserRequest(external_id="u3", qps_limit=10))
    with pytest.raises(ApiError):
        users.create(builder, CreateUserRequest(external_id="u4", qps_limit=1))
    with pytest.raises(ApiError):
        users.update(builder, made[1].customer_id, 11)
    assert users.pool(builder).total_allocated_qps == 20 == _allocated(builder.customer_id)


def test_a_create_cut_off_before_its_key_is_completed_by_the_retry(builder, monkeypatch):
    """Crash between the two steps (user written, key not yet stored): the retry stores the key."""
    from pmrouter.auth import apikeys
    from pmrouter.builders import users
    from pmrouter.contract.builder import CreateUserRequest

    real = apikeys.store_key

    def crash(*a, **kw):
        raise RuntimeError("instance died")

    monkeypatch.setattr(apikeys, "store_key", crash)
    with pytest.raises(RuntimeError):
        users.create(builder, CreateUserRequest(external_id="cut-off", qps_limit=2))
    monkeypatch.setattr(apikeys, "store_key", real)
    again, created = users.create(builder, CreateUserRequest(external_id="cut-off", qps_limit=2))
    assert created is False
    assert apikeys.authenticate(again.api_key) is not None
    assert users.pool(builder).total_allocated_qps == 2  # the retry allocated nothing more


def test_a_deactivation_cut_off_after_the_record_is_completed_by_the_retry(builder, monkeypatch):
    from pmrouter.auth import apikeys
    from pmrouter.builders import users
    from pmrouter.contract.builder import CreateUserRequest

    made, _ = users.create(builder, CreateUserRequest(external_id="half-gone", qps_limit=2))
    real = apikeys.revoke_key

    def crash(*a, **kw):
        raise RuntimeError("instance died")

    monkeypatch.setattr(apikeys, "revoke_key", crash)
    with pytest.raises(RuntimeError):
        asyncio.run(users.deactivate(builder, made.customer_id))
    monkeypatch.setattr(apikeys, "revoke_key", real)
    asyncio.run(users.deactivate(builder, made.customer_id))
    apikeys.clear_cache()
    assert apikeys.authenticate(made.api_key) is None
    assert users.pool(builder).total_allocated_qps == 0  # returned once, not twice
