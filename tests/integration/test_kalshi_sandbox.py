"""Kalshi adapter against the sandbox venue."""
from __future__ import annotations

import asyncio
import time

import pytest

from pmrouter.exchanges.errors import MarketNotFound
from pmrouter.exchanges.kalshi.adapter import KalshiAdapter
from pmrouter.exchanges.kalshi.config import KalshiConfig
from shared.localstack.servers import serve
from shared.sandbox.kalshi import create_app
from shared.sandbox.universe import current_universe


@pytest.fixture(scope="module")
def env():
    universe = current_universe()
    server = serve(create_app(universe), "kalshi")
    yield KalshiAdapter(KalshiConfig(url=server.url + "/trade-api/v2")), universe
    server.stop()


def test_catalog(env):
    a, universe = env
    markets = asyncio.run(a.list_markets())
    assert len(markets) == len(universe.venue_listings("kalshi"))
    assert all(m.exchange_group_id and m.group_title for m in markets)
    assert {m.status for m in markets} >= {"active"}


def test_book_candles_trades(env):
    a, _ = env
    m = next(m for m in asyncio.run(a.list_markets()) if m.status == "active")
    book = asyncio.run(a.get_orderbook(m, m.outcomes[0], 5))
    assert book.bids[0][0] < book.asks[0][0] and len(book.bids) <= 5
    assert [p for p, _ in book.asks] == sorted(p for p, _ in book.asks)
    end = int(time.time())
    for interval in ("1h", "6h", "1d"):
        candles = asyncio.run(a.get_price_history(m, m.outcomes[0], interval, end - 10 * 86400, end))
        stamps = [c.timestamp for c in candles]
        assert candles and stamps == sorted(stamps)
    first = asyncio.run(a.get_trades(m, m.outcomes[0], None, None, 10, None))
    assert len(first.trades) == 10 and first.next_cursor
    second = asyncio.run(a.get_trades(m, m.outcomes[0], None, None, 10, first.next_cursor))
    assert second.trades[0].timestamp <= first.trades[-1].timestamp
    with pytest.raises(MarketNotFound):
        asyncio.run(a.get_market("KXNOPE-26DEC31-T1"))
