"""Polymarket adapter against payloads shaped like the venue's documentation (Gamma, CLOB, Data API)."""
from __future__ import annotations

import asyncio
import dataclasses
import json

import httpx
import pytest

from pmrouter.exchanges.errors import MarketNotFound
from pmrouter.exchanges.http import use_transport
from pmrouter.exchanges.polymarket.adapter import PolymarketAdapter
from pmrouter.settings import Settings

COND = "0x" + "ab" * 32


def gamma_market(i: int) -> dict:
    return {"id": str(500000 + i), "question": f"Q{i}?", "conditionId": COND if i == 0 else "0x" + f"{i:064x}",
            "slug": f"q-{i}", "outcomes": "[\"Yes\", \"No\"]", "outcomePrices": "[\"0.62\", \"0.38\"]",
            "clobTokenIds": json.dumps([f"{i}1", f"{i}2"]), "volumeNum": 1000.0 + i, "liquidityNum": 50.0,
            "active": True, "closed": False, "negRisk": i % 2 == 1, "orderPriceMinTickSize": 0.01,
            "orderMinSize": 5, "endDate": "2026-12-31T12:00:00Z",
            "events": [{"id": "9001", "title": "Event 9001", "slug": "event-9001"}]}


def handler(request: httpx.Request) -> httpx.Response:
    host, path, q = request.url.host, request.url.path, request.url.params
    if host == "gamma.test" and path == "/markets":
        if q.get("condition_ids"):
            return httpx.Response(200, json=[gamma_market(0)] if q["condition_ids"] == COND else [])
        assert q["closed"] == "false"
        offset, limit = int(q["offset"]), int(q["limit"])
        rows = [gamma_market(i) for i in range(offset, min(offset + limit, 700))]
        return httpx.Response(200, json=rows)
    if host == "gamma.test" and path == "/markets/500000":
        return httpx.Response(200, json=gamma_market(0))
    if host == "clob.test" and path == "/book":
        assert q["token_id"] == "01"
        return httpx.Response(200, json={
            "market": COND, "asset_id": "01", "timestamp": "1700000000000", "hash": "x",
            "bids": [{"price": "0.58", "size": "30"}, {"price": "0.60", "size": "12.5"}],
            "asks": [{"price": "0.66", "size": "40"}, {"price": "0.63", "size": "8"}],
            "min_order_size": "5", "tick_size": "0.01", "neg_risk": False, "last_trade_price": "0.61"})
    if host == "clob.test" and path == "/prices-history":
        return httpx.Response(200, json={"history": [{"t": 1_700_000_000, "p": 0.5}, {"t": 1_700_001_000, "p": 0.55},
                                                     {"t": 1_700_003_700, "p": 0.52}]})
    if host == "clob.test" and path == f"/clob-markets/{COND}":
        return httpx.Response(200, json={"t": [], "mts": 0.01, "mos": 5, "nr": False, "fd": {"r": 0.25, "e": 2, "to": True}})
    if host == "data.test" and path == "/trades":
        rows = [{"proxyWallet": "0xabc", "side": "BUY", "asset": "01" if k % 2 == 0 else "02", "conditionId": COND,
                 "size": 10 + k, "price": 0.6, "timestamp": 1_700_010_000 - k * 60, "outcome": "Yes" if k % 2 == 0 else "No",
                 "transactionHash": f"0x{k:064x}"} for k in range(int(q["offset"]), 30)]
        return httpx.Response(200, json=rows[: int(q["limit"])])
    return httpx.Response(404, json={"error": "not found"})


@pytest.fixture()
def adapter():
    use_transport(httpx.MockTransport(handler))
    s = dataclasses.replace(Settings.from_env(), polymarket_gamma_url="https://gamma.test",
                            polymarket_clob_url="https://clob.test", polymarket_data_url="https://data.test")
    yield PolymarketAdapter(s)
    use_transport(None)


def test_gamma_paging_and_json_encoded_fields(adapter):
    markets = asyncio.run(adapter.list_markets())
    assert len(markets) == 700  # two pages of 500 and 200
    m = markets[0]
    assert [o.name for o in m.outcomes] == ["Yes", "No"] and m.outcomes[0].token_id == "01"
    assert m.outcomes[0].price == 0.62 and m.exchange_group_id == "9001" and m.group_title == "Event 9001"
    assert m.tick_size == 0.01 and m.min_order_size == 5 and m.extra["neg_risk"] is False


def test_lookup_by_condition_id_and_unknown(adapter):
    assert asyncio.run(adapter.get_market(COND)).exchange_market_id == "500000"
    with pytest.raises(MarketNotFound):
        asyncio.run(adapter.get_market("0x" + "00" * 32))


def test_book_reversed_to_best_first(adapter):
    m = asyncio.run(adapter.get_market("500000"))
    book = asyncio.run(adapter.get_orderbook(m, m.outcomes[0], 10))
    assert book.bids == [(0.60, 12.5), (0.58, 30.0)] and book.asks == [(0.63, 8.0), (0.66, 40.0)]
    assert book.tick_size == 0.01 and book.min_order_size == 5.0


def test_history_candles_and_fee_model(adapter):
    m = asyncio.run(adapter.get_market("500000"))
    candles = asyncio.run(adapter.get_price_history(m, m.outcomes[0], "1h", 1_699_999_000, 1_700_010_000))
    assert [(c.open, c.high, c.low, c.close) for c in candles] == [(0.5, 0.55, 0.5, 0.55), (0.52, 0.52, 0.52, 0.52)]
    fee = asyncio.run(adapter.fee_model_for(m))
    assert fee.kind == "quadratic" and fee.rate == 0.25 and fee.exponent == 2


def test_trades_filtered_to_outcome_and_paged(adapter):
    m = asyncio.run(adapter.get_market("500000"))
    page = asyncio.run(adapter.get_trades(m, m.outcomes[0], None, None, 5, None))
    assert len(page.trades) == 5 and all(t.outcome == "Yes" for t in page.trades)
    assert [t.timestamp for t in page.trades] == sorted((t.timestamp for t in page.trades), reverse=True)
    assert page.trades[0].taker_address == "0xabc" and page.trades[0].tx_hash
    nxt = asyncio.run(adapter.get_trades(m, m.outcomes[0], None, None, 5, page.next_cursor))
    assert nxt.trades[0].timestamp < page.trades[-1].timestamp
