"""Venue feed parsing against the venues' documented frames, with a recording sink: Kalshi's
signed deltas become absolute levels on both outcome books, a `seq` gap is a loss and a fresh
subscription; Polymarket's `price_change` passes new sizes through and a differing `book` counts."""
from __future__ import annotations

import asyncio
import json

from pmrouter.exchanges.base import VenueMarket, VenueOutcome
from pmrouter.exchanges.kalshi.stream import KalshiFeed
from pmrouter.exchanges.polymarket.stream import PolymarketFeed
from pmrouter.stream.book import BookId, LiveBook
from pmrouter.stream.feeds import Instrument


class Sink:
    def __init__(self):
        self.calls = []
        self.books = {}

    def __getattr__(self, name):
        return lambda *a: self.calls.append((name, *a))


class Socket:
    def __init__(self):
        self.sent = []

    async def send(self, text):
        self.sent.append(json.loads(text))


def _inst(exchange, market_id, outcomes, index):
    market = VenueMarket(exchange, market_id, "q", [VenueOutcome(n, t) for n, t in outcomes], "active", "binary")
    o = market.outcomes[index]
    return Instrument(BookId(market.parsec_id, exchange, o.name, o.token_id or market_id, market_id), market, o, index)


def test_kalshi_signed_deltas_and_sequence_gap():
    sink = Sink()
    feed = KalshiFeed(sink, type("A", (), {"id": "kalshi"})(), "wss://x", "kid", None)
    feed.ws = Socket()
    yes = _inst("kalshi", "T", [("Yes", None), ("No", None)], 0)
    no = _inst("kalshi", "T", [("Yes", None), ("No", None)], 1)
    feed.watched = {yes.key: yes, no.key: no}

    async def go():
        await feed.subscribe([yes, no])
        cid = feed.ws.sent[0]["id"]
        await feed.handle(json.dumps({"id": cid, "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": 7}}))
        await feed.handle(json.dumps({"type": "orderbook_snapshot", "sid": 7, "seq": 1, "msg": {
            "market_ticker": "T", "yes_dollars_fp": [["0.4000", "10.00"]], "no_dollars_fp": [["0.5500", "3.00"]]}}))
        await feed.handle(json.dumps({"type": "orderbook_delta", "sid": 7, "seq": 2, "msg": {
            "market_ticker": "T", "price_dollars": "0.4000", "delta_fp": "-4.00", "side": "yes"}}))
        await feed.handle(json.dumps({"type": "orderbook_delta", "sid": 7, "seq": 4, "msg": {
            "market_ticker": "T", "price_dollars": "0.5500", "delta_fp": "-3.00", "side": "no"}}))

    asyncio.run(go())
    books = [c for c in sink.calls if c[0] == "venue_book"]
    assert books[0][1:4] == (yes.key, [(0.4, 10.0)], [(0.45, 3.0)])
    assert books[1][1:4] == (no.key, [(0.55, 3.0)], [(0.6, 10.0)])
    changes = [c for c in sink.calls if c[0] == "venue_changes"]
    assert changes == [("venue_changes", yes.key, [("bid", 0.4, 6.0)], None),
                       ("venue_changes", no.key, [("ask", 0.6, 6.0)], None)]  # the signed change applied
    lost = [c for c in sink.calls if c[0] == "venue_lost"]
    assert lost and set(lost[0][1]) == {yes.key, no.key} and feed.gaps == 1
    assert feed.ws.sent[-2] == {"id": feed.ws.sent[-2]["id"], "cmd": "unsubscribe", "params": {"sids": [7]}}
    assert feed.ws.sent[-1]["cmd"] == "subscribe" and feed.ws.sent[-1]["params"]["market_tickers"] == ["T"]


def test_polymarket_price_change_and_book_mismatch():
    sink = Sink()
    feed = PolymarketFeed(sink, type("A", (), {"id": "polymarket"})(), "wss://x")
    inst = _inst("polymarket", "1", [("Yes", "111"), ("No", "222")], 0)
    feed.watched = {inst.key: inst}
    feed.by_asset = {"111": inst}
    book = LiveBook(inst.book, 1000)
    book.replace([(0.5, 10)], [(0.52, 5)])
    book.state = "fresh"
    sink.books[inst.key] = book

    async def go():
        await feed.handle(json.dumps({"event_type": "price_change", "market": "0x", "timestamp": "1700000000000",
                                      "price_changes": [{"asset_id": "111", "price": "0.5", "size": "0", "side": "BUY"},
                                                        {"asset_id": "999", "price": "0.1", "size": "1", "side": "BUY"}]}))
        await feed.handle(json.dumps([{"event_type": "book", "asset_id": "111", "market": "0x", "timestamp": "1",
                                       "bids": [{"price": "0.5", "size": "10"}], "asks": [{"price": "0.52", "size": "5"}]}]))
        await feed.handle(json.dumps({"event_type": "book", "asset_id": "111", "market": "0x", "timestamp": "2",
                                      "bids": [{"price": "0.49", "size": "1"}], "asks": [{"price": "0.52", "size": "5"}]}))

    asyncio.run(go())
    assert sink.calls[0] == ("venue_changes", inst.key, [("bid", 0.5, 0.0)], 1700000000000)
    assert [c[0] for c in sink.calls] == ["venue_changes", "venue_book", "venue_book"]
    assert feed.mismatches == 1  # the first book agreed with ours, the second did not
