"""Opinion's WebSocket as a pmrouter feed (docs.opinion.trade, Opinion WebSocket).

`wss://ws.opinion.trade?apikey=<platform key>`; `{"action":"HEARTBEAT"}` every 30 s keeps it
open; `{"action":"SUBSCRIBE","channel":"market.depth.diff","marketId":N}` per binary market (a
categorical market's children one by one). Each change arrives as one level of one outcome token
(`tokenId`, `side` bids|asks, `price`, `size`); pmrouter reads `size` as the level's new size (the
docs do not say; a 0 removes the level). The venue sends no snapshot and no sequence number, so
the book starts from REST (the hub's first read) and every reconnect is a loss that re-reads REST.
`market.last.trade` gives the public trades.
"""
from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import websockets

from ...stream.feeds import Instrument, SocketFeed, Trade

DEFAULT_WS_URL = "wss://ws.opinion.trade"
HEARTBEAT_S = 30.0


def ws_url() -> str:
    return os.environ.get("PMROUTER_OPINION_WS_URL", DEFAULT_WS_URL)


class OpinionFeed(SocketFeed):
    def __init__(self, sink, adapter, url: str, api_key: str):
        super().__init__(sink, adapter, url)
        self.api_key = api_key
        self.subscribed: set[int] = set()

    async def open(self):
        self.subscribed.clear()
        return await websockets.connect(f"{self.url}?apikey={self.api_key}", max_size=2**24)

    def _by_token(self, token: Any) -> Instrument | None:
        return next((i for i in self.watched.values() if str(i.outcome.token_id) == str(token)), None)

    async def subscribe(self, insts: list[Instrument]) -> None:
        for market_id in {int(i.market.exchange_market_id) for i in insts} - self.subscribed:
            self.subscribed.add(market_id)
            for channel in ("market.depth.diff", "market.last.trade"):
                await self.ws.send(json.dumps({"action": "SUBSCRIBE", "channel": channel, "marketId": market_id}))

    async def unsubscribe(self, insts: list[Instrument]) -> None:
        for market_id in {int(i.market.exchange_market_id) for i in insts}:
            if any(int(i.market.exchange_market_id) == market_id for i in self.watched.values()):
                continue  # the other outcome still reads it
            self.subscribed.discard(market_id)
            for channel in ("market.depth.diff", "market.last.trade"):
                await self.ws.send(json.dumps({"action": "UNSUBSCRIBE", "channel": channel, "marketId": market_id}))

    async def keepalive(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            await self.ws.send(json.dumps({"action": "HEARTBEAT"}))

    async def handle(self, raw: str | bytes) -> None:
        msg = json.loads(raw)
        inst = self._by_token(msg.get("tokenId"))
        if inst is None:
            return
        if msg.get("msgType") == "market.depth.diff":
            side = "bid" if msg.get("side") == "bids" else "ask"
            self.sink.venue_changes(inst.key, [(side, float(msg["price"]), float(msg["size"]))], None)
        elif msg.get("msgType") == "market.last.trade" and msg.get("side") in ("Buy", "Sell"):
            self.sink.venue_trade(inst.key, Trade(price=float(msg["price"]), size=float(msg["shares"]),
                                                  side=msg["side"].lower(), source_channel="opinion_last_trade"))


def create_feed(sink, adapter) -> OpinionFeed | None:
    key = adapter.config.api_key
    return OpinionFeed(sink, adapter, ws_url(), key) if key else None
