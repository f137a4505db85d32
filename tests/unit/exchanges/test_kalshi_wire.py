"""Kalshi adapter against bodies recorded from the live venue (tests/fixtures/venues/kalshi, each naming
its source; fixed-point 2026 shapes: `*_dollars` prices, `*_fp` counts, `orderbook_fp`). Where no live
body was recorded (an event, a traded candle, errors) the fixture is the official kalshi-python-sync
model filled with realistic values. The market the book, candles and trades were recorded on
(KXELONMARS-99) is served as a copy of a recorded market with its ticker changed."""
from __future__ import annotations

import asyncio

import httpx
import pytest

from pmrouter.exchanges.errors import MarketNotFound, VenueRateLimited
from pmrouter.exchanges.http import use_transport
from pmrouter.exchanges.kalshi.adapter import KalshiAdapter
from pmrouter.exchanges.kalshi.config import KalshiConfig
from tests.fixtures.venues import load

BASE = "https://kalshi.test/trade-api/v2"
MVE = "KXMVECROSSCATEGORY0-S20264DD30BF0797-250476EBDF3"
ELON = "KXELONMARS-99"


def _elon() -> dict:
    m = load("kalshi", "markets")["markets"][0]
    m.update(ticker=ELON, event_ticker=ELON, title="Will Elon Musk visit Mars before 2099?",
             yes_bid_dollars="0.1000", yes_ask_dollars="0.1200", last_price_dollars="0.1000")
    return m


def handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path.removeprefix("/trade-api/v2")
    q = request.url.params
    if path == "/markets":
        body = load("kalshi", "markets")
        if q.get("cursor"):
            body = {"markets": [_elon()], "cursor": ""}
        return httpx.Response(200, json=body)
    if path == "/events":
        ev = load("kalshi", "event")["event"]
        return httpx.Response(200, json={"events": [ev], "cursor": ""})
    if path == f"/markets/{ELON}":
        return httpx.Response(200, json={"market": _elon()})
    if path == f"/events/{ELON}":
        return httpx.Response(200, json=load("kalshi", "event"))
    if path == f"/markets/{ELON}/orderbook":
        return httpx.Response(200, json=load("kalshi", "orderbook"))
    if path == f"/series/KXELONMARS/markets/{ELON}/candlesticks":
        assert q["period_interval"] == "60"
        body = load("kalshi", "candlesticks_quotes")
        body["candlesticks"] += load("kalshi", "candlesticks_traded")["candlesticks"]
        return httpx.Response(200, json=body)
    if path == "/markets/trades":
        assert q["ticker"] == ELON
        return httpx.Response(200, json=load("kalshi", "trades"))
    if path == "/markets/SLOW":
        return httpx.Response(429, json=load("kalshi", "error_429"))
    return httpx.Response(404, json=load("kalshi", "error_404"))


@pytest.fixture()
def adapter():
    use_transport(httpx.MockTransport(handler))
    a = KalshiAdapter(KalshiConfig(url=BASE))
    a.http.backoff_base = 0.001
    yield a
    use_transport(None)


def test_catalog_pages_and_fixed_point(adapter):
    markets = asyncio.run(adapter.list_markets())
    assert [m.exchange_market_id for m in markets] == [MVE, "KXMVECROSSCATEGORY-S202635B8B659091-5122119F87F", ELON]
    m = markets[0]
    assert m.exchange_group_id == "KXMVECROSSCATEGORY0-S20264DD30BF0797" and m.question == "yes Indianapolis,yes New York J"
    assert (m.best_bid, m.best_ask, m.volume_total) == (0.0, 0.0, 0.0) and m.status == "active"
    assert m.outcomes[0].token_id is None
    # center_deci_edge_centi_cent: 0.0001 steps at the edges, 0.001 in the middle.
    assert adapter.tick_at(m, 0.005) == 0.0001 and adapter.tick_at(m, 0.5) == 0.001
    elon = markets[2]
    assert elon.group_title == "Will Elon Musk visit Mars?" and (elon.best_bid, elon.best_ask) == (0.1, 0.12)


def test_bids_only_book_becomes_best_first_both_sides(adapter):
    """Live: YES bids up to 0.10 and NO bids up to 0.88, both ascending; a NO bid at q is a YES ask at 1 - q."""
    m = asyncio.run(adapter.get_market(ELON))
    yes = asyncio.run(adapter.get_orderbook(m, m.outcomes[0], 2))
    assert yes.bids == [(0.1, 79.35), (0.09, 735.07)]
    assert yes.asks == [(0.12, 265.22), (0.13, 1799.44)]
    no = asyncio.run(adapter.get_orderbook(m, m.outcomes[1], 2))
    assert no.bids == [(0.88, 265.22), (0.87, 1799.44)] and no.asks == [(0.9, 79.35), (0.91, 735.07)]


def test_candles_start_of_period_and_quote_fallback(adapter):
    """Quiet hours (live) carry no trade prices: the candle is the bid/ask midpoint (0.11); the traded hour
    uses its price OHLC. end_period_ts is the end of the hour: candles are stamped with its start."""
    m = asyncio.run(adapter.get_market(ELON))
    candles = asyncio.run(adapter.get_price_history(m, m.outcomes[0], "1h", 1789380000, 1789480000))
    assert [int(c.timestamp.timestamp()) for c in candles] == [1789383600, 1789408800, 1789426800, 1789470000]
    assert all(c.close == pytest.approx(0.11) and c.volume == 0.0 for c in candles[:3])
    last = candles[-1]
    assert (last.open, last.high, last.low, last.close, last.volume) == (0.1, 0.11, 0.09, 0.11, 30.0)
    no = asyncio.run(adapter.get_price_history(m, m.outcomes[1], "1h", 1789380000, 1789480000))
    assert (no[-1].high, no[-1].low) == (pytest.approx(0.91), pytest.approx(0.89))


def test_trades_sides_and_prices(adapter):
    """Live trades: takers bought NO at 0.90 (hitting YES bids at 0.10)."""
    m = asyncio.run(adapter.get_market(ELON))
    page = asyncio.run(adapter.get_trades(m, m.outcomes[1], None, None, 50, None))
    assert [t.size for t in page.trades] == [30.3, 17.7, 20.0]
    assert page.next_cursor == "EhIKEAciAj7fCYm6sCnnf8yAqToaCwjDo57VBhC4yIY-"
    assert {(t.price, t.side) for t in page.trades} == {(0.9, "buy")}
    yes = asyncio.run(adapter.get_trades(m, m.outcomes[0], None, None, 50, None))
    assert {(t.price, t.side, t.yes_price) for t in yes.trades} == {(0.1, "sell", 0.1)}


def test_errors(adapter):
    with pytest.raises(MarketNotFound) as exc:
        asyncio.run(adapter.get_market("NOPE"))
    assert "market not found" in str(exc.value)
    with pytest.raises(VenueRateLimited):
        asyncio.run(adapter.get_market("SLOW"))
