"""The sandbox venues speak the venues' shapes: one shape check per endpoint an adapter calls, fed with
the recorded venue payload (tests/fixtures/venues, never generated from the sandbox) and with the
sandbox's answer to the same request. A check names the fields the adapter reads and what each must
be: type (string or number), unit (0..1 probability or percent, 1e6- or 1e18-scaled integers) and time
format (ISO, epoch seconds or milliseconds). When the sandbox drifts from the venue - or a fixture is
swapped for a payload of another shape - the endpoint's check goes red."""
from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime
from typing import Any, Callable

import httpx
import pytest

from pmrouter.exchanges.registry import all_adapters
from shared.sandbox import kalshi, limitless, opinion, polymarket, predictfun
from shared.sandbox.universe import current_universe
from tests.fixtures.venues import load


# --- kinds ---------------------------------------------------------------------------------------------

def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _float_str(v: Any) -> float | None:
    if not isinstance(v, str):
        return None
    try:
        return float(v)
    except ValueError:
        return None


def _digits(v: Any) -> bool:
    return isinstance(v, str) and v.isdigit()


def _iso(v: Any) -> bool:
    if not isinstance(v, str) or "T" not in v:
        return False
    try:
        datetime.fromisoformat(v.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


KINDS: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "str?": lambda v: v is None or isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "num": _num,
    "bool": lambda v: isinstance(v, bool),
    "prob": lambda v: _num(v) and 0 <= v <= 1,  # a probability as a JSON number
    "prob_str": lambda v: (f := _float_str(v)) is not None and 0 <= f <= 1,  # ... as a decimal string
    "pct": lambda v: _num(v) and 0 <= v <= 100,  # a percent (the series must also exceed 1 somewhere)
    "num_str": lambda v: _float_str(v) is not None,
    "e6_int": lambda v: isinstance(v, int) and v >= 1000 and v % 1000 == 0,  # shares x 1e6 (0.001 share steps)
    "e6_str": lambda v: _digits(v) and int(v) >= 1000,  # an amount x 1e6 as a digit string
    "wei": lambda v: _digits(v) and int(v) >= 10**12,  # an amount x 1e18 as a digit string
    "s": lambda v: isinstance(v, int) and 10**9 <= v < 10**11,  # epoch seconds
    "ms": lambda v: isinstance(v, int) and 10**11 <= v < 10**14,  # epoch milliseconds
    "ms_str": lambda v: _digits(v) and 10**11 <= int(v) < 10**14,
    "iso": _iso,
    "side01": lambda v: v in (0, 1) and not isinstance(v, bool),
    "json_list": lambda v: isinstance(v, str) and isinstance(json.loads(v), list),
}

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d*)\]")


def values(payload: Any, path: str) -> list[Any]:
    """Every value at `path`: `a.b` keys, `[]` each element, `[0]` one element."""
    found = [payload]
    for key, index in _TOKEN.findall(path):
        nxt: list[Any] = []
        for node in found:
            if key:
                if isinstance(node, dict) and key in node:
                    nxt.append(node[key])
            elif index == "":
                if isinstance(node, list):
                    nxt.extend(node)
            elif isinstance(node, list) and len(node) > int(index):
                nxt.append(node[int(index)])
        found = nxt
    return found


def shape_errors(payload: Any, spec: dict[str, str]) -> list[str]:
    errors = []
    for path, kind in spec.items():
        got = values(payload, path)
        if not got:
            errors.append(f"{path}: missing")
            continue
        bad = [v for v in got if not KINDS[kind](v)]
        if bad:
            errors.append(f"{path}: expected {kind}, got {bad[:3]!r}")
        elif kind == "pct" and len(got) > 1 and max(got) <= 1:
            errors.append(f"{path}: expected a percent series, every value is <= 1: {got[:3]!r}")
    return errors


# --- one check per endpoint ------------------------------------------------------------------------------

LIMITLESS_MARKET = {"slug": "str", "title": "str", "status": "str", "tradeType": "str", "marketType": "str",
                    "tokens.yes": "str", "tokens.no": "str", "prices[]": "prob", "metadata.fee": "bool",
                    "settings.minSize": "e6_str", "volumeFormatted": "num_str", "volume": "str",
                    "expirationTimestamp": "ms", "createdAt": "iso", "venue.exchange": "str",
                    "collateralToken.decimals": "int"}
OPINION_MARKET = {"marketId": "int", "marketTitle": "str", "status": "int", "yesTokenId": "str", "noTokenId": "str",
                  "yesLabel": "str", "noLabel": "str", "volume": "num_str", "cutoffAt": "s", "createdAt": "s",
                  "conditionId": "str", "chainId": "str"}
PREDICT_MARKET = {"id": "int", "question": "str", "title": "str", "status": "str", "tradingStatus": "str",
                  "categorySlug": "str", "feeRateBps": "int", "decimalPrecision": "int", "createdAt": "iso",
                  "isNegRisk": "bool", "outcomes[].indexSet": "int", "outcomes[].onChainId": "str",
                  "outcomes[].name": "str"}
KALSHI_MARKET = {"ticker": "str", "event_ticker": "str", "title": "str", "status": "str", "close_time": "iso",
                 "yes_bid_dollars": "prob_str", "yes_ask_dollars": "prob_str", "last_price_dollars": "prob_str",
                 "volume_fp": "num_str", "volume_24h_fp": "num_str", "open_interest_fp": "num_str",
                 "price_ranges[].start": "prob_str", "price_ranges[].step": "num_str"}
KALSHI_EVENT = {"event_ticker": "str", "series_ticker": "str", "title": "str"}
PREDICT_CATEGORY = {"slug": "str", "title": "str", "startsAt": "iso", "endsAt": "iso", "status": "str"}
GAMMA_MARKET = {"id": "str", "question": "str", "slug": "str", "conditionId": "str", "outcomes": "json_list",
                "outcomePrices": "json_list", "clobTokenIds": "json_list", "orderPriceMinTickSize": "num",
                "orderMinSize": "num", "volumeNum": "num", "negRisk": "bool", "active": "bool", "closed": "bool",
                "endDate": "iso", "events[].id": "str", "events[].title": "str"}

SPECS: dict[tuple[str, str], dict[str, str]] = {
    ("limitless", "markets_active"): {"totalMarketsCount": "int", "data[].slug": "str", "data[].title": "str",
                                      "data[].marketType": "str"},
    ("limitless", "market"): LIMITLESS_MARKET,
    ("limitless", "market_group"): {"slug": "str", "title": "str", "marketType": "str",
                                    **{f"markets[].{k}": v for k, v in LIMITLESS_MARKET.items()}},
    ("limitless", "orderbook"): {"bids[].price": "prob", "bids[].size": "e6_int", "asks[].price": "prob",
                                 "asks[].size": "e6_int", "tokenId": "str", "minSize": "e6_str",
                                 "maxSpread": "num_str", "adjustedMidpoint": "prob"},
    ("limitless", "historical_price_single"): {"title": "str", "prices[].timestamp": "ms_str", "prices[].price": "prob"},
    ("limitless", "events"): {"events[].createdAt": "iso", "events[].price": "prob", "events[].side": "side01",
                              "events[].matchedSize": "e6_str", "events[].makerAmount": "str",
                              "events[].takerAmount": "str", "events[].tokenId": "str", "events[].txHash": "str",
                              "page": "int", "limit": "int", "totalPages": "int", "totalRows": "int"},
    ("opinion", "market_list"): {"errno": "int", "errmsg": "str", "result.total": "int",
                                 "result.list[].marketId": "int", "result.list[].marketTitle": "str",
                                 "result.list[].status": "int", "result.list[].volume": "num_str"},
    ("opinion", "market"): {"errno": "int", **{f"result.data.{k}": v for k, v in OPINION_MARKET.items()}},
    ("opinion", "market_categorical"): {"errno": "int", "result.data.marketId": "int", "result.data.marketTitle": "str",
                                        **{f"result.data.childMarkets[].{k}": v for k, v in OPINION_MARKET.items()}},
    ("opinion", "orderbook"): {"errno": "int", "result.bids[].price": "prob_str", "result.bids[].size": "num_str",
                               "result.asks[].price": "prob_str", "result.asks[].size": "num_str",
                               "result.timestamp": "ms", "result.tokenId": "str"},
    ("opinion", "price_history_1h"): {"errno": "int", "result.history[].t": "s", "result.history[].p": "prob_str"},
    ("opinion", "price_history_1d"): {"errno": "int", "result.history[].t": "s", "result.history[].p": "prob_str"},
    ("predictfun", "markets"): {"success": "bool", "cursor": "str?", **{f"data[].{k}": v for k, v in PREDICT_MARKET.items()}},
    ("predictfun", "market"): {"success": "bool", **{f"data.{k}": v for k, v in PREDICT_MARKET.items()}},
    ("predictfun", "categories"): {"success": "bool", "cursor": "str?", **{f"data[].{k}": v for k, v in PREDICT_CATEGORY.items()}},
    ("predictfun", "category"): {"success": "bool", **{f"data.{k}": v for k, v in PREDICT_CATEGORY.items()}},
    ("predictfun", "orderbook"): {"success": "bool", "data.bids[][0]": "prob", "data.bids[][1]": "num",
                                  "data.asks[][0]": "prob", "data.asks[][1]": "num", "data.updateTimestampMs": "ms",
                                  "data.marketId": "int"},
    ("predictfun", "matches"): {"success": "bool", "cursor": "str?", "data[].priceExecuted": "wei",
                                "data[].amountFilled": "wei", "data[].executedAt": "iso", "data[].transactionHash": "str",
                                "data[].taker.quoteType": "str", "data[].taker.outcome.indexSet": "int",
                                "data[].taker.signer": "str"},
    ("predictfun", "timeseries"): {"success": "bool", "data.resolution": "str", "data.series[].x": "s",
                                   "data.series[].y": "pct"},
    ("kalshi", "markets"): {"cursor": "str", **{f"markets[].{k}": v for k, v in KALSHI_MARKET.items()}},
    ("kalshi", "market"): {f"market.{k}": v for k, v in KALSHI_MARKET.items()},
    ("kalshi", "events"): {f"events[].{k}": v for k, v in KALSHI_EVENT.items()},
    ("kalshi", "event"): {f"event.{k}": v for k, v in KALSHI_EVENT.items()},
    ("kalshi", "orderbook"): {"orderbook_fp.yes_dollars[][0]": "prob_str", "orderbook_fp.yes_dollars[][1]": "num_str",
                              "orderbook_fp.no_dollars[][0]": "prob_str", "orderbook_fp.no_dollars[][1]": "num_str"},
    ("kalshi", "candlesticks_quotes"): {"candlesticks[].end_period_ts": "s", "candlesticks[].volume_fp": "num_str",
                                        "candlesticks[].open_interest_fp": "num_str",
                                        "candlesticks[].yes_bid.close_dollars": "prob_str",
                                        "candlesticks[].yes_ask.close_dollars": "prob_str"},
    ("kalshi", "trades"): {"trades[].trade_id": "str", "trades[].count_fp": "num_str",
                           "trades[].yes_price_dollars": "prob_str", "trades[].no_price_dollars": "prob_str",
                           "trades[].taker_outcome_side": "str", "trades[].created_time": "iso"},
    ("polymarket", "gamma_markets"): {f"[].{k}": v for k, v in GAMMA_MARKET.items()},
    ("polymarket", "gamma_market"): GAMMA_MARKET,
    ("polymarket", "gamma_market_by_slug"): GAMMA_MARKET,
    ("polymarket", "book"): {"asset_id": "str", "timestamp": "ms_str", "bids[].price": "prob_str",
                             "bids[].size": "num_str", "asks[].price": "prob_str", "asks[].size": "num_str",
                             "tick_size": "num_str", "min_order_size": "num_str", "neg_risk": "bool"},
    ("polymarket", "prices_history"): {"history[].t": "s", "history[].p": "prob"},
    ("polymarket", "clob_market"): {"t[].t": "str", "mts": "num", "mos": "num", "nr": "bool"},
    ("polymarket", "trades"): {"[].asset": "str", "[].conditionId": "str", "[].side": "str", "[].size": "num",
                               "[].price": "prob", "[].timestamp": "s", "[].outcome": "str",
                               "[].transactionHash": "str", "[].proxyWallet": "str"},
}


def _fixture(venue: str, name: str) -> Any:
    # Lists and details carry the same objects: the recorded one stands in the envelope the other uses.
    if (venue, name) == ("kalshi", "events"):
        return {"events": [load("kalshi", "event")["event"]], "cursor": ""}
    if (venue, name) == ("kalshi", "market"):
        return {"market": load("kalshi", "markets")["markets"][0]}
    if (venue, name) in (("polymarket", "gamma_market"), ("polymarket", "gamma_market_by_slug")):
        return load("polymarket", "gamma_markets")[0]
    if (venue, name) == ("predictfun", "category"):
        return {"success": True, "data": load("predictfun", "categories")["data"][0]}
    return load(venue, name)


# --- the sandbox's answers -------------------------------------------------------------------------------

async def _get(app: Any, path: str, params: dict | None = None, headers: dict | None = None) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
        resp = await client.get(path, params=params, headers=headers)
        assert resp.status_code == 200, f"{path}: {resp.status_code} {resp.text[:200]}"
        return resp.json()


async def _limitless(u) -> dict[str, Any]:
    app = limitless.create_app(u)
    page = await _get(app, "/markets/active", {"page": 1, "limit": 25})
    rows, n = list(page["data"]), 1
    while not any(r.get("markets") for r in rows) and n * 25 < page["totalMarketsCount"]:
        n += 1
        rows += (await _get(app, "/markets/active", {"page": n, "limit": 25}))["data"]
    single = next(r for r in rows if r.get("tokens") and r.get("status") == "FUNDED")
    group = next(r for r in rows if r.get("markets"))
    slug = single["slug"]
    return {
        "markets_active": page,
        "market": await _get(app, f"/markets/{slug}"),
        "market_group": await _get(app, f"/markets/{group['slug']}"),
        "orderbook": await _get(app, f"/markets/{slug}/orderbook"),
        "historical_price_single": await _get(app, f"/markets/{slug}/historical-price", {"interval": "1w"}),
        "events": await _get(app, f"/markets/{slug}/events", {"page": 1, "limit": 25}),
    }


async def _opinion(u) -> dict[str, Any]:
    app = opinion.create_app(u)
    h = {"apikey": "shape-test"}
    query = {"page": 1, "limit": 20, "marketType": 2, "chainId": 56}
    page = await _get(app, "/openapi/market", query, h)
    rows = list(page["result"]["list"])
    while not any(r.get("childMarkets") for r in rows) and query["page"] * 20 < page["result"]["total"]:
        query["page"] += 1
        rows += (await _get(app, "/openapi/market", query, h))["result"]["list"]
    binary = next(r for r in rows if not r.get("childMarkets") and r.get("status") == 2)
    parent = next(r for r in rows if r.get("childMarkets"))
    token = binary["yesTokenId"]
    hist = {"token_id": token, "start_at": 0, "end_at": 4_000_000_000}
    return {
        "market_list": page,
        "market": await _get(app, f"/openapi/market/{binary['marketId']}", None, h),
        "market_categorical": await _get(app, f"/openapi/market/categorical/{parent['marketId']}", None, h),
        "orderbook": await _get(app, "/openapi/token/orderbook", {"token_id": token}, h),
        "price_history_1h": await _get(app, "/openapi/token/price-history", {**hist, "interval": "1h"}, h),
        "price_history_1d": await _get(app, "/openapi/token/price-history", {**hist, "interval": "1d"}, h),
    }


async def _predictfun(u) -> dict[str, Any]:
    app = predictfun.create_app(u)
    h = {"x-api-key": "shape-test"}
    page = await _get(app, "/v1/markets", {"first": 20}, h)
    m = next(r for r in page["data"] if r.get("tradingStatus") == "OPEN")
    mid = m["id"]
    now = int(u.now.timestamp())
    return {
        "markets": page,
        "market": await _get(app, f"/v1/markets/{mid}", None, h),
        "categories": await _get(app, "/v1/categories", {"first": 20}, h),
        "category": await _get(app, f"/v1/categories/{m['categorySlug']}", None, h),
        "orderbook": await _get(app, f"/v1/markets/{mid}/orderbook", None, h),
        "matches": await _get(app, "/v1/orders/matches", {"marketId": mid, "first": 20}, h),
        "timeseries": await _get(app, f"/v1/markets/{mid}/timeseries",
                                 {"metric": "chance", "resolution": "1h", "from": now - 3 * 86400, "to": now}, h),
    }


async def _kalshi(u) -> dict[str, Any]:
    app = kalshi.create_app(u)
    base = "/trade-api/v2"
    page = await _get(app, f"{base}/markets", {"limit": 100, "status": "open"})
    m = next(r for r in page["markets"] if float(r["volume_fp"]) > 0)
    ticker, event_ticker = m["ticker"], m["event_ticker"]
    event = await _get(app, f"{base}/events/{event_ticker}")
    series = event["event"]["series_ticker"]
    now = int(u.now.timestamp())
    return {
        "markets": page,
        "market": await _get(app, f"{base}/markets/{ticker}"),
        "events": await _get(app, f"{base}/events", {"limit": 50}),
        "event": event,
        "orderbook": await _get(app, f"{base}/markets/{ticker}/orderbook"),
        "candlesticks_quotes": await _get(app, f"{base}/series/{series}/markets/{ticker}/candlesticks",
                                          {"start_ts": now - 3 * 86400, "end_ts": now, "period_interval": 60}),
        "trades": await _get(app, f"{base}/markets/trades", {"ticker": ticker, "limit": 50}),
    }


async def _polymarket(u) -> dict[str, Any]:
    gamma, clob, data = polymarket.create_gamma_app(u), polymarket.create_clob_app(u), polymarket.create_data_app(u)
    rows = await _get(gamma, "/markets", {"limit": 20, "offset": 0, "closed": "false"})
    m = next(r for r in rows if r.get("active") and not r.get("closed"))
    token = json.loads(m["clobTokenIds"])[0]
    now = int(u.now.timestamp())
    return {
        "gamma_markets": rows,
        "gamma_market": await _get(gamma, f"/markets/{m['id']}"),
        "gamma_market_by_slug": await _get(gamma, f"/markets/slug/{m['slug']}"),
        "book": await _get(clob, "/book", {"token_id": token}),
        "prices_history": await _get(clob, "/prices-history", {"market": token, "startTs": now - 3 * 86400,
                                                              "endTs": now, "fidelity": 60}),
        "clob_market": await _get(clob, f"/clob-markets/{m['conditionId']}"),
        "trades": await _get(data, "/trades", {"market": m["conditionId"], "limit": 50, "offset": 0}),
    }


FETCH = {"limitless": _limitless, "opinion": _opinion, "predictfun": _predictfun, "kalshi": _kalshi,
         "polymarket": _polymarket}


@pytest.fixture(scope="module")
def sandbox() -> dict[str, Any]:
    """Each venue's answers, or why they could not be had (that venue's checks then fail with it)."""
    universe = current_universe()
    out: dict[str, Any] = {}
    for venue, fetch in FETCH.items():
        try:
            out[venue] = asyncio.run(fetch(universe))
        except (AssertionError, StopIteration, RuntimeError, KeyError) as exc:
            out[venue] = exc
    return out


@pytest.mark.parametrize("venue,endpoint", sorted(SPECS), ids=lambda x: x if isinstance(x, str) else None)
def test_fixture_has_the_venue_shape(venue, endpoint):
    assert shape_errors(_fixture(venue, endpoint), SPECS[(venue, endpoint)]) == []


@pytest.mark.parametrize("venue,endpoint", sorted(SPECS), ids=lambda x: x if isinstance(x, str) else None)
def test_sandbox_speaks_the_venue_shape(sandbox, venue, endpoint):
    answers = sandbox[venue]
    assert not isinstance(answers, Exception), f"the {venue} sandbox did not answer: {answers!r}"
    assert shape_errors(answers[endpoint], SPECS[(venue, endpoint)]) == []


def test_the_check_sees_unit_drift():
    """The drifts that once made the sandbox agree with wrong adapter code are caught."""
    market = load("limitless", "market")
    assert shape_errors({**market, "prices": [64.5, 35.5]}, LIMITLESS_MARKET) == [
        "prices[]: expected prob, got [64.5, 35.5]"]
    assert shape_errors({**market, "settings": {**market["settings"], "minSize": 1}}, LIMITLESS_MARKET)
    assert shape_errors({**market, "metadata": {"fee": 300}}, LIMITLESS_MARKET)
    hist = load("limitless", "historical_price_single")
    drifted = {"title": "t", "prices": [{"timestamp": 1_700_000_000_000, "value": 60.0}]}
    assert shape_errors(drifted, SPECS[("limitless", "historical_price_single")]) == [
        "prices[].timestamp: expected ms_str, got [1700000000000]", "prices[].price: missing"]
    assert shape_errors(hist, SPECS[("limitless", "historical_price_single")]) == []
    series = load("predictfun", "timeseries")
    series["data"]["series"] = [{"x": p["x"], "y": p["y"] / 100} for p in series["data"]["series"]]
    assert "every value is <= 1" in shape_errors(series, SPECS[("predictfun", "timeseries")])[0]


def test_every_endpoint_an_adapter_calls_is_checked():
    """Each venue's endpoints (as its adapter's market-data module calls them) have a shape check."""
    expected = {
        "limitless": {"markets_active", "market", "market_group", "orderbook", "historical_price_single", "events"},
        "opinion": {"market_list", "market", "market_categorical", "orderbook", "price_history_1h", "price_history_1d"},
        "predictfun": {"markets", "market", "categories", "category", "orderbook", "matches", "timeseries"},
        "kalshi": {"markets", "market", "events", "event", "orderbook", "candlesticks_quotes", "trades"},
        "polymarket": {"gamma_markets", "gamma_market", "gamma_market_by_slug", "book", "prices_history",
                       "clob_market", "trades"},
    }
    for venue, names in expected.items():
        assert {e for v, e in SPECS if v == venue} == names


def test_exchanges_list_price_history_on_all_five_venues():
    caps = {a.id: a.capabilities for a in all_adapters()}
    assert set(caps) == {"polymarket", "kalshi", "limitless", "opinion", "predictfun"}
    assert all(c.fetch_price_history for c in caps.values())
