"""Polymarket adapter against the three sandbox hosts."""
from __future__ import annotations

import asyncio
import time

import pytest

from pmrouter.exchanges.errors import MarketNotFound
from pmrouter.exchanges.polymarket.adapter import PolymarketAdapter
from pmrouter.exchanges.polymarket.config import PolymarketConfig
from shared.localstack.servers import serve
from shared.sandbox import polymarket
from shared.sandbox.universe import current_universe


@pytest.fixture(scope="module")
def env():
    u = current_universe()
    servers = [serve(polymarket.create_gamma_app(u), "gamma"), serve(polymarket.create_clob_app(u), "clob"),
               serve(polymarket.create_data_app(u), "data")]
    s = PolymarketConfig(gamma_url=servers[0].url, clob_url=servers[1].url, data_url=servers[2].url)
    yield PolymarketAdapter(s), u
    for srv in servers:
        srv.stop()


def test_catalog_lists_open_markets(env):
    a, u = env
    markets = asyncio.run(a.list_markets())
    open_listings = [x for x in u.venue_listings("polymarket") if x.question.status == "active"]
    assert len(markets) == len(open_listings)
    assert any(m.market_type == "categorical" for m in markets) and any(m.extra["neg_risk"] for m in markets)


def test_books_prices_trades(env):
    a, _ = env
    m = next(m for m in asyncio.run(a.list_markets()) if m.market_type == "binary")
    for o in m.outcomes:
        book = asyncio.run(a.get_orderbook(m, o, 5))
        assert book.bids[0][0] < book.asks[0][0]
        assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
    end = int(time.time())
    candles = asyncio.run(a.get_price_history(m, m.outcomes[0], "6h", end - 5 * 86400, end))
    assert candles and all(0 < c.close < 1 for c in candles)
    page = asyncio.run(a.get_trades(m, m.outcomes[0], None, None, 10, None))
    assert len(page.trades) == 10 and page.next_cursor
    assert asyncio.run(a.get_market(m.condition_id)).exchange_market_id == m.exchange_market_id
    with pytest.raises(MarketNotFound):
        asyncio.run(a.get_market("999999999"))
