"""Reading a venue's public trade tape, which every venue lists newest first."""
from __future__ import annotations

from typing import Literal

from .base import PublicTrade


def placement(trade: PublicTrade, start: int | None, end: int | None) -> Literal["newer", "keep", "older"]:
    """Where a tape trade falls against the caller's [start, end] window: "newer" ones are skipped,
    and the first "older" one ends the walk (everything after it is older still)."""
    ts = trade.timestamp.timestamp()
    if end is not None and ts > end:
        return "newer"
    if start is not None and ts < start:
        return "older"
    return "keep"
