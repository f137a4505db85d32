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


def admit(trades: list[PublicTrade], trade: PublicTrade | None, start: int | None, end: int | None) -> bool:
    """Append a tape row that falls in the window (None, a row that is no trade, is skipped).
    False once the tape has passed `start`: the caller stops reading and has no more pages."""
    where = placement(trade, start, end) if trade is not None else "newer"
    if where == "keep":
        trades.append(trade)  # type: ignore[arg-type]
    return where != "older"
