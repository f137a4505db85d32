"""Venue feeds: what keeps a live book in step with its venue.

A feed turns one venue's own stream into four calls on the hub (`FeedSink`): a full book, level
changes (absolute sizes), a public trade or an own fill, and "continuity lost". Two shapes:

- `SocketFeed`: one long-lived WebSocket to the venue (Polymarket, Kalshi) with reconnect and
  backoff; the venue modules (`exchanges/<venue>/stream.py`) implement the handshake, the
  subscribe message and the parsing, against the venue's documented protocol.
- `PollingFeed`: the venue's REST book on a timer, for venues whose push feed pmrouter does not
  use; its books say `feed_state: "polling"` so nobody mistakes them for a stream.
"""
from __future__ import annotations

import asyncio
import importlib
import logging
import os
import random
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Protocol

from ..exchanges.base import ExchangeAdapter, OrderBook, VenueMarket, VenueOutcome
from .book import BookId, Change

log = logging.getLogger("pmrouter.stream.feeds")


@dataclass(frozen=True)
class Instrument:
    """One outcome book as a feed needs it: our identity plus the venue's market."""

    book: BookId
    market: VenueMarket
    outcome: VenueOutcome
    outcome_index: int

    @property
    def key(self) -> tuple[str, str]:
        return self.book.key


@dataclass(frozen=True)
class Trade:
    price: float
    size: float
    side: str | None = None  # taker side in the outcome's terms
    trade_id: str | None = None
    exchange_ts_ms: int | None = None
    source_channel: str = ""


@dataclass(frozen=True)
class Fill:
    fill_id: str
    order_id: str
    price: float
    size: float
    side: str  # buy | sell, in the outcome's terms
    liquidity_role: str  # maker | taker
    exchange_ts_ms: int | None = None
    source_channel: str = ""


class FeedSink(Protocol):
    def venue_book(self, key: tuple[str, str], bids: Iterable[tuple[float, float]],
                   asks: Iterable[tuple[float, float]], exchange_ts_ms: int | None) -> None: ...

    def venue_changes(self, key: tuple[str, str], changes: list[Change], exchange_ts_ms: int | None) -> None: ...

    def venue_trade(self, key: tuple[str, str], trade: Trade) -> None: ...

    def venue_fill(self, customer_id: str, key: tuple[str, str], fill: Fill) -> None: ...

    def venue_lost(self, keys: Iterable[tuple[str, str]], reason: str) -> None: ...


def now_ms() -> int:
    return int(time.time() * 1000)


def book_ts_ms(book: OrderBook) -> int | None:
    """A REST book's venue timestamp in epoch ms (None when the venue gave none)."""
    return int(book.timestamp.timestamp() * 1000) if book.timestamp else None


class VenueFeed(ABC):
    """One venue's feed for every book pmrouter watches there."""

    streaming: ClassVar[bool] = True

    def __init__(self, sink: FeedSink, adapter: ExchangeAdapter):
        self.sink = sink
        self.adapter = adapter
        self.watched: dict[tuple[str, str], Instrument] = {}
        self.state = "disconnected"

    @property
    def feed_state(self) -> str:
        return self.state

    async def watch(self, inst: Instrument) -> None:
        self.watched[inst.key] = inst

    async def unwatch(self, inst: Instrument) -> None:
        self.watched.pop(inst.key, None)

    async def watch_user(self, customer_id: str) -> None:
        """Stream this customer's own fills (venues with a user channel)."""

    async def unwatch_user(self, customer_id: str) -> None:
        """Stop streaming this customer's fills (its last connection closed)."""

    async def wait_ready(self, timeout: float) -> None:
        """Until the feed can vouch for what it watches (or `timeout`)."""

    async def close(self) -> None:
        pass


class PollingFeed(VenueFeed):
    streaming = False

    def __init__(self, sink: FeedSink, adapter: ExchangeAdapter, interval_s: float | None = None):
        super().__init__(sink, adapter)
        self.interval_s = interval_s or float(os.environ.get("PMROUTER_STREAM_POLL_SECONDS", "2"))
        self.state = "polling"
        self._task: asyncio.Task | None = None

    async def watch(self, inst: Instrument) -> None:
        await super().watch(inst)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self.watched:
            await asyncio.sleep(self.interval_s)
            for key, inst in list(self.watched.items()):
                try:
                    book = await self.adapter.get_orderbook(inst.market, inst.outcome, 100)
                except Exception as exc:  # a failed poll leaves the book to go stale, honestly
                    log.info("poll %s failed: %s", key, exc)
                    continue
                self.sink.venue_book(key, book.bids, book.asks, book_ts_ms(book))

    async def close(self) -> None:
        if self._task:
            self._task.cancel()


class SocketFeed(VenueFeed):
    """A reconnecting WebSocket client. Subclasses speak the venue's protocol."""

    max_backoff_s: ClassVar[float] = 30.0

    def __init__(self, sink: FeedSink, adapter: ExchangeAdapter, url: str):
        super().__init__(sink, adapter)
        self.url = url
        self.ws: Any = None
        self._task: asyncio.Task | None = None
        self._closing = False
        self.connects = 0
        self.heard = 0.0
        self._up = asyncio.Event()
        self.user_tasks: dict[str, asyncio.Task] = {}  # customer -> its user channel

    @property
    def side_tasks(self) -> list[asyncio.Task]:
        return list(self.user_tasks.values())

    def start_side(self, customer_id: str, coro) -> None:
        self.user_tasks[customer_id] = asyncio.get_running_loop().create_task(coro)

    async def unwatch_user(self, customer_id: str) -> None:
        task = self.user_tasks.pop(customer_id, None)
        if task is not None:
            task.cancel()
            await asyncio.wait([task], timeout=2)

    async def wait_ready(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._up.wait(), timeout)
        except asyncio.TimeoutError:
            pass  # the first snapshot then says feed_state "disconnected", which is the truth

    def ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def watch(self, inst: Instrument) -> None:
        await super().watch(inst)
        self.ensure_running()
        if self.ws is not None and self.state == "healthy":
            await self.subscribe([inst])

    async def unwatch(self, inst: Instrument) -> None:
        await super().unwatch(inst)
        if self.ws is not None:
            await self.unsubscribe([inst])

    @abstractmethod
    async def open(self) -> Any:
        """Connect (with the venue's handshake) and return the connection."""

    @abstractmethod
    async def subscribe(self, insts: list[Instrument]) -> None: ...

    async def unsubscribe(self, insts: list[Instrument]) -> None:
        pass

    @abstractmethod
    async def handle(self, raw: str | bytes) -> None: ...

    async def keepalive(self) -> None:
        """Venue-level pings, if the venue wants them from the client."""

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            pinger = None
            try:
                self.ws = await self.open()
                self.connects += 1
                attempt = 0
                self.state = "healthy"
                self.heard = time.monotonic()
                if self.watched:
                    await self.subscribe(list(self.watched.values()))
                self._up.set()
                pinger = asyncio.create_task(self.keepalive())
                async for raw in self.ws:
                    self.heard = time.monotonic()  # any frame, pings included, proves the feed alive
                    await self.handle(raw)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("%s feed dropped: %s", self.adapter.id, exc)
            finally:
                if pinger:
                    pinger.cancel()
                self.ws = None
                self._up.clear()
            if self._closing:
                return
            # Whatever the venue said while we were away is lost: every watched book must be
            # rebuilt, and every reader told so.
            self.state = "disconnected"
            self.sink.venue_lost(list(self.watched), "venue feed disconnected")
            attempt += 1
            delay = min(self.max_backoff_s, 0.05 * 2 ** attempt) * random.uniform(0.75, 1.25)
            await asyncio.sleep(delay)

    async def drop(self) -> None:
        """Close the venue connection (tests, hand-over); the feed reconnects by itself."""
        if self.ws is not None:
            await self.ws.close()

    async def close(self) -> None:
        self._closing = True
        if self.ws is not None:
            await self.ws.close()
        tasks = [t for t in (self._task, *self.side_tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=2) if tasks else None


def create_feed(sink: FeedSink, adapter: ExchangeAdapter) -> VenueFeed:
    """The venue's own feed module when it has one (`exchanges/<venue>/stream.py`), else polling."""
    try:
        module = importlib.import_module(f"pmrouter.exchanges.{adapter.id}.stream")
    except ModuleNotFoundError:
        return PollingFeed(sink, adapter)
    feed = module.create_feed(sink, adapter)
    return feed if feed is not None else PollingFeed(sink, adapter)
