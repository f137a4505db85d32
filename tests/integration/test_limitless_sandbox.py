"""Limitless adapter against the sandbox venue."""
from __future__ import annotations

import asyncio
import time

import pytest

from pmrouter.exchanges.errors import MarketNotFound
from pmrouter.exchanges.limitless.adapter import LimitlessAdapter
from pmrouter.exchanges.limitless.config import LimitlessConfig
from shared.localstack.servers import serve
from shared.sandbox.limitless import create_app
from shared.sandbox.universe import current_universe


@pytest.fixture(scope="module")
def adapter():
    universe = current_universe()
    server = serve(create_app(universe), "limitless")
    yield LimitlessAdapter(LimitlessConfig(url=server.url)), universe
    server.stop()


def test_catalog_covers_every_listing(adapter):
    a, universe = adapter
    markets = asyncio.run(a.list_markets())
    listings = universe.venue_listings("limitless")
    games = sum(1 for lst in listings if lst.categorical)
    assert len(markets) == len(listings) + games  # a game is a group of one market per side
    assert len({m.exchange_market_id for m in markets}) == len(markets)
    assert any(m.exchange_group_id for m in markets)


def test_books_best_first_on_tick(adapter):
    a, _ = adapter
    m = next(m for m in asyncio.run(a.list_markets()) if m.status == "active")
    for outcome in m.outcomes:
        book = asyncio.run(a.get_orderbook(m, outcome, 5))
        assert book.bids and book.asks and len(book.bids) <= 5
        assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
        assert [p for p, _ in book.asks] == sorted(p for p, _ in book.asks)
        assert book.bids[0][0] < book.asks[0][0]
        for p, _ in book.bids + book.asks:
            assert abs(p * 1000 - round(p * 1000)) < 1e-6


def test_history_and_unknown_market(adapter):
    a, _ = adapter
    m = asyncio.run(a.list_markets())[0]
    end = int(time.time())
    candles = asyncio.run(a.get_price_history(m, m.outcomes[0], "1h", end - 86400, end))
    assert candles and [c.timestamp for c in candles] == sorted(c.timestamp for c in candles)
    with pytest.raises(MarketNotFound):
        asyncio.run(a.get_market("no-such-market-0000"))


def test_trades_from_the_events_feed(adapter):
    a, _ = adapter
    m = next(m for m in asyncio.run(a.list_markets()) if m.status == "active" and not m.exchange_group_id)
    page = asyncio.run(a.get_trades(m, m.outcomes[0], None, None, 30, None))
    assert len(page.trades) == 30 and page.next_cursor
    stamps = [t.timestamp for t in page.trades]
    assert stamps == sorted(stamps, reverse=True)
    assert all(0 < t.price < 1 and t.size > 0 and t.outcome == "Yes" for t in page.trades)
    more = asyncio.run(a.get_trades(m, m.outcomes[0], None, None, 30, page.next_cursor))
    assert more.trades and more.trades[0].timestamp <= stamps[-1]
    assert {t.id for t in more.trades}.isdisjoint(t.id for t in page.trades)
