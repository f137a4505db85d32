"""Predict.fun adapter against bodies recorded from the live venue (tests/fixtures/venues/predictfun,
each naming its source): `{success, data, cursor}` envelopes with `first`/`after` paging, integer
market ids, outcomes with indexSet/onChainId, a first-outcome book of `[price, shares]` numbers, order
match events in wei with ISO times, and the `timeseries` chance samples in percent. Catalog variety
(several markets, categories, statuses) is made by editing copies of the recorded market, never by
inventing fields."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from pmrouter.exchanges.errors import MarketNotFound, VenueAuthError, VenueBadRequest
from pmrouter.exchanges.http import use_transport
from pmrouter.exchanges.predictfun.adapter import PredictFunAdapter, create
from pmrouter.pricing.execution import estimate_fee
from pmrouter.exchanges.predictfun.config import PredictFunConfig
from tests.fixtures.venues import load

HOST = "https://predict.test"
KEY = "pf-test-key"
WEI = 10**18


def _market(mid: int, *, slug: str = "btc-100k", names=("Yes", "No"), status="REGISTERED", trading="OPEN",
            precision=2, fee=200, resolution=None) -> dict:
    row = load("predictfun", "market")["data"]
    outcomes = [dict(o, name=n, indexSet=i + 1, onChainId=f"{mid}{i + 1}" * 3)
                for i, (o, n) in enumerate(zip(row["outcomes"], names))]
    outcomes.reverse()  # the adapter must order by indexSet, not by position
    row.update(id=mid, title=f"Title {mid}", question=f"Question {mid}?", status=status, tradingStatus=trading,
               isNegRisk=slug == "world-cup", isYieldBearing=True, feeRateBps=fee, resolution=resolution,
               outcomes=outcomes, categorySlug=slug, createdAt="2026-10-01T12:00:00.000Z", decimalPrecision=precision)
    return row


MARKETS = [
    _market(101),
    _market(102, slug="world-cup", precision=3),
    _market(103, slug="world-cup", status="RESOLVED", trading="CLOSED",
            resolution={"name": "No", "indexSet": 2, "onChainId": "10321032103", "status": "WON"}),
    _market(104, slug="lakers-celtics", names=("Lakers", "Celtics"), fee=50),
    _market(105, status="PRICE_PROPOSED", trading="CLOSED"),
]
CATEGORIES = [
    {"id": 1, "slug": "btc-100k", "title": "Bitcoin $100k", "startsAt": "2026-10-01T00:00:00.000Z",
     "endsAt": "2026-12-31T23:59:59.000Z", "status": "OPEN", "markets": []},
    {"id": 2, "slug": "world-cup", "title": "World Cup 2026 winner", "startsAt": "2026-06-01T00:00:00.000Z",
     "endsAt": "2026-07-19T20:00:00.000Z", "status": "OPEN", "markets": []},
]


def _match(i: int, *, index_set: int, quote: str, price: str, amount: str, when: str) -> dict:
    row = load("predictfun", "matches")["data"][0]
    outcome = dict(row["taker"]["outcome"], name="Yes" if index_set == 1 else "No", indexSet=index_set, onChainId="x")
    row["taker"].update(quoteType=quote, amount=amount, price=price, outcome=outcome, signer=f"0x{i:040x}")
    row["makers"] = [dict(row["makers"][0], quoteType="Ask" if quote == "Bid" else "Bid", amount=amount, price=price,
                          outcome=outcome, signer="0x" + "99" * 20)]
    row.update(market=MARKETS[0], amountFilled=amount, priceExecuted=price, transactionHash=f"0x{i:064x}", executedAt=when)
    return row


MATCHES = [
    # (index set of the taker's outcome, taker side, price in cents, shares, executedAt)
    _match(i + 1, index_set=k, quote=q, price=str(c * WEI // 100), amount=str(int(n * WEI)), when=w)
    for i, (k, q, c, n, w) in enumerate([
        (1, "Bid", 62, 25, "2026-11-20T12:00:05.000Z"),
        (2, "Bid", 41, 1.5, "2026-11-20T11:00:00.000Z"),
        (1, "Ask", 60, 10, "2026-11-20T10:00:00.000Z"),
        (1, "Bid", 55, 7, "2026-11-19T10:00:00.000Z"),
        (1, "Bid", 50, 1, "2026-11-18T10:00:00.000Z"),
    ])
]


def _page(rows: list, q: dict) -> dict:
    first = int(q.get("first", 10))
    offset = int(q["after"].removeprefix("c")) if q.get("after") else 0
    chunk = rows[offset:offset + first]
    nxt = offset + len(chunk)
    return {"success": True, "cursor": f"c{nxt}" if nxt < len(rows) else None, "data": chunk}


class Venue:
    def __init__(self):
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        url = urlparse(str(request.url))
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path
        if request.headers.get("x-api-key") != KEY:
            return httpx.Response(401, json={"success": False, "message": "Unauthorized"})
        if path == "/v1/markets":
            q = {**q, "first": min(int(q.get("first", 10)), 2)}  # the venue may page smaller than asked
            return httpx.Response(200, json=_page(MARKETS, q))
        if path == "/v1/categories":
            return httpx.Response(200, json=_page(CATEGORIES, q))
        if path == "/v1/categories/btc-100k":
            return httpx.Response(200, json={"success": True, "data": CATEGORIES[0]})
        if path == "/v1/markets/101":
            return httpx.Response(200, json={"success": True, "data": MARKETS[0]})
        if path in ("/v1/markets/101/orderbook", "/v1/markets/102/orderbook"):
            body = load("predictfun", "orderbook")
            body["data"]["marketId"] = int(path.split("/")[3])
            return httpx.Response(200, json=body)
        if path == "/v1/markets/2880279":
            return httpx.Response(200, json=load("predictfun", "market"))
        if path == "/v1/markets/2880279/timeseries":
            return httpx.Response(200, json=load("predictfun", "timeseries"))
        if path == "/v1/markets/999" or path.startswith("/v1/categories/bitcoin-up-or-down"):
            return httpx.Response(404, json=load("predictfun", "error_404"))
        if path == "/v1/markets/998":
            return httpx.Response(200, json={"success": False, "message": "Invalid query parameters"})
        if path == "/v1/orders/matches" and q["marketId"] == "2880279":
            if q.get("after"):  # the recording's next page is not kept: end the tape there
                return httpx.Response(200, json={"success": True, "cursor": None, "data": []})
            return httpx.Response(200, json=load("predictfun", "matches"))
        if path == "/v1/orders/matches":
            assert q["marketId"] == "101"
            return httpx.Response(200, json=_page(MATCHES, q))
        return httpx.Response(404, json={"success": False, "message": "Not found"})


@pytest.fixture()
def venue():
    v = Venue()
    use_transport(httpx.MockTransport(v))
    yield v
    use_transport(None)


def adapter(key: str = KEY) -> PredictFunAdapter:
    return create(PredictFunConfig(url=HOST, api_key=key))


def _q(request: httpx.Request) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(str(request.url)).query).items()}


def test_capabilities_trade_and_have_price_history():
    caps = PredictFunAdapter.capabilities
    assert caps.fetch_markets and caps.fetch_orderbook and caps.fetch_trades
    assert caps.create_order and caps.cancel_order and caps.fetch_balance and caps.fetch_fills
    assert caps.fetch_price_history  # from /v1/markets/{id}/timeseries


def test_list_markets_follows_cursors_and_maps_fields(venue):
    markets = {m.exchange_market_id: m for m in asyncio.run(adapter().list_markets())}
    market_pages = [_q(c) for c in venue.calls if urlparse(str(c.url)).path == "/v1/markets"]
    assert [p.get("after") for p in market_pages] == [None, "c2", "c4"]
    assert all(p["first"] == "100" for p in market_pages)
    assert all(c.headers["x-api-key"] == KEY for c in venue.calls)
    assert sorted(markets) == ["101", "102", "103", "104", "105"]

    m = markets["101"]
    assert m.question == "Question 101?"
    assert [o.name for o in m.outcomes] == ["Yes", "No"]  # indexSet order, whatever the payload order
    assert [o.token_id for o in m.outcomes] == ["1011" * 3, "1012" * 3]
    assert m.market_type == "binary" and m.status == "active"
    assert m.exchange_group_id == "btc-100k" and m.group_title == "Bitcoin $100k"
    assert m.tick_size == 0.01
    assert m.end_date is not None and m.end_date.isoformat() == "2026-12-31T23:59:59+00:00"
    assert m.created_at is not None and m.created_at.tzinfo is not None
    assert m.extra["fee_rate_bps"] == 200 and m.extra["is_yield_bearing"] is True

    assert markets["102"].tick_size == 0.001 and markets["102"].extra["is_neg_risk"] is True
    assert markets["102"].group_title == "World Cup 2026 winner"
    assert markets["103"].status == "resolved"
    assert markets["105"].status == "closed"
    h2h = markets["104"]
    assert h2h.market_type == "categorical" and [o.name for o in h2h.outcomes] == ["Lakers", "Celtics"]
    assert h2h.group_title == ""  # category not listed: no title, still grouped by slug
    assert h2h.exchange_group_id == "lakers-celtics"


def test_orderbook_yes_side_and_mirrored_no_side(venue):
    a = adapter()
    markets = {m.exchange_market_id: m for m in asyncio.run(a.list_markets())}
    m = markets["101"]
    yes = asyncio.run(a.get_orderbook(m, m.outcomes[0], 2))
    assert yes.bids == [(0.87, 11.5), (0.86, 6216.48)]
    assert yes.asks == [(0.89, 108.93073), (0.9, 2609.622)]
    assert yes.token_id == m.outcomes[0].token_id and yes.tick_size == 0.01
    assert yes.timestamp is not None and int(yes.timestamp.timestamp() * 1000) == 1791200627815
    no = asyncio.run(a.get_orderbook(m, m.outcomes[1], 3))
    # NO bid = 1 - YES ask, NO ask = 1 - YES bid, sizes kept; best first.
    assert no.bids == [(0.11, 108.93073), (0.1, 2609.622), (0.09, 1568.19)]
    assert no.asks == [(0.13, 11.5), (0.14, 6216.48), (0.15, 300.0)]
    assert no.token_id == m.outcomes[1].token_id
    three = markets["102"]
    no3 = asyncio.run(a.get_orderbook(three, three.outcomes[1], 1))
    assert no3.bids == [(0.11, 108.93073)] and no3.tick_size == 0.001


def test_trades_convert_wei_outcome_side_and_page_with_venue_cursor(venue):
    a = adapter()
    m = next(x for x in asyncio.run(a.list_markets()) if x.exchange_market_id == "101")
    page = asyncio.run(a.get_trades(m, m.outcomes[0], None, None, 2, None))
    assert _q(venue.calls[-1])["first"] == "2"
    t1, t2 = page.trades
    assert (t1.price, t1.size, t1.side) == (0.62, 25.0, "buy")
    assert t1.timestamp.isoformat() == "2026-11-20T12:00:05+00:00"
    assert t1.tx_hash == "0x" + "0" * 63 + "1" and t1.yes_price == 0.62 and t1.no_price == pytest.approx(0.38)
    # A taker buying NO at 0.41 is, seen from YES, a sell at 0.59.
    assert (t2.price, t2.size, t2.side) == (pytest.approx(0.59), 1.5, "sell")
    assert page.next_cursor == "c2"
    rest = asyncio.run(a.get_trades(m, m.outcomes[0], None, None, 10, page.next_cursor))
    assert _q(venue.calls[-1])["after"] == "c2"
    assert [t.price for t in rest.trades] == [0.6, 0.55, 0.5]
    assert rest.next_cursor is None
    ts = [t.timestamp for t in page.trades + rest.trades]
    assert ts == sorted(ts, reverse=True)


def test_trades_window_filters_and_stops_at_start(venue):
    a = adapter()
    m = next(x for x in asyncio.run(a.list_markets()) if x.exchange_market_id == "101")
    start = int(datetime(2026, 11, 19, 10, tzinfo=timezone.utc).timestamp())
    end = int(datetime(2026, 11, 20, 10, tzinfo=timezone.utc).timestamp())
    page = asyncio.run(a.get_trades(m, m.outcomes[1], start, end, 10, None))
    # From NO's side: the YES sell at 0.60 is a NO buy at 0.40; the YES buy at 0.55 a NO sell at 0.45.
    assert [(round(t.price, 2), t.side) for t in page.trades] == [(0.4, "buy"), (0.45, "sell")]
    assert all(t.outcome == "No" for t in page.trades)
    assert page.next_cursor is None  # reached trades older than start


def test_error_mapping(venue):
    a = adapter()
    with pytest.raises(MarketNotFound):
        asyncio.run(a.get_market("999"))  # 404 {success:false}
    with pytest.raises(VenueBadRequest):
        asyncio.run(a.get_market("998"))  # HTTP 200 but success:false
    with pytest.raises(MarketNotFound):
        asyncio.run(a.get_market("abc"))
    with pytest.raises(VenueAuthError):
        asyncio.run(adapter(key="nope").list_markets())


def test_get_market_detail_fetches_category_title_and_caches(venue):
    a = adapter()
    m = asyncio.run(a.get_market("101"))
    assert m.group_title == "Bitcoin $100k"
    assert any(urlparse(str(c.url)).path == "/v1/categories/btc-100k" for c in venue.calls)
    n = len(venue.calls)
    assert asyncio.run(a.get_market("101")) is m
    assert len(venue.calls) == n


def test_fee_model_is_the_market_rate_on_min_side(venue):
    a = adapter()
    markets = {m.exchange_market_id: m for m in asyncio.run(a.list_markets())}
    fee = asyncio.run(a.fee_model_for(markets["104"]))
    assert (fee.kind, fee.basis) == ("linear", "min_side") and fee.rate == pytest.approx(0.005)
    assert asyncio.run(a.fee_model_for(markets["101"])).rate == pytest.approx(0.02)


def test_the_fee_model_reproduces_the_fees_the_venue_charged(venue):
    """The recorded matches carry the taker's fee: 0.7369 shares on 36.846 NO bought at 0.13 (worth
    0.0958 USDT) and 0.007332 USDT on 2.82 YES sold at 0.87, i.e. 200 bps x min(p, 1-p) x shares."""
    a = adapter()
    m = asyncio.run(a.get_market("2880279"))
    model = asyncio.run(a.fee_model_for(m))
    rows = load("predictfun", "matches")["data"]
    bought = int(rows[0]["taker"]["fee"]["amount"]) / WEI * 0.13
    assert estimate_fee(model, ((0.13, int(rows[0]["amountFilled"]) / WEI),)) == pytest.approx(bought, rel=1e-9)
    sold = int(rows[1]["taker"]["fee"]["amount"]) / WEI
    assert estimate_fee(model, ((0.87, 2.82),)) == pytest.approx(sold, rel=1e-9)


def test_live_market_detail(venue):
    m = asyncio.run(adapter().get_market("2880279"))
    assert m.question == "Bitcoin Up or Down on October 5?" and [o.name for o in m.outcomes] == ["Up", "Down"]
    assert m.outcomes[0].token_id.startswith("245608567797502645087") and m.tick_size == 0.01
    assert m.extra["fee_rate_bps"] == 200 and m.status == "active"
    assert m.exchange_group_id == "bitcoin-up-or-down-on-october-5-2026"


def test_live_matches_read_from_the_taker(venue):
    a = adapter()
    m = asyncio.run(a.get_market("2880279"))
    up = asyncio.run(a.get_trades(m, m.outcomes[0], None, None, 10, None))
    # A taker buying Down at 0.13 sells Up at 0.87; a taker selling Up at 0.87 is a sell too.
    assert [(t.side, round(t.price, 6), round(t.size, 6)) for t in up.trades] == [
        ("sell", 0.87, 36.846154), ("sell", 0.87, 2.82)]
    assert up.trades[0].timestamp.isoformat() == "2026-10-05T11:43:04+00:00"
    down = asyncio.run(a.get_trades(m, m.outcomes[1], None, None, 10, None))
    assert [(t.side, round(t.price, 6)) for t in down.trades] == [("buy", 0.13), ("buy", 0.13)]


def test_price_history_from_the_venue_chance_samples(venue):
    """`timeseries` samples are the first outcome's chance in percent (88 at the end, where the book
    was 0.87/0.89); 6h candles are built from the hourly samples."""
    a = adapter()
    m = asyncio.run(a.get_market("2880279"))
    start, end = 1791046800, 1791198000
    candles = asyncio.run(a.get_price_history(m, m.outcomes[0], "6h", start, end))
    sent = _q(venue.calls[-1])
    assert (sent["metric"], sent["resolution"], sent["from"], sent["to"]) == ("chance", "1h", str(start), str(end))
    assert [(int(c.timestamp.timestamp()), c.open, c.high, c.low, c.close) for c in candles[-3:]] == [
        (1791136800, 0.52, 0.82, 0.52, 0.82), (1791158400, 0.84, 0.87, 0.61, 0.61), (1791180000, 0.7, 0.88, 0.7, 0.88)]
    down = asyncio.run(a.get_price_history(m, m.outcomes[1], "6h", start, end))
    assert (down[-1].open, down[-1].high, down[-1].low, down[-1].close) == (0.3, 0.3, 0.12, 0.12)
    asyncio.run(a.get_price_history(m, m.outcomes[0], "1w", start, end))
    assert _q(venue.calls[-1])["resolution"] == "1d"
