"""A price-time-priority matching engine for the sandbox trading venues (Polymarket, Kalshi).

Venue-neutral: one `Book` per tradable instrument (a Polymarket token, a Kalshi ticker in YES
terms); prices and sizes are `Decimal`s so that tick and lot arithmetic is exact. The venue
simulators own everything venue-specific around it (auth, signatures, balances, wire shapes).

Semantics:
- GTC rests what does not cross; GTD also rests and expires at `expires_at` (seconds).
- IOC (Polymarket FAK) takes what it can and cancels the rest; FOK fills completely or not at all
  (nothing changes when it cannot).
- post_only orders that would cross are rejected without touching the book.
- Self-trades are allowed unless `stp` is "cancel_taker", which stops matching at the first resting order
  of the same owner and cancels the remainder (Kalshi `taker_at_cross`).
"""
from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable, Literal

Side = Literal["buy", "sell"]
Tif = Literal["GTC", "GTD", "IOC", "FOK"]
Status = Literal["open", "filled", "cancelled", "expired", "rejected"]

_seq = itertools.count(1)


@dataclass
class Order:
    id: str
    owner: str
    instrument: str
    side: Side
    price: Decimal
    size: Decimal
    tif: Tif = "GTC"
    expires_at: float | None = None
    post_only: bool = False
    stp: str | None = None
    client_id: str | None = None
    filled: Decimal = Decimal(0)
    status: Status = "open"
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    seq: int = field(default_factory=lambda: next(_seq))
    meta: dict = field(default_factory=dict)  # venue-specific payload (signed order, hashes...)

    @property
    def remaining(self) -> Decimal:
        return self.size - self.filled


@dataclass(frozen=True)
class Fill:
    id: str
    instrument: str
    price: Decimal  # the maker's price
    size: Decimal
    taker_order: str
    maker_order: str
    taker_owner: str
    maker_owner: str
    taker_side: Side
    ts: float


class Rejected(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Book:
    instrument: str
    bids: list[Order] = field(default_factory=list)  # best (highest, oldest) first
    asks: list[Order] = field(default_factory=list)  # best (lowest, oldest) first

    def _insert(self, order: Order) -> None:
        levels = self.bids if order.side == "buy" else self.asks
        # Stable price-time priority: after every order at a better-or-equal price.
        key = (lambda o: (-o.price, o.seq)) if order.side == "buy" else (lambda o: (o.price, o.seq))
        k = key(order)
        i = len(levels)
        for idx, o in enumerate(levels):
            if key(o) > k:
                i = idx
                break
        levels.insert(i, order)

    def remove(self, order: Order) -> None:
        levels = self.bids if order.side == "buy" else self.asks
        try:
            levels.remove(order)
        except ValueError:
            pass

    def depth(self, side: Side) -> list[tuple[Decimal, Decimal]]:
        """Aggregated (price, size) levels, best first."""
        out: list[tuple[Decimal, Decimal]] = []
        for o in self.bids if side == "buy" else self.asks:
            if out and out[-1][0] == o.price:
                out[-1] = (o.price, out[-1][1] + o.remaining)
            else:
                out.append((o.price, o.remaining))
        return out


def _crosses(taker: Order, maker: Order) -> bool:
    return maker.price <= taker.price if taker.side == "buy" else maker.price >= taker.price


class MatchingEngine:
    """Thread-safe: the sandbox serves requests from several threads."""

    def __init__(self) -> None:
        self.books: dict[str, Book] = {}
        self.orders: dict[str, Order] = {}
        self.fills: list[Fill] = []
        self.lock = threading.RLock()
        self._fill_seq = itertools.count(1)
        # Called as fn(instrument, fills) after every change to a book, under the engine lock, by
        # the thread that made it: the sandbox WebSocket feeds publish from here.
        self.listeners: list[Callable[[str, list[Fill]], None]] = []

    def _changed(self, instrument: str, fills: list[Fill] | None = None) -> None:
        for fn in self.listeners:
            fn(instrument, fills or [])

    def book(self, instrument: str) -> Book:
        b = self.books.get(instrument)
        if b is None:
            b = self.books[instrument] = Book(instrument)
        return b

    def seed(self, instrument: str, owner: str, bids: Iterable[tuple[Decimal, Decimal]],
             asks: Iterable[tuple[Decimal, Decimal]], id_prefix: str = "seed") -> None:
        """Resting liquidity (the sandbox market maker)."""
        with self.lock:
            book = self.book(instrument)
            for side, levels in (("buy", bids), ("sell", asks)):
                for n, (price, size) in enumerate(levels):
                    o = Order(f"{id_prefix}-{instrument[:16]}-{side}-{n}", owner, instrument, side, price, size)  # type: ignore[arg-type]
                    self.orders[o.id] = o
                    book._insert(o)
            self._changed(instrument)

    def expire(self, now: float | None = None) -> list[Order]:
        now = time.time() if now is None else now
        out = []
        with self.lock:
            for o in list(self.orders.values()):
                if o.status == "open" and o.expires_at is not None and o.expires_at <= now:
                    o.status = "expired"
                    o.updated_at = now
                    self.book(o.instrument).remove(o)
                    out.append(o)
            for instrument in {o.instrument for o in out}:
                self._changed(instrument)
        return out

    def fillable(self, taker: Order) -> Decimal:
        book = self.book(taker.instrument)
        total = Decimal(0)
        for maker in book.asks if taker.side == "buy" else book.bids:
            if not _crosses(taker, maker):
                break
            if taker.stp == "cancel_taker" and maker.owner == taker.owner:
                break
            total += maker.remaining
            if total >= taker.size:
                break
        return total

    def submit(self, order: Order) -> list[Fill]:
        """Match `order`; rest, cancel or reject the remainder per its time in force."""
        with self.lock:
            self.expire()
            if order.id in self.orders:
                raise Rejected("duplicate order id")
            book = self.book(order.instrument)
            opposite = book.asks if order.side == "buy" else book.bids
            if order.post_only and opposite and _crosses(order, opposite[0]):
                raise Rejected("post-only order would cross the book")
            if order.tif == "FOK" and self.fillable(order) < order.size:
                raise Rejected("fill-or-kill order could not be fully filled")
            fills: list[Fill] = []
            now = time.time()
            stp_stopped = False
            while order.remaining > 0 and opposite and _crosses(order, opposite[0]):
                maker = opposite[0]
                if maker.owner == order.owner and order.stp == "cancel_taker":
                    stp_stopped = True
                    break
                qty = min(order.remaining, maker.remaining)
                maker.filled += qty
                order.filled += qty
                maker.updated_at = now
                fill = Fill(f"fill-{next(self._fill_seq)}", order.instrument, maker.price, qty, order.id, maker.id,
                            order.owner, maker.owner, order.side, now)
                fills.append(fill)
                if maker.remaining <= 0:
                    maker.status = "filled"
                    opposite.pop(0)
            self.orders[order.id] = order
            order.updated_at = now
            if order.remaining <= 0:
                order.status = "filled"
            elif order.tif in ("IOC", "FOK") or stp_stopped:
                order.status = "cancelled"
            else:
                book._insert(order)
            self.fills.extend(fills)
            if fills or order.status == "open":
                self._changed(order.instrument, fills)
            return fills

    def cancel(self, order_id: str, owner: str | None = None) -> Order:
        with self.lock:
            order = self.orders.get(order_id)
            if order is None or (owner is not None and order.owner != owner):
                raise KeyError(order_id)
            if order.status == "open":
                order.status = "cancelled"
                order.updated_at = time.time()
                self.book(order.instrument).remove(order)
                self._changed(order.instrument)
            return order

    def open_orders(self, owner: str, instrument: str | None = None) -> list[Order]:
        with self.lock:
            self.expire()
            return [o for o in self.orders.values() if o.owner == owner and o.status == "open"
                    and (instrument is None or o.instrument == instrument)]

    def fills_for(self, owner: str) -> list[Fill]:
        with self.lock:
            return [f for f in self.fills if owner in (f.taker_owner, f.maker_owner)]
