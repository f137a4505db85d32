"""The in-memory catalog index `/markets` and `/events` answer from.

Immutable once built (safe to share between threads). Everything is keyed by *rank*: markets sorted by
`volume_total` DESC, then `parsec_id` ASC, so anything produced in rank order is already in result order.

* an inverted word index over question + description: sorted vocabulary, posting lists of ranks
  (ascending); the sync builds it once and stores it in the snapshot, so a cold load decodes it instead
  of re-tokenising 100k descriptions (posting lists are delta-encoded and decoded lazily per word);
* per-status and per-exchange membership masks (bytearrays of 0/1, combined with big-int AND/OR in C);
* `min_volume` is a rank cut-off (the ranking *is* by volume), found by bisection;
* markets loaded from a snapshot stay compact rows and become `VenueMarket`s only when returned;
* event summaries per `parsec_group_id`, ranked by total volume.

Search semantics (contract: "case-insensitive on question/description"): the query is split into words
(letters/digits); every word must occur as a word of the question or description, the last one as a
word prefix (so "bitc" finds Bitcoin while typing). Query words written with punctuation ("s&p",
"$100k", "100,000", "gpt-6") must in addition occur verbatim (case-insensitively) in the question or
description: the final substring check.
"""
from __future__ import annotations

import json
import operator
import re
import threading
import struct
import zlib
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate, chain
from typing import Any, Callable, Iterable, Sequence

from ..exchanges.base import VenueMarket

TOKENIZER_VERSION = 1
_WORD_RE = re.compile(r"[^\W_]+")
_ANY = frozenset({"", "all", "any", "*"})
_PREFIX_FANOUT = 64  # above this many vocabulary words for a prefix, merge once and cache the union
_PREFIX_CACHE = 256


def tokenize(text: str | None) -> list[str]:
    return _WORD_RE.findall(text.lower()) if text else []


def _vol(v: Any) -> float:
    return float(v) if v is not None and v == v else 0.0


# --- posting lists ----------------------------------------------------------------------------------

class Postings:
    """word -> ascending ranks. Built from texts, or restored from `export()` bytes (decoded lazily)."""

    def __init__(self, vocab: list[str], lists: dict[str, array] | None = None,
                 offsets: array | None = None, deltas: array | None = None):
        self.vocab = vocab  # sorted
        self._lists: dict[str, array] = lists if lists is not None else {}
        self._offsets = offsets  # len(vocab) + 1 positions into `deltas`
        self._deltas = deltas
        self._pos = {w: i for i, w in enumerate(vocab)} if offsets is not None else None

    @classmethod
    def build(cls, texts: Iterable[str]) -> "Postings":
        lists: dict[str, list[int]] = {}
        for r, text in enumerate(texts):
            for w in dict.fromkeys(_WORD_RE.findall(text.lower())):
                lst = lists.get(w)
                if lst is None:
                    lists[w] = [r]
                else:
                    lst.append(r)
        return cls(sorted(lists), {w: array("I", lst) for w, lst in lists.items()})

    def get(self, word: str) -> array | None:
        lst = self._lists.get(word)
        if lst is None and self._pos is not None:
            i = self._pos.get(word)
            if i is None:
                return None
            lst = array("I", accumulate(self._deltas[self._offsets[i]:self._offsets[i + 1]]))
            self._lists[word] = lst  # idempotent; a race just decodes twice
        return lst

    def size(self, word: str) -> int:
        if self._pos is not None:
            i = self._pos.get(word)
            return 0 if i is None else self._offsets[i + 1] - self._offsets[i]
        lst = self._lists.get(word)
        return 0 if lst is None else len(lst)

    def prefix_words(self, prefix: str) -> list[str]:
        lo = bisect_left(self.vocab, prefix)
        hi = bisect_left(self.vocab, prefix + "\U0010ffff", lo)
        return self.vocab[lo:hi]

    def export(self) -> bytes:
        """zlib( u32 header length | header JSON {tokenizer, vocab, offsets...} | u32 deltas )."""
        offsets = array("I", [0])
        deltas = array("I")
        for w in self.vocab:
            lst = self.get(w)
            deltas.extend(map(operator.sub, lst, chain((0,), lst)))
            offsets.append(len(deltas))
        header = json.dumps({"tokenizer": TOKENIZER_VERSION, "vocab": self.vocab}, separators=(",", ":"),
                            ensure_ascii=False).encode()
        body = struct.pack("<I", len(header)) + header + offsets.tobytes() + deltas.tobytes()
        return zlib.compress(body, 6)

    @classmethod
    def from_export(cls, blob: bytes) -> "Postings | None":
        """None when the blob was written by another tokenizer version (the caller rebuilds)."""
        body = zlib.decompress(blob)
        (hlen,) = struct.unpack_from("<I", body, 0)
        header = json.loads(body[4:4 + hlen])
        if header.get("tokenizer") != TOKENIZER_VERSION:
            return None
        vocab = header["vocab"]
        start = 4 + hlen
        offsets = array("I")
        offsets.frombytes(body[start:start + 4 * (len(vocab) + 1)])
        deltas = array("I")
        deltas.frombytes(body[start + 4 * (len(vocab) + 1):])
        return cls(vocab, None, offsets, deltas)


# --- events ------------------------------------------------------------------------------------------

@dataclass
class EventSummary:
    """The contract's EventSummary (the route serialises it; `markets` only with include_markets)."""

    event_id: str
    title: str
    status: str
    market_count: int
    total_volume: float
    exchanges: list[str]
    close_time: datetime | None
    markets: list[VenueMarket] = field(default_factory=list)
    matched_events: list[dict] = field(default_factory=list)
    exchange: str = ""
    exchange_group_id: str = ""


@dataclass
class _Event:
    event_id: str
    exchange: str
    exchange_group_id: str
    title: str
    status: str
    total_volume: float
    ranks: list[int]


def _event_status(statuses: Iterable[str]) -> str:
    seen = set(statuses)
    for s in ("active", "closed", "resolved"):
        if s in seen:
            return s
    return next(iter(seen), "active")


# --- the index ---------------------------------------------------------------------------------------

class CatalogIndex:
    """Build from markets: `CatalogIndex(markets, matches, event_matches)`; from a snapshot's compact rows:
    `CatalogIndex.from_rows(...)` (what the loader does)."""

    def __init__(self, markets: Iterable[VenueMarket], matches: dict[str, list[dict]] | None = None,
                 event_matches: dict[str, list[dict]] | None = None, *, version: str | None = None,
                 meta: dict | None = None):
        seen: dict[str, VenueMarket] = {}
        for m in markets:
            seen.setdefault(m.parsec_id, m)
        ranked = sorted(seen.values(), key=lambda m: (-_vol(m.volume_total), m.parsec_id))
        self._objs: list[VenueMarket | None] = ranked
        self._rows: list[list] | None = None
        self._materialize: Callable[[Sequence[Any]], VenueMarket] | None = None
        cols = {
            "exchange": [m.exchange for m in ranked],
            "exchange_market_id": [m.exchange_market_id for m in ranked],
            "status": [m.status for m in ranked],
            "volume_total": [m.volume_total for m in ranked],
            "liquidity": [m.liquidity for m in ranked],
            "exchange_group_id": [m.exchange_group_id for m in ranked],
            "group_title": [m.group_title for m in ranked],
            "question": [m.question for m in ranked],
            "description": [m.description for m in ranked],
            "end_date": [m.end_date for m in ranked],
        }
        postings = Postings.build(f"{m.question} {m.description or ''}" for m in ranked)
        self._setup(cols, postings, matches, event_matches, version, meta)

    @classmethod
    def from_rows(cls, fields: Sequence[str], rows: list[list], *, materialize: Callable[[Sequence[Any]], VenueMarket],
                  postings: Postings | None = None, matches: dict[str, list[dict]] | None = None,
                  event_matches: dict[str, list[dict]] | None = None, version: str | None = None,
                  meta: dict | None = None) -> "CatalogIndex":
        """Rows (one list per market, columns `fields`) already in rank order, as a snapshot stores them;
        `materialize(row)` turns a row into a VenueMarket when one is returned."""
        self = cls.__new__(cls)
        fi = {f: i for i, f in enumerate(fields)}
        vi, ii = fi["volume_total"], fi["exchange"]
        ei = fi["exchange_market_id"]
        keys = [(-_vol(r[vi]), f"{r[ii]}:{r[ei]}") for r in rows]
        if any(keys[i] > keys[i + 1] for i in range(len(keys) - 1)):
            order = sorted(range(len(rows)), key=keys.__getitem__)
            rows = [rows[i] for i in order]
            postings = None  # ranks changed: the stored word index no longer applies
        self._rows = rows
        self._objs = [None] * len(rows)
        self._materialize = materialize
        cols = {name: [r[fi[name]] for r in rows] for name in (
            "exchange", "exchange_market_id", "status", "volume_total", "liquidity", "exchange_group_id",
            "group_title", "question", "description", "end_date")}
        if postings is None:
            postings = Postings.build(f"{q} {d or ''}" for q, d in zip(cols["question"], cols["description"]))
        self._setup(cols, postings, matches, event_matches, version, meta)
        return self

    def _setup(self, cols: dict[str, list], postings: Postings, matches: dict[str, list[dict]] | None,
               event_matches: dict[str, list[dict]] | None, version: str | None, meta: dict | None) -> None:
        self.version = version
        self.meta = meta or {}
        self._matches = matches or {}
        self._event_matches = event_matches or {}
        self._postings = postings
        n = len(cols["exchange"])
        self._n = n
        ids = [f"{x}:{y}" for x, y in zip(cols["exchange"], cols["exchange_market_id"])]
        self._ids = ids
        self._by_id = {pid: r for r, pid in enumerate(ids)}
        self._neg_vol = [-_vol(v) for v in cols["volume_total"]]
        self._liq = cols["liquidity"]
        self._question = cols["question"]
        self._description = cols["description"]
        self._end = cols["end_date"]
        self._status_masks = self._masks([(s or "").lower() for s in cols["status"]], n)
        self._exchange_masks = self._masks(cols["exchange"], n)
        self._mask_cache: dict[tuple, bytearray | None] = {}
        self._liq_cache: dict[float, bytearray] = {}
        self._prefix_cache: dict[str, array] = {}
        self._cache_lock = threading.Lock()

        groups: dict[str, list[int]] = {}
        for r, (ex, gid) in enumerate(zip(cols["exchange"], cols["exchange_group_id"])):
            if gid:
                groups.setdefault(f"{ex}:{gid}", []).append(r)
        statuses, titles, vols = cols["status"], cols["group_title"], self._neg_vol
        events = []
        for eid, ranks in groups.items():
            title = next((titles[r] for r in ranks if titles[r]), "") or self._question[ranks[0]]
            ex, _, gid = eid.partition(":")
            events.append(_Event(eid, ex, gid, title, _event_status(statuses[r] for r in ranks),
                                 -sum(vols[r] for r in ranks), ranks))
        events.sort(key=lambda e: (-e.total_volume, e.event_id))
        self._events = events
        self._events_by_id = {e.event_id: e for e in events}
        self._event_hay = [" " + " ".join(dict.fromkeys(tokenize(e.title))) + " " for e in events]

    @staticmethod
    def _masks(values: list[str], n: int) -> dict[str, bytearray]:
        out: dict[str, bytearray] = {}
        for r, v in enumerate(values):
            mask = out.get(v)
            if mask is None:
                mask = out[v] = bytearray(n)
            mask[r] = 1
        return out

    # --- markets -----------------------------------------------------------------------------------
    def _market(self, r: int) -> VenueMarket:
        m = self._objs[r]
        if m is None:
            m = self._materialize(self._rows[r])  # type: ignore[misc,index]
            self._objs[r] = m  # idempotent; a race just builds the same object twice
        return m

    def __len__(self) -> int:
        return self._n

    @property
    def markets(self) -> list[VenueMarket]:
        """All markets in rank order (volume DESC). Materialises every row: not for request paths."""
        return [self._market(r) for r in range(self._n)]

    def export_search(self) -> bytes:
        """The word index, for storing alongside a snapshot written in this index's rank order."""
        return self._postings.export()

    def get(self, parsec_id: str) -> VenueMarket | None:
        r = self._by_id.get(parsec_id)
        return None if r is None else self._market(r)

    def get_by_exchange_id(self, exchange: str, exchange_market_id: str) -> VenueMarket | None:
        return self.get(f"{(exchange or '').strip().lower()}:{exchange_market_id}")

    def matches_for(self, parsec_id: str) -> list[dict]:
        """Cross-venue matches of a market: [{parsec_id, exchange, confidence, confidence_tier, source}]."""
        return self._matches.get(parsec_id, [])

    def exchange_counts(self) -> dict[str, int]:
        return {ex: mask.count(1) for ex, mask in self._exchange_masks.items()}

    # --- filters -----------------------------------------------------------------------------------
    def _mask(self, status: str | None, exchanges: Sequence[str] | None) -> bytearray | None:
        """0/1 mask for status AND exchange-set; None means "everything"."""
        st = (status or "").strip().lower()
        st = "" if st in _ANY else st
        exs = tuple(sorted({e.strip().lower() for e in exchanges if e and e.strip()})) if exchanges else ()
        key = (st, exs)
        if key in self._mask_cache:
            return self._mask_cache[key]
        mask_int: int | None = None
        if st:
            sm = self._status_masks.get(st)
            mask_int = int.from_bytes(sm, "little") if sm is not None else 0
        if exs:
            ex_int = 0
            for e in exs:
                em = self._exchange_masks.get(e)
                if em is not None:
                    ex_int |= int.from_bytes(em, "little")
            mask_int = ex_int if mask_int is None else mask_int & ex_int
        result = None if mask_int is None else bytearray(mask_int.to_bytes(self._n, "little"))
        with self._cache_lock:
            if len(self._mask_cache) > 128:
                self._mask_cache.clear()
            self._mask_cache[key] = result
        return result

    def _liquidity_mask(self, min_liquidity: float) -> bytearray:
        cached = self._liq_cache.get(min_liquidity)
        if cached is None:
            cached = bytearray(1 if (v is not None and v >= min_liquidity) else 0 for v in self._liq)
            with self._cache_lock:
                if len(self._liq_cache) > 32:
                    self._liq_cache.clear()
                self._liq_cache[min_liquidity] = cached
        return cached

    def _and(self, a: bytearray | None, b: bytearray | None) -> bytearray | None:
        if a is None:
            return b
        if b is None:
            return a
        return bytearray((int.from_bytes(a, "little") & int.from_bytes(b, "little")).to_bytes(self._n, "little"))

    def _cutoff(self, min_volume: float | None) -> int:
        if min_volume is None:
            return self._n
        return bisect_right(self._neg_vol, -float(min_volume))

    # --- search ------------------------------------------------------------------------------------
    def search(self, query: str | None = None, status: str | None = None, exchanges: Sequence[str] | None = None,
               min_volume: float | None = None, min_liquidity: float | None = None, offset: int = 0,
               limit: int = 100) -> tuple[list[VenueMarket], int]:
        """(page, total) ordered by volume_total DESC, parsec_id ASC. `status=None` (or "all") means any."""
        offset = max(0, int(offset))
        limit = max(0, int(limit))
        mask = self._mask(status, exchanges)
        if min_liquidity is not None:
            mask = self._and(mask, self._liquidity_mask(float(min_liquidity)))
        cut = self._cutoff(min_volume)
        words = tokenize(query)
        if not words:
            ranks_total = self._page_by_mask(mask, cut, offset, limit)
            return [self._market(r) for r in ranks_total[0]], ranks_total[1]
        ranks = self._text_ranks(words, query or "", mask, cut)
        return [self._market(r) for r in ranks[offset:offset + limit]], len(ranks)

    def _page_by_mask(self, mask: bytearray | None, cut: int, offset: int, limit: int) -> tuple[list[int], int]:
        if mask is None:
            return list(range(offset, min(cut, offset + limit))), cut
        total = mask.count(1, 0, cut)
        if offset >= total or limit == 0:
            return [], total
        pos = self._nth(mask, offset, cut)
        page = []
        while pos != -1 and len(page) < limit:
            page.append(pos)
            pos = mask.find(1, pos + 1, cut)
        return page, total

    @staticmethod
    def _nth(mask: bytearray, k: int, cut: int) -> int:
        """Position of the k-th (0-based) set byte before `cut`."""
        block = 8192
        start = 0
        while start < cut:
            end = min(cut, start + block)
            c = mask.count(1, start, end)
            if k < c:
                break
            k -= c
            start = end
        pos = mask.find(1, start, cut)
        while k > 0 and pos != -1:
            pos = mask.find(1, pos + 1, cut)
            k -= 1
        return pos

    def _prefix_ranks(self, prefix: str) -> array | None:
        """Ascending ranks of markets having a word that starts with `prefix`."""
        words = self._postings.prefix_words(prefix)
        if not words:
            return None
        if len(words) == 1:
            return self._postings.get(words[0])
        cached = self._prefix_cache.get(prefix)
        if cached is None:
            merged: set[int] = set()
            for w in words:
                merged.update(self._postings.get(w))
            cached = array("I", sorted(merged))
            if len(words) > _PREFIX_FANOUT or len(cached) > 2048:
                with self._cache_lock:
                    if len(self._prefix_cache) >= _PREFIX_CACHE:
                        self._prefix_cache.pop(next(iter(self._prefix_cache)), None)
                    self._prefix_cache[prefix] = cached
        return cached

    def _text_ranks(self, words: list[str], query: str, mask: bytearray | None, cut: int) -> list[int]:
        exact = list(dict.fromkeys(words[:-1]))
        last = words[-1]
        if last in exact:
            exact.remove(last)  # "will will" ⇒ the prefix covers it
        sizes = []
        for w in exact:
            s = self._postings.size(w)
            if s == 0:
                return []
            sizes.append((s, w))
        pref = self._prefix_ranks(last)
        if pref is None:
            return []
        lists: list[array] = [self._postings.get(w) for _, w in sorted(sizes)] + [pref]
        lists.sort(key=len)
        driver = lists[0]
        end = bisect_left(driver, cut) if cut < self._n else len(driver)
        src = driver if end == len(driver) else driver[:end]
        cand = list(src) if mask is None else [r for r in src if mask[r]]
        for other in lists[1:]:
            if not cand:
                break
            if len(other) <= 8 * len(cand):
                keep = set(other)
                cand = [r for r in cand if r in keep]
            else:
                cand = [r for r in cand if _contains(other, r)]
        punct = [part for part in query.lower().split() if any(not ch.isalnum() for ch in part)]
        if punct and cand:
            q, d = self._question, self._description
            cand = [r for r in cand
                    if all(p in (q[r] or "").lower() or p in (d[r] or "").lower() for p in punct)]
        return cand

    # --- events ------------------------------------------------------------------------------------
    @staticmethod
    def _event_key(event_id: str) -> str:
        event_id = (event_id or "").strip()
        return event_id[3:] if event_id.startswith("ev:") else event_id

    def _summary(self, e: _Event) -> EventSummary:
        ends = [self._end[r] for r in e.ranks if self._end[r] is not None]
        close = None
        if ends:
            close = min(datetime.fromisoformat(x) if isinstance(x, str) else x for x in ends)
        return EventSummary(
            event_id=e.event_id, title=e.title, status=e.status, market_count=len(e.ranks),
            total_volume=e.total_volume, exchanges=[e.exchange], close_time=close,
            markets=[self._market(r) for r in e.ranks], matched_events=self._event_matches.get(e.event_id, []),
            exchange=e.exchange, exchange_group_id=e.exchange_group_id)

    def event(self, event_id: str) -> EventSummary | None:
        """By stored event id (= parsec_group_id, "{exchange}:{exchange_group_id}"); "ev:" alias accepted."""
        e = self._events_by_id.get(self._event_key(event_id))
        return None if e is None else self._summary(e)

    def event_by_group(self, exchange: str, exchange_group_id: str) -> EventSummary | None:
        return self.event(f"{(exchange or '').strip().lower()}:{exchange_group_id}")

    def event_matches_for(self, event_id: str) -> list[dict]:
        return self._event_matches.get(self._event_key(event_id), [])

    def events(self, search: str | None = None, status: str | None = None, exchanges: Sequence[str] | None = None,
               min_volume: float | None = None, offset: int = 0, limit: int = 50) -> tuple[list[EventSummary], int]:
        """(page, total) of event summaries by total_volume DESC, event_id ASC; markets without a group are
        left out. `search` is case-insensitive on the event title (words; the last one as a prefix)."""
        offset = max(0, int(offset))
        limit = max(0, int(limit))
        st = (status or "").strip().lower()
        st = "" if st in _ANY else st
        exs = {e.strip().lower() for e in exchanges if e and e.strip()} if exchanges else None
        words = tokenize(search)
        needles = [f" {w} " for w in dict.fromkeys(words[:-1])]
        pre = f" {words[-1]}" if words else None
        hay = self._event_hay
        total = 0
        page: list[_Event] = []
        for i, e in enumerate(self._events):
            if min_volume is not None and e.total_volume < min_volume:
                break  # ranked by total volume
            if st and e.status != st:
                continue
            if exs is not None and e.exchange not in exs:
                continue
            if pre is not None:
                h = hay[i]
                if pre not in h or not all(n in h for n in needles):
                    continue
            if offset <= total < offset + limit:
                page.append(e)
            total += 1
        return [self._summary(e) for e in page], total


def _contains(arr: array, x: int) -> bool:
    i = bisect_left(arr, x)
    return i < len(arr) and arr[i] == x
