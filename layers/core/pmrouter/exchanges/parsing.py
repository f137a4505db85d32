"""Scalar parsing every venue's payloads need: lenient numbers and timestamps (Unix seconds or
milliseconds, or ISO 8601), returning None for absent or malformed values rather than raising."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def to_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def to_int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def to_datetime(value: Any) -> datetime | None:
    """Aware UTC datetime from Unix seconds, Unix milliseconds (values above 1e11) or ISO 8601."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        v = float(value)
        return datetime.fromtimestamp(v / 1000 if v > 1e11 else v, tz=timezone.utc)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
