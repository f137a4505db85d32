"""Catalog snapshots in DynamoDB (the catalog table, `pk` S HASH, `sk` S RANGE); the chunks' codec is
catalog/snapshot.py.

    pk="snapshot#<version>"  sk="chunk#00001" ...   data=B (zlib of compact JSON, <= ~350 KB), n=N
    pk="meta"                sk="current"           version, chunks, market_count, created_at, venues{...}

A writer puts every chunk first and flips the pointer LAST with a conditional write (the pointer must
still name the version the writer started from, so a slower concurrent sync can never roll it back).
Readers read the pointer, then exactly the chunks it names, so they never see a half-written snapshot.
After the flip, snapshots older than the previous one are deleted (current and previous are kept, so a
reader that read the pointer just before the flip can still finish).
"""
from __future__ import annotations

import functools
import gc
import logging
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Sequence

from ..catalog.snapshot import (FORMAT_VERSION, RawSnapshot, Snapshot, SnapshotError, decode_chunks, encode_chunks,
                                new_version, row_to_market)
from ..exchanges.base import VenueMarket
from ..settings import get_settings

log = logging.getLogger(__name__)

_SNAPSHOT_PREFIX = "snapshot#"


# boto3 is imported on first use, not at import: the catalog sync function's cold start does not pay
# for it before its first read (bench/cold_start.py).
@functools.lru_cache(maxsize=None)
def _types():
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _ser(value: Any) -> dict:
    return _types()[0].serialize(value)


def _des(value: dict) -> Any:
    return _types()[1].deserialize(value)


def _meta_key() -> dict:
    return {"pk": _ser("meta"), "sk": _ser("current")}


class SnapshotConflict(SnapshotError):
    """The pointer moved while we were writing: another sync published first."""


class CatalogTableMissing(SnapshotError):
    """The catalog table does not exist (a stack without one): nothing to load."""


def _chunk_key(pk: dict, i: int) -> dict:
    return {"pk": pk, "sk": _ser(f"chunk#{i + 1:05d}")}


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
        from . import dynamo

        return dynamo.client("dynamodb")

    # --- pointer -----------------------------------------------------------------------------------
    def read_meta(self) -> dict | None:
        """The current pointer, or None when no snapshot was ever published."""
        from botocore.exceptions import ClientError

        try:
            resp = self._client.get_item(TableName=self.table_name, Key=_meta_key(), ConsistentRead=True)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise CatalogTableMissing(f"catalog table {self.table_name} does not exist") from None
            raise
        item = resp.get("Item")
        if not item:
            return None
        return {k: _from_dynamo(_des(v)) for k, v in item.items() if k not in ("pk", "sk")}

    def _put_pointer(self, meta: dict, expected_version: str | None) -> None:
        from botocore.exceptions import ClientError

        item = _meta_key()
        item.update({k: _ser(_to_dynamo(v)) for k, v in meta.items() if v is not None})
        if expected_version is None:
            cond, values = "attribute_not_exists(pk)", None
        else:
            cond, values = "version = :prev", {":prev": _ser(expected_version)}
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
        pk = _ser(_SNAPSHOT_PREFIX + version)
        items = [{**_chunk_key(pk, i), "kind": _ser(kind), "data": _ser(blob)}
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
        from ..catalog.index import CatalogIndex, Postings
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
        pk = _ser(_SNAPSHOT_PREFIX + version)
        client = self._client

        def fetch(i: int) -> tuple[str, bytes]:
            resp = client.get_item(TableName=self.table_name, Key=_chunk_key(pk, i))
            item = resp.get("Item")
            if not item:
                raise _MissingChunk(i)
            kind = _des(item["kind"]) if "kind" in item else "m"
            blob = _des(item["data"]).value
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
                                  "ExpressionAttributeValues": {":p": _ser(_SNAPSHOT_PREFIX)}}
        while True:
            resp = self._client.scan(**kwargs)
            for it in resp.get("Items", []):
                v = _des(it["pk"])[len(_SNAPSHOT_PREFIX):]
                out[v] = out.get(v, 0) + 1
            if "LastEvaluatedKey" not in resp:
                return out
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def delete_version(self, version: str, chunks: int | None = None) -> None:
        pk = _ser(_SNAPSHOT_PREFIX + version)
        if chunks is None:
            keys = self._chunk_keys(version)
        else:
            keys = [_chunk_key(pk, i) for i in range(chunks)]
        for i in range(0, len(keys), 25):
            self._batch_write([{"DeleteRequest": {"Key": k}} for k in keys[i:i + 25]])

    def _chunk_keys(self, version: str) -> list[dict]:
        keys: list[dict] = []
        kwargs: dict[str, Any] = {"TableName": self.table_name, "ProjectionExpression": "pk, sk",
                                  "KeyConditionExpression": "pk = :pk",
                                  "ExpressionAttributeValues": {":pk": _ser(_SNAPSHOT_PREFIX + version)}}
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
