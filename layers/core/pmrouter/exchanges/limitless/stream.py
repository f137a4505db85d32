"""Limitless's market feed as a pmrouter feed: Socket.IO, namespace `/markets`
(docs.limitless.exchange websocket; limitless-sdk 1.3.0 `websocket/client.py`).

`subscribe_market_prices` with `{"marketSlugs": [...]}` replaces the connection's whole
subscription, so it is always sent with every watched slug; the venue forgets subscriptions on a
reconnect, so it is sent again on every connect. `orderbookUpdate` carries a full YES book in the
REST shape, parsed by the adapter's own `schemas.parse_orderbook` (the NO book mirrors it) and
handed to the hub as a full book (the hub diffs it). No sequence numbers: a disconnect is a loss
for every watched book. Liveness is Engine.IO's ping/pong, which disconnects a silent server, so
"connected" is what the feed reports as heard.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from typing import Any

from ...stream.feeds import VenueFeed
from . import schemas

log = logging.getLogger("pmrouter.stream.limitless")

DEFAULT_WS_URL = "wss://ws.limitless.exchange"
NAMESPACE = "/markets"


def ws_url() -> str:
    return os.environ.get("PMROUTER_LIMITLESS_WS_URL", DEFAULT_WS_URL)


class LimitlessFeed(VenueFeed):
    def __init__(self, sink, adapter, url: str):
        super().__init__(sink, adapter)
        self.url = url
        self.sio: Any = None
        self.heard = 0.0
        self.connects = 0
        self._up = asyncio.Event()
        self._task: asyncio.Task | None = None

    def _client(self):
        import socketio

        # Reconnection is ours (below): Socket.IO does not reconnect after a server-side disconnect.
        sio = socketio.AsyncClient(reconnection=False)
        sio.on("connect", self._on_connect, namespace=NAMESPACE)
        sio.on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        sio.on("orderbookUpdate", self._on_book, namespace=NAMESPACE)
        return sio

    async def _run(self) -> None:
        delay = 0.1
        while True:
            if self.sio is not None and self.sio.connected:
                self.heard = time.monotonic()
                delay = 0.1
                await asyncio.sleep(0.25)
                continue
            try:
                if self.sio is not None:
                    await self.sio.disconnect()  # clear a half-closed client before a new one
                self.sio = self._client()
                await self.sio.connect(self.url, namespaces=[NAMESPACE], transports=["websocket"])
            except Exception as exc:
                log.info("limitless feed connect failed: %s", exc)
                await asyncio.sleep(delay * random.uniform(0.75, 1.25))
                delay = min(30.0, delay * 2)

    async def _on_connect(self) -> None:
        self.connects += 1
        self.state = "healthy"
        self.heard = time.monotonic()
        await self._subscribe()
        self._up.set()

    async def _on_disconnect(self, *args) -> None:
        self.state = "disconnected"
        self._up.clear()
        self.sink.venue_lost(list(self.watched), "venue feed disconnected")

    async def _subscribe(self) -> None:
        slugs = sorted({i.market.exchange_market_id for i in self.watched.values()})
        await self.sio.emit("subscribe_market_prices", {"marketSlugs": slugs}, namespace=NAMESPACE)

    async def _on_book(self, data: dict[str, Any]) -> None:
        slug = str((data or {}).get("marketSlug"))
        ts = data.get("timestamp")
        for inst in [i for i in self.watched.values() if i.market.exchange_market_id == slug]:
            book = schemas.parse_orderbook(data.get("orderbook") or {}, inst.outcome_index)
            self.sink.venue_book(inst.key, book.bids, book.asks, int(ts) if isinstance(ts, (int, float)) else None)

    async def watch(self, inst) -> None:
        await super().watch(inst)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        elif self.sio is not None and self.sio.connected:
            await self._subscribe()

    async def unwatch(self, inst) -> None:
        await super().unwatch(inst)
        if self.sio is not None and self.sio.connected:
            await self._subscribe()

    async def wait_ready(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._up.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    async def drop(self) -> None:
        if self.sio is not None:
            await self.sio.eio.disconnect(abort=True)

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=2)
        if self.sio is not None and self.sio.connected:
            await self.sio.disconnect()


def create_feed(sink, adapter) -> LimitlessFeed:
    return LimitlessFeed(sink, adapter, ws_url())
