"""The Predict.fun adapter against the Predict.fun simulator over real HTTP (loopback)."""
from __future__ import annotations

import asyncio
import dataclasses
import time

import httpx
import pytest

from pmrouter.exchanges.errors import MarketNotFound, VenueAuthError
from pmrouter.exchanges.http import use_transport
from pmrouter.exchanges.predictfun.adapter import create
from pmrouter.exchanges.predictfun.config import PredictFunConfig
from shared.localstack.servers import serve
from shared.sandbox.predictfun import create_app
from shared.sandbox.universe import current_universe

KEY = "sandbox-predict-key"


@pytest.fixture(scope="module")
def world():
    use_transport(None)
    universe = current_universe()
    server = serve(create_app(universe, api_key=KEY), "predictfun")
    settings = PredictFunConfig(url=server.url, api_key=KEY)
    adapter = create(settings)
    markets = asyncio.run(adapter.list_markets())
    yield universe, server, settings, adapter, markets
    server.stop()


def test_catalog_covers_every_listing(world):
    universe, _, _, _, markets = world
    listings = universe.venue_listings("predictfun")
    assert len(markets) == len(listings)
    assert len({m.exchange_market_id for m in markets}) == len(markets)
    assert {m.question for m in markets} == {row.title for row in listings}
    by_question = {m.question: m for m in markets}
    for row in listings:
        m = by_question[row.title]
        assert [o.name for o in m.outcomes] == list(row.outcomes)
        assert m.tick_size == row.tick
        if row.event_key:
            assert m.exchange_group_id == row.event_key
            assert m.group_title == row.question.event_title
            assert m.extra["is_neg_risk"] is True
        expected = {"active": "active", "resolved": "resolved"}.get(row.question.status, "closed")
        assert m.status == expected
        assert all(o.token_id for o in m.outcomes)


def test_books_are_best_first_uncrossed_on_tick(world):
    _, _, _, adapter, markets = world
    for m in [m for m in markets if m.status == "active"][:12]:
        books = [asyncio.run(adapter.get_orderbook(m, o, 50)) for o in m.outcomes]
        for book in books:
            assert book.bids and book.asks
            assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
            assert [p for p, _ in book.asks] == sorted(p for p, _ in book.asks)
            assert book.bids[0][0] < book.asks[0][0]
            assert book.tick_size == 0.01
            for p, s in book.bids + book.asks:
                assert abs(p * 100 - round(p * 100)) < 1e-6 and 0 < p < 1 and s > 0
        yes, no = books
        assert no.bids[0][0] == pytest.approx(1 - yes.asks[0][0])
        assert no.asks[0][0] == pytest.approx(1 - yes.bids[0][0])


def test_trades_newest_first_with_paging(world):
    _, _, _, adapter, markets = world
    m = next(m for m in markets if m.status == "active")
    first = asyncio.run(adapter.get_trades(m, m.outcomes[0], None, None, 150, None))
    assert len(first.trades) == 150 and first.next_cursor
    second = asyncio.run(adapter.get_trades(m, m.outcomes[0], None, None, 150, first.next_cursor))
    assert second.trades
    stamps = [t.timestamp for t in first.trades + second.trades]
    assert stamps == sorted(stamps, reverse=True)
    ids = [t.id for t in first.trades + second.trades]
    assert len(set(ids)) == len(ids)
    assert all(0 < t.price < 1 and t.size > 0 and t.side in ("buy", "sell") for t in first.trades)
    assert all(t.outcome == m.outcomes[0].name for t in first.trades)


def test_trades_window_and_outcome_view(world):
    _, _, _, adapter, markets = world
    m = next(m for m in markets if m.status == "active")
    end = int(time.time()) - 86400
    start = end - 2 * 86400
    page = asyncio.run(adapter.get_trades(m, m.outcomes[1], start, end, 500, None))
    assert page.trades and page.next_cursor is None
    assert all(start <= t.timestamp.timestamp() <= end for t in page.trades)
    yes_view = asyncio.run(adapter.get_trades(m, m.outcomes[0], start, end, 500, None))
    assert [t.id for t in yes_view.trades] == [t.id for t in page.trades]
    for a, b in zip(yes_view.trades, page.trades):
        assert a.price == pytest.approx(1 - b.price) and a.side != b.side


def test_price_history_from_the_timeseries(world):
    _, _, _, adapter, markets = world
    m = next(m for m in markets if m.status == "active")
    end = int(time.time())
    for interval in ("1h", "6h", "1d"):
        candles = asyncio.run(adapter.get_price_history(m, m.outcomes[0], interval, end - 3 * 86400, end))
        assert candles and [c.timestamp for c in candles] == sorted(c.timestamp for c in candles)
        assert all(0 <= c.low <= c.open <= c.high <= 1 and c.low <= c.close <= c.high for c in candles)
    yes = asyncio.run(adapter.get_price_history(m, m.outcomes[0], "1h", end - 86400, end))
    no = asyncio.run(adapter.get_price_history(m, m.outcomes[1], "1h", end - 86400, end))
    assert [round(a.close + b.close, 6) for a, b in zip(yes, no)] == [1.0] * len(yes)


def test_unknown_market_and_bad_key(world):
    _, server, settings, adapter, _ = world
    with pytest.raises(MarketNotFound):
        asyncio.run(adapter.get_market("1"))
    bad = create(dataclasses.replace(settings, api_key="wrong"))
    with pytest.raises(VenueAuthError):
        asyncio.run(bad.get_market("123456"))
    assert httpx.get(server.url + "/v1/markets").status_code == 401
