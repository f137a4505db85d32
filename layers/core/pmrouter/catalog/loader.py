"""The process-wide catalog index: loaded from the current snapshot on first use, refreshed when the
pointer names a new version (checked at most every `catalog_refresh_seconds`).

Thread-safe: the first load blocks every caller (there is nothing to serve before it); later reloads
happen on one thread while the others keep answering from the index they already have.
"""
from __future__ import annotations

import gc
import logging
import threading
import time

from ..settings import get_settings
from .index import CatalogIndex
from ..store.catalog_snapshots import CatalogTableMissing, SnapshotStore

log = logging.getLogger(__name__)


class CatalogNotReady(RuntimeError):
    """No catalog snapshot has been published yet (the API answers 503)."""

    def __init__(self, message: str = "the market catalog snapshot is not loaded yet"):
        super().__init__(message)


_FREEZE_GC = True
_first_load = threading.Lock()
_refresh = threading.Lock()
_index: CatalogIndex | None = None
_checked_at = 0.0


def _store() -> SnapshotStore:
    return SnapshotStore(get_settings().catalog_table)


def _load(meta: dict | None = None) -> CatalogIndex | None:
    t0 = time.perf_counter()
    try:
        index = _store().load_index(meta)
    except CatalogTableMissing:
        log.warning("catalog table %s does not exist", get_settings().catalog_table)
        return None
    if index is None:
        return None
    if _FREEZE_GC:
        # The index lives until the next snapshot: keep the collector from re-scanning its objects.
        gc.freeze()
    log.info("catalog %s loaded: %d markets in %.2fs", index.version, len(index), time.perf_counter() - t0)
    return index


def get_index() -> CatalogIndex:
    """The current catalog index; raises CatalogNotReady when no snapshot exists yet."""
    global _index, _checked_at
    index = _index
    now = time.monotonic()
    if index is None:
        with _first_load:
            if _index is None:
                try:
                    loaded = _load()
                except Exception as exc:  # DynamoDB unreachable etc.: retryable, like "not loaded yet"
                    log.exception("catalog load failed")
                    raise CatalogNotReady(f"the market catalog could not be loaded: {type(exc).__name__}") from exc
                if loaded is None:
                    raise CatalogNotReady()
                _index, _checked_at = loaded, time.monotonic()
            return _index
    if now - _checked_at < get_settings().catalog_refresh_seconds:
        return index
    if not _refresh.acquire(blocking=False):
        return index  # another thread is refreshing; serve what we have
    try:
        if time.monotonic() - _checked_at < get_settings().catalog_refresh_seconds:
            return _index or index
        meta = _store().read_meta()
        _checked_at = time.monotonic()
        if meta and meta.get("version") != index.version:
            loaded = _load(meta)
            if loaded is not None:
                _index = loaded
    except Exception:
        # Keep serving the index we have; try again after the next interval.
        _checked_at = time.monotonic()
        log.exception("catalog refresh failed; serving version %s", index.version)
    finally:
        _refresh.release()
    return _index or index


def reset() -> None:
    """Forget the loaded index (tests)."""
    global _index, _checked_at
    _index, _checked_at = None, 0.0
