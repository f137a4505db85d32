"""One live book per (parsec_id, outcome), and what each depth of subscriber was last told.

The book holds every level the venue reports (prices 0..1 in the outcome's terms, sizes in
contracts). Subscribers see the top `depth` levels a side; subscribers that share a depth share a
`View`, so a venue change is diffed once per depth, not once per subscriber. A view's `sent` state
is updated in the same step as the book, so it always equals the book's top-N: a newcomer's
snapshot is the view itself, and every later delta continues from exactly what it was sent.
"""
from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field
from typing import Iterable, Literal

Side = Literal["bid", "ask"]
Change = tuple[Side, float, float]  # (side, price, new size; 0 deletes)
Levels = list[tuple[float, float]]

PRICE_DP = 6  # venues quote at most 4 dp (Kalshi responses up to 6); keys must compare exactly


def _key(price: float) -> float:
    return round(float(price), PRICE_DP)


@dataclass(frozen=True)
class BookId:
    """Everything a frame repeats about the book it describes."""

    parsec_id: str
    exchange: str
    outcome: str  # canonical label, e.g. "Yes"
    token_id: str
    market_id: str
    title: str | None = None
    tick_size: float | None = None
    min_order_size: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.parsec_id, self.outcome.lower())


@dataclass
class View:
    depth: int
    bids: dict[float, float] = field(default_factory=dict)
    asks: dict[float, float] = field(default_factory=dict)
    subs: set = field(default_factory=set)

    def levels(self) -> tuple[Levels, Levels]:
        return (sorted(self.bids.items(), reverse=True), sorted(self.asks.items()))

    def update(self, bids: Levels, asks: Levels) -> list[Change]:
        """Become (bids, asks) and return the changes that take a reader of the old state there."""
        out: list[Change] = []
        for side, old, new in (("bid", self.bids, dict(bids)), ("ask", self.asks, dict(asks))):
            for price, size in new.items():
                if old.get(price) != size:
                    out.append((side, price, size))  # type: ignore[arg-type]
            for price in old:
                if price not in new:
                    out.append((side, price, 0.0))  # type: ignore[arg-type]
            old.clear()
            old.update(new)
        return out


class LiveBook:
    def __init__(self, ident: BookId, stale_after_ms: int):
        self.ident = ident
        self.stale_after_ms = stale_after_ms
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.state: Literal["fresh", "stale", "needs_refresh"] = "needs_refresh"  # until a first snapshot
        self.exchange_ts_ms: int | None = None
        self.ingest_ts_ms: int | None = None
        self.heard = time.monotonic()  # last time the venue said anything about this book
        self.views: dict[int, View] = {}
        self.refreshing = False

    # --- venue side -------------------------------------------------------------------------------

    def replace(self, bids: Iterable[tuple[float, float]], asks: Iterable[tuple[float, float]]) -> None:
        self.bids = {_key(p): float(s) for p, s in bids if s > 0}
        self.asks = {_key(p): float(s) for p, s in asks if s > 0}

    def set_level(self, side: Side, price: float, size: float) -> None:
        levels = self.bids if side == "bid" else self.asks
        if size > 0:
            levels[_key(price)] = float(size)
        else:
            levels.pop(_key(price), None)

    def stamp(self, exchange_ts_ms: int | None) -> None:
        self.exchange_ts_ms = exchange_ts_ms
        self.ingest_ts_ms = int(time.time() * 1000)
        self.heard = time.monotonic()

    def top(self, depth: int) -> tuple[Levels, Levels]:
        return (heapq.nlargest(depth, self.bids.items()), heapq.nsmallest(depth, self.asks.items()))

    # --- subscriber side --------------------------------------------------------------------------

    def view(self, depth: int) -> View:
        v = self.views.get(depth)
        if v is None:
            v = self.views[depth] = View(depth)
            v.update(*self.top(depth))
        return v

    def drop_view_if_empty(self, depth: int) -> None:
        v = self.views.get(depth)
        if v is not None and not v.subs:
            del self.views[depth]

    def changed_views(self) -> list[tuple[View, list[Change]]]:
        """After the book changed: each view's changes (views with none are left out)."""
        out = []
        for v in self.views.values():
            changes = v.update(*self.top(v.depth))
            if changes:
                out.append((v, changes))
        return out

    @property
    def subscriber_count(self) -> int:
        return sum(len(v.subs) for v in self.views.values())
