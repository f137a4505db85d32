"""Sandbox Polymarket CLOB WebSocket (`/ws/market`, `/ws/user`), driven by the matching engine.

Wire format as documented (docs.polymarket.com, market and user channels; reference/exchange-
protocols.md §8): the client opens `/ws/market` and sends `{"assets_ids": [...], "type": "market"}`,
later `{"assets_ids": [...], "operation": "subscribe"|"unsubscribe"}`; it receives a `book` per asset
(the same payload and `hash` as REST `/book`), then `price_change` events whose `price_changes[]`
give each touched level's new size, and `last_trade_price` for every match. The text `PING` is
answered with `PONG`. `/ws/user` authenticates with the L2 API key, secret and passphrase and
receives `trade` events for the key's own matches.
"""
from __future__ import annotations

import json
import time
from typing import Any

from fastapi import WebSocket

from .base_ws import Client, WsClients, level_diff


def _ms() -> str:
    return str(int(time.time() * 1000))


class PolymarketWs:
    def __init__(self, world) -> None:
        self.world = world
        self.trading = world.trading
        self.market = WsClients()
        self.user = WsClients()
        self.published: dict[str, tuple[dict[float, float], dict[float, float]]] = {}
        self.trading.engine.listeners.append(self.on_change)

    # --- engine side (any thread, engine lock held) ----------------------------------------------

    def _depth(self, token: str) -> tuple[dict[float, float], dict[float, float]]:
        live = self.trading.depth(token)
        bids, asks = live if live is not None else self.world.levels(token)
        return dict(bids), dict(asks)

    def book_event(self, token: str) -> dict[str, Any]:
        with self.trading.lock:
            payload = self.world.book_payload(token)
            self.published[token] = self._depth(token)
        return {"event_type": "book", "asset_id": token, "market": payload["market"], "bids": payload["bids"],
                "asks": payload["asks"], "timestamp": payload["timestamp"], "hash": payload["hash"]}

    def on_change(self, token: str, fills: list) -> None:
        market = self.world.tokens.get(token, ({}, 0))[0].get("conditionId", "")
        old = self.published.get(token)
        if old is not None:
            new = self._depth(token)
            self.published[token] = new
            changes = [(p, s, "BUY") for p, s in level_diff(old[0], new[0])]
            changes += [(p, s, "SELL") for p, s in level_diff(old[1], new[1])]
            if changes:
                best_bid = max(new[0], default=0.0)
                best_ask = min(new[1], default=1.0)
                h = self.world.book_payload(token)["hash"]
                event = {"market": market, "event_type": "price_change", "timestamp": _ms(), "price_changes": [
                    {"asset_id": token, "price": f"{p:g}", "size": f"{s:g}", "side": side, "hash": h,
                     "best_bid": f"{best_bid:g}", "best_ask": f"{best_ask:g}"} for p, s, side in changes]}
                self.market.publish(token, json.dumps(event))
        for f in fills:
            self.market.publish(token, json.dumps({
                "event_type": "last_trade_price", "asset_id": token, "market": market, "price": f"{f.price:g}",
                "size": f"{f.size:g}", "side": f.taker_side.upper(), "fee_rate_bps": "0", "timestamp": _ms()}))
        with self.user.lock:
            loop = next(iter(self.user.clients)).loop if self.user.clients else None
        if fills and loop is not None:
            # The user channel reports the trade records REST /data/trades shows, which the venue
            # writes once the match is settled: read them after this engine step.
            loop.call_soon_threadsafe(self._user_trades, list(fills))

    def _user_trades(self, fills: list) -> None:
        with self.trading.lock:
            for f in fills:
                rec = next((t for t in reversed(self.trading.trades) if t["taker_order_id"] == f.taker_order
                            and t["maker_orders"][0]["order_id"] == f.maker_order), None)
                if rec is None:
                    continue
                for owner, role in ((rec["owner"], "TAKER"), (rec["maker_orders"][0]["owner"], "MAKER")):
                    self.user.publish(owner, json.dumps({
                        **{k: rec[k] for k in ("id", "taker_order_id", "market", "asset_id", "side", "size", "price",
                                               "owner", "maker_orders", "outcome")},
                        "event_type": "trade", "type": "TRADE", "status": "MATCHED", "trader_side": role,
                        "matchtime": rec["match_time"], "timestamp": _ms()}))

    def drop_all(self) -> int:
        return self.market.drop_all() + self.user.drop_all()

    # --- connections ------------------------------------------------------------------------------

    async def handle_market(self, client: Client, text: str) -> None:
        if text == "PING":
            self.market.send(client, "PONG")
            return
        try:
            msg = json.loads(text)
            assets = [str(a) for a in msg.get("assets_ids") or []]
        except (ValueError, AttributeError):
            return
        if msg.get("operation") == "unsubscribe":
            client.topics.difference_update(assets)
            return
        fresh = [a for a in assets if a in self.world.tokens and a not in client.topics]
        client.topics.update(fresh)
        if fresh:
            self.market.send(client, json.dumps([self.book_event(a) for a in fresh]))

    async def handle_user(self, client: Client, text: str) -> None:
        if text == "PING":
            self.user.send(client, "PONG")
            return
        try:
            auth = json.loads(text).get("auth") or {}
        except (ValueError, AttributeError):
            return
        creds = self.trading.keys.get(auth.get("apiKey", ""))
        if creds is None or creds[1] != auth.get("secret") or creds[2] != auth.get("passphrase"):
            await client.ws.close(1008, "invalid credentials")
            return
        client.topics.add(auth["apiKey"])  # the engine's owner of this key's orders


def install(app) -> dict[str, str]:
    """Serve the feed; nothing to configure beyond its URL (the market channel needs no key)."""
    feed = PolymarketWs(app.state.world)
    app.state.ws_feed = feed

    async def market(ws: WebSocket) -> None:
        await ws.accept()
        await feed.market.serve(ws, feed.handle_market)

    async def user(ws: WebSocket) -> None:
        await ws.accept()
        await feed.user.serve(ws, feed.handle_user)

    app.add_api_websocket_route("/ws/market", market)
    app.add_api_websocket_route("/ws/user", user)
    return {}
