"""Opinion adapter against Opinion payloads (tests/fixtures/venues/opinion: the official opinion-api
0.4.0 models filled with realistic values, each fixture naming its source): envelope {errno, errmsg,
result}, result.list/total, result.data, string prices, per-token books bids-desc/asks-asc with ms
timestamps, price history {history: [{t, p}]}. Paging variety is made by re-numbering copies of the
fixture rows, never by inventing fields."""
from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from pmrouter.exchanges.errors import MarketNotFound, VenueAuthError, VenueBadRequest
from pmrouter.exchanges.http import use_transport
from pmrouter.exchanges.opinion.adapter import OpinionAdapter, create
from pmrouter.exchanges.opinion.config import OpinionConfig
from tests.fixtures.venues import load

HOST = "https://opinion.test:8443"
KEY = "op-test-key"

_LIST = load("opinion", "market_list")["result"]["list"]
_BINARY, _CATEGORICAL = _LIST[0], _LIST[1]
YES_A, NO_A = _BINARY["yesTokenId"], _BINARY["noTokenId"]
C1, C2 = _CATEGORICAL["childMarkets"]
YES_C1, NO_C1 = C1["yesTokenId"], C1["noTokenId"]
NO_C2 = C2["noTokenId"]
PARENT = str(_CATEGORICAL["marketId"])


def _binary(mid: int, title: str, status: int = 2) -> dict:
    row = load("opinion", "market_list")["result"]["list"][0]
    row.update(marketId=mid, marketTitle=title, status=status)
    return row


def _categorical() -> dict:
    return load("opinion", "market_list")["result"]["list"][1]


# 45 rows: 44 binaries and the categorical parent (page 2, position 3) -> 3 pages of at most 20.
ROWS = [_binary(1000 + i, f"Binary market {i}", status=(4 if i == 7 else 3 if i == 8 else 2)) for i in range(44)]
ROWS.insert(22, _categorical())


def envelope(result, errno: int = 0, errmsg: str = "") -> dict:
    return {"errno": errno, "errmsg": errmsg, "result": result}


class Venue:
    def __init__(self):
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        url = urlparse(str(request.url))
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = url.path
        if request.headers.get("apikey") != KEY:
            return httpx.Response(200, json=envelope(None, 401, "invalid apikey"))
        if path == "/openapi/market":
            page, limit = int(q["page"]), int(q["limit"])
            chunk = ROWS[(page - 1) * limit: page * limit]
            return httpx.Response(200, json=envelope({"total": len(ROWS), "list": chunk}))
        if path == "/openapi/market/8453":
            return httpx.Response(200, json=load("opinion", "market"))
        if path == "/openapi/market/1005":
            return httpx.Response(200, json=envelope({"data": ROWS[5]}))
        if path == f"/openapi/market/{C1['marketId']}":
            return httpx.Response(200, json=envelope({"data": C1}))
        if path == f"/openapi/market/{PARENT}":
            return httpx.Response(200, json=load("opinion", "market_categorical"))
        if path.startswith("/openapi/market/"):
            return httpx.Response(200, json=load("opinion", "error"))
        if path == "/openapi/token/orderbook":
            if q["token_id"] != NO_A:
                return httpx.Response(200, json=envelope(None, 10404, "token not found"))
            body = load("opinion", "orderbook")
            body["result"]["tokenId"] = q["token_id"]  # the live body is another token's; the venue echoes the one asked
            return httpx.Response(200, json=body)
        if path == "/openapi/token/price-history":
            if q.get("interval") not in ("1h", "1d"):  # what the venue is confirmed to honour
                return httpx.Response(200, json=envelope(None, 10400, "invalid interval"))
            return httpx.Response(200, json=load("opinion", "price_history_1d" if q["interval"] == "1d" else "price_history"))
        if path == "/openapi/token/boom":
            return httpx.Response(200, json=envelope(None, 10500, "system busy, parameter error"))
        return httpx.Response(404, json={"errno": 404, "errmsg": "no route"})


@pytest.fixture()
def venue():
    v = Venue()
    use_transport(httpx.MockTransport(v))
    yield v
    use_transport(None)


def adapter(key: str = KEY) -> OpinionAdapter:
    return create(OpinionConfig(url=HOST, api_key=key))


def test_capabilities_trade_but_have_no_public_tape():
    caps = OpinionAdapter.capabilities
    assert caps.fetch_markets and caps.fetch_orderbook and caps.fetch_price_history and caps.fetch_events
    assert caps.create_order and caps.cancel_order and caps.fetch_positions and caps.fetch_fills
    assert not caps.fetch_trades  # only per-wallet trades are published
    assert OpinionAdapter.order_types == {"gtc", "ioc"}  # LIMIT and MARKET


def test_list_markets_pages_until_total_and_flattens_categorical(venue):
    markets = asyncio.run(adapter().list_markets())
    pages = [parse_qs(urlparse(str(c.url)).query) for c in venue.calls
             if urlparse(str(c.url)).path == "/openapi/market"]
    assert sorted(int(p["page"][0]) for p in pages) == [1, 2, 3]
    assert all(p["limit"] == ["20"] and p["marketType"] == ["2"] and p["chainId"] == ["56"] for p in pages)
    assert all(c.headers["apikey"] == KEY for c in venue.calls)
    # 44 binaries + 2 children of the categorical parent; the parent itself is not a market.
    assert len(markets) == 46
    ids = {m.exchange_market_id for m in markets}
    assert PARENT not in ids and {str(C1["marketId"]), str(C2["marketId"])} <= ids
    child = next(m for m in markets if m.exchange_market_id == str(C1["marketId"]))
    assert child.exchange_group_id == PARENT
    assert child.group_title == "Who will win Super Bowl LXI?"
    assert child.question == "Who will win Super Bowl LXI - Chiefs"
    assert [o.token_id for o in child.outcomes] == [YES_C1, NO_C1]
    assert child.market_type == "binary"
    resolved_child = next(m for m in markets if m.exchange_market_id == str(C2["marketId"]))
    assert resolved_child.status == "resolved"
    assert resolved_child.extra["result_token_id"] == NO_C2


def test_binary_market_fields_units_and_status(venue):
    markets = {m.exchange_market_id: m for m in asyncio.run(adapter().list_markets())}
    m = markets["1000"]
    assert m.question == "Binary market 0" and m.exchange_group_id == "" and m.group_title == ""
    assert [o.name for o in m.outcomes] == ["Yes", "No"]
    assert m.outcomes[0].token_id == YES_A and m.outcomes[1].token_id == NO_A
    assert m.volume_total == pytest.approx(284731.522914)  # `volume` is a decimal string in USDT
    assert m.end_date is not None and m.end_date.tzinfo is not None and int(m.end_date.timestamp()) == 1767225599
    assert m.condition_id == _BINARY["conditionId"]
    assert m.tick_size == 0.001
    assert markets["1007"].status == "resolved"  # status 4
    assert markets["1008"].status == "closed"  # status 3 (resolving)
    assert markets["1001"].status == "active"  # status 2


def test_orderbook_uses_requested_outcome_token_and_is_best_first(venue):
    a = adapter()
    m = asyncio.run(a.list_markets())[0]
    book = asyncio.run(a.get_orderbook(m, m.outcomes[1], 3))
    sent = parse_qs(urlparse(str(venue.calls[-1].url)).query)
    assert sent["token_id"] == [NO_A]
    assert book.token_id == NO_A
    assert [(p, round(s, 6)) for p, s in book.bids] == [(0.66, 133.984848), (0.65, 35.38), (0.64, 30.2)]
    assert [(p, round(s, 6)) for p, s in book.asks] == [(0.709, 341.202749), (0.71, 65.0), (0.72, 2623.913431)]
    assert book.timestamp is not None and int(book.timestamp.timestamp() * 1000) == 1790871265570
    assert book.bids[0][0] < book.asks[0][0]


def test_price_history_asks_only_for_intervals_the_venue_honours(venue):
    """The hourly fixture series built into 6h candles; the venue is only asked for 1h or 1d."""
    a = adapter()
    m = asyncio.run(a.list_markets())[0]
    start, end = 1767000000, 1767100000
    candles = asyncio.run(a.get_price_history(m, m.outcomes[0], "6h", start, end))
    sent = parse_qs(urlparse(str(venue.calls[-1].url)).query)
    assert sent["interval"] == ["1h"] and sent["start_at"] == [str(start)] and sent["end_at"] == [str(end)]
    assert sent["token_id"] == [YES_A]
    assert [int(c.timestamp.timestamp()) for c in candles] == [1766988000, 1767009600, 1767074400, 1767096000]
    first = candles[0]  # 10:00 and 11:00 UTC fall in the 06:00 bucket; 12:00 opens the next one
    assert (first.open, first.high, first.low, first.close) == (0.41, 0.47, 0.41, 0.47)
    assert candles[1].close == 0.39 and candles[2].close == 0.52 and candles[3].close == 0.50
    for interval, asked in (("1h", "1h"), ("1d", "1d"), ("1w", "1d"), ("max", "1d")):
        asyncio.run(a.get_price_history(m, m.outcomes[0], interval, start, end))
        assert parse_qs(urlparse(str(venue.calls[-1].url)).query)["interval"] == [asked]


def test_one_minute_history_is_a_clear_400_naming_what_is_served(venue):
    a = adapter()
    m = asyncio.run(a.list_markets())[0]
    calls = len(venue.calls)
    with pytest.raises(VenueBadRequest) as exc:
        asyncio.run(a.get_price_history(m, m.outcomes[0], "1m", 1767000000, 1767100000))
    assert "1h, 6h, 1d, 1w, max" in exc.value.message and len(venue.calls) == calls


def test_errno_with_http_200_is_an_error(venue):
    a = adapter()
    with pytest.raises(MarketNotFound):
        asyncio.run(a.get_market("424242"))
    with pytest.raises(VenueAuthError):
        asyncio.run(adapter(key="wrong").list_markets())
    with pytest.raises(VenueBadRequest):
        asyncio.run(a.md._get("/openapi/token/boom"))


def test_get_market_detail_and_unknown_ids(venue):
    a = adapter()
    m = asyncio.run(a.get_market("1005"))
    assert m.exchange_market_id == "1005" and m.question == "Binary market 5"
    calls = len(venue.calls)
    assert asyncio.run(a.get_market("1005")) is m  # cached: no second venue call
    assert len(venue.calls) == calls
    with pytest.raises(MarketNotFound):
        asyncio.run(a.get_market("not-a-number"))
    assert len(venue.calls) == calls  # rejected without asking the venue
    with pytest.raises(MarketNotFound):
        asyncio.run(a.get_market(PARENT))  # a categorical parent is not tradable itself


def test_child_detail_keeps_its_group_after_cache_expiry(venue):
    a = adapter()
    asyncio.run(a.list_markets())
    a.market_cache.clear()  # metadata expired; the parent link survives
    child = asyncio.run(a.get_market(str(C1["marketId"])))
    assert child.exchange_group_id == PARENT
    assert child.question == "Who will win Super Bowl LXI - Chiefs"


def test_live_market_detail(venue):
    """The live body: labels YES/NO in capitals, volume24h beside volume, seconds timestamps."""
    m = asyncio.run(adapter().get_market("8453"))
    assert m.question == "Will Reza Pahlavi lead Iran in 2026?" and m.market_type == "binary"
    assert [o.name for o in m.outcomes] == ["YES", "NO"] and m.outcomes[0].token_id.startswith("1087612329966")
    assert m.volume_total == pytest.approx(11462989.017) and m.volume_24h == pytest.approx(8686.888)
    assert int(m.end_date.timestamp()) == 1798675200 and m.status == "active"


def test_weekly_candles_are_built_from_the_daily_series(venue):
    a = adapter()
    m = asyncio.run(a.list_markets())[0]
    candles = asyncio.run(a.get_price_history(m, m.outcomes[0], "1w", 1789603200, 1790812800))
    assert parse_qs(urlparse(str(venue.calls[-1].url)).query)["interval"] == ["1d"]
    # Weeks start on Monday: 2026-09-14, -21 and -28 hold the 15 live daily points.
    assert [(int(c.timestamp.timestamp()), c.open, c.close) for c in candles] == [
        (1789344000, 0.67, 0.66), (1789948800, 0.66, 0.719), (1790553600, 0.719, 0.719)]
