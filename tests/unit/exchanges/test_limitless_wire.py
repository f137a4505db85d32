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
from pmrouter.exchanges.limitless import config
from pmrouter.exchanges.limitless.adapter import LimitlessAdapter
from pmrouter.pricing.execution import estimate_fee, walk_book
from pmrouter.settings import Settings
from tests.fixtures.venues import load

BASE = "https://limitless.test"
SLUG = "eth-up-or-down-daily-1788105600"
GROUP_CHILD = "eth-below-2400-sep-30-1788000001"
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
    if path == "/markets/amm-only-market":
        return httpx.Response(200, json=_amm_row())
    if path == f"/markets/{SLUG}/orderbook":
        return httpx.Response(200, json=load("limitless", "orderbook"))
    if path == f"/markets/{SLUG}/historical-price":
        return httpx.Response(200, json=load("limitless", "historical_price_single"))
    if path == f"/markets/{GROUP_CHILD}/historical-price":
        return httpx.Response(200, json=load("limitless", "historical_price_group"))
    if path == f"/markets/{SLUG}/events":
        page = int(request.url.params["page"])
        body = load("limitless", "events")
        body["totalPages"] = 2
        if page == 2:
            body["data"] = body["data"][2:]  # the venue's page 2: only older rows
            for row in body["data"]:
                row["createdAt"] = "2026-08-30T01:00:00.000Z"
        return httpx.Response(200, json=body)
    if path == "/markets/down/orderbook":
        return httpx.Response(425, json={"message": "Under maintenance"})
    return httpx.Response(404, json=load("limitless", "error_404"))


@pytest.fixture()
def adapter():
    SEEN.clear()
    use_transport(httpx.MockTransport(handler))
    yield LimitlessAdapter(dataclasses.replace(Settings.from_env(), limitless_url=BASE))
    use_transport(None)


def run(coro):
    return asyncio.run(coro)


def test_listing_prices_are_probabilities_and_min_size_is_scaled(adapter):
    markets = run(adapter.list_markets())
    assert [m.exchange_market_id for m in markets] == [SLUG, GROUP_CHILD, "eth-2400-2600-sep-30-1788000002"]
    m = markets[0]
    # prices [0.1155, 0.8845]: the web app shows them x100 as 11.6% / 88.5%.
    assert [o.price for o in m.outcomes] == [0.1155, 0.8845] and m.last_price == 0.1155
    # settings.minSize "100000000" is 100 shares (the web app's market form stores shares * 1e6).
    assert m.min_order_size == 100.0
    assert m.volume_total == 18342.77 and m.open_interest == 5120.4 and m.status == "active"
    assert m.outcomes[0].token_id.startswith("2501806361155983804740481198218444287600519966")
    grouped = [x for x in markets if x.exchange_group_id]
    assert {x.group_title for x in grouped} == {"ETH price on Sep 30?"} and grouped[0].outcomes[0].price == 0.31
    assert grouped[0].min_order_size == 50.0


def test_amm_markets_are_not_served(adapter):
    assert "amm-only-market" not in [m.exchange_market_id for m in run(adapter.list_markets())]
    with pytest.raises(MarketNotFound):
        run(adapter.get_market("amm-only-market"))


def test_book_sizes_are_shares_times_1e6_and_no_side_mirrors(adapter):
    """The live 2026-08-31 book: sizes like 83334000 are 83.334 shares. (The docs' REST example shows
    `size: 100`; the live capture, newer and real, wins.)"""
    m = run(adapter.get_market(SLUG))
    yes = run(adapter.get_orderbook(m, m.outcomes[0], 3))
    assert yes.bids == [(0.012, 83.334), (0.011, 100.0), (0.01, 21.0)]
    assert yes.asks == [(0.219, 100.0), (0.22, 12.0), (0.239, 100.0)]
    assert yes.min_order_size == 100.0 and yes.token_id == m.outcomes[0].token_id
    no = run(adapter.get_orderbook(m, m.outcomes[1], 2))
    assert no.bids == [(0.781, 100.0), (0.78, 12.0)] and no.asks == [(0.988, 83.334), (0.989, 100.0)]


def test_taker_fee_is_the_rank_rate_on_min_side_not_metadata_fee(adapter):
    """metadata.fee is `true` (a flag). The rate is the account's rank.feeRateBps (300 by default),
    charged on min(p, 1-p) per contract: buying 83.334 NO at 0.988 costs 0.03 x 0.012 x 83.334."""
    m = run(adapter.get_market(SLUG))
    model = run(adapter.fee_model_for(m))
    assert (model.kind, model.basis, model.rate) == ("linear", "min_side", 0.03)
    book = run(adapter.get_orderbook(m, m.outcomes[1], 100))
    fill = walk_book(book, "buy", 83.334)
    assert estimate_fee(model, fill.legs) == pytest.approx(0.03 * 0.012 * 83.334)
    yes_book = run(adapter.get_orderbook(m, m.outcomes[0], 100))
    fill = walk_book(yes_book, "buy", 100)
    assert estimate_fee(model, fill.legs) == pytest.approx(0.03 * 0.219 * 100)
    free = [x for x in run(adapter.list_markets()) if x.exchange_market_id == "eth-2400-2600-sep-30-1788000002"][0]
    assert run(adapter.fee_model_for(free)).kind == "none"


def test_history_points_are_price_probabilities_with_ms_timestamps(adapter):
    """The web app's recorded answer: newest first, `timestamp` epoch-ms digit strings, `price` 0..1.
    (A 2026 third-party doc example shows ISO timestamps; parse_history reads both, but the recorded
    body is what the fixture pins.)"""
    m = run(adapter.get_market(SLUG))
    start, end = 1747123200, 1747126800
    candles = run(adapter.get_price_history(m, m.outcomes[0], "1h", start, end))
    assert [(c.open, c.high, c.low, c.close) for c in candles] == [(0.5, 0.5, 0.399, 0.442)]
    assert int(candles[0].timestamp.timestamp()) == 1747123200
    no = run(adapter.get_price_history(m, m.outcomes[1], "1h", start, end))
    assert (no[0].open, no[0].close) == (0.5, 0.558)
    # `interval` is a look-back window ending now, not a candle width: a start in 2025 needs "all".
    assert SEEN[-1].url.params["interval"] == "all" and "from" not in SEEN[-1].url.params


def test_history_window_covers_the_requested_start():
    now = 1_800_000_000
    assert config.history_window(now - 1800, now) == "1h"
    assert config.history_window(now - 2 * 86400, now) == "1w"
    assert config.history_window(now - 400 * 86400, now) == "all"


def test_group_history_takes_the_series_of_the_market(adapter):
    m = [x for x in run(adapter.list_markets()) if x.exchange_market_id == GROUP_CHILD][0]
    m = dataclasses.replace(m, question="90-100k")
    candles = run(adapter.get_price_history(m, m.outcomes[0], "max", 1747000000, 1747100000))
    assert {c.close for c in candles} == {0.19}


def test_trades_come_from_the_events_feed(adapter):
    m = run(adapter.get_market(SLUG))
    page = run(adapter.get_trades(m, m.outcomes[0], None, None, 10, None))
    got = [(t.side, t.price, t.size, t.outcome) for t in page.trades]
    # Row 2 is a taker SELL of NO at 0.988: on YES that is a BUY at 0.012.
    assert got[:3] == [("buy", 0.219, 25.0, "Yes"), ("buy", 0.012, 10.0, "Yes"), ("buy", 0.2, 5.0, "Yes")]
    assert page.trades[0].tx_hash.startswith("0x9b4c") and page.trades[0].source_channel == "limitless_market_events"
    assert page.next_cursor is None and len(page.trades) == 4  # page 2 adds its one older row
    no = run(adapter.get_trades(m, m.outcomes[1], None, None, 1, None))
    assert [(t.side, t.price) for t in no.trades] == [("sell", 0.781)] and no.next_cursor == "1.1"
    resumed = run(adapter.get_trades(m, m.outcomes[1], None, None, 1, no.next_cursor))
    assert [(t.side, t.price) for t in resumed.trades] == [("sell", 0.988)]
    windowed = run(adapter.get_trades(m, m.outcomes[0], 1788159000, 1788160000, 10, None))  # 06:50-07:06:40
    assert [t.price for t in windowed.trades] == [0.012, 0.2]


def test_errors(adapter):
    with pytest.raises(MarketNotFound):
        run(adapter.get_market("nope"))
    m = dataclasses.replace(run(adapter.get_market(SLUG)), exchange_market_id="down")
    with pytest.raises(VenueUnavailable):
        run(adapter.get_orderbook(m, m.outcomes[0], 5))
