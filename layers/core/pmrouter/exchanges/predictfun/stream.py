"""Predict.fun's WebSocket as a pmrouter feed (dev.predict.fun WebSocket).

`wss://ws.predict.fun/ws`; `{"method":"subscribe","requestId":n,"params":["predictOrderbook/<id>"]}`;
pushes are `{"type":"M","topic","data"}`. The order book topic carries the market's *whole*
YES-priced book every time it changes (the REST `/v1/markets/{id}/orderbook` shape), parsed by the
adapter's own `schemas.parse_orderbook` (the NO book is its mirror) and handed to the hub as a full
book. The server's `heartbeat` pushes must be echoed or it drops the connection; they also prove
the feed alive. No sequence numbers: each push is a full book, so nothing can be missed between
two of them, and a reconnect re-reads.
"""
from __future__ import annotations

import itertools
import json
import os

import websockets

from ...stream.feeds import Instrument, SocketFeed
from . import schemas

DEFAULT_WS_URL = "wss://ws.predict.fun/ws"


def ws_url() -> str:
    return os.environ.get("PMROUTER_PREDICTFUN_WS_URL", DEFAULT_WS_URL)


class PredictFeed(SocketFeed):
    def __init__(self, sink, adapter, url: str, api_key: str):
        super().__init__(sink, adapter, url)
        self.api_key = api_key
        self._ids = itertools.count(1)
        self.topics: set[str] = set()

    async def open(self):
        self.topics.clear()
        headers = {"x-api-key": self.api_key} if self.api_key else None
        return await websockets.connect(self.url, additional_headers=headers, max_size=2**24)

    @staticmethod
    def _topic(inst: Instrument) -> str:
        return f"predictOrderbook/{inst.market.exchange_market_id}"

    async def subscribe(self, insts: list[Instrument]) -> None:
        fresh = sorted({self._topic(i) for i in insts} - self.topics)
        if fresh:
            self.topics.update(fresh)
            await self.ws.send(json.dumps({"method": "subscribe", "requestId": next(self._ids), "params": fresh}))

    async def unsubscribe(self, insts: list[Instrument]) -> None:
        still = {self._topic(i) for i in self.watched.values()}
        gone = sorted({self._topic(i) for i in insts} - still)
        if gone:
            self.topics.difference_update(gone)
            await self.ws.send(json.dumps({"method": "unsubscribe", "requestId": next(self._ids), "params": gone}))

    async def handle(self, raw: str | bytes) -> None:
        msg = json.loads(raw)
        if msg.get("type") != "M":
            return
        topic, data = msg.get("topic"), msg.get("data")
        if topic == "heartbeat":
            await self.ws.send(json.dumps({"method": "heartbeat", "data": data}))
            return
        for inst in [i for i in self.watched.values() if self._topic(i) == topic]:
            book = schemas.parse_orderbook(data, yes_side=self.adapter._index_set(inst.market, inst.outcome) == 1,
                                           decimals=int(inst.market.extra.get("decimal_precision", 2)), depth=1000,
                                           tick=inst.market.tick_size, token_id=inst.outcome.token_id)
            ts = data.get("updateTimestampMs") if isinstance(data, dict) else None
            self.sink.venue_book(inst.key, book.bids, book.asks, int(ts) if isinstance(ts, (int, float)) else None)


def create_feed(sink, adapter) -> PredictFeed:
    return PredictFeed(sink, adapter, ws_url(), adapter.config.api_key)
