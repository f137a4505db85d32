"""The catalog sync with fake venues against DynamoDB (moto)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from moto import mock_aws

from pmrouter.catalog import loader, sync
from pmrouter.catalog.snapshot import Snapshot
from pmrouter.store.catalog_snapshots import SnapshotStore
from pmrouter.exchanges.base import Capabilities, ExchangeAdapter, FeeModel, VenueMarket, VenueOutcome
from pmrouter.exchanges.errors import VenueUnavailable
from pmrouter.settings import reload_settings
from pmrouter.store import dynamo

TABLE = "test-catalog-sync"
END = datetime(2026, 9, 30, 23, 59, tzinfo=timezone.utc)


@pytest.fixture
def store(monkeypatch):
    for k, v in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                 "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                 "PMROUTER_CATALOG_TABLE": TABLE, "PMROUTER_CATALOG_REFRESH_SECONDS": "0"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    reload_settings()
    with mock_aws():
        dynamo.reset()
        loader.reset()
        dynamo.client("dynamodb").create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
        yield SnapshotStore(TABLE)
        loader.reset()
        dynamo.reset()
    monkeypatch.undo()
    reload_settings()


def market(ex: str, mid: str, question: str, vol: float = 100.0) -> VenueMarket:
    return VenueMarket(exchange=ex, exchange_market_id=mid, question=question,
                       outcomes=[VenueOutcome("Yes", None, 0.4), VenueOutcome("No", None, 0.6)], status="active",
                       market_type="binary", volume_total=vol, end_date=END)


class FakeVenue(ExchangeAdapter):
    capabilities = Capabilities(fetch_markets=True)
    fee_model = FeeModel("none")
    name = "Fake"

    def __init__(self, exchange: str, markets=None, error: Exception | None = None, delay: float = 0.0,
                 hook=None):
        self.id = exchange
        self.markets = markets or []
        self.error = error
        self.delay = delay
        self.hook = hook
        self.calls = 0

    async def list_markets(self) -> list[VenueMarket]:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hook:
            self.hook()
        if self.error:
            raise self.error
        return list(self.markets)

    async def fetch_market(self, key):  # pragma: no cover - not used by the sync
        raise NotImplementedError

    async def get_orderbook(self, market, outcome, depth):  # pragma: no cover
        raise NotImplementedError


POLY = [market("polymarket", "p1", "Will Bitcoin be above $100,000 on September 30, 2026?", 500),
        market("polymarket", "p2", "Will the US enter a recession by September 30, 2026?", 50)]
KALSHI = [market("kalshi", "K-BTC-100K", "Bitcoin price above $100,000 on Sep 30, 2026?", 300),
          market("kalshi", "K-BTC-110K", "Bitcoin price above $110,000 on Sep 30, 2026?", 200)]


def run(coro):
    return asyncio.run(coro)


def test_first_sync_publishes_markets_and_matches(store):
    report = run(sync.sync_catalog([FakeVenue("polymarket", POLY), FakeVenue("kalshi", KALSHI)], store=store))
    assert report.ok and report.written and report.previous_version is None
    assert report.market_count == 4
    assert {ex: (v.status, v.fetched, v.count) for ex, v in report.venues.items()} == {
        "polymarket": ("ok", 2, 2), "kalshi": ("ok", 2, 2)}
    assert report.match_count == 2  # p1 <-> K-BTC-100K, both directions; the $110k strike is a near miss
    snap = store.load()
    assert snap.version == report.version and len(snap.markets) == 4
    assert [l["parsec_id"] for l in snap.matches["polymarket:p1"]] == ["kalshi:K-BTC-100K"]
    assert "kalshi:K-BTC-110K" not in snap.matches
    meta = store.read_meta()
    assert meta["venues"]["kalshi"]["status"] == "ok" and meta["venues"]["kalshi"]["last_success"]
    index = loader.get_index()
    assert index.version == report.version
    assert index.matches_for("kalshi:K-BTC-100K")[0]["parsec_id"] == "polymarket:p1"
    d = report.as_dict()
    assert d["failed_venues"] == [] and d["venues"]["kalshi"]["count"] == 2 and "fetch_s" in d["timings"]


def test_failing_venue_keeps_its_previous_markets(store):
    first = run(sync.sync_catalog([FakeVenue("polymarket", POLY), FakeVenue("kalshi", KALSHI)], store=store))
    seen_during = {}

    def read_while_syncing():
        idx = SnapshotStore(TABLE).load()
        seen_during["v"] = (idx.version, len(idx.markets))

    new_poly = POLY + [market("polymarket", "p3", "Will Ethereum be above $5,000 on September 30, 2026?", 10)]
    report = run(sync.sync_catalog(
        [FakeVenue("polymarket", new_poly, hook=read_while_syncing),
         FakeVenue("kalshi", error=VenueUnavailable("kalshi", "503 from venue"))], store=store))
    assert seen_during["v"] == (first.version, 4)  # readers see the complete old snapshot meanwhile
    assert report.written and not report.ok
    assert report.previous_version == first.version
    k = report.venues["kalshi"]
    assert (k.status, k.fetched, k.count, k.carried_over) == ("failed", 0, 2, True)
    assert "503" in k.error
    assert k.last_success == first.venues["kalshi"].last_success
    assert report.as_dict()["failed_venues"] == ["kalshi"]
    snap = store.load()
    ids = {m.parsec_id for m in snap.markets}
    assert ids == {"polymarket:p1", "polymarket:p2", "polymarket:p3", "kalshi:K-BTC-100K", "kalshi:K-BTC-110K"}
    assert snap.matches["kalshi:K-BTC-100K"][0]["parsec_id"] == "polymarket:p1"
    assert store.read_meta()["venues"]["kalshi"]["status"] == "failed"


def test_previous_snapshot_argument_is_used_for_carry_over(store):
    run(sync.sync_catalog([FakeVenue("polymarket", POLY), FakeVenue("kalshi", KALSHI)], store=store))
    given = Snapshot("given", [market("kalshi", "K-OLD", "Old kalshi market?")])
    report = run(sync.sync_catalog([FakeVenue("polymarket", POLY), FakeVenue("kalshi", error=RuntimeError("x"))],
                                   store=store, previous=given))
    assert report.venues["kalshi"].count == 1
    assert "kalshi:K-OLD" in {m.parsec_id for m in store.load().markets}


def test_empty_answer_from_a_venue_that_had_markets_counts_as_failure(store):
    run(sync.sync_catalog([FakeVenue("polymarket", POLY), FakeVenue("kalshi", KALSHI)], store=store))
    report = run(sync.sync_catalog([FakeVenue("polymarket", POLY), FakeVenue("kalshi", [])], store=store))
    assert report.venues["kalshi"].status == "empty" and report.venues["kalshi"].count == 2
    assert store.read_meta()["market_count"] == 4


def test_timeout_is_a_failure(store):
    report = run(sync.sync_catalog([FakeVenue("polymarket", POLY), FakeVenue("kalshi", KALSHI, delay=5)],
                                   store=store, venue_timeout=0.05))
    assert report.written
    assert (report.venues["kalshi"].status, report.venues["kalshi"].error) == ("failed", "timed out")
    assert report.market_count == 2  # nothing to carry over on the first sync


def test_all_venues_failing_publishes_nothing(store):
    first = run(sync.sync_catalog([FakeVenue("polymarket", POLY)], store=store))
    report = run(sync.sync_catalog([FakeVenue("polymarket", error=RuntimeError("down")),
                                    FakeVenue("kalshi", error=RuntimeError("down"))], store=store))
    assert not report.written and not report.ok and "every venue failed" in report.error
    assert store.read_meta()["version"] == first.version


def test_concurrent_sync_that_published_first_wins(store):
    first = run(sync.sync_catalog([FakeVenue("polymarket", POLY)], store=store))
    other = {}

    def someone_else_publishes():
        other["meta"] = SnapshotStore(TABLE).write(KALSHI, expected_version=first.version)

    report = run(sync.sync_catalog([FakeVenue("polymarket", POLY, hook=someone_else_publishes)], store=store))
    assert not report.written and "moved" in report.error
    assert store.read_meta()["version"] == other["meta"]["version"]
    assert set(store.list_versions()) == {first.version, other["meta"]["version"]}


def test_run_sync_entry_point(store, monkeypatch):
    venues = [FakeVenue("polymarket", POLY), FakeVenue("kalshi", KALSHI)]
    monkeypatch.setattr(sync, "_adapters", lambda: venues)
    out = sync.run_sync()
    assert out["written"] and out["market_count"] == 4 and out["failed_venues"] == []
    assert store.read_meta()["version"] == out["version"]
    assert all(v.calls == 1 for v in venues)


def test_registry_failures_become_failed_venues(monkeypatch):
    import pmrouter.exchanges.registry as registry

    def get_adapter(ex):
        if ex == "opinion":
            raise ImportError("no module")
        return FakeVenue(ex, [])

    monkeypatch.setattr(registry, "get_adapter", get_adapter)
    adapters = sync._adapters()
    assert [a.id for a in adapters] == list(registry.EXCHANGE_IDS)
    broken = [a for a in adapters if a.id == "opinion"][0]
    with pytest.raises(ImportError):
        asyncio.run(broken.list_markets())
