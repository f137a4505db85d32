"""Catalog snapshots in DynamoDB: serialised markets (plus precomputed matches) in compressed chunks.

Layout in the catalog table (`pk` S HASH, `sk` S RANGE):

    pk="snapshot#<version>"  sk="chunk#00001" ...   data=B (zlib of compact JSON, <= ~350 KB), n=N
    pk="meta"                sk="current"           version, chunks, market_count, created_at, venues{...}

A writer puts every chunk first and flips the pointer LAST with a conditional write (the pointer must
still name the version the writer started from, so a slower concurrent sync can never roll it back).
Readers read the pointer, then exactly the chunks it names, so they never see a half-written snapshot.
After the flip, snapshots older than the previous one are deleted (current and previous are kept, so a
reader that read the pointer just before the flip can still finish).

Each chunk is self-contained JSON:
    {"v": 1, "fields": [...], "markets": [[...row...], ...], "matches": {parsec_id: [[pid, ex, conf, tier, src]]},
     "events": {event_id: [[event_id, title, source, [exchanges], conf, tier]]}}
"""
from __future__ import annotations

import base64
import dataclasses
import gc
import json
import logging
import time
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Sequence

from ..exchanges.base import VenueMarket, VenueOutcome
from ..settings import get_settings

try:  # faster decode where available (the layer does not require it)
    import orjson as _orjson  # type: ignore
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MAX_CHUNK_BYTES = 350_000
META_KEY = {"pk": {"S": "meta"}, "sk": {"S": "current"}}
_SNAPSHOT_PREFIX = "snapshot#"

_DT_FIELDS = ("created_at", "updated_at", "end_date", "event_start_time")
FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(VenueMarket))
_FIELD_INDEX = {name: i for i, name in enumerate(FIELDS)}


class SnapshotError(RuntimeError):
    """A snapshot could not be read or written."""


class SnapshotConflict(SnapshotError):
    """The pointer moved while we were writing: another sync published first."""


# --- market <-> row ----------------------------------------------------------------------------------

def _enc_special(value: Any) -> Any:
    """JSON-able form of values plain JSON would lose (datetimes, Decimals, tuples, sets, bytes)."""
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, tuple):
        return {"$tuple": [_enc_special(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"$set": [_enc_special(v) for v in sorted(value, key=repr)]}
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {str(k): _enc_special(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_enc_special(v) for v in value]
    return value


def _dec_special(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            (k, v), = value.items()
            if k == "$dt":
                return datetime.fromisoformat(v)
            if k == "$dec":
                return Decimal(v)
            if k == "$tuple":
                return tuple(_dec_special(x) for x in v)
            if k == "$set":
                return {_dec_special(x) for x in v}
            if k == "$b64":
                return base64.b64decode(v)
        return {k: _dec_special(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dec_special(v) for v in value]
    return value


def _plain_json(value: Any) -> bool:
    """True when `value` survives a JSON round trip unchanged (str keys, JSON scalars, lists, dicts)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, list):
        return all(_plain_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and not k.startswith("$") and _plain_json(v) for k, v in value.items())
    return False


def market_to_row(m: VenueMarket) -> list:
    row: list[Any] = []
    for name in FIELDS:
        v = getattr(m, name)
        if name == "outcomes":
            v = [[o.name, o.token_id, o.price] for o in v]
        elif name in _DT_FIELDS:
            v = v.isoformat() if v is not None else None
        elif name == "extra":
            if not v:
                v = None
            elif not _plain_json(v):
                v = ["$x", _enc_special(v)]  # tagged: decode with _dec_special
        row.append(v)
    return row


def row_to_market(row: Sequence[Any], fields: Sequence[str] = FIELDS) -> VenueMarket:
    kw = dict(zip(fields, row))
    kw["outcomes"] = [VenueOutcome(o[0], o[1], o[2]) for o in kw.get("outcomes") or ()]
    for name in _DT_FIELDS:
        v = kw.get(name)
        if v is not None:
            kw[name] = datetime.fromisoformat(v)
    extra = kw.get("extra")
    if extra is None:
        kw["extra"] = {}
    elif isinstance(extra, list) and len(extra) == 2 and extra[0] == "$x":
        kw["extra"] = _dec_special(extra[1])
    known = _FIELD_INDEX
    return VenueMarket(**{k: v for k, v in kw.items() if k in known})


# --- chunks ------------------------------------------------------------------------------------------

def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _loads(data: bytes) -> Any:
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except Exception:  # NaN/Infinity are valid for the stdlib, not for orjson
            pass
    return json.loads(data)


def _compress(payload: dict) -> bytes:
    return zlib.compress(_dumps(payload), 6)


def encode_chunks(markets: Sequence[VenueMarket], matches: dict[str, list[dict]] | None = None,
                  event_matches: dict[str, list[dict]] | None = None,
                  max_bytes: int = MAX_CHUNK_BYTES) -> list[tuple[str, bytes]]:
    """Split a catalog into compressed chunks of at most `max_bytes` each, as (kind, blob):
    "m" market rows in the index's rank order (+ their matches), "e" event matches, "i" pieces of the
    word index (one zlib stream split across items; concatenate the pieces in order to decode)."""
    from .index import CatalogIndex  # the index decides the rank order and builds the word index

    index = CatalogIndex(markets)
    ranked = index.markets
    out: list[tuple[str, bytes]] = [("m", b) for b in _pack(ranked, lambda batch: _market_payload(batch, matches or {}),
                                                           max_bytes, always_one=True)]
    if event_matches:
        out += [("e", b) for b in _pack(list(event_matches.items()), _event_payload, max_bytes)]
    blob = index.export_search()
    out += [("i", blob[i:i + max_bytes]) for i in range(0, len(blob), max_bytes)]
    return out


def _pack(records: Sequence[Any], payload, max_bytes: int, always_one: bool = False) -> list[bytes]:
    if not records:
        return [_compress(payload([]))] if always_one else []
    chunks: list[bytes] = []
    step = 2000
    i = 0
    while i < len(records):
        batch = records[i:i + step]
        blob = _compress(payload(batch))
        if len(blob) > max_bytes:
            if len(batch) == 1:
                raise SnapshotError(f"a single catalog record compresses to {len(blob)} bytes (> {max_bytes})")
            step = max(1, int(len(batch) * max_bytes * 0.9 / len(blob)))
            continue
        chunks.append(blob)
        i += len(batch)
        if len(blob) < max_bytes * 0.6:
            step = min(50_000, max(step + 1, int(step * min(2.0, 0.85 * max_bytes / max(1, len(blob))))))
    return chunks


def _market_payload(batch: Sequence[VenueMarket], matches: dict[str, list[dict]]) -> dict:
    mm = {}
    for m in batch:
        links = matches.get(m.parsec_id)
        if links:
            mm[m.parsec_id] = [[l["parsec_id"], l["exchange"], l["confidence"], l["confidence_tier"], l["source"]]
                               for l in links]
    return {"v": FORMAT_VERSION, "fields": list(FIELDS), "markets": [market_to_row(m) for m in batch], "matches": mm}


def _event_payload(batch: Sequence[tuple[str, list[dict]]]) -> dict:
    return {"v": FORMAT_VERSION, "events": {eid: [[l["event_id"], l["title"], l["source"], list(l["exchanges"]),
                                                   l["confidence"], l["confidence_tier"]] for l in links]
                                            for eid, links in batch}}


@dataclass
class RawSnapshot:
    """A snapshot as stored: compact rows in rank order (not yet VenueMarkets) and the word index."""

    version: str
    fields: list[str]
    rows: list[list]
    matches: dict[str, list[dict]]
    event_matches: dict[str, list[dict]]
    search_blob: bytes | None
    meta: dict[str, Any]


def decode_chunks(version: str, chunks: Sequence[tuple[str, bytes]], meta: dict | None = None, *,
                  compressed: bool = True) -> RawSnapshot:
    """Chunks in stored order. With compressed=False the "m"/"e" blobs were already inflated."""
    fields: list[str] | None = None
    rows: list[list] = []
    matches: dict[str, list[dict]] = {}
    events: dict[str, list[dict]] = {}
    pieces: list[bytes] = []
    for kind, blob in chunks:
        if kind == "i":
            pieces.append(blob)
            continue
        payload = _loads(zlib.decompress(blob) if compressed else blob)
        if payload.get("v") != FORMAT_VERSION:
            raise SnapshotError(f"unsupported snapshot chunk format {payload.get('v')!r}")
        if kind == "m":
            if fields is None:
                fields = payload["fields"]
            elif payload["fields"] != fields:
                raise SnapshotError("snapshot chunks disagree on their fields")
            rows.extend(payload["markets"])
            for pid, links in payload.get("matches", {}).items():
                matches[pid] = [{"parsec_id": l[0], "exchange": l[1], "confidence": l[2], "confidence_tier": l[3],
                                 "source": l[4]} for l in links]
        elif kind == "e":
            for eid, links in payload.get("events", {}).items():
                events[eid] = [{"event_id": l[0], "title": l[1], "source": l[2], "exchanges": l[3],
                                "confidence": l[4], "confidence_tier": l[5]} for l in links]
    return RawSnapshot(version, fields or list(FIELDS), rows, matches, events, b"".join(pieces) or None, meta or {})


# --- the snapshot ------------------------------------------------------------------------------------

@dataclass
class Snapshot:
    version: str
    markets: list[VenueMarket]
    matches: dict[str, list[dict]] = field(default_factory=dict)
    event_matches: dict[str, list[dict]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_raw(cls, raw: RawSnapshot) -> "Snapshot":
        markets = [row_to_market(r, raw.fields) for r in raw.rows]
        return cls(raw.version, markets, raw.matches, raw.event_matches, raw.meta)

    @property
    def created_at(self) -> str | None:
        return self.meta.get("created_at")

    @property
    def venues(self) -> dict[str, dict]:
        return self.meta.get("venues", {})


def new_version(now: datetime | None = None) -> str:
    """Sortable by time, unique across concurrent writers."""
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex[:8]}"


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


class SnapshotStore:
    """Reads and writes snapshots in the catalog table (low-level DynamoDB client)."""

    def __init__(self, table_name: str | None = None, *, max_workers: int = 16):
        self.table_name = table_name or get_settings().catalog_table
        self.max_workers = max_workers

    @property
    def _client(self):
        from ..store.dynamo import client
        return client("dynamodb")

    # --- pointer -----------------------------------------------------------------------------------
    def read_meta(self) -> dict | None:
        """The current pointer, or None when no snapshot was ever published."""
        from boto3.dynamodb.types import TypeDeserializer
        resp = self._client.get_item(TableName=self.table_name, Key=META_KEY, ConsistentRead=True)
        item = resp.get("Item")
        if not item:
            return None
        des = TypeDeserializer()
        meta = {k: _from_dynamo(des.deserialize(v)) for k, v in item.items() if k not in ("pk", "sk")}
        return meta

    def _put_pointer(self, meta: dict, expected_version: str | None) -> None:
        from boto3.dynamodb.types import TypeSerializer
        from botocore.exceptions import ClientError
        ser = TypeSerializer()
        item = dict(META_KEY)
        item.update({k: ser.serialize(_to_dynamo(v)) for k, v in meta.items() if v is not None})
        if expected_version is None:
            cond, values = "attribute_not_exists(pk)", None
        else:
            cond, values = "version = :prev", {":prev": {"S": expected_version}}
        kwargs: dict[str, Any] = {"TableName": self.table_name, "Item": item, "ConditionExpression": cond}
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self._client.put_item(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise SnapshotConflict("the catalog pointer moved during the write") from exc
            raise

    # --- write -------------------------------------------------------------------------------------
    def write(self, markets: Sequence[VenueMarket], matches: dict[str, list[dict]] | None = None,
              event_matches: dict[str, list[dict]] | None = None, *, venues: dict[str, dict] | None = None,
              expected_version: str | None = None, version: str | None = None,
              extra_meta: dict[str, Any] | None = None, cleanup: bool = True) -> dict:
        """Publish a snapshot: chunks, then the pointer (conditional on `expected_version` still being
        current; None = no pointer yet). Returns the new pointer. Raises SnapshotConflict if the pointer
        moved (our chunks are then removed)."""
        version = version or new_version()
        unique: dict[str, VenueMarket] = {}
        for m in markets:
            unique.setdefault(m.parsec_id, m)  # the index keeps the first of duplicate ids, so do we
        markets = list(unique.values())
        t0 = time.perf_counter()
        chunks = encode_chunks(markets, matches, event_matches)
        t1 = time.perf_counter()
        self._write_chunks(version, chunks)
        t2 = time.perf_counter()
        counts: dict[str, int] = {}
        for m in markets:
            counts[m.exchange] = counts.get(m.exchange, 0) + 1
        meta = {
            "version": version,
            "format": FORMAT_VERSION,
            "chunks": len(chunks),
            "bytes": sum(len(c) for _, c in chunks),
            "market_count": len(markets),
            "match_count": sum(len(v) for v in (matches or {}).values()),
            "event_match_count": sum(len(v) for v in (event_matches or {}).values()),
            "created_at": datetime.now(timezone.utc).isoformat(),
            "previous_version": expected_version,
            "exchange_counts": counts,
            "venues": venues or {},
        }
        if extra_meta:
            meta.update(extra_meta)
        try:
            self._put_pointer(meta, expected_version)
        except SnapshotConflict:
            self.delete_version(version, len(chunks))
            raise
        meta["timings"] = {"encode_s": round(t1 - t0, 3), "write_s": round(time.perf_counter() - t1, 3),
                           "chunks_s": round(t2 - t1, 3)}
        if cleanup:
            try:
                self.cleanup(keep={version, expected_version} - {None})
            except Exception:  # pragma: no cover - cleanup is best effort
                log.exception("catalog snapshot cleanup failed")
        return meta

    def _write_chunks(self, version: str, chunks: Sequence[tuple[str, bytes]]) -> None:
        pk = {"S": _SNAPSHOT_PREFIX + version}
        items = [{"pk": pk, "sk": {"S": f"chunk#{i + 1:05d}"}, "kind": {"S": kind}, "data": {"B": blob}}
                 for i, (kind, blob) in enumerate(chunks)]
        # BatchWriteItem takes <= 25 items and <= 16 MB; chunks are <= 350 KB, so 25 always fit.
        batches = [items[i:i + 25] for i in range(0, len(items), 25)]
        with ThreadPoolExecutor(max_workers=min(self.max_workers, max(1, len(batches)))) as pool:
            list(pool.map(lambda b: self._batch_write([{"PutRequest": {"Item": it}} for it in b]), batches))

    def _batch_write(self, requests: list[dict]) -> None:
        pending = {self.table_name: requests}
        for attempt in range(10):
            resp = self._client.batch_write_item(RequestItems=pending)
            pending = resp.get("UnprocessedItems") or {}
            if not pending:
                return
            time.sleep(min(2.0, 0.05 * 2 ** attempt))
        raise SnapshotError("DynamoDB kept returning unprocessed items")

    # --- read --------------------------------------------------------------------------------------
    def load(self, meta: dict | None = None, *, retries: int = 3) -> Snapshot | None:
        """The snapshot `meta` names (default: the current one) as VenueMarkets; None when none exists."""
        raw = self.load_raw(meta, retries=retries)
        return None if raw is None else Snapshot.from_raw(raw)

    def load_index(self, meta: dict | None = None, *, retries: int = 3):
        """The snapshot `meta` names (default: the current one) as a CatalogIndex; None when none exists.
        Rows stay compact until a market is returned; the stored word index is reused."""
        from .index import CatalogIndex, Postings
        gc_was_enabled = gc.isenabled()
        gc.disable()  # millions of fresh containers: generational GC passes would triple the load time
        try:
            raw = self.load_raw(meta, retries=retries)
            if raw is None:
                return None
            postings = Postings.from_export(raw.search_blob) if raw.search_blob else None
            fields = raw.fields
            return CatalogIndex.from_rows(fields, raw.rows, materialize=lambda row: row_to_market(row, fields),
                                          postings=postings, matches=raw.matches, event_matches=raw.event_matches,
                                          version=raw.version, meta=raw.meta)
        finally:
            if gc_was_enabled:
                gc.enable()

    def load_raw(self, meta: dict | None = None, *, retries: int = 3) -> RawSnapshot | None:
        for _attempt in range(retries):
            meta = meta if meta is not None else self.read_meta()
            if meta is None:
                return None
            try:
                return self._load_version(meta)
            except _MissingChunk:
                # The pointer moved twice while we read and our version was cleaned up: start over.
                log.warning("catalog snapshot %s vanished while loading; retrying", meta.get("version"))
                meta = None
        raise SnapshotError("could not read a consistent catalog snapshot")

    def _load_version(self, meta: dict) -> RawSnapshot:
        version, n = meta["version"], int(meta["chunks"])
        pk = _SNAPSHOT_PREFIX + version
        client = self._client

        def fetch(i: int) -> tuple[str, bytes]:
            resp = client.get_item(TableName=self.table_name, Key={"pk": {"S": pk}, "sk": {"S": f"chunk#{i + 1:05d}"}})
            item = resp.get("Item")
            if not item:
                raise _MissingChunk(i)
            kind, blob = item.get("kind", {}).get("S", "m"), item["data"]["B"]
            return kind, (blob if kind == "i" else zlib.decompress(blob))  # zlib releases the GIL

        with ThreadPoolExecutor(max_workers=min(self.max_workers, max(1, n))) as pool:
            parts = list(pool.map(fetch, range(n)))
        raw = decode_chunks(version, parts, meta, compressed=False)
        if "market_count" in meta and int(meta["market_count"]) != len(raw.rows):
            raise SnapshotError(f"snapshot {version}: {len(raw.rows)} markets, pointer says {meta['market_count']}")
        return raw

    # --- housekeeping ------------------------------------------------------------------------------
    def list_versions(self) -> dict[str, int]:
        """version -> number of chunk items, for every snapshot stored."""
        out: dict[str, int] = {}
        kwargs: dict[str, Any] = {"TableName": self.table_name, "ProjectionExpression": "pk, sk",
                                  "FilterExpression": "begins_with(pk, :p)",
                                  "ExpressionAttributeValues": {":p": {"S": _SNAPSHOT_PREFIX}}}
        while True:
            resp = self._client.scan(**kwargs)
            for it in resp.get("Items", []):
                v = it["pk"]["S"][len(_SNAPSHOT_PREFIX):]
                out[v] = out.get(v, 0) + 1
            if "LastEvaluatedKey" not in resp:
                return out
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def delete_version(self, version: str, chunks: int | None = None) -> None:
        pk = {"S": _SNAPSHOT_PREFIX + version}
        if chunks is None:
            keys = self._chunk_keys(version)
        else:
            keys = [{"pk": pk, "sk": {"S": f"chunk#{i + 1:05d}"}} for i in range(chunks)]
        for i in range(0, len(keys), 25):
            self._batch_write([{"DeleteRequest": {"Key": k}} for k in keys[i:i + 25]])

    def _chunk_keys(self, version: str) -> list[dict]:
        keys: list[dict] = []
        kwargs: dict[str, Any] = {"TableName": self.table_name, "ProjectionExpression": "pk, sk",
                                  "KeyConditionExpression": "pk = :pk",
                                  "ExpressionAttributeValues": {":pk": {"S": _SNAPSHOT_PREFIX + version}}}
        while True:
            resp = self._client.query(**kwargs)
            keys.extend({"pk": it["pk"], "sk": it["sk"]} for it in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                return keys
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def cleanup(self, keep: Iterable[str]) -> list[str]:
        """Delete snapshots older than the oldest kept version (never newer ones: those may be in the
        middle of being written by a concurrent sync). Returns the versions deleted."""
        keep = set(keep)
        if not keep:
            return []
        oldest_kept = min(keep)
        deleted = []
        for version in sorted(self.list_versions()):
            if version in keep or version >= oldest_kept:
                continue
            self.delete_version(version)
            deleted.append(version)
        return deleted


class _MissingChunk(SnapshotError):
    pass
