"""The catalog sync: collect every venue's markets, match them across venues, publish a snapshot.

A venue that fails (error, timeout, or an empty list where it used to have markets) keeps its markets
from the previous snapshot, and the report says so. If every venue fails nothing is published.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

from ..exchanges.base import ExchangeAdapter, VenueMarket
from .matching import match_markets
from ..store.catalog_snapshots import SnapshotConflict, SnapshotStore
from .snapshot import Snapshot

log = logging.getLogger(__name__)

DEFAULT_VENUE_TIMEOUT = 300.0  # seconds per venue's list_markets(); the Lambda timeout must exceed it


@dataclass
class VenueSync:
    exchange: str
    status: str  # ok | failed | empty
    fetched: int  # markets the venue returned this run
    count: int  # markets of this venue in the published snapshot
    seconds: float
    error: str | None = None
    carried_over: bool = False  # count comes from the previous snapshot
    last_success: str | None = None


@dataclass
class SyncReport:
    ok: bool
    written: bool
    version: str | None
    previous_version: str | None
    market_count: int
    match_count: int
    event_match_count: int
    venues: dict[str, VenueSync] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["failed_venues"] = [ex for ex, v in self.venues.items() if v.status != "ok"]
        return d


async def _fetch(adapter: ExchangeAdapter, timeout: float | None) -> tuple[list[VenueMarket], float]:
    t0 = time.perf_counter()
    coro = adapter.list_markets()
    markets = await (asyncio.wait_for(coro, timeout) if timeout else coro)
    return list(markets), time.perf_counter() - t0


def _dedupe(exchange: str, markets: Sequence[VenueMarket]) -> list[VenueMarket]:
    seen: dict[str, VenueMarket] = {}
    for m in markets:
        if not m.exchange:
            m.exchange = exchange
        seen.setdefault(m.parsec_id, m)
    return list(seen.values())


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    text = f"{type(exc).__name__}: {exc}"
    return text[:300]


async def sync_catalog(adapters: Sequence[ExchangeAdapter], *, previous: Snapshot | Any | None = None,
                       store: SnapshotStore | None = None,
                       venue_timeout: float | None = DEFAULT_VENUE_TIMEOUT) -> SyncReport:
    """Fetch all venues concurrently, carry failed venues over from `previous` (default: the published
    snapshot), compute matches and publish a new snapshot."""
    t_start = time.perf_counter()
    store = store or SnapshotStore()
    now_iso = datetime.now(timezone.utc).isoformat()
    meta = store.read_meta()
    expected = meta.get("version") if meta else None
    prev_venues: dict[str, dict] = (meta or {}).get("venues", {}) or {}

    results = await asyncio.gather(*(_fetch(a, venue_timeout) for a in adapters), return_exceptions=True)
    t_fetch = time.perf_counter()

    venues: dict[str, VenueSync] = {}
    fresh: dict[str, list[VenueMarket]] = {}
    failed: dict[str, str] = {}
    for adapter, res in zip(adapters, results):
        ex = adapter.id
        if isinstance(res, BaseException):
            if not isinstance(res, Exception):
                raise res  # KeyboardInterrupt, CancelledError...
            failed[ex] = _error_text(res)
            log.warning("catalog sync: %s failed: %s", ex, failed[ex])
            venues[ex] = VenueSync(ex, "failed", 0, 0, 0.0, failed[ex])
            continue
        markets, seconds = res
        markets = _dedupe(ex, markets)
        prev_count = int((prev_venues.get(ex) or {}).get("count") or 0)
        if not markets and prev_count > 0:
            failed[ex] = "returned no markets"
            venues[ex] = VenueSync(ex, "empty", 0, 0, round(seconds, 3), failed[ex])
            continue
        fresh[ex] = markets
        venues[ex] = VenueSync(ex, "ok", len(markets), len(markets), round(seconds, 3), last_success=now_iso)

    if not fresh:
        return SyncReport(False, False, None, expected, int((meta or {}).get("market_count") or 0), 0, 0, venues,
                          {"fetch_s": round(t_fetch - t_start, 3)}, "every venue failed; snapshot not replaced")

    catalog: list[VenueMarket] = [m for ms in fresh.values() for m in ms]
    if failed:
        old = previous
        if old is None and meta is not None:
            try:
                old = store.load(meta)
            except Exception as exc:  # pragma: no cover - the report says what was lost
                log.exception("catalog sync: previous snapshot unreadable")
                old = None
                for ex in failed:
                    venues[ex].error = f"{failed[ex]}; previous snapshot unreadable: {_error_text(exc)}"
        old_markets = list(getattr(old, "markets", None) or [])
        for ex in failed:
            kept = [m for m in old_markets if m.exchange == ex]
            catalog.extend(kept)
            venues[ex].count = len(kept)
            venues[ex].carried_over = bool(kept)
            venues[ex].last_success = (prev_venues.get(ex) or {}).get("last_success")

    t_match0 = time.perf_counter()
    result = match_markets(catalog)
    t_match = time.perf_counter()

    venue_meta = {ex: {"count": v.count, "status": v.status, "fetched": v.fetched, "error": v.error,
                       "carried_over": v.carried_over, "last_success": v.last_success, "seconds": v.seconds}
                  for ex, v in venues.items()}
    match_count = sum(len(v) for v in result.markets.values())
    event_match_count = sum(len(v) for v in result.events.values())
    try:
        written = store.write(catalog, result.markets, result.events, venues=venue_meta, expected_version=expected)
    except SnapshotConflict as exc:
        return SyncReport(False, False, None, expected, len(catalog), match_count, event_match_count, venues,
                          {"fetch_s": round(t_fetch - t_start, 3), "match_s": round(t_match - t_match0, 3)},
                          str(exc))
    t_end = time.perf_counter()
    timings = {"fetch_s": round(t_fetch - t_start, 3), "match_s": round(t_match - t_match0, 3),
               "write_s": round(t_end - t_match, 3), "total_s": round(t_end - t_start, 3)}
    report = SyncReport(not failed, True, written["version"], expected, len(catalog), match_count,
                        event_match_count, venues, timings)
    log.info("catalog sync published %s: %d markets, %d match links, failed venues: %s", report.version,
             report.market_count, match_count, sorted(failed) or "none")
    return report


class _UnavailableAdapter(ExchangeAdapter):
    """Stands in for a venue whose adapter could not even be constructed, so the sync reports it."""

    capabilities = None  # type: ignore[assignment]
    fee_model = None  # type: ignore[assignment]
    name = "unavailable"

    def __init__(self, exchange: str, error: Exception):
        self.id = exchange  # type: ignore[misc]
        self._error = error

    async def list_markets(self) -> list[VenueMarket]:
        raise self._error

    async def fetch_market(self, key: str) -> VenueMarket:  # pragma: no cover
        raise self._error

    async def get_orderbook(self, market, outcome, depth):  # pragma: no cover
        raise self._error


def _adapters() -> list[ExchangeAdapter]:
    from ..exchanges.registry import EXCHANGE_IDS, get_adapter
    out: list[ExchangeAdapter] = []
    for ex in EXCHANGE_IDS:
        try:
            adapter = get_adapter(ex)
        except Exception as exc:  # a venue whose adapter is broken must not stop the others
            log.exception("catalog sync: adapter %s unavailable", ex)
            out.append(_UnavailableAdapter(ex, exc))
            continue
        if adapter.capabilities.fetch_markets:  # a venue without listings has nothing to sync
            out.append(adapter)
    return out


def run_sync() -> dict[str, Any]:
    """Entry point for the scheduled Lambda: one sync over every registered venue."""

    async def main() -> SyncReport:
        try:
            return await sync_catalog(_adapters())
        finally:
            try:  # this loop ends with asyncio.run; release its pooled HTTP client
                from ..exchanges.http import shared_client
                await shared_client().aclose()
            except Exception:  # pragma: no cover
                pass

    # A private loop rather than asyncio.run(): asyncio.run() clears the thread's current loop, which
    # would break an ASGI adapter (Mangum) sharing the process, as in the local stack.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main()).as_dict()
    finally:
        loop.close()
