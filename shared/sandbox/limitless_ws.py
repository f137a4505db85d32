"""Sandbox Limitless market feed: Socket.IO, namespace `/markets`, driven by the matching engine.

As documented (docs.limitless.exchange websocket; limitless-sdk 1.3.0 `websocket/client.py`): the
client emits `subscribe_market_prices` with `{"marketSlugs": [...]}`, which *replaces* its previous
subscription; the server pushes `orderbookUpdate` events `{marketSlug, orderbook, timestamp}` whose
`orderbook` is a full book in the REST `/markets/{slug}/orderbook` shape (the same body here as the
sandbox's REST answer). There are no sequence numbers; liveness is Engine.IO's ping/pong.

Fault for the tests: `drop_all()` disconnects every client.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

import socketio

from .limitless import SCALE

NAMESPACE = "/markets"


class LimitlessWs:
    def __init__(self, world) -> None:
        self.world = world
        self.trading = world.trading
        self.sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.rooms: dict[str, set[str]] = {}  # sid -> slugs
        self.yes_token = {row["tokens"]["yes"]: slug for slug, (_, row) in world.by_slug.items()}
        self.sio.on("connect", self._connect, namespace=NAMESPACE)
        self.sio.on("disconnect", self._disconnect, namespace=NAMESPACE)
        self.sio.on("subscribe_market_prices", self._subscribe, namespace=NAMESPACE)
        self.trading.ledger.engine.listeners.append(self.on_change)

    def book(self, slug: str) -> dict[str, Any]:
        """What REST `/markets/{slug}/orderbook` answers now."""
        static = self.world.orderbook(slug)
        live = self.trading.yes_depth(slug)
        if live is None:
            return static
        return {**static, "bids": [{"price": p, "size": int(round(s * SCALE)), "side": "BUY"} for p, s in live[0]],
                "asks": [{"price": p, "size": int(round(s * SCALE)), "side": "SELL"} for p, s in live[1]]}

    def _event(self, slug: str) -> dict[str, Any]:
        return {"marketSlug": slug, "orderbook": self.book(slug), "timestamp": int(time.time() * 1000)}

    async def _connect(self, sid, environ, auth=None) -> None:
        self.loop = asyncio.get_running_loop()
        self.rooms[sid] = set()

    async def _disconnect(self, sid, *args) -> None:
        self.rooms.pop(sid, None)

    async def _subscribe(self, sid, data) -> None:
        slugs = {str(s) for s in (data or {}).get("marketSlugs") or [] if str(s) in self.world.by_slug}
        for slug in self.rooms.get(sid, set()) - slugs:
            await self.sio.leave_room(sid, slug, namespace=NAMESPACE)
        for slug in slugs - self.rooms.get(sid, set()):
            await self.sio.enter_room(sid, slug, namespace=NAMESPACE)
            await self.sio.emit("orderbookUpdate", self._event(slug), to=sid, namespace=NAMESPACE)
        self.rooms[sid] = slugs

    def on_change(self, instrument: str, fills: list) -> None:
        slug = self.yes_token.get(instrument)
        if slug is None or self.loop is None or not any(slug in r for r in self.rooms.values()):
            return
        event = self._event(slug)  # under the engine lock: the book as of this change
        asyncio.run_coroutine_threadsafe(self.sio.emit("orderbookUpdate", event, room=slug, namespace=NAMESPACE),
                                         self.loop)

    def drop_all(self) -> int:
        sids = list(self.rooms)
        if self.loop is not None:
            for sid in sids:
                asyncio.run_coroutine_threadsafe(self.sio.disconnect(sid, namespace=NAMESPACE), self.loop)
        return len(sids)


class _Route:
    """Send `/socket.io/` (HTTP polling and WebSocket) to Socket.IO, everything else to the venue."""

    def __init__(self, app, feed: LimitlessWs):
        self.app = app
        self.sio_app = socketio.ASGIApp(feed.sio, socketio_path="socket.io")

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and scope["path"].startswith("/socket.io"):
            return await self.sio_app(scope, receive, send)
        return await self.app(scope, receive, send)


def install(app) -> dict[str, str]:
    feed = LimitlessWs(app.state.world)
    app.state.ws_feed = feed
    app.add_middleware(_Route, feed=feed)
    return {}
