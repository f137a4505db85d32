"""Kalshi adapter against payloads in the venue's documented (fixed-point, 2026) shapes."""
from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest

from pmrouter.exchanges.errors import MarketNotFound, VenueRateLimited
from pmrouter.exchanges.http import use_transport
from pmrouter.exchanges.kalshi.adapter import KalshiAdapter
from pmrouter.settings import Settings

BASE = "https://kalshi.test/trade-api/v2"


def _m(ticker: str, event: str) -> dict:
    return {"ticker": ticker, "event_ticker": event, "title": f"{ticker}?", "status": "active",
            "yes_bid_dollars": "0.4200", "yes_ask_dollars": "0.4500", "last_price_dollars": "0.4300",
            "volume_fp": "1200.00", "volume_24h_fp": "50.00", "open_interest_fp": "300.00",
            "close_time": "2026-12-31T23:59:00Z", "price_level_structure": "tapered_deci_cent",
            "price_ranges": [{"start": "0.0000", "end": "0.1000", "step": "0.0010"},
                             {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
                             {"start": "0.9000", "end": "1.0000", "step": "0.0010"}]}


def handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path.removeprefix("/trade-api/v2")
    q = request.url.params
    if path == "/markets":
        if not q.get("cursor"):
            return httpx.Response(200, json={"markets": [_m("KXA-26DEC31-T1", "KXA-26DEC31")], "cursor": "page2"})
        return httpx.Response(200, json={"markets": [_m("KXA-26DEC31-T2", "KXA-26DEC31")], "cursor": ""})
    if path == "/events":
        return httpx.Response(200, json={"events": [{"event_ticker": "KXA-26DEC31", "series_ticker": "KXA",
                                                     "title": "A on Dec 31"}], "cursor": ""})
    if path == "/markets/KXA-26DEC31-T1/orderbook":
        return httpx.Response(200, json={"orderbook_fp": {
            "yes_dollars": [["0.4000", "20.00"], ["0.4200", "13.00"]],
            "no_dollars": [["0.5300", "7.00"], ["0.5500", "5.00"]]}})
    if path == "/series/KXA/markets/KXA-26DEC31-T1/candlesticks":
        assert q["period_interval"] == "60"
        return httpx.Response(200, json={"ticker": "KXA-26DEC31-T1", "candlesticks": [
            {"end_period_ts": 1_700_003_600, "price": {"open_dollars": "0.4000", "high_dollars": "0.4500",
                                                        "low_dollars": "0.3900", "close_dollars": "0.4400"},
             "yes_bid": {}, "yes_ask": {}, "volume_fp": "12.00", "open_interest_fp": "100.00"},
            {"end_period_ts": 1_700_007_200, "price": {"open_dollars": None, "high_dollars": None,
                                                        "low_dollars": None, "close_dollars": None},
             "yes_bid": {"open_dollars": "0.4300", "high_dollars": "0.4300", "low_dollars": "0.4300", "close_dollars": "0.4300"},
             "yes_ask": {"open_dollars": "0.4500", "high_dollars": "0.4500", "low_dollars": "0.4500", "close_dollars": "0.4500"},
             "volume_fp": "0.00", "open_interest_fp": "100.00"}]})
    if path == "/markets/trades":
        return httpx.Response(200, json={"trades": [
            {"trade_id": "t2", "ticker": "KXA-26DEC31-T1", "count_fp": "3.00", "yes_price_dollars": "0.4400",
             "no_price_dollars": "0.5600", "taker_outcome_side": "no", "taker_book_side": "ask",
             "created_time": "2026-11-20T10:00:05Z"},
            {"trade_id": "t1", "ticker": "KXA-26DEC31-T1", "count_fp": "1.00", "yes_price_dollars": "0.4300",
             "no_price_dollars": "0.5700", "taker_outcome_side": "yes", "taker_book_side": "bid",
             "created_time": "2026-11-20T10:00:00Z"}], "cursor": "next-1"})
    if path == "/markets/KXA-26DEC31-T1":
        return httpx.Response(200, json={"market": _m("KXA-26DEC31-T1", "KXA-26DEC31")})
    if path == "/events/KXA-26DEC31":
        return httpx.Response(200, json={"event": {"event_ticker": "KXA-26DEC31", "series_ticker": "KXA",
                                                   "title": "A on Dec 31"}, "markets": []})
    if path == "/markets/SLOW":
        return httpx.Response(429, json={"error": "too many requests"})
    return httpx.Response(404, json={"error": {"code": "not_found", "message": "market not found", "details": ""}})


@pytest.fixture()
def adapter():
    use_transport(httpx.MockTransport(handler))
    a = KalshiAdapter(dataclasses.replace(Settings.from_env(), kalshi_url=BASE))
    a.http.backoff_base = 0.001
    yield a
    use_transport(None)


def test_catalog_pages_and_fixed_point(adapter):
    markets = asyncio.run(adapter.list_markets())
    assert [m.exchange_market_id for m in markets] == ["KXA-26DEC31-T1", "KXA-26DEC31-T2"]
    m = markets[0]
    assert m.group_title == "A on Dec 31" and m.exchange_group_id == "KXA-26DEC31"
    assert (m.best_bid, m.best_ask, m.last_price, m.volume_total) == (0.42, 0.45, 0.43, 1200.0)
    assert m.outcomes[0].token_id is None and m.outcomes[0].price == pytest.approx(0.435)
    assert adapter.tick_at(m, 0.05) == 0.001 and adapter.tick_at(m, 0.5) == 0.01


def test_bids_only_book_becomes_best_first_both_sides(adapter):
    m = asyncio.run(adapter.get_market("KXA-26DEC31-T1"))
    yes = asyncio.run(adapter.get_orderbook(m, m.outcomes[0], 10))
    assert yes.bids == [(0.42, 13.0), (0.40, 20.0)]
    assert yes.asks == [(0.45, 5.0), (0.47, 7.0)]
    no = asyncio.run(adapter.get_orderbook(m, m.outcomes[1], 10))
    assert no.bids == [(0.55, 5.0), (0.53, 7.0)] and no.asks == [(0.58, 13.0), (0.60, 20.0)]


def test_candles_start_of_period_and_quote_fallback(adapter):
    m = asyncio.run(adapter.get_market("KXA-26DEC31-T1"))
    candles = asyncio.run(adapter.get_price_history(m, m.outcomes[0], "1h", 1_700_000_000, 1_700_010_000))
    assert [int(c.timestamp.timestamp()) for c in candles] == [1_700_000_000, 1_700_003_600]
    assert (candles[0].open, candles[0].high, candles[0].low, candles[0].close) == (0.40, 0.45, 0.39, 0.44)
    assert candles[1].close == pytest.approx(0.44) and candles[0].volume == 12.0
    no = asyncio.run(adapter.get_price_history(m, m.outcomes[1], "1h", 1_700_000_000, 1_700_010_000))
    assert (no[0].high, no[0].low) == (pytest.approx(0.61), pytest.approx(0.55))


def test_trades_sides_and_prices(adapter):
    m = asyncio.run(adapter.get_market("KXA-26DEC31-T1"))
    page = asyncio.run(adapter.get_trades(m, m.outcomes[1], None, None, 50, None))
    assert [t.id for t in page.trades] == ["t2", "t1"] and page.next_cursor == "next-1"
    assert page.trades[0].price == 0.56 and page.trades[0].side == "buy"
    assert page.trades[1].yes_price == 0.43 and page.trades[1].side == "sell"


def test_errors(adapter):
    with pytest.raises(MarketNotFound) as exc:
        asyncio.run(adapter.get_market("NOPE"))
    assert "market not found" in str(exc.value)
    with pytest.raises(VenueRateLimited):
        asyncio.run(adapter.get_market("SLOW"))
