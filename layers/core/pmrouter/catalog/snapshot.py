"""Catalog snapshots, the codec: markets (plus precomputed matches and events) as compact JSON rows in
compressed, self-contained chunks, and back. Where the chunks are stored (the catalog table, the pointer
and its conditional flip) is store/catalog_snapshots.py.

Each chunk is self-contained JSON:
    {"v": 1, "fields": [...], "markets": [[...row...], ...], "matches": {parsec_id: [[pid, ex, conf, tier, src]]},
     "events": {event_id: [[event_id, title, source, [exchanges], conf, tier]]}}
"""
from __future__ import annotations

import base64
import dataclasses
import json
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Sequence

from ..exchanges.base import VenueMarket, VenueOutcome

try:  # faster decode where available (the layer does not require it)
    import orjson as _orjson  # type: ignore
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

FORMAT_VERSION = 1
MAX_CHUNK_BYTES = 350_000

_DT_FIELDS = ("created_at", "updated_at", "end_date", "event_start_time")
FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(VenueMarket))
_FIELD_INDEX = {name: i for i, name in enumerate(FIELDS)}


class SnapshotError(RuntimeError):
    """A snapshot could not be read or written."""


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
