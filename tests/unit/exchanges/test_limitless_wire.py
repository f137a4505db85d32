"""Limitless adapter against payloads shaped like the venue's documentation (api-1.yaml, limitless-sdk)."""
from __future__ import annotations

import asyncio
import dataclasses
import json

import httpx
import pytest

from pmrouter.exchanges.errors import MarketNotFound, VenueUnavailable
from pmrouter.exchanges.http import use_transport
from pmrouter.exchanges.limitless.adapter import LimitlessAdapter
from pmrouter.settings import Settings

BASE = "https://limitless.test"


def _market(slug: str, title: str = "BTC above $100k?", **extra) -> dict:
    row = {"id": 1, "slug": slug, "title": title, "description": "d", "status": "FUNDED",
           "collateralToken": {"address": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "decimals": 6, "symbol": "USDC"},
           "expirationTimestamp": 1798761600000, "createdAt": "2026-01-01T00:00:00.000Z",
           "tokens": {"yes": "111", "no": "222"}, "prices": [64.5, 35.5], "volume": "2500000000",
           "volumeFormatted": "2500.00", "tradeType": "clob", "marketType": "single",
           "settings": {"minSize": 1}, "venue": {"exchange": "0x05c748E2f4DcDe0ec9Fa8DDc40DE6b867f923fa5"},
           "metadata": {"fee": 300}}
    row.update(extra)
    return row


PAGES = {
    1: [_market("a"), {"slug": "grp", "title": "Who wins?", "marketType": "group",
                       "markets": [_market("grp-x", "X wins"), _market("grp-y", "Y wins")]}],
    2: [_market("c", status="RESOLVED")],
}


def handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/markets/active":
        assert int(request.url.params["limit"]) <= 25
        page = int(request.url.params["page"])
        return httpx.Response(200, json={"data": PAGES.get(page, []), "totalMarketsCount": 27})
    if path == "/markets/a":
        return httpx.Response(200, json=_market("a"))
    if path == "/markets/a/orderbook":
        return httpx.Response(200, json={
            "bids": [{"price": 0.64, "size": 5_000_000, "side": "BUY"}, {"price": 0.63, "size": 10_000_000, "side": "BUY"}],
            "asks": [{"price": 0.65, "size": 2_500_000, "side": "SELL"}, {"price": 0.67, "size": 1_000_000, "side": "SELL"}],
            "tokenId": "111", "adjustedMidpoint": 0.645, "maxSpread": 0.05, "minSize": 1_000_000, "lastTradePrice": 0.64})
    if path == "/markets/a/historical-price":
        assert request.url.params["interval"] == "1h"
        return httpx.Response(200, json=[{"title": "BTC", "prices": [
            {"timestamp": 1_700_000_000_000, "value": 60.0}, {"timestamp": 1_700_001_800_000, "value": 62.0},
            {"timestamp": 1_700_003_600_000, "value": 61.0}]}])
    if path == "/markets/down/orderbook":
        return httpx.Response(425, json={"message": "Under maintenance"})
    return httpx.Response(404, json={"message": "Market not found", "error": "Not Found", "statusCode": 404})


@pytest.fixture()
def adapter():
    use_transport(httpx.MockTransport(handler))
    yield LimitlessAdapter(dataclasses.replace(Settings.from_env(), limitless_url=BASE))
    use_transport(None)


def test_listing_pages_and_groups(adapter):
    markets = asyncio.run(adapter.list_markets())
    slugs = [m.exchange_market_id for m in markets]
    assert slugs == ["a", "grp-x", "grp-y", "c"]
    grouped = [m for m in markets if m.exchange_group_id == "grp"]
    assert [m.group_title for m in grouped] == ["Who wins?", "Who wins?"]
    a = markets[0]
    assert a.volume_total == 2500.0 and a.outcomes[0].price == pytest.approx(0.645)
    assert a.outcomes[0].token_id == "111" and a.tick_size == 0.001 and a.status == "active"
    assert markets[-1].status == "resolved"


def test_book_units_and_no_side_mirror(adapter):
    m = asyncio.run(adapter.get_market("a"))
    yes = asyncio.run(adapter.get_orderbook(m, m.outcomes[0], 10))
    assert yes.bids == [(0.64, 5.0), (0.63, 10.0)] and yes.asks == [(0.65, 2.5), (0.67, 1.0)]
    no = asyncio.run(adapter.get_orderbook(m, m.outcomes[1], 10))
    assert no.bids == [(0.35, 2.5), (0.33, 1.0)] and no.asks == [(0.36, 5.0), (0.37, 10.0)]
    assert yes.min_order_size == 1.0


def test_history_percent_to_probability(adapter):
    m = asyncio.run(adapter.get_market("a"))
    candles = asyncio.run(adapter.get_price_history(m, m.outcomes[0], "1h", 1_699_999_000, 1_700_010_000))
    assert [(c.open, c.high, c.low, c.close) for c in candles] == [(0.6, 0.62, 0.6, 0.62), (0.61, 0.61, 0.61, 0.61)]


def test_errors(adapter):
    with pytest.raises(MarketNotFound):
        asyncio.run(adapter.get_market("nope"))
    m = dataclasses.replace(asyncio.run(adapter.get_market("a")), exchange_market_id="down")
    with pytest.raises(VenueUnavailable):
        asyncio.run(adapter.get_orderbook(m, m.outcomes[0], 5))
