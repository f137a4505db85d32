"""Sandbox Kalshi WebSocket (`/trade-api/ws/v2`), driven by the matching engine.

As documented (docs.kalshi.com websockets; reference/exchange-protocols.md §8): the handshake
carries `KALSHI-ACCESS-KEY`, `-TIMESTAMP` and `-SIGNATURE` (RSA-PSS over `timestamp + "GET" +
"/trade-api/ws/v2"`), checked like REST. Commands are `{"id", "cmd": "subscribe", "params":
{"channels": [...], "market_tickers": [...]}}` and `unsubscribe` by `sids`. `orderbook_delta`
subscriptions get an `orderbook_snapshot` (`yes_dollars_fp`/`no_dollars_fp`: each side's bids,
`[price, count]` strings) and then `orderbook_delta`s whose `delta_fp` is the signed change of one
level; each subscription (`sid`) numbers its messages with `seq`. `trade` is the public tape, `fill`
the key owner's own fills.

Fault for the tests: `gap()` makes the next delta skip a `seq`, as a lost message would.
"""
from __future__ import annotations

import base64
import itertools
import json
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi import WebSocket

from .base_ws import Client, WsClients, level_diff

PATH = "/trade-api/ws/v2"
SKEW_MS = 30_000
ONE = Decimal(1)


def _d(x: float) -> str:
    return f"{x:.4f}"


def _fp(x: float) -> str:
    return f"{x:.2f}"


class KalshiWs:
    def __init__(self, world) -> None:
        self.world = world
        self.portfolio = world.portfolio
        self.clients = WsClients()
        self.published: dict[str, tuple[dict[float, float], dict[float, float]]] = {}
        self._sids = itertools.count(1)
        self._skip = 0
        self.portfolio.engine.listeners.append(self.on_change)

    def gap(self, n: int = 1) -> None:
        self._skip += n

    def drop_all(self) -> int:
        return self.clients.drop_all()

    # --- engine side ------------------------------------------------------------------------------

    def _levels(self, ticker: str) -> tuple[dict[float, float], dict[float, float]]:
        live = self.portfolio.depth(ticker)
        yes, no = live if live is not None else self.world.levels(ticker)
        return ({float(p): float(q) for p, q in yes}, {float(p): float(q) for p, q in no})

    def _send(self, client: Client, channel: str, ticker: str, kind: str, msg: dict[str, Any]) -> None:
        sid = client.info["subs"].get((channel, ticker))
        if sid is None:
            return
        seq = client.info["seq"][sid] = client.info["seq"].get(sid, 0) + 1 + (self._skip if kind == "orderbook_delta" else 0)
        frame = {"type": kind, "sid": sid, "seq": seq, "msg": msg}
        self.clients.send(client, json.dumps(frame))

    def _targets(self, topic: Any) -> list[Client]:
        with self.clients.lock:
            return [c for c in self.clients.clients if topic in c.topics]

    def on_change(self, ticker: str, fills: list) -> None:
        old = self.published.get(ticker)
        if old is not None:
            new = self._levels(ticker)
            self.published[ticker] = new
            now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
            for side, o, n in (("yes", old[0], new[0]), ("no", old[1], new[1])):
                for price, size in level_diff(o, n):
                    delta = size - o.get(price, 0.0)
                    msg = {"market_ticker": ticker, "price_dollars": _d(price), "delta_fp": _fp(delta), "side": side,
                           "ts": now}
                    for c in self._targets(("orderbook_delta", ticker)):
                        self._send(c, "orderbook_delta", ticker, "orderbook_delta", msg)
                    self._skip = 0
        for f in fills:
            ts = int(f.ts)
            yes = float(f.price)
            trade = {"trade_id": f.id, "market_ticker": ticker, "yes_price_dollars": _d(yes),
                     "no_price_dollars": _d(1 - yes), "count_fp": _fp(float(f.size)),
                     "taker_side": "yes" if f.taker_side == "buy" else "no", "ts": ts}
            for c in self._targets(("trade", ticker)):
                self._send(c, "trade", ticker, "trade", trade)
            # The engine's book is in YES terms: its buy is "buy yes", its sell is "sell yes".
            for owner, oid, is_taker, side in ((f.taker_owner, f.taker_order, True, f.taker_side),
                                               (f.maker_owner, f.maker_order, False,
                                                "sell" if f.taker_side == "buy" else "buy")):
                fill = {"fill_id": f"{f.id}-{'t' if is_taker else 'm'}",  # as its REST /portfolio/fills
                        "trade_id": f.id, "order_id": oid, "market_ticker": ticker, "is_taker": is_taker,
                        "side": "yes", "purchased_side": "yes", "action": side, "yes_price_dollars": _d(yes),
                        "no_price_dollars": _d(1 - yes), "count_fp": _fp(float(f.size)), "ts": ts}
                for c in self._targets(("fill", owner)):
                    self._send(c, "fill", owner, "fill", fill)

    # --- connections ------------------------------------------------------------------------------

    def authenticate(self, ws: WebSocket) -> str | None:
        key_id = ws.headers.get("KALSHI-ACCESS-KEY", "")
        stamp = ws.headers.get("KALSHI-ACCESS-TIMESTAMP", "")
        signature = ws.headers.get("KALSHI-ACCESS-SIGNATURE", "")
        known = self.portfolio.keys.get(key_id)
        if known is None or not stamp.isdigit() or abs(int(stamp) - time.time() * 1000) > SKEW_MS:
            return None
        try:
            known[0].verify(base64.b64decode(signature), f"{stamp}GET{PATH}".encode(),
                            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
                            hashes.SHA256())
        except (InvalidSignature, ValueError):
            return None
        return known[1]

    async def handle(self, client: Client, text: str) -> None:
        try:
            cmd = json.loads(text)
            params = cmd.get("params") or {}
        except (ValueError, AttributeError):
            self.clients.send(client, json.dumps({"type": "error", "msg": {"code": 1, "msg": "Unable to process message"}}))
            return
        if cmd.get("cmd") == "unsubscribe":
            for sid in params.get("sids") or []:
                for key, s in list(client.info["subs"].items()):
                    if s == sid:
                        del client.info["subs"][key]
                        client.topics.discard(key)
                self.clients.send(client, json.dumps({"id": cmd.get("id"), "type": "unsubscribed", "sid": sid}))
            return
        if cmd.get("cmd") != "subscribe":
            return
        for channel in params.get("channels") or []:
            keys = [client.info["user"]] if channel == "fill" else list(params.get("market_tickers") or [])
            for key in keys:
                if channel != "fill" and key not in self.world.markets:
                    self.clients.send(client, json.dumps({"id": cmd.get("id"), "type": "error",
                                                          "msg": {"code": 8, "msg": "Unknown market ticker"}}))
                    continue
                sid = next(self._sids)
                client.info["subs"][(channel, key)] = sid
                self.clients.send(client, json.dumps({"id": cmd.get("id"), "type": "subscribed",
                                                      "msg": {"channel": channel, "sid": sid}}))
                if channel == "orderbook_delta":
                    with self.portfolio.lock:
                        yes, no = self.published[key] = self._levels(key)
                        client.topics.add((channel, key))
                        self._send(client, channel, key, "orderbook_snapshot", {
                            "market_ticker": key, "market_id": str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
                            "yes_dollars_fp": [[_d(p), _fp(q)] for p, q in sorted(yes.items())],
                            "no_dollars_fp": [[_d(p), _fp(q)] for p, q in sorted(no.items())]})
                else:
                    client.topics.add((channel, key))


def install(app) -> dict[str, str]:
    """Serve the feed and register a platform market-data key with it; returns the environment the
    pmrouter Kalshi feed reads (key id and PEM), as an operator would configure them."""
    feed = KalshiWs(app.state.world)
    app.state.ws_feed = feed

    async def endpoint(ws: WebSocket) -> None:
        user = feed.authenticate(ws)
        if user is None:
            await ws.close(1008)  # before accept: the handshake is refused (HTTP 403)
            return
        await ws.accept()
        await feed.clients.serve(ws, feed.handle, {"user": user, "subs": {}, "seq": {}})

    app.add_api_websocket_route(PATH, endpoint)
    key_id, pem = register_new_key(app.state.world)
    return {"PMROUTER_KALSHI_WS_KEY_ID": key_id, "PMROUTER_KALSHI_WS_PRIVATE_KEY": pem}


def register_new_key(world) -> tuple[str, str]:
    """A fresh RSA key registered with the sandbox Kalshi (as a user does on kalshi.com):
    (key id, private key PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    key_id = str(uuid.uuid4())
    world.register_key(key_id, public)
    return key_id, pem
