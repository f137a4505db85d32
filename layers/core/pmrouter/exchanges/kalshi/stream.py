"""Kalshi's WebSocket (trade-api ws v2) as a pmrouter feed (docs.kalshi.com websockets).

The handshake is signed like a REST call (RSA-PSS over `timestamp + "GET" + "/trade-api/ws/v2"`)
with a platform key for market data (`PMROUTER_KALSHI_WS_KEY_ID`, `PMROUTER_KALSHI_WS_PRIVATE_KEY`);
Kalshi requires one even for public channels, so without it the venue is polled instead.

Each ticker is its own `orderbook_delta` subscription, so a sequence gap costs one book only: the
venue numbers every message of a subscription (`sid`) with `seq`; a message that is not `last + 1`
means one was lost, the book is marked for a rebuild and the ticker is subscribed afresh (a new
`orderbook_snapshot`). Deltas carry the *signed change* of one level (`delta_fp`), which is applied
to the held level before it is passed on, because a pmrouter delta sets a level's size outright.

Kalshi's book is two lists of bids: YES bids at p and NO bids at q (= YES asks at 1 - q). The Yes
outcome's book is (yes bids, 1 - no bids); the No outcome's is the mirror.

Own fills: a connection per customer, signed with the customer's stored Kalshi key, on the `fill`
channel.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
from typing import Any

import websockets

from ...stream.feeds import Fill, Instrument, SocketFeed, Trade
from . import auth

log = logging.getLogger("pmrouter.stream.kalshi")

DEFAULT_WS_URL = "wss://external-api-ws.kalshi.com/trade-api/ws/v2"
WS_PATH = "/trade-api/ws/v2"


def ws_url() -> str:
    return os.environ.get("PMROUTER_KALSHI_WS_URL", DEFAULT_WS_URL)


def _connect(url: str, key_id: str, key) -> Any:
    return websockets.connect(url, additional_headers=auth.headers(key_id, key, "GET", WS_PATH), max_size=2**24)


def _ms(ts: Any) -> int | None:
    try:
        return int(float(ts) * 1000) if float(ts) < 1e11 else int(ts)
    except (TypeError, ValueError):
        return None


class TickerBook:
    """Kalshi's two bid lists for one ticker, as the venue sends them."""

    def __init__(self) -> None:
        self.yes: dict[float, float] = {}
        self.no: dict[float, float] = {}

    def outcome_book(self, index: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        mine, other = (self.yes, self.no) if index == 0 else (self.no, self.yes)
        return list(mine.items()), [(round(1 - p, 6), s) for p, s in other.items()]


class KalshiFeed(SocketFeed):
    def __init__(self, sink, adapter, url: str, key_id: str, key):
        super().__init__(sink, adapter, url)
        self.key_id, self.key = key_id, key
        self._ids = itertools.count(1)
        self.books: dict[str, TickerBook] = {}
        self.sids: dict[int, str] = {}  # sid -> ticker
        self.by_ticker_sid: dict[str, int] = {}
        self.last_seq: dict[int, int] = {}
        self.pending: dict[int, str] = {}  # command id -> ticker
        self.gaps = 0

    async def open(self):
        self.sids.clear()
        self.by_ticker_sid.clear()
        self.last_seq.clear()
        self.pending.clear()
        return await _connect(self.url, self.key_id, self.key)

    def _insts(self, ticker: str) -> list[Instrument]:
        return [i for i in self.watched.values() if i.market.exchange_market_id == ticker]

    async def subscribe(self, insts: list[Instrument]) -> None:
        for ticker in {i.market.exchange_market_id for i in insts}:
            if ticker in self.by_ticker_sid or ticker in self.pending.values():
                continue
            cid = next(self._ids)
            self.pending[cid] = ticker
            await self.ws.send(json.dumps({"id": cid, "cmd": "subscribe", "params": {
                "channels": ["orderbook_delta", "trade"], "market_tickers": [ticker]}}))

    async def unsubscribe(self, insts: list[Instrument]) -> None:
        for ticker in {i.market.exchange_market_id for i in insts}:
            if self._insts(ticker):
                continue  # the other outcome still reads this ticker
            self.books.pop(ticker, None)
            await self._forget(ticker)

    async def handle(self, raw: str | bytes) -> None:
        frame = json.loads(raw)
        kind, msg = frame.get("type"), frame.get("msg") or {}
        if kind == "subscribed":
            ticker = self.pending.get(frame.get("id"))
            if ticker is not None:
                self.sids[msg["sid"]] = ticker
                if msg.get("channel") == "orderbook_delta":  # the book channel settles the command
                    self.by_ticker_sid[ticker] = msg["sid"]
                    del self.pending[frame["id"]]
            return
        if kind == "error":
            log.info("kalshi ws error: %s", msg)
            return
        sid = frame.get("sid")
        if kind in ("orderbook_snapshot", "orderbook_delta") and not self._in_sequence(sid, frame.get("seq"), kind):
            await self._resubscribe(msg.get("market_ticker") or self.sids.get(sid, ""))
            return
        ticker = msg.get("market_ticker")
        if kind == "orderbook_snapshot":
            book = self.books[ticker] = TickerBook()
            book.yes = {float(p): float(s) for p, s in msg.get("yes_dollars_fp") or []}
            book.no = {float(p): float(s) for p, s in msg.get("no_dollars_fp") or []}
            for inst in self._insts(ticker):
                self.sink.venue_book(inst.key, *book.outcome_book(inst.outcome_index), None)
        elif kind == "orderbook_delta":
            self._delta(ticker, msg)
        elif kind == "trade":
            yes = float(msg["yes_price_dollars"])
            for inst in self._insts(ticker):
                mine = inst.outcome_index == 0
                self.sink.venue_trade(inst.key, Trade(
                    price=yes if mine else round(1 - yes, 6), size=float(msg["count_fp"]),
                    side="buy" if (msg.get("taker_side") == "yes") == mine else "sell", trade_id=msg.get("trade_id"),
                    exchange_ts_ms=_ms(msg.get("ts")), source_channel="kalshi_trade"))

    def _in_sequence(self, sid: Any, seq: Any, kind: str) -> bool:
        if kind == "orderbook_snapshot" or sid not in self.last_seq:
            self.last_seq[sid] = int(seq or 0)
            return True
        expected = self.last_seq[sid] + 1
        if seq != expected:
            self.gaps += 1
            log.info("kalshi seq gap on sid %s: expected %s, got %s", sid, expected, seq)
            return False
        self.last_seq[sid] = seq
        return True

    async def _resubscribe(self, ticker: str) -> None:
        insts = self._insts(ticker)
        self.sink.venue_lost([i.key for i in insts], "kalshi sequence gap")
        await self._forget(ticker)
        await self.subscribe(insts)

    async def _forget(self, ticker: str) -> None:
        """Drop the ticker's venue subscriptions (book and trades) and their sequence state."""
        sids = [sid for sid, t in self.sids.items() if t == ticker]
        for sid in sids:
            self.sids.pop(sid, None)
            self.last_seq.pop(sid, None)
        self.by_ticker_sid.pop(ticker, None)
        if sids:
            await self.ws.send(json.dumps({"id": next(self._ids), "cmd": "unsubscribe", "params": {"sids": sids}}))

    def _delta(self, ticker: str, msg: dict[str, Any]) -> None:
        book = self.books.get(ticker)
        if book is None:
            return
        side, price = msg.get("side"), float(msg["price_dollars"])
        levels = book.yes if side == "yes" else book.no
        size = round(levels.get(price, 0.0) + float(msg["delta_fp"]), 2)
        if size > 0:
            levels[price] = size
        else:
            levels.pop(price, None)
        for inst in self._insts(ticker):
            own = (side == "yes") == (inst.outcome_index == 0)
            change = ("bid", price, size) if own else ("ask", round(1 - price, 6), size)
            self.sink.venue_changes(inst.key, [change], _ms(msg.get("ts_ms")))

    async def watch_user(self, customer_id: str) -> None:
        stored = await asyncio.to_thread(_stored_key, customer_id)
        if stored is not None:
            self.start_side(customer_id, self._user_loop(customer_id, *stored))

    async def _user_loop(self, customer_id: str, key_id: str, key) -> None:
        delay = 0.1
        while not self._closing:
            try:
                async with _connect(self.url, key_id, key) as ws:
                    await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {"channels": ["fill"]}}))
                    delay = 0.1
                    async for raw in ws:
                        frame = json.loads(raw)
                        if frame.get("type") == "fill":
                            self._fill(customer_id, frame.get("msg") or {})
            except Exception as exc:
                log.info("kalshi fill feed dropped: %s", exc)
            await asyncio.sleep(delay)
            delay = min(30.0, delay * 2)

    def _fill(self, customer_id: str, msg: dict[str, Any]) -> None:
        yes = float(msg["yes_price_dollars"])
        for inst in self._insts(msg.get("market_ticker", "")):
            # A fill on one side is the opposite trade on the other outcome's book.
            mine = (msg.get("side", "yes") == "yes") == (inst.outcome_index == 0)
            action = msg.get("action", "buy")
            self.sink.venue_fill(customer_id, inst.key, Fill(
                fill_id=str(msg.get("fill_id") or msg.get("trade_id")),  # as /fills reads Kalshi's fills
                order_id=str(msg.get("order_id", "")), price=yes if inst.outcome_index == 0 else round(1 - yes, 6),
                size=float(msg["count_fp"]), side=action if mine else ("sell" if action == "buy" else "buy"),
                liquidity_role="taker" if msg.get("is_taker") else "maker", exchange_ts_ms=_ms(msg.get("ts")),
                source_channel="kalshi_user_fill"))


def _stored_key(customer_id: str):
    from ...auth import credentials

    stored = credentials.load(customer_id, "kalshi")
    creds = stored.credentials if stored is not None else None
    if creds is None or not creds.api_key_id or not creds.private_key:
        return None
    return creds.api_key_id, auth.load_private_key(creds.private_key)


def _market_data_key() -> tuple[str, str] | None:
    """The platform's Kalshi key for public channels: the environment (local stack), else the
    platform secret (`kalshi_ws_key_id`, `kalshi_ws_private_key`), as deployed."""
    key_id, pem = os.environ.get("PMROUTER_KALSHI_WS_KEY_ID"), os.environ.get("PMROUTER_KALSHI_WS_PRIVATE_KEY")
    if key_id and pem:
        return key_id, pem
    if os.environ.get("PMROUTER_LOAD_PLATFORM_SECRETS") == "1":
        from ...auth.platform_secrets import platform_secrets

        secrets = platform_secrets()
        if secrets.get("kalshi_ws_key_id") and secrets.get("kalshi_ws_private_key"):
            return secrets["kalshi_ws_key_id"], secrets["kalshi_ws_private_key"]
    return None


def create_feed(sink, adapter) -> KalshiFeed | None:
    key = _market_data_key()
    if key is None:
        return None  # no market-data key: the hub polls Kalshi's REST book instead
    return KalshiFeed(sink, adapter, ws_url(), key[0], auth.load_private_key(key[1]))
