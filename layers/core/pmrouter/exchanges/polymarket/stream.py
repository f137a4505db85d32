"""Polymarket's CLOB WebSocket as a pmrouter feed (docs.polymarket.com, market and user channels).

Market channel (`<ws>/market`, public): the first message names the assets and the channel
(`{"assets_ids": [...], "type": "market"}`), later ones add or drop assets with `operation`. The
venue answers with a `book` per asset (a full book, also sent again after trades), `price_change`
events whose `price_changes[]` carry each touched level's *new* size (the contract's delta
semantics, so they pass straight through), `last_trade_price` (public trades) and
`tick_size_change`. The client keeps the connection alive by sending the text `PING` every 10 s.

There is no sequence number. Continuity is checked the way the venue allows: every `book` the
venue sends is compared with the book pmrouter built from the deltas; a difference is a lost
update (counted in `mismatches`), and the venue's book replaces ours, its difference going to
readers as an ordinary delta. A dropped connection is a loss for every book it carried.

User channel (`<ws>/user`, L2 API key): `trade` events for the customer's own matches.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import websockets

from ...stream.feeds import Fill, Instrument, SocketFeed, Trade

log = logging.getLogger("pmrouter.stream.polymarket")

DEFAULT_WS_URL = "wss://ws-subscriptions-clob.polymarket.com/ws"
PING_EVERY_S = 10.0


def ws_url() -> str:
    return os.environ.get("PMROUTER_POLYMARKET_WS_URL", DEFAULT_WS_URL).rstrip("/")


def _levels(rows: Any) -> list[tuple[float, float]]:
    return [(float(r["price"]), float(r["size"])) for r in rows or []]


class PolymarketFeed(SocketFeed):
    def __init__(self, sink, adapter, url: str):
        super().__init__(sink, adapter, url)
        self.by_asset: dict[str, Instrument] = {}
        self.mismatches = 0
        self._opened = False

    async def open(self):
        self._opened = False
        return await websockets.connect(f"{self.url}/market", ping_interval=None, max_size=2**24)

    async def watch(self, inst: Instrument) -> None:
        self.by_asset[str(inst.outcome.token_id)] = inst
        await super().watch(inst)

    async def unwatch(self, inst: Instrument) -> None:
        self.by_asset.pop(str(inst.outcome.token_id), None)
        await super().unwatch(inst)

    async def subscribe(self, insts: list[Instrument]) -> None:
        assets = [str(i.outcome.token_id) for i in insts]
        if not self._opened:
            self._opened = True
            await self.ws.send(json.dumps({"assets_ids": assets, "type": "market"}))
        else:
            await self.ws.send(json.dumps({"assets_ids": assets, "operation": "subscribe"}))

    async def unsubscribe(self, insts: list[Instrument]) -> None:
        await self.ws.send(json.dumps({"assets_ids": [str(i.outcome.token_id) for i in insts],
                                       "operation": "unsubscribe"}))

    async def keepalive(self) -> None:
        while True:
            await asyncio.sleep(PING_EVERY_S)
            await self.ws.send("PING")

    async def handle(self, raw: str | bytes) -> None:
        if raw in ("PONG", b"PONG"):
            return
        data = json.loads(raw)
        for event in data if isinstance(data, list) else [data]:
            kind = event.get("event_type")
            if kind == "book":
                self._book(event)
            elif kind == "price_change":
                self._price_change(event)
            elif kind == "last_trade_price":
                inst = self.by_asset.get(str(event.get("asset_id")))
                if inst is not None:
                    self.sink.venue_trade(inst.key, Trade(
                        price=float(event["price"]), size=float(event["size"]),
                        side=(event.get("side") or "").lower() or None, exchange_ts_ms=_ts(event),
                        source_channel="polymarket_last_trade_price"))

    def _book(self, event: dict[str, Any]) -> None:
        inst = self.by_asset.get(str(event.get("asset_id")))
        if inst is None:
            return
        bids, asks = _levels(event.get("bids")), _levels(event.get("asks"))
        book = getattr(self.sink, "books", {}).get(inst.key)
        if book is not None and book.state == "fresh" and (
                {round(p, 6): s for p, s in bids} != book.bids or {round(p, 6): s for p, s in asks} != book.asks):
            self.mismatches += 1
            log.info("polymarket book %s differs from the one built from deltas", inst.key)
        self.sink.venue_book(inst.key, bids, asks, _ts(event))

    def _price_change(self, event: dict[str, Any]) -> None:
        grouped: dict[str, list] = {}
        for pc in event.get("price_changes") or []:
            side = "bid" if pc.get("side") == "BUY" else "ask"
            grouped.setdefault(str(pc.get("asset_id")), []).append((side, float(pc["price"]), float(pc["size"])))
        for asset, changes in grouped.items():
            inst = self.by_asset.get(asset)
            if inst is not None:
                self.sink.venue_changes(inst.key, changes, _ts(event))

    async def watch_user(self, customer_id: str) -> None:
        creds = await asyncio.to_thread(_stored_clob_creds, customer_id)
        if creds is not None:
            self.start_side(customer_id, self._user_loop(customer_id, creds))

    async def _user_loop(self, customer_id: str, creds: dict[str, str]) -> None:
        """The customer's own matches. Reconnects with the market feed's backoff rules."""
        delay = 0.1
        while not self._closing:
            try:
                async with websockets.connect(f"{self.url}/user", ping_interval=None) as ws:
                    await ws.send(json.dumps({"auth": creds, "markets": [], "type": "user"}))
                    delay = 0.1
                    async for raw in ws:
                        self._user_event(customer_id, creds["apiKey"], raw)
            except Exception as exc:
                log.info("polymarket user feed dropped: %s", exc)
            await asyncio.sleep(delay)
            delay = min(30.0, delay * 2)

    def _user_event(self, customer_id: str, api_key: str, raw: str | bytes) -> None:
        if raw in ("PONG", b"PONG"):
            return
        event = json.loads(raw)
        if event.get("event_type") != "trade":
            return
        taker = event.get("trader_side", "TAKER") == "TAKER"
        # A maker's own terms are in its `maker_orders` entry (the event's side is the taker's).
        mine = event if taker else next((m for m in event.get("maker_orders") or [] if m.get("owner") == api_key), None)
        inst = self.by_asset.get(str((mine or {}).get("asset_id") or event.get("asset_id")))
        if mine is None or inst is None:
            return
        order_id = event.get("taker_order_id") if taker else mine.get("order_id")
        # The ids /fills gives the same fill: the trade id for the taker, trade:order for a maker.
        fill_id = str(event.get("id")) if taker else f"{event.get('id')}:{order_id}"
        self.sink.venue_fill(customer_id, inst.key, Fill(
            fill_id=fill_id, order_id=str(order_id or ""), price=float(mine["price"]),
            size=float(mine["size"] if taker else mine["matched_amount"]), side=str(mine.get("side", "")).lower(),
            liquidity_role="taker" if taker else "maker", exchange_ts_ms=_ts(event),
            source_channel="polymarket_user_trade"))


def _ts(event: dict[str, Any]) -> int | None:
    ts = event.get("timestamp")
    return int(ts) if ts is not None and str(ts).isdigit() else None


def _stored_clob_creds(customer_id: str) -> dict[str, str] | None:
    from ...auth import credentials

    stored = credentials.load(customer_id, "polymarket")
    creds = getattr(stored, "credentials", None) if stored is not None else None
    if creds is None or not creds.clob_api_key:
        return None
    return {"apiKey": creds.clob_api_key, "secret": creds.clob_api_secret or "",
            "passphrase": creds.clob_api_passphrase or ""}


def create_feed(sink, adapter) -> PolymarketFeed:
    return PolymarketFeed(sink, adapter, ws_url())
