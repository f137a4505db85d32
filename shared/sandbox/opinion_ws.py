"""Sandbox Opinion WebSocket, driven by the matching engine.

As documented (docs.opinion.trade, Opinion WebSocket quickstart and market channels): connect with
`?apikey=`, keep alive with `{"action":"HEARTBEAT"}`, subscribe with `{"action":"SUBSCRIBE",
"channel":"market.depth.diff","marketId":N}`. Every book change is pushed as one message per
changed level: `{marketId, tokenId, outcomeSide (1 yes, 2 no), side ("bids"|"asks"), price, size,
msgType:"market.depth.diff"}`. The docs do not say whether `size` is the level's new size or a
change; this simulator sends the new size (0 removes the level), which is how pmrouter reads it.
There is no snapshot message and no sequence number: a client reads REST `/openapi/token/orderbook`
first. `market.last.trade` is pushed for every match.
"""
from __future__ import annotations

import json

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from .base_ws import Client, WsClients, level_diff


class OpinionWs:
    def __init__(self, world) -> None:
        self.world = world
        self.trading = world.trading
        self.clients = WsClients()
        self.published: dict[str, tuple[dict[float, float], dict[float, float]]] = {}
        self.market_of: dict[str, tuple[int, int]] = {}  # token -> (marketId, outcomeSide)
        for row in world.binary.values():
            for token, side in ((row.get("yesTokenId"), 1), (row.get("noTokenId"), 2)):
                if token:
                    self.market_of[token] = (int(row["marketId"]), side)
        self.trading.ledger.engine.listeners.append(self.on_change)

    def _depth(self, token: str) -> tuple[dict[float, float], dict[float, float]]:
        bids, asks = self.trading.depth(token) or self.world.book(token)  # what REST answers
        return ({float(b["price"]): float(b["size"]) for b in bids}, {float(a["price"]): float(a["size"]) for a in asks})

    def on_change(self, token: str, fills: list) -> None:
        where = self.market_of.get(token)
        if where is None:
            return
        market_id, outcome_side = where
        old = self.published.get(token)
        if old is None:
            old = self._static(token)
        new = self.published[token] = self._depth(token)
        for side, o, n in (("bids", old[0], new[0]), ("asks", old[1], new[1])):
            for price, size in level_diff(o, n):
                self.clients.publish(market_id, json.dumps({
                    "marketId": market_id, "tokenId": token, "outcomeSide": outcome_side, "side": side,
                    "price": f"{price:g}", "size": f"{size:g}", "msgType": "market.depth.diff"}))
        for f in fills:
            self.clients.publish(("trade", market_id), json.dumps({
                "marketId": market_id, "tokenId": token, "side": "Buy" if f.taker_side == "buy" else "Sell",
                "outcomeSide": outcome_side, "price": f"{f.price:g}", "shares": f"{f.size:g}",
                "amount": f"{f.price * f.size:g}", "msgType": "market.last.trade"}))

    def _static(self, token: str) -> tuple[dict[float, float], dict[float, float]]:
        bids, asks = self.world.book(token)
        return ({float(b["price"]): float(b["size"]) for b in bids}, {float(a["price"]): float(a["size"]) for a in asks})

    async def handle(self, client: Client, text: str) -> None:
        try:
            msg = json.loads(text)
        except ValueError:
            return
        action, channel = msg.get("action"), msg.get("channel")
        if action == "HEARTBEAT":
            return
        topic = msg.get("marketId") if channel == "market.depth.diff" else ("trade", msg.get("marketId"))
        if channel not in ("market.depth.diff", "market.last.trade"):
            return
        if action == "SUBSCRIBE":
            client.topics.add(topic)
        elif action == "UNSUBSCRIBE":
            client.topics.discard(topic)

    def drop_all(self) -> int:
        return self.clients.drop_all()


def install(app) -> dict[str, str]:
    feed = OpinionWs(app.state.world)
    app.state.ws_feed = feed

    async def endpoint(ws: WebSocket) -> None:
        if not ws.query_params.get("apikey"):
            await ws.close(1008)
            return
        await ws.accept()
        await feed.clients.serve(ws, feed.handle)

    app.router.routes.append(WebSocketRoute("/ws", endpoint))
    return {}
