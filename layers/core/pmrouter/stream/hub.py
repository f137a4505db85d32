"""The hub: live books shared by every connection of a process, fed by the venue feeds.

It owns the one rule the contract cares most about: every frame a subscription receives continues
exactly from the previous one. A subscription's `server_seq` counts its book frames (snapshot, then
deltas); activity has a counter of its own, because the SDK treats any non-consecutive delta
`server_seq` as a gap, and trades must not look like one.

When the hub cannot vouch for a book it says so: `needs_refresh` plus `resync_required` when the
venue connection was lost (or a venue sequence gap / book mismatch was found), `stale` when the
venue has said nothing for `stale_after_ms`. In both cases it re-reads the book from the venue's
REST API through the same adapter call `/orderbook` uses, and sends the difference as a delta.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol

from ..exchanges.base import resolve_outcome
from ..exchanges.registry import get_adapter
from .book import BookId, Change, LiveBook, View
from .feeds import Fill, Instrument, Trade, VenueFeed, book_ts_ms, create_feed, now_ms
from .usage import usage

log = logging.getLogger("pmrouter.stream.hub")

DEFAULT_STALE_MS = 15_000
FEED_READY_S = 3.0  # how long a first subscriber waits for the venue connection before its snapshot
_SEP = (",", ":")


class Subscriber(Protocol):
    customer_id: str

    def push(self, text: str, sub: "Subscription | None" = None) -> None: ...

    def resync_required(self, sub: "Subscription") -> None: ...


@dataclass(eq=False)
class Subscription:
    session: Subscriber
    book: LiveBook
    depth: int
    seq: int = 0  # last book frame sent
    aseq: int = 0  # last activity frame sent
    # Taken over from another server (the pump hand-over): it gets no deltas until its resync
    # snapshot, because its reader's last server_seq is not ours to continue.
    paused: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return self.book.ident.key


def _identity(ident: BookId) -> dict[str, Any]:
    return {"parsec_id": ident.parsec_id, "exchange": ident.exchange, "outcome": ident.outcome,
            "token_id": ident.token_id, "market_id": ident.market_id}


class Hub:
    def __init__(self, *, stale_after_ms: int | None = None,
                 feed_factory: Callable[[Any, Any], VenueFeed] = create_feed):
        self.stale_after_ms = stale_after_ms or int(os.environ.get("PMROUTER_STREAM_STALE_MS", DEFAULT_STALE_MS))
        self.feed_factory = feed_factory
        self.books: dict[tuple[str, str], LiveBook] = {}
        self.instruments: dict[tuple[str, str], Instrument] = {}
        self.feeds: dict[str, VenueFeed] = {}
        self.by_customer: dict[str, set[Subscription]] = {}
        self.rest_refreshes = 0
        self._opening: dict[tuple[str, str], asyncio.Future] = {}
        self._watchdog: asyncio.Task | None = None
        self._user_refs: dict[str, int] = {}  # customer -> connections that asked for its fills

    # --- books ------------------------------------------------------------------------------------

    def feed(self, exchange: str) -> VenueFeed:
        feed = self.feeds.get(exchange)
        if feed is None:
            feed = self.feeds[exchange] = self.feed_factory(self, get_adapter(exchange))
        return feed

    def feed_state(self, book: LiveBook) -> str:
        feed = self.feeds.get(book.ident.exchange)
        return feed.feed_state if feed is not None else "disconnected"

    async def open_book(self, exchange: str, market_id: str, outcome: str | None) -> LiveBook:
        """The live book of one outcome, created (REST snapshot, then the venue feed) on first use.
        Raises UnknownExchange, MarketNotFound, VenueError, or ValueError for a bad outcome."""
        adapter = get_adapter(exchange)
        market = await adapter.get_market(market_id)
        chosen = resolve_outcome(market, outcome)
        key = (market.parsec_id, chosen.name.lower())
        while key in self._opening:
            await asyncio.shield(self._opening[key])
        book = self.books.get(key)
        if book is not None:
            return book
        done = asyncio.get_running_loop().create_future()
        self._opening[key] = done
        try:
            rest = await adapter.get_orderbook(market, chosen, 100)
            ident = BookId(
                parsec_id=market.parsec_id, exchange=market.exchange, outcome=chosen.name,
                token_id=rest.token_id or chosen.token_id or market.exchange_market_id,
                market_id=market.exchange_market_id, title=market.question or None,
                tick_size=rest.tick_size if rest.tick_size is not None else market.tick_size,
                min_order_size=rest.min_order_size if rest.min_order_size is not None else market.min_order_size)
            book = LiveBook(ident, self.stale_after_ms)
            book.replace(rest.bids, rest.asks)
            book.stamp(book_ts_ms(rest))
            book.state = "fresh"
            self.books[key] = book
            inst = Instrument(ident, market, chosen, market.outcomes.index(chosen))
            self.instruments[key] = inst
            feed = self.feed(exchange)
            await feed.watch(inst)
            await feed.wait_ready(FEED_READY_S)
        finally:
            del self._opening[key]
            done.set_result(None)
        self._ensure_watchdog()
        return book

    async def _close_book(self, book: LiveBook) -> None:
        key = book.ident.key
        if self.books.get(key) is not book or book.subscriber_count:
            return
        del self.books[key]
        inst = self.instruments.pop(key, None)
        feed = self.feeds.get(book.ident.exchange)
        if inst is not None and feed is not None:
            await feed.unwatch(inst)

    # --- subscriptions ----------------------------------------------------------------------------

    def attach(self, session: Subscriber, book: LiveBook, depth: int, *, snapshot: bool = True) -> Subscription:
        sub = Subscription(session, book, depth, paused=not snapshot)
        book.view(depth).subs.add(sub)
        self.by_customer.setdefault(session.customer_id, set()).add(sub)
        usage.market(session.customer_id, book.ident.parsec_id, 1)
        if snapshot:
            self.send_snapshot(sub)
        return sub

    async def detach(self, sub: Subscription) -> None:
        view = sub.book.views.get(sub.depth)
        if view is not None:
            view.subs.discard(sub)
            sub.book.drop_view_if_empty(sub.depth)
        mine = self.by_customer.get(sub.session.customer_id)
        if mine is not None:
            mine.discard(sub)
            if not mine:
                del self.by_customer[sub.session.customer_id]
        usage.market(sub.session.customer_id, sub.book.ident.parsec_id, -1)
        await self._close_book(sub.book)

    def subscriptions_of(self, customer_id: str) -> int:
        return len(self.by_customer.get(customer_id, ()))

    def send_snapshot(self, sub: Subscription) -> None:
        book = sub.book
        bids, asks = book.view(sub.depth).levels()
        sub.seq += 1
        sub.paused = False
        ident = book.ident
        frame = {"type": "orderbook", "kind": "snapshot", **_identity(ident), "title": ident.title,
                 "tick_size": ident.tick_size, "min_order_size": ident.min_order_size,
                 "bids": [[p, s] for p, s in bids], "asks": [[p, s] for p, s in asks],
                 "server_seq": sub.seq, "book_state": book.state, "feed_state": self.feed_state(book),
                 "stale_after_ms": book.stale_after_ms, "exchange_ts_ms": book.exchange_ts_ms,
                 "ingest_ts_ms": book.ingest_ts_ms}
        sub.session.push(json.dumps({k: v for k, v in frame.items() if v is not None}, separators=_SEP), sub)

    async def resync(self, sub: Subscription) -> None:
        if sub.book.state == "needs_refresh":
            self.schedule_refresh(sub.book)
        self.send_snapshot(sub)

    # --- fan-out ----------------------------------------------------------------------------------

    def _delta_head(self, book: LiveBook, changes: list[Change]) -> str:
        """The delta frame up to its `server_seq`, serialised once for every subscriber of a view."""
        frame = {"type": "orderbook_delta", **_identity(book.ident),
                 "changes": [{"side": s, "price": p, "size": z} for s, p, z in changes],
                 "book_state": book.state, "feed_state": self.feed_state(book),
                 "stale_after_ms": book.stale_after_ms}
        if book.exchange_ts_ms is not None:
            frame["exchange_ts_ms"] = book.exchange_ts_ms
        if book.ingest_ts_ms is not None:
            frame["ingest_ts_ms"] = book.ingest_ts_ms
        return json.dumps(frame, separators=_SEP)[:-1] + ',"server_seq":'

    def _send_delta(self, book: LiveBook, view: View, changes: list[Change]) -> None:
        head = self._delta_head(book, changes)
        for sub in list(view.subs):
            if sub.paused:
                continue
            sub.seq += 1
            sub.session.push(f"{head}{sub.seq}}}", sub)

    def _publish(self, book: LiveBook, state_changed: bool) -> None:
        changed = book.changed_views()
        for view, changes in changed:
            self._send_delta(book, view, changes)
        if state_changed:  # tell the views that saw no level change, too
            touched = {id(v) for v, _ in changed}
            for view in book.views.values():
                if id(view) not in touched:
                    self._send_delta(book, view, [])

    def _set_state(self, book: LiveBook, state: str) -> bool:
        changed = book.state != state
        book.state = state  # type: ignore[assignment]
        return changed

    # --- FeedSink ---------------------------------------------------------------------------------

    def venue_book(self, key: tuple[str, str], bids: Iterable[tuple[float, float]],
                   asks: Iterable[tuple[float, float]], exchange_ts_ms: int | None) -> None:
        book = self.books.get(key)
        if book is None:
            return
        book.replace(bids, asks)
        book.stamp(exchange_ts_ms)
        self._publish(book, self._set_state(book, "fresh"))

    def venue_changes(self, key: tuple[str, str], changes: list[Change], exchange_ts_ms: int | None) -> None:
        book = self.books.get(key)
        if book is None:
            return
        for side, price, size in changes:
            book.set_level(side, price, size)
        book.stamp(exchange_ts_ms)
        # A book that lost continuity stays needs_refresh until a full book replaces it.
        self._publish(book, book.state == "stale" and self._set_state(book, "fresh"))

    def venue_trade(self, key: tuple[str, str], trade: Trade) -> None:
        book = self.books.get(key)
        if book is None:
            return
        frame = {"type": "activity", "kind": "trade", **_identity(book.ident), "price": trade.price,
                 "size": trade.size, "side": trade.side, "aggressor_side": trade.side, "trade_id": trade.trade_id,
                 "feed_state": self.feed_state(book), "exchange_ts_ms": trade.exchange_ts_ms,
                 "ingest_ts_ms": now_ms(), "source_channel": trade.source_channel}
        self._send_activity(book, frame, None)

    def venue_fill(self, customer_id: str, key: tuple[str, str], fill: Fill) -> None:
        book = self.books.get(key)
        if book is None:
            return
        frame = {"type": "activity", "kind": "fill", **_identity(book.ident), "price": fill.price,
                 "size": fill.size, "side": fill.side, "fill_id": fill.fill_id, "order_id": fill.order_id,
                 "liquidity_role": fill.liquidity_role, "feed_state": self.feed_state(book),
                 "exchange_ts_ms": fill.exchange_ts_ms, "ingest_ts_ms": now_ms(),
                 "source_channel": fill.source_channel}
        self._send_activity(book, frame, customer_id)

    def _send_activity(self, book: LiveBook, frame: dict[str, Any], only: str | None) -> None:
        head = json.dumps({k: v for k, v in frame.items() if v is not None}, separators=_SEP)[:-1] + ',"server_seq":'
        for view in book.views.values():
            for sub in list(view.subs):
                if only is not None and sub.session.customer_id != only:
                    continue
                sub.aseq += 1
                sub.session.push(f"{head}{sub.aseq}}}", sub)

    def venue_lost(self, keys: Iterable[tuple[str, str]], reason: str) -> None:
        for key in list(keys):
            book = self.books.get(key)
            if book is None:
                continue
            log.info("continuity lost on %s: %s", key, reason)
            book.state = "needs_refresh"
            frame = json.dumps({"type": "resync_required", "parsec_id": book.ident.parsec_id,
                                "outcome": book.ident.outcome}, separators=_SEP)
            for view in book.views.values():
                for sub in list(view.subs):
                    sub.session.resync_required(sub)
                    sub.session.push(frame, sub)
            self.schedule_refresh(book)

    # --- REST re-snapshots and the stale watchdog -------------------------------------------------

    def schedule_refresh(self, book: LiveBook) -> None:
        if not book.refreshing:
            book.refreshing = True
            asyncio.get_running_loop().create_task(self.refresh(book))

    async def refresh(self, book: LiveBook) -> None:
        inst = self.instruments.get(book.ident.key)
        try:
            if inst is None:
                return
            rest = await get_adapter(book.ident.exchange).get_orderbook(inst.market, inst.outcome, 100)
            self.rest_refreshes += 1
            if self.books.get(book.ident.key) is book:
                self.venue_book(book.ident.key, rest.bids, rest.asks, book_ts_ms(rest))
        except Exception as exc:  # the book stays as it is labelled; the watchdog tries again
            log.info("REST re-snapshot of %s failed: %s", book.ident.key, exc)
        finally:
            book.refreshing = False

    def _ensure_watchdog(self) -> None:
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.get_running_loop().create_task(self._watch_stale())

    def check_stale(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for book in list(self.books.values()):
            feed = self.feeds.get(book.ident.exchange)
            heard = max(book.heard, getattr(feed, "heard", 0.0))
            if now - heard > book.stale_after_ms / 1000:
                if book.state == "fresh":
                    book.state = "stale"
                    self._publish(book, True)
                self.schedule_refresh(book)
                book.heard = now  # one REST re-read per stale period while the venue stays quiet
            elif book.state == "stale" and getattr(feed, "heard", 0.0) > book.heard:
                book.state = "fresh"
                self._publish(book, True)

    async def _watch_stale(self) -> None:
        period = min(1.0, self.stale_after_ms / 4000)
        while self.books:
            await asyncio.sleep(period)
            self.check_stale()

    async def watch_user(self, customer_id: str, exchanges: Iterable[str]) -> None:
        """Ask each trading venue's feed for this customer's own fills; one user channel per
        customer however many of its connections ask (counted, see `unwatch_user`)."""
        self._user_refs[customer_id] = self._user_refs.get(customer_id, 0) + 1
        if self._user_refs[customer_id] > 1:
            return
        for exchange in exchanges:
            try:
                await self.feed(exchange).watch_user(customer_id)
            except Exception as exc:
                log.info("user feed %s/%s not started: %s", exchange, customer_id, exc)

    async def unwatch_user(self, customer_id: str) -> None:
        left = self._user_refs.get(customer_id, 0) - 1
        if left > 0:
            self._user_refs[customer_id] = left
            return
        self._user_refs.pop(customer_id, None)
        for feed in self.feeds.values():
            await feed.unwatch_user(customer_id)

    async def close(self) -> None:
        if self._watchdog:
            self._watchdog.cancel()
        for feed in self.feeds.values():
            await feed.close()
