"""Sandbox Predict.fun WebSocket (`/ws`), driven by the matching engine.

As documented (dev.predict.fun WebSocket: request and response formats, subscription topics,
heartbeats, "stream an order book"): requests are `{"method": "subscribe"|"unsubscribe",
"requestId": n, "params": ["predictOrderbook/<marketId>"]}`, answered `{"type": "R", "requestId",
"success"}`; pushes are `{"type": "M", "topic", "data"}`. The order book topic sends the market's
whole YES-priced book (`{marketId, updateTimestampMs, asks, bids}` with `[price, shares]` levels,
best first, as REST `/v1/markets/{id}/orderbook`) right after subscribing and on every change. The
server sends `{"type": "M", "topic": "heartbeat", "data": <ms>}` every `HEARTBEAT_S`; a client
that does not echo `{"method": "heartbeat", "data": <ms>}` is dropped.
"""
from __future__ import annotations

import asyncio
import json
import time

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from .base_ws import Client, WsClients

HEARTBEAT_S = 15.0


class PredictWs:
    def __init__(self, world) -> None:
        self.world = world
        self.trading = world.trading
        self.clients = WsClients()
        self.market_of: dict[str, int] = {}
        for mid, m in world.markets.items():
            yes = sorted(m["outcomes"], key=lambda o: o["indexSet"])[0]["onChainId"]
            self.market_of[str(yes)] = int(mid)
        self.trading.ledger.engine.listeners.append(self.on_change)

    def book(self, mid: int) -> dict:
        levels = self.world.book(mid)
        live = self.trading.yes_depth(mid)
        if live is not None:
            levels = {"bids": [[p, q] for p, q in live[0]], "asks": [[p, q] for p, q in live[1]]}
        return {"marketId": mid, "updateTimestampMs": int(time.time() * 1000), "asks": levels["asks"],
                "bids": levels["bids"]}

    def _push(self, mid: int) -> str:
        return json.dumps({"type": "M", "topic": f"predictOrderbook/{mid}", "data": self.book(mid)})

    def on_change(self, token: str, fills: list) -> None:
        mid = self.market_of.get(str(token))
        if mid is not None:
            self.clients.publish(f"predictOrderbook/{mid}", self._push(mid))

    async def handle(self, client: Client, text: str) -> None:
        try:
            msg = json.loads(text)
        except ValueError:
            return
        method = msg.get("method")
        if method == "heartbeat":
            client.info["echoed"] = time.monotonic()
            return
        topics = [str(t) for t in msg.get("params") or []]
        ok = all(t.startswith("predictOrderbook/") and t.split("/", 1)[1].isdigit()
                 and int(t.split("/", 1)[1]) in self.world.markets for t in topics)
        self.clients.send(client, json.dumps({"type": "R", "requestId": msg.get("requestId"), "success": ok}))
        if not ok:
            return
        for t in topics:
            if method == "subscribe":
                client.topics.add(t)
                self.clients.send(client, self._push(int(t.split("/", 1)[1])))
            elif method == "unsubscribe":
                client.topics.discard(t)

    async def heartbeats(self, client: Client) -> None:
        client.info["echoed"] = time.monotonic()
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            if time.monotonic() - client.info["echoed"] > 2 * HEARTBEAT_S:
                await client.ws.close(1008, "heartbeat not answered")
                return
            self.clients.send(client, json.dumps({"type": "M", "topic": "heartbeat", "data": int(time.time() * 1000)}))

    def drop_all(self) -> int:
        return self.clients.drop_all()


def install(app) -> dict[str, str]:
    feed = PredictWs(app.state.world)
    app.state.ws_feed = feed

    async def endpoint(ws: WebSocket) -> None:
        await ws.accept()
        beats: list[asyncio.Task] = []

        async def handle(client: Client, text: str) -> None:
            if not beats:
                beats.append(asyncio.create_task(feed.heartbeats(client)))
            await feed.handle(client, text)

        try:
            await feed.clients.serve(ws, handle)
        finally:
            for t in beats:
                t.cancel()

    app.router.routes.append(WebSocketRoute("/ws", endpoint))
    return {}
