"""Ids taken from a path or body (order id, customer id), checked before they reach a store key or a
venue URL. Domain code uses this; api/selectors.identifier is the same rule for the routes."""
from __future__ import annotations

from .errors import InvalidInput

MAX_ID_CHARS = 128


def identifier(value: str | None, name: str) -> str:
    """1 to 128 printable ASCII characters without spaces. Anything else cannot name one of ours or
    a venue's, and some of it (control characters, a 3,000-character key) would make the store or
    the venue's URL fail instead."""
    v = (value or "").strip()
    if not v:
        raise InvalidInput([f"{name} is required and must not be empty"])
    if len(v) > MAX_ID_CHARS or not all(33 <= ord(c) <= 126 for c in v):
        raise InvalidInput([f"{name} must be 1 to {MAX_ID_CHARS} printable ASCII characters without spaces"])
    return v
