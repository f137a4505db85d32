"""Snapshots in DynamoDB (moto): exact round trip, chunking, pointer-last publication, cleanup, loader."""
from __future__ import annotations

import json
import random
import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from moto import mock_aws

from pmrouter.catalog import loader
from pmrouter.catalog.index import CatalogIndex
from pmrouter.catalog.snapshot import decode_chunks, encode_chunks, market_to_row, row_to_market
from pmrouter.exchanges.base import VenueMarket, VenueOutcome
from pmrouter.settings import reload_settings
from pmrouter.store import dynamo
from pmrouter.store.catalog_snapshots import SnapshotConflict, SnapshotStore

TABLE = "test-catalog"
T0 = datetime(2026, 5, 17, 12, 30, 15, 123456, tzinfo=timezone.utc)


@pytest.fixture
def ddb(monkeypatch):
    for k, v in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                 "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                 "PMROUTER_CATALOG_TABLE": TABLE, "PMROUTER_CATALOG_REFRESH_SECONDS": "3600"}.items():
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


def full_market(i: int = 0, **kw) -> VenueMarket:
    base = dict(
        exchange="polymarket", exchange_market_id=f"55{i}", question=f"Will Bitcoin be above ${i},000 — “quoted” ü?",
        outcomes=[VenueOutcome("Yes", "7123" * 19, 0.515), VenueOutcome("No", None, None)], status="active",
        market_type="binary", exchange_group_id=f"ev{i % 3}", group_title="Bitcoin price", volume_total=1234.5 + i,
        volume_24h=0.1 + 0.2, liquidity=float("1e-7"), open_interest=None, best_bid=0.51, best_ask=0.52,
        last_price=1 / 3, tick_size=0.001, min_order_size=5.0, slug="btc", url="https://x/y", description="d" * 50,
        rules="r", condition_id="0x" + "ab" * 32, created_at=T0, updated_at=T0 + timedelta(microseconds=1),
        end_date=T0 + timedelta(days=i), event_start_time=None, image_url=None, icon_url="https://i",
        extra={"neg_risk": True, "fee_rate_bps": 0, "nested": {"a": [1, 2.5, None, "x"]}},
    )
    base.update(kw)
    return VenueMarket(**base)


def test_market_row_round_trip_is_exact():
    odd = full_market(1, extra={"when": T0, "amount": Decimal("0.1000"), "pair": (1, "a"), "tags": {"b", "a"},
                                "raw": b"\x00\x01", "$weird": 1})
    for m in (full_market(0), odd, full_market(2, extra={}, description=None, end_date=None)):
        row = json.loads(json.dumps(market_to_row(m)))
        back = row_to_market(row)
        assert back == m
        assert back.end_date is None or back.end_date.tzinfo is not None
    assert row_to_market(json.loads(json.dumps(market_to_row(odd)))).extra["pair"] == (1, "a")


def test_chunks_respect_the_size_limit_and_decode_in_rank_order():
    rng = random.Random(3)
    markets = [full_market(i, description=" ".join(f"{rng.getrandbits(64):x}" for _ in range(40))) for i in range(400)]
    matches = {markets[0].parsec_id: [{"parsec_id": "kalshi:K", "exchange": "kalshi", "confidence": 0.91,
                                       "confidence_tier": "HIGH", "source": "text_v1"}]}
    events = {"polymarket:ev0": [{"event_id": "kalshi:E", "title": "T", "source": "text_v1",
                                  "exchanges": ["kalshi"], "confidence": 0.8, "confidence_tier": "MEDIUM"}]}
    chunks = encode_chunks(markets, matches, events, max_bytes=20_000)
    assert len([k for k, _ in chunks if k == "m"]) > 1
    assert all(len(b) <= 20_000 for _, b in chunks)
    raw = decode_chunks("v", chunks)
    assert len(raw.rows) == 400
    ranked = [row_to_market(r, raw.fields) for r in raw.rows]
    assert ranked == sorted(markets, key=lambda m: (-m.volume_total, m.parsec_id))
    assert raw.matches == matches and raw.event_matches == events
    assert raw.search_blob


def test_write_then_load_round_trips(ddb):
    markets = [full_market(i) for i in range(30)] + [full_market(i, exchange="kalshi", outcomes=[
        VenueOutcome("Yes"), VenueOutcome("No")]) for i in range(5)]
    matches = {"polymarket:550": [{"parsec_id": "kalshi:550", "exchange": "kalshi", "confidence": 0.9,
                                   "confidence_tier": "HIGH", "source": "text_v1"}]}
    meta = ddb.write(markets, matches, {}, venues={"polymarket": {"count": 30, "status": "ok", "seconds": 1.5}})
    pointer = ddb.read_meta()
    assert pointer["version"] == meta["version"]
    assert pointer["market_count"] == 35 and pointer["exchange_counts"] == {"polymarket": 30, "kalshi": 5}
    assert pointer["venues"]["polymarket"] == {"count": 30, "status": "ok", "seconds": 1.5}
    snap = ddb.load()
    assert snap.version == meta["version"]
    assert sorted(snap.markets, key=lambda m: m.parsec_id) == sorted(markets, key=lambda m: m.parsec_id)
    assert snap.matches == matches
    index = ddb.load_index()
    assert isinstance(index, CatalogIndex) and len(index) == 35 and index.version == meta["version"]
    assert index.get("kalshi:552") == markets[32]
    assert index.matches_for("polymarket:550")[0]["parsec_id"] == "kalshi:550"
    page, total = index.search("bitcoin", exchanges=["kalshi"])
    assert total == 5 and page[0].exchange == "kalshi"


def test_empty_table_has_no_snapshot(ddb):
    assert ddb.read_meta() is None
    assert ddb.load() is None and ddb.load_index() is None


def test_pointer_flip_keeps_current_and_previous_only(ddb):
    versions = []
    prev = None
    for i in range(4):
        meta = ddb.write([full_market(j) for j in range(3 + i)], expected_version=prev, version=f"2026000{i}")
        versions.append(meta["version"])
        prev = meta["version"]
    assert set(ddb.list_versions()) == set(versions[-2:])
    assert len(ddb.load().markets) == 6


def test_stale_writer_is_rejected_and_leaves_no_chunks(ddb):
    first = ddb.write([full_market(1)], version="20260001")
    ddb.write([full_market(2), full_market(3)], expected_version=first["version"], version="20260002")
    with pytest.raises(SnapshotConflict):
        ddb.write([full_market(9)], expected_version=first["version"], version="20260003")
    with pytest.raises(SnapshotConflict):
        ddb.write([full_market(9)], expected_version=None, version="20260004")
    assert ddb.read_meta()["version"] == "20260002"
    assert "20260003" not in ddb.list_versions() and "20260004" not in ddb.list_versions()


def test_reader_never_sees_a_partial_snapshot(ddb, monkeypatch):
    old = [full_market(i) for i in range(10)]
    v1 = ddb.write(old, version="20260001")["version"]
    new = [full_market(i, exchange="kalshi") for i in range(2000)]
    reader = SnapshotStore(TABLE)
    seen = {}
    real_put = SnapshotStore._put_pointer

    def put_after_reading(self, meta, expected_version):
        # every chunk of the new snapshot is stored, the pointer is not yet flipped
        assert self.list_versions()["20260002"] == meta["chunks"]
        snap = reader.load()
        seen["during"] = (snap.version, len(snap.markets), {m.exchange for m in snap.markets})
        return real_put(self, meta, expected_version)

    monkeypatch.setattr(SnapshotStore, "_put_pointer", put_after_reading)
    ddb.write(new, expected_version=v1, version="20260002")
    assert seen["during"] == (v1, 10, {"polymarket"})
    after = reader.load()
    assert (after.version, len(after.markets)) == ("20260002", 2000)


def test_crashed_writer_leaves_the_old_snapshot_readable(ddb, monkeypatch):
    v1 = ddb.write([full_market(i) for i in range(5)], version="20260001")["version"]

    def crash(self, meta, expected_version):
        raise RuntimeError("lambda timed out")

    monkeypatch.setattr(SnapshotStore, "_put_pointer", crash)
    with pytest.raises(RuntimeError):
        ddb.write([full_market(i, exchange="kalshi") for i in range(50)], expected_version=v1, version="20260002")
    monkeypatch.undo()
    snap = SnapshotStore(TABLE).load()
    assert snap.version == v1 and len(snap.markets) == 5


def test_loader_not_ready_then_loads_and_refreshes(ddb, monkeypatch):
    with pytest.raises(loader.CatalogNotReady):
        loader.get_index()
    v1 = ddb.write([full_market(i) for i in range(3)], version="20260001")["version"]
    idx = loader.get_index()
    assert idx.version == v1 and len(idx) == 3
    assert loader.get_index() is idx  # cached
    ddb.write([full_market(i) for i in range(7)], expected_version=v1, version="20260002")
    assert loader.get_index() is idx  # refresh interval (3600 s) not elapsed
    monkeypatch.setenv("PMROUTER_CATALOG_REFRESH_SECONDS", "0")
    reload_settings()
    idx2 = loader.get_index()
    assert idx2.version == "20260002" and len(idx2) == 7
    assert loader.get_index() is idx2  # same version: no reload


def test_loader_is_thread_safe_on_first_load(ddb):
    ddb.write([full_market(i) for i in range(20)], version="20260001")
    got, errors = [], []

    def worker():
        try:
            got.append(loader.get_index())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({id(i) for i in got}) == 1 and len(got[0]) == 20


def test_loader_keeps_serving_when_refresh_fails(ddb, monkeypatch):
    ddb.write([full_market(1)], version="20260001")
    idx = loader.get_index()
    monkeypatch.setenv("PMROUTER_CATALOG_REFRESH_SECONDS", "0")
    reload_settings()

    def boom(self):
        raise RuntimeError("dynamodb down")

    monkeypatch.setattr(SnapshotStore, "read_meta", boom)
    assert loader.get_index() is idx


def test_duplicate_ids_are_written_once(ddb):
    a, b = full_market(1), full_market(1, question="a later duplicate")
    meta = ddb.write([a, b, full_market(2)])
    assert meta["market_count"] == 2
    assert {m.question for m in ddb.load().markets} == {a.question, full_market(2).question}


def test_loader_reports_an_unreadable_store_as_not_ready(ddb, monkeypatch):
    def boom(self, meta=None, **kw):
        raise ConnectionError("no route to dynamodb")

    monkeypatch.setattr(SnapshotStore, "load_index", boom)
    with pytest.raises(loader.CatalogNotReady):
        loader.get_index()
