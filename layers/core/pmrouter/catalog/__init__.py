"""The market catalog: snapshots in DynamoDB (`snapshot`), the in-memory index `/markets` and `/events`
answer from (`index`, `loader`), cross-venue matching (`matching`) and the scheduled sync (`sync`).

Routes use `get_index()` (raises `CatalogNotReady` → 503 until the first snapshot exists)."""
from __future__ import annotations

from typing import Any

__all__ = ["CatalogIndex", "CatalogNotReady", "EventSummary", "get_index"]


def __getattr__(name: str) -> Any:  # lazy: the markets Lambda never imports the sync/matching code
    if name in ("CatalogIndex", "EventSummary"):
        from . import index
        return getattr(index, name)
    if name in ("CatalogNotReady", "get_index"):
        from . import loader
        return getattr(loader, name)
    raise AttributeError(name)
