"""Faults between pmrouter and a venue feed, seen through the official SDK's `client.ws()`:
the venue drops the connection, skips a sequence number, or goes silent. In each case the client
must be told (`resync_required`, `book_state`), and its book must end up equal to REST again."""
from __future__ import annotations

import asyncio
import time

import pytest

from tests.contract.test_sdk_ws import _agree, _connect, _free_price, _market, _run


def _hub():
    from pmrouter.stream import asgi

    return asgi.get_hub()


def _venue_ws(stack, name: str):
    return stack.apps[name].state.ws_feed


async def _rest_order(sdk, exchange: str, m):
    """A resting buy joining the best bid (above every venue's minimum size)."""
    price = _free_price(sdk, m.parsec_id)
    order = await asyncio.to_thread(sdk.orders.create, exchange=exchange, market_id=m.exchange_market_id,
                                    outcome="yes", side="buy", price=price, size=6)
    return order


@pytest.mark.parametrize("exchange,sandbox", [("kalshi", "kalshi"), ("polymarket", "polymarket-clob"),
                                              ("limitless", "limitless"), ("opinion", "opinion"),
                                              ("predictfun", "predictfun")])
def test_venue_drop_reconnects_and_asks_clients_to_resync(stack, sdk, exchange, sandbox):
    m = _market(sdk, exchange)

    async def go():
        rec = await _connect(sdk, m.parsec_id)
        try:
            feed = _hub().feeds[exchange]
            before = feed.connects
            assert _venue_ws(stack, sandbox).drop_all() >= 1
            await rec.wait(lambda: rec.of("resync_required", parsec_id=m.parsec_id))
            snaps = await rec.wait(lambda: rec.of("orderbook", parsec_id=m.parsec_id)[1:])
            assert snaps[0]["server_seq"] > 1
            await rec.wait(lambda: feed.connects > before and feed.feed_state == "healthy")
            order = await _rest_order(sdk, exchange, m)
            await _agree(rec, sdk, m.parsec_id)  # the reconnected feed carries new changes
            await asyncio.to_thread(sdk.orders.cancel, order.id, exchange=exchange)
            await _agree(rec, sdk, m.parsec_id)
            rec.check()
        finally:
            await rec.ws.close()

    _run(go())


def test_venue_sequence_gap_rebuilds_the_book(stack, sdk):
    m = _market(sdk, "kalshi")

    async def go():
        rec = await _connect(sdk, m.parsec_id)
        try:
            feed = _hub().feeds["kalshi"]
            gaps = feed.gaps
            _venue_ws(stack, "kalshi").gap()  # the next delta arrives with seq + 2: one was "lost"
            order = await _rest_order(sdk, "kalshi", m)
            await rec.wait(lambda: feed.gaps > gaps)
            await rec.wait(lambda: rec.of("resync_required", parsec_id=m.parsec_id))
            await _agree(rec, sdk, m.parsec_id)
            await asyncio.to_thread(sdk.orders.cancel, order.id, exchange="kalshi")
            await _agree(rec, sdk, m.parsec_id)
            rec.check()
        finally:
            await rec.ws.close()

    _run(go())


def test_silent_venue_turns_the_book_stale_and_rereads_rest(stack, sdk):
    m = _market(sdk, "polymarket")
    venue = _venue_ws(stack, "polymarket-clob")

    async def go():
        rec = await _connect(sdk, m.parsec_id)
        try:
            hub = _hub()
            book = hub.books[(m.parsec_id, "yes")]
            refreshes = hub.rest_refreshes
            venue.market.silent = True
            book.stale_after_ms = 600
            stale = await rec.wait(lambda: rec.of("orderbook_delta", parsec_id=m.parsec_id, book_state="stale"))
            assert stale[0]["changes"] == [] and stale[0]["stale_after_ms"] == 600
            await rec.wait(lambda: hub.rest_refreshes > refreshes)
            # REST keeps the book true while the stream is quiet: an order still shows up.
            order = await _rest_order(sdk, "polymarket", m)
            await _agree(rec, sdk, m.parsec_id)
            await asyncio.to_thread(sdk.orders.cancel, order.id, exchange="polymarket")
            rec.check()
        finally:
            venue.market.silent = False
            book.stale_after_ms = hub.stale_after_ms
            await rec.ws.close()

    started = time.monotonic()
    _run(go())
    assert time.monotonic() - started < 30
