"""Scalar parsing every venue's payloads need: lenient numbers and timestamps (Unix seconds or
milliseconds, or ISO 8601), returning None for absent or malformed values rather than raising.
The one timestamp parser of every adapter: venues differ in which of these forms they send, never
in what a form means."""
from __future__ import annotations

import math
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
    """Aware UTC datetime from Unix seconds, Unix milliseconds (values above 1e11: past year 5000 in
    seconds), numeric strings of either, or ISO 8601 (naive means UTC). 0 and negative numbers are
    None: venues send 0 for "not set" (Opinion's cutoffAt of an open-ended market)."""
    if value is None or value == "":
        return None
    number = value if isinstance(value, (int, float)) else to_float(value) if isinstance(value, str) else None
    if number is not None:
        if not math.isfinite(number) or number <= 0:
            return None
        return datetime.fromtimestamp(number / 1000 if number > 1e11 else number, tz=timezone.utc)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def to_datetime_or_now(value: Any) -> datetime:
    """An order's or a fill's time: the venue's when it sent one, else now (a record must carry one)."""
    return to_datetime(value) or datetime.now(timezone.utc)
