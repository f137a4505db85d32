"""The Opinion adapter against the Opinion simulator over real HTTP (loopback)."""
from __future__ import annotations

import asyncio
import dataclasses
import time

import httpx
import pytest

from pmrouter.exchanges.base import resolve_outcome
from pmrouter.exchanges.errors import MarketNotFound, VenueAuthError
from pmrouter.exchanges.http import use_transport
from pmrouter.exchanges.opinion.adapter import create
from pmrouter.exchanges.opinion.config import OpinionConfig
from shared.localstack.servers import serve
from shared.sandbox.opinion import create_app
from shared.sandbox.universe import current_universe

KEY = "sandbox-opinion-key"


@pytest.fixture(scope="module")
def world():
    use_transport(None)
    universe = current_universe()
    server = serve(create_app(universe, api_key=KEY), "opinion")
    settings = OpinionConfig(url=server.url, api_key=KEY)
    adapter = create(settings)
    markets = asyncio.run(adapter.list_markets())
    yield universe, server, settings, adapter, markets
    server.stop()


def test_catalog_covers_every_listing(world):
    universe, _, _, _, markets = world
    listings = universe.venue_listings("opinion")
    h2h = [row for row in listings if row.categorical]
    # A head-to-head listing becomes a categorical market with one yes/no child per side.
    assert len(markets) == len(listings) + len(h2h)
    assert len({m.exchange_market_id for m in markets}) == len(markets)
    questions = {m.question for m in markets}
    for row in listings:
        if not row.categorical:
            assert row.title in questions
    for row in h2h:
        children = [m for m in markets if m.group_title == row.title]
        assert sorted(c.question.rsplit(" - ", 1)[1] for c in children) == sorted(row.outcomes)
        assert len({c.exchange_group_id for c in children}) == 1
    legs = [m for m in markets if m.exchange_group_id and m.group_title.endswith("?")]
    assert legs and all(m.market_type == "binary" for m in legs)
    statuses = {m.status for m in markets}
    assert {"active", "resolved", "closed"} <= statuses


def test_books_are_best_first_uncrossed_on_tick(world):
    _, _, _, adapter, markets = world
    active = [m for m in markets if m.status == "active"][:12]
    for m in active:
        for outcome in m.outcomes:
            book = asyncio.run(adapter.get_orderbook(m, outcome, 50))
            assert book.bids and book.asks
            assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
            assert [p for p, _ in book.asks] == sorted(p for p, _ in book.asks)
            assert book.bids[0][0] < book.asks[0][0]
            assert book.tick_size == 0.001 and book.token_id == outcome.token_id
            for p, s in book.bids + book.asks:
                assert abs(p / 0.001 - round(p / 0.001)) < 1e-6 and 0 < p < 1 and s > 0


def test_depth_is_respected(world):
    _, _, _, adapter, markets = world
    m = next(m for m in markets if m.status == "active")
    book = asyncio.run(adapter.get_orderbook(m, m.outcomes[0], 3))
    assert len(book.bids) <= 3 and len(book.asks) <= 3


def test_candles_ascending_within_window(world):
    _, _, _, adapter, markets = world
    m = next(m for m in markets if m.status == "active")
    end = int(time.time())
    start = end - 3 * 86400
    for interval in ("1h", "6h", "1d"):
        candles = asyncio.run(adapter.get_price_history(m, resolve_outcome(m, "yes"), interval, start, end))
        stamps = [c.timestamp.timestamp() for c in candles]
        assert candles and stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        assert all(start - 86400 * 7 <= s <= end for s in stamps)
        assert all(0 < c.low <= c.open <= c.high < 1 and c.low <= c.close <= c.high for c in candles)
    hourly = asyncio.run(adapter.get_price_history(m, m.outcomes[0], "1h", start, end))
    assert 60 <= len(hourly) <= 73


def test_no_public_tape(world):
    _, _, _, adapter, markets = world
    assert adapter.capabilities.fetch_trades is False
    with pytest.raises(NotImplementedError):
        asyncio.run(adapter.get_trades(markets[0], markets[0].outcomes[0], None, None, 10, None))


def test_unknown_market_and_bad_key(world):
    _, _, settings, adapter, _ = world
    with pytest.raises(MarketNotFound):
        asyncio.run(adapter.get_market("1"))
    bad = create(dataclasses.replace(settings, api_key="wrong"))
    with pytest.raises(VenueAuthError):
        asyncio.run(bad.get_market("123456"))


def test_simulator_enforces_limit_and_apikey(world):
    _, server, _, _, _ = world
    over = httpx.get(server.url + "/openapi/market", params={"limit": 21}, headers={"apikey": KEY}).json()
    assert over["errno"] != 0 and "limit" in over["errmsg"]
    anon = httpx.get(server.url + "/openapi/market").json()
    assert anon["errno"] != 0
    page = httpx.get(server.url + "/openapi/market", params={"limit": 20, "marketType": 2},
                     headers={"apikey": KEY}).json()
    assert page["errno"] == 0 and len(page["result"]["list"]) == 20 and page["result"]["total"] > 20
