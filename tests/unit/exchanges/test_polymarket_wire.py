"""Polymarket adapter against bodies recorded from the live venue (tests/fixtures/venues/polymarket, each
naming its source: Gamma market, CLOB book and price history, Data API trades) and the official
py-clob-client-v2 model of `/clob-markets` filled with the recorded market's values. Catalog and tape
variety (700 markets, a 30-trade tape) is made by editing copies of the recorded rows."""
from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from pmrouter.exchanges.errors import MarketNotFound
from pmrouter.exchanges.http import use_transport
from pmrouter.exchanges.polymarket.adapter import PolymarketAdapter
from pmrouter.exchanges.polymarket.config import PolymarketConfig
from tests.fixtures.venues import load

LIVE = load("polymarket", "gamma_markets")[0]
COND, GAMMA_ID = LIVE["conditionId"], LIVE["id"]
YES, NO = json.loads(LIVE["clobTokenIds"])


def gamma_market(i: int) -> dict:
    row = load("polymarket", "gamma_markets")[0]
    if i:
        row.update(id=str(3000000 + i), conditionId="0x" + f"{i:064x}", slug=f"copy-{i}",
                   clobTokenIds=json.dumps([f"{i}1", f"{i}2"]), negRisk=i % 2 == 1)
    return row


def trade(k: int) -> dict:
    row = load("polymarket", "trades")[0]
    yes = k % 2 == 0
    row.update(asset=YES if yes else NO, outcome="Yes" if yes else "No", outcomeIndex=0 if yes else 1,
               size=10 + k, timestamp=row["timestamp"] - k * 60, transactionHash=f"0x{k:064x}")
    return row


def handler(request: httpx.Request) -> httpx.Response:
    host, path, q = request.url.host, request.url.path, request.url.params
    if host == "gamma.test" and path == "/markets":
        if q.get("condition_ids"):
            return httpx.Response(200, json=[gamma_market(0)] if q["condition_ids"] == COND else [])
        assert q["closed"] == "false"
        offset, limit = int(q["offset"]), int(q["limit"])
        return httpx.Response(200, json=[gamma_market(i) for i in range(offset, min(offset + limit, 700))])
    if host == "gamma.test" and path == f"/markets/{GAMMA_ID}":
        return httpx.Response(200, json=gamma_market(0))
    if host == "clob.test" and path == "/book":
        assert q["token_id"] == YES
        return httpx.Response(200, json=load("polymarket", "book"))
    if host == "clob.test" and path == "/prices-history":
        assert q["market"] == YES
        return httpx.Response(200, json=load("polymarket", "prices_history"))
    if host == "clob.test" and path == f"/clob-markets/{COND}":
        return httpx.Response(200, json=load("polymarket", "clob_market"))
    if host == "data.test" and path == "/trades":
        rows = [trade(k) for k in range(int(q["offset"]), 30)]
        return httpx.Response(200, json=rows[: int(q["limit"])])
    return httpx.Response(404, json=load("polymarket", "error_404"))


@pytest.fixture()
def adapter():
    use_transport(httpx.MockTransport(handler))
    s = PolymarketConfig(gamma_url="https://gamma.test", clob_url="https://clob.test", data_url="https://data.test")
    yield PolymarketAdapter(s)
    use_transport(None)


def test_gamma_paging_and_json_encoded_fields(adapter):
    markets = asyncio.run(adapter.list_markets())
    assert len(markets) == 700  # two pages of 500 and 200
    m = markets[0]
    assert [o.name for o in m.outcomes] == ["Yes", "No"] and m.outcomes[0].token_id == YES
    assert m.outcomes[0].price == 0.105 and m.exchange_group_id == "481717"
    assert m.group_title == "Fed Decision in September?"
    assert m.tick_size == 0.01 and m.min_order_size == 5 and m.extra["neg_risk"] is True


def test_lookup_by_condition_id_and_unknown(adapter):
    assert asyncio.run(adapter.get_market(COND)).exchange_market_id == GAMMA_ID
    with pytest.raises(MarketNotFound):
        asyncio.run(adapter.get_market("0x" + "00" * 32))


def test_book_reversed_to_best_first(adapter):
    """The CLOB lists bids ascending and asks descending (best last)."""
    m = asyncio.run(adapter.get_market(GAMMA_ID))
    book = asyncio.run(adapter.get_orderbook(m, m.outcomes[0], 2))
    assert book.bids == [(0.1, 153102.72), (0.09, 151324.07)] and book.asks == [(0.11, 99515.25), (0.12, 122061.68)]
    assert book.tick_size == 0.01 and book.min_order_size == 5.0


def test_history_candles_and_fee_model(adapter):
    m = asyncio.run(adapter.get_market(GAMMA_ID))
    candles = asyncio.run(adapter.get_price_history(m, m.outcomes[0], "1h", 1789387200, 1789398000))
    assert [(int(c.timestamp.timestamp()), c.close) for c in candles] == [
        (1789387200, 0.195), (1789390800, 0.195), (1789394400, 0.165), (1789398000, 0.155)]
    fee = asyncio.run(adapter.fee_model_for(m))
    assert fee.kind == "quadratic" and fee.rate == 0.05 and fee.exponent == 1


def test_trades_filtered_to_outcome_and_paged(adapter):
    m = asyncio.run(adapter.get_market(GAMMA_ID))
    page = asyncio.run(adapter.get_trades(m, m.outcomes[0], None, None, 5, None))
    assert len(page.trades) == 5 and all(t.outcome == "Yes" for t in page.trades)
    assert [t.timestamp for t in page.trades] == sorted((t.timestamp for t in page.trades), reverse=True)
    first = page.trades[0]
    assert (first.price, first.size, first.side) == (0.11, 10.0, "buy")
    assert first.taker_address == "0xdc41c39b95453c943174f369926018f6963bdd7e" and first.tx_hash
    nxt = asyncio.run(adapter.get_trades(m, m.outcomes[0], None, None, 5, page.next_cursor))
    assert nxt.trades[0].timestamp < page.trades[-1].timestamp
