"""Limitless adapter against real Limitless payloads (tests/fixtures/venues/limitless, each naming its
source). Four numbers here were wrong before these fixtures, each one a user would trade on:
outcome prices (read as percents, they are probabilities), the taker fee (metadata.fee is a flag,
read as a bps rate), price history (points carry `price` 0..1, read as a `value` percent) and the
minimum order size (settings.minSize is shares x 1e6, read as shares)."""
from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest

from pmrouter.exchanges.errors import MarketNotFound, VenueUnavailable
from pmrouter.exchanges.http import use_transport
from pmrouter.exchanges.limitless import config, schemas
from pmrouter.exchanges.limitless.adapter import LimitlessAdapter
from pmrouter.pricing.execution import estimate_fee, walk_book
from pmrouter.exchanges.limitless.config import LimitlessConfig
from tests.fixtures.venues import load

BASE = "https://limitless.test"
SLUG = "btc-up-or-down-daily-p-1791308105925"
GROUP_CHILD = "92000-1791345926192"
SEEN: list[httpx.Request] = []


def _amm_row() -> dict:
    row = load("limitless", "market")
    row.update(slug="amm-only-market", tradeType="amm", prices=[55.0, 45.0])
    return row


def handler(request: httpx.Request) -> httpx.Response:
    SEEN.append(request)
    path = request.url.path
    if path == "/markets/active":
        assert int(request.url.params["limit"]) <= config.PAGE_LIMIT
        body = load("limitless", "markets_active")
        if int(request.url.params["page"]) == 1:
            body["data"].append(_amm_row())
            body["totalMarketsCount"] = config.PAGE_LIMIT + 1
        else:
            body["data"] = []
        return httpx.Response(200, json=body)
    if path == f"/markets/{SLUG}":
        return httpx.Response(200, json=load("limitless", "market"))
    if path == f"/markets/{GROUP_CHILD}":
        return httpx.Response(200, json=load("limitless", "market_group")["markets"][0])
    if path == "/markets/what-price-will-bitcoin-hit-on-october-7-2026-1791345926180":
        return httpx.Response(200, json=load("limitless", "market_group"))
    if path == "/markets/amm-only-market":
        return httpx.Response(200, json=_amm_row())
    if path == f"/markets/{SLUG}/orderbook":
        return httpx.Response(200, json=load("limitless", "orderbook"))
    if path == f"/markets/{SLUG}/historical-price":
        return httpx.Response(200, json=load("limitless", "historical_price_single"))
    if path == f"/markets/{GROUP_CHILD}/historical-price":
        return httpx.Response(200, json=load("limitless", "historical_price_group"))
    if path == f"/markets/{SLUG}/events":
        body = load("limitless", "events")
        if int(request.url.params["page"]) == 2:
            body.update(events=[], page=2)
        return httpx.Response(200, json=body)
    if path == "/markets/down/orderbook":
        return httpx.Response(425, json={"message": "Under maintenance"})
    return httpx.Response(404, json=load("limitless", "error_404"))


@pytest.fixture()
def adapter():
    SEEN.clear()
    use_transport(httpx.MockTransport(handler))
    yield LimitlessAdapter(LimitlessConfig(url=BASE))
    use_transport(None)


def run(coro):
    return asyncio.run(coro)


def test_listing_prices_are_probabilities_and_min_size_is_scaled(adapter):
    markets = run(adapter.list_markets())
    assert [m.exchange_market_id for m in markets] == [SLUG, GROUP_CHILD, "91000-1791345926192"]
    m = markets[0]
    # prices [0.037, 0.963] are probabilities: the web app shows them x100 as 3.7% / 96.3%.
    assert [o.price for o in m.outcomes] == [0.037, 0.963] and m.last_price == 0.037
    # settings.minSize "100000000" is 100 shares (the web app's market form stores shares * 1e6).
    assert m.min_order_size == 100.0
    assert m.volume_total == 215.066725 and m.status == "active"
    assert m.outcomes[0].token_id == "70247938366373245371875476852050312741984939645649004595595165572008042615343"
    grouped = [x for x in markets if x.exchange_group_id]
    assert {x.group_title for x in grouped} == {"What price will Bitcoin hit on October 7?"}
    assert grouped[0].outcomes[0].price == 0.4995 and grouped[0].min_order_size == 100.0


def test_group_children_are_markets_and_the_group_is_not(adapter):
    """Live children say marketType "group" too; only the parent (with `markets`) is a group."""
    child = run(adapter.get_market(GROUP_CHILD))
    assert child.question == "\u2191 92,000" and child.outcomes[0].token_id.startswith("4563656245977")
    with pytest.raises(MarketNotFound, match="group market"):
        run(adapter.get_market("what-price-will-bitcoin-hit-on-october-7-2026-1791345926180"))


def test_amm_markets_are_not_served(adapter):
    assert "amm-only-market" not in [m.exchange_market_id for m in run(adapter.list_markets())]
    with pytest.raises(MarketNotFound):
        run(adapter.get_market("amm-only-market"))


def test_book_sizes_are_shares_times_1e6_and_no_side_mirrors(adapter):
    """The live book: a size of 1000000000 is 1000 shares. (The docs' REST example shows `size: 100`;
    the live captures, newer and real, win.)"""
    m = run(adapter.get_market(SLUG))
    yes = run(adapter.get_orderbook(m, m.outcomes[0], 3))
    assert yes.bids == [(0.021, 1000.0), (0.01, 1.0), (0.009, 1.0)]
    assert yes.asks == [(0.053, 1000.0), (0.11, 50.0), (0.99, 1.0)]
    assert yes.min_order_size == 100.0 and yes.token_id == m.outcomes[0].token_id
    no = run(adapter.get_orderbook(m, m.outcomes[1], 2))
    assert no.bids == [(0.947, 1000.0), (0.89, 50.0)] and no.asks == [(0.979, 1000.0), (0.99, 1.0)]


def test_taker_fee_is_the_rank_rate_on_min_side_not_metadata_fee(adapter):
    """metadata.fee is `true` (a flag). The rate is the account's rank.feeRateBps (300 by default),
    charged on min(p, 1-p) per contract. Reading the flag as a bps rate charged 1 bps of notional:
    0.0979 USD on 1000 NO at 0.979, where the venue charges 0.03 x 0.021 x 1000 = 0.63."""
    m = run(adapter.get_market(SLUG))
    model = run(adapter.fee_model_for(m))
    assert (model.kind, model.basis, model.rate) == ("linear", "min_side", 0.03)
    no_book = run(adapter.get_orderbook(m, m.outcomes[1], 100))
    assert estimate_fee(model, walk_book(no_book, "buy", 1000).legs) == pytest.approx(0.63)
    yes_book = run(adapter.get_orderbook(m, m.outcomes[0], 100))
    assert estimate_fee(model, walk_book(yes_book, "buy", 1050).legs) == pytest.approx(0.03 * (0.053 * 1000 + 0.11 * 50))
    free = schemas.parse_market({**load("limitless", "market"), "metadata": {"fee": False}})
    assert run(adapter.fee_model_for(free)).kind == "none"


def test_history_points_are_price_probabilities_with_ms_timestamps(adapter):
    """The live answer: newest first, `timestamp` epoch-ms digit strings, `price` 0..1, 15-minute points."""
    m = run(adapter.get_market(SLUG))
    start, end = 1791309600, 1791316000
    candles = run(adapter.get_price_history(m, m.outcomes[0], "1h", start, end))
    assert [(c.open, c.high, c.low, c.close) for c in candles] == [(0.5145, 0.5145, 0.425, 0.425),
                                                                  (0.405, 0.4555, 0.405, 0.4555)]
    assert [int(c.timestamp.timestamp()) for c in candles] == [1791309600, 1791313200]
    no = run(adapter.get_price_history(m, m.outcomes[1], "1h", start, end))
    assert (no[0].open, no[0].close) == (0.4855, 0.575)
    # `interval` is a look-back window ending now, not a candle width: a start long past needs "all".
    assert SEEN[-1].url.params["interval"] == "all" and "from" not in SEEN[-1].url.params


def test_history_window_covers_the_requested_start():
    now = 1_800_000_000
    assert config.history_window(now - 1800, now) == "1h"
    assert config.history_window(now - 2 * 86400, now) == "1w"
    assert config.history_window(now - 400 * 86400, now) == "all"


def test_group_history_takes_the_series_of_the_market(adapter):
    m = dataclasses.replace(run(adapter.get_market(GROUP_CHILD)), question="90-100k")
    candles = run(adapter.get_price_history(m, m.outcomes[0], "max", 1747000000, 1747100000))
    assert {c.close for c in candles} == {0.19}


def test_trades_come_from_the_events_feed(adapter):
    m = run(adapter.get_market(SLUG))
    page = run(adapter.get_trades(m, m.outcomes[0], None, None, 50, None))
    got = [(t.side, t.price, t.size) for t in page.trades[:3]]
    # Row 1 is a taker BUY of NO at 0.954: on YES that is a SELL at 0.046.
    assert got == [("sell", 0.046, 1.276418), ("sell", 0.083, 1.995615), ("buy", 0.12, 8.333333)]
    assert page.trades[0].tx_hash.startswith("0xef65e637") and page.trades[0].source_channel == "limitless_market_events"
    assert len(page.trades) == 20 and page.next_cursor is None  # page 2 is empty
    no = run(adapter.get_trades(m, m.outcomes[1], None, None, 1, None))
    assert [(t.side, t.price) for t in no.trades] == [("buy", 0.954)] and no.next_cursor == "1.1"
    resumed = run(adapter.get_trades(m, m.outcomes[1], None, None, 1, no.next_cursor))
    assert [(t.side, t.price) for t in resumed.trades] == [("buy", 0.917)]
    windowed = run(adapter.get_trades(m, m.outcomes[0], 1791338400, 1791356400, 50, None))  # Oct 7, 02:00-07:00
    assert [t.price for t in windowed.trades] == [0.083, 0.12, 0.13, 0.146]


def test_errors(adapter):
    with pytest.raises(MarketNotFound):
        run(adapter.get_market("nope"))
    m = dataclasses.replace(run(adapter.get_market(SLUG)), exchange_market_id="down")
    with pytest.raises(VenueUnavailable):
        run(adapter.get_orderbook(m, m.outcomes[0], 5))


def test_a_group_child_reads_its_own_tape_unless_the_group_is_neg_risk(adapter):
    """The web app reads a neg-risk group's feed for its children and a child's own feed otherwise;
    the recorded group is a "ladder" (no negRiskMarketId)."""
    ladder_child = [m for m in run(adapter.list_markets()) if m.exchange_market_id == GROUP_CHILD][0]
    assert ladder_child.extra["neg_risk"] is False
    with pytest.raises(MarketNotFound):  # the stub venue has no tape for these two
        run(adapter.get_trades(ladder_child, ladder_child.outcomes[0], None, None, 5, None))
    assert SEEN[-1].url.path == f"/markets/{GROUP_CHILD}/events"
    group = {**load("limitless", "market_group"), "negRiskMarketId": "0x" + "12" * 32}
    child = schemas.parse_listing(group)[0]
    assert child.extra["neg_risk"] is True
    with pytest.raises(MarketNotFound):
        run(adapter.get_trades(child, child.outcomes[0], None, None, 5, None))
    assert SEEN[-1].url.path == f"/markets/{group['slug']}/events"
