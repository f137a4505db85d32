"""The market-data API end to end: HTTP in, auth against DynamoDB (moto), catalog snapshot, adapters
talking to the sandbox venues over loopback."""
from __future__ import annotations

import math
import time

import pytest

from pmrouter.exchanges.registry import EXCHANGE_IDS, all_adapters

VENUES = list(EXCHANGE_IDS)


def _error(resp, status, code):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["retryable"], bool)
    return body


def _first_market(api, exchange, **extra):
    resp = api.get("/markets", params={"exchanges": exchange, "limit": 50, **extra})
    assert resp.status_code == 200, resp.text
    markets = resp.json()["markets"]
    assert markets, f"no markets for {exchange}"
    return markets


# --- auth -------------------------------------------------------------------------------------------

def test_missing_and_wrong_api_key_get_401(anon):
    _error(anon.get("/exchanges"), 401, "unauthorized")
    _error(anon.get("/markets", headers={"X-API-Key": "pk_live_not-a-real-key"}), 401, "unauthorized")
    _error(anon.get("/orderbook", params={"parsec_id": "kalshi:X"}, headers={"X-API-Key": "nope"}), 401, "unauthorized")


def test_api_keys_are_stored_hashed(stack):
    import boto3

    from pmrouter.settings import get_settings

    items = boto3.resource("dynamodb").Table(get_settings().api_keys_table).scan()["Items"]
    assert items
    for item in items:
        assert stack.api_key not in str(item)
        assert len(item["key_hash"]) == 64


# --- exchanges ---------------------------------------------------------------------------------------

def test_exchanges_are_derived_from_adapter_capabilities(api):
    body = api.get("/exchanges").json()
    assert [e["id"] for e in body] == VENUES
    declared = {a.id: a.capabilities.as_dict() for a in all_adapters()}
    for e in body:
        assert e["has"] == declared[e["id"]]
    trading = {e["id"] for e in body if e["has"]["create_order"]}
    assert trading == {"polymarket", "kalshi", "limitless", "opinion", "predictfun"}
    assert all(e["has"]["fetch_markets"] and e["has"]["fetch_orderbook"] for e in body)


# --- markets -----------------------------------------------------------------------------------------

def test_market_list_defaults_to_active_sorted_by_volume_and_pages_cleanly(api):
    first = api.get("/markets").json()
    assert first["scope"] == "list"
    assert first["pagination"]["count"] == len(first["markets"]) == 100
    assert first["pagination"]["has_more"] is True
    total = first["pagination"]["total"]
    assert total >= 200
    seen, cursor, volumes = set(), None, []
    while True:
        params = {"limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/markets", params=params).json()
        for m in page["markets"]:
            assert m["status"] == "active"
            assert m["parsec_id"] == f"{m['exchange']}:{m['exchange_market_id']}"
            assert m["parsec_id"] not in seen
            seen.add(m["parsec_id"])
            volumes.append(m["volume_total"])
        if not page["pagination"]["has_more"]:
            assert "next_cursor" not in page["pagination"]
            break
        cursor = page["pagination"]["next_cursor"]
    assert len(seen) == total
    assert volumes == sorted(volumes, reverse=True)
    assert {m.split(":")[0] for m in seen} == set(VENUES)


def test_market_search_is_case_insensitive_on_question_and_description(api):
    body = api.get("/markets", params={"search": "BiTcOiN", "limit": 100}).json()
    assert body["markets"]
    for m in body["markets"]:
        assert "bitcoin" in (m["question"] + " " + (m.get("description") or "")).lower()
    narrowed = api.get("/markets", params={"search": "bitcoin", "exchanges": "kalshi,polymarket"}).json()
    assert narrowed["markets"] and {m["exchange"] for m in narrowed["markets"]} <= {"kalshi", "polymarket"}
    none = api.get("/markets", params={"search": "zzqx-no-such-market"}).json()
    assert none["markets"] == [] and none["pagination"]["total"] == 0


def test_market_filters(api):
    big = api.get("/markets", params={"min_volume": 1_000_000}).json()["markets"]
    assert big and all(m["volume_total"] >= 1_000_000 for m in big)
    resolved = api.get("/markets", params={"status": "resolved"}).json()["markets"]
    assert resolved and all(m["status"] == "resolved" for m in resolved)
    _error(api.get("/markets", params={"status": "sleepy"}), 400, "validation_error")
    _error(api.get("/markets", params={"exchanges": "polymarket,nasdaq"}), 404, "exchange_not_found")
    _error(api.get("/markets", params={"limit": 0}), 400, "validation_error")
    _error(api.get("/markets", params={"limit": "ten"}), 400, "validation_error")
    _error(api.get("/markets", params={"cursor": "not-a-cursor"}), 400, "validation_error")
    clamped = api.get("/markets", params={"limit": 5000}).json()
    assert clamped["pagination"]["count"] == 100


def test_market_scope_by_either_selector(api):
    m = _first_market(api, "kalshi")[0]
    one = api.get("/markets", params={"scope": "market", "parsec_id": m["parsec_id"]}).json()
    assert one["scope"] == "market" and one["markets"][0]["parsec_id"] == m["parsec_id"]
    two = api.get("/markets", params={"exchange": "kalshi", "exchange_market_id": m["exchange_market_id"]}).json()
    assert two["markets"][0] == one["markets"][0]
    _error(api.get("/markets", params={"scope": "market", "parsec_id": "kalshi:NOPE-1"}), 404, "market_not_found")
    _error(api.get("/markets", params={"scope": "market", "parsec_id": "nonsense"}), 400, "validation_error")
    _error(api.get("/markets", params={"scope": "market", "parsec_id": m["parsec_id"], "exchange": "kalshi"}), 400,
           "validation_error")
    body = _error(api.get("/markets", params={"scope": "market", "search": "x", "parsec_id": m["parsec_id"]}), 400,
                  "validation_error")
    assert any("search" in e for e in body["validation_errors"])


def test_market_batch_reports_duplicates_and_missing(api):
    ms = _first_market(api, "polymarket")[:3]
    ids = [m["parsec_id"] for m in ms]
    query = ",".join(ids + [ids[0], "polymarket:999999999999"])
    body = api.get("/markets", params={"parsec_ids": query}).json()
    assert body["scope"] == "market_batch"
    assert [m["parsec_id"] for m in body["markets"]] == ids
    assert body["duplicate_ids"] == [ids[0]]
    assert body["not_found_ids"] == ["polymarket:999999999999"]
    too_many = ",".join(f"kalshi:T{i}" for i in range(101))
    body = _error(api.get("/markets", params={"parsec_ids": too_many}), 400, "validation_error")
    assert "at most 100" in body["error"]
    _error(api.get("/markets", params={"scope": "market_batch"}), 400, "validation_error")


def test_include_matches_pairs_the_same_question_across_venues(api):
    body = api.get("/markets", params={"search": "bitcoin", "include_matches": "true", "limit": 100}).json()
    with_matches = [m for m in body["markets"] if m.get("matched_markets")]
    assert with_matches
    for m in with_matches:
        for link in m["matched_markets"]:
            assert link["exchange"] != m["exchange"]
            assert 0 < link["confidence"] <= 1
            assert link["confidence_tier"] in ("HIGH", "MEDIUM", "LOW")
    plain = api.get("/markets", params={"search": "bitcoin", "limit": 5}).json()
    assert all("matched_markets" not in m for m in plain["markets"])


# --- events ------------------------------------------------------------------------------------------

def test_events_sorted_by_volume_and_lookup_by_alias(api):
    body = api.get("/events", params={"limit": 20}).json()
    events = body["events"]
    assert events
    vols = [e["total_volume"] for e in events]
    assert vols == sorted(vols, reverse=True)
    top = events[0]
    by_alias = api.get("/events", params={"event_id": "ev:" + top["event_id"], "include_markets": "true"}).json()
    assert len(by_alias["events"]) == 1
    got = by_alias["events"][0]
    assert got["event_id"] == top["event_id"]
    assert len(got["markets"]) == got["market_count"] == top["market_count"]
    scoped = api.get("/markets", params={"scope": "event", "event_id": top["event_id"]}).json()
    assert scoped["event"]["event_id"] == top["event_id"]
    assert {m["parsec_group_id"] for m in scoped["markets"]} == {top["event_id"]}
    missing = api.get("/events", params={"event_id": "kalshi:NO-SUCH-EVENT"}).json()
    assert missing["events"] == []
    _error(api.get("/markets", params={"scope": "event", "event_id": "kalshi:NO-SUCH-EVENT"}), 404, "event_not_found")


# --- orderbook ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("exchange", VENUES)
def test_orderbook_is_best_first_on_every_venue(api, exchange):
    markets = [m for m in _first_market(api, exchange) if m["market_type"] == "binary"]
    m = markets[0]
    for outcome in ("yes", "no"):
        resp = api.get("/orderbook", params={"parsec_id": m["parsec_id"], "outcome": outcome, "limit": 10})
        assert resp.status_code == 200, resp.text
        book = resp.json()
        assert book["parsec_id"] == m["parsec_id"] and book["outcome"].lower() == outcome
        bids = [lvl[0] for lvl in book["bids"]]
        asks = [lvl[0] for lvl in book["asks"]]
        assert bids and asks
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
        assert bids[0] < asks[0]
        assert len(book["bids"]) <= 10 and len(book["asks"]) <= 10
        assert all(0 < p < 1 for p in bids + asks)
        if book.get("tick_size"):
            for p in bids + asks:
                steps = p / book["tick_size"]
                assert math.isclose(steps, round(steps), abs_tol=1e-6)
    same = api.get("/orderbook", params={"exchange": exchange, "market_id": m["exchange_market_id"], "limit": 10})
    assert same.status_code == 200 and same.json()["parsec_id"] == m["parsec_id"]


def test_orderbook_bad_input(api):
    m = _first_market(api, "kalshi")[0]
    _error(api.get("/orderbook", params={"exchange": "nasdaq", "market_id": "X"}), 404, "exchange_not_found")
    _error(api.get("/orderbook", params={"parsec_id": "kalshi:NO-SUCH-TICKER"}), 404, "market_not_found")
    _error(api.get("/orderbook", params={"parsec_id": m["parsec_id"], "exchange": "kalshi"}), 400, "validation_error")
    _error(api.get("/orderbook", params={"exchange": "kalshi"}), 400, "missing_parameter")
    _error(api.get("/orderbook"), 400, "missing_parameter")
    _error(api.get("/orderbook", params={"parsec_id": m["parsec_id"], "outcome": "maybe"}), 400, "validation_error")
    _error(api.get("/orderbook", params={"parsec_id": m["parsec_id"], "limit": 0}), 400, "validation_error")
    clamped = api.get("/orderbook", params={"parsec_id": m["parsec_id"], "limit": 5000}).json()
    assert len(clamped["bids"]) <= 100
    hist = api.get("/orderbook", params={"parsec_id": m["parsec_id"], "start_ts": int(time.time()) - 3600})
    _error(hist, 501, "not_supported")
    assert hist.headers["x-should-retry"] == "false"


def test_categorical_market_needs_an_outcome(api):
    cats = [m for m in api.get("/markets", params={"exchanges": "polymarket", "limit": 100, "search": "vs"}).json()["markets"]
            if m["market_type"] == "categorical"]
    assert cats, "the sandbox lists head-to-head (categorical) markets on Polymarket"
    m = cats[0]
    body = _error(api.get("/orderbook", params={"parsec_id": m["parsec_id"]}), 400, "validation_error")
    assert m["outcomes"][0]["name"] in body["error"]
    by_label = api.get("/orderbook", params={"parsec_id": m["parsec_id"], "outcome": m["outcomes"][1]["name"].upper()})
    by_index = api.get("/orderbook", params={"parsec_id": m["parsec_id"], "outcome": "1"})
    assert by_label.status_code == by_index.status_code == 200
    assert by_label.json()["outcome"] == by_index.json()["outcome"] == m["outcomes"][1]["name"]


# --- price and trades --------------------------------------------------------------------------------

@pytest.mark.parametrize("exchange", VENUES)
def test_price_candles(api, exchange):
    adapter = {a.id: a for a in all_adapters()}[exchange]
    m = [m for m in _first_market(api, exchange) if m["market_type"] == "binary"][0]
    resp = api.get("/price", params={"parsec_id": m["parsec_id"], "interval": "1h"})
    if not adapter.capabilities.fetch_price_history:
        _error(resp, 501, "not_supported")
        return
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["interval"] == "1h" and body["candles"]
    stamps = [c["timestamp"] for c in body["candles"]]
    assert stamps == sorted(stamps)
    for c in body["candles"]:
        assert 0 <= c["low"] <= min(c["open"], c["close"]) <= max(c["open"], c["close"]) <= c["high"] <= 1
    at = int(time.time()) - 2 * 86400
    point = api.get("/price", params={"parsec_id": m["parsec_id"], "interval": "1h", "at_ts": at}).json()
    assert len(point["candles"]) == 1


def test_price_bad_input(api):
    m = _first_market(api, "kalshi")[0]
    _error(api.get("/price", params={"parsec_id": m["parsec_id"], "interval": "2h"}), 400, "validation_error")
    _error(api.get("/price", params={"parsec_id": m["parsec_id"], "at_ts": 1, "start_ts": 1}), 400, "validation_error")
    _error(api.get("/price", params={"parsec_id": m["parsec_id"], "start_ts": 200, "end_ts": 100}), 400,
           "validation_error")


@pytest.mark.parametrize("exchange", VENUES)
def test_trades_newest_first_and_paged(api, exchange):
    adapter = {a.id: a for a in all_adapters()}[exchange]
    m = [m for m in _first_market(api, exchange) if m["market_type"] == "binary"][0]
    resp = api.get("/trades", params={"parsec_id": m["parsec_id"], "limit": 20})
    if not adapter.capabilities.fetch_trades:
        _error(resp, 501, "not_supported")
        assert resp.headers["x-should-retry"] == "false"
        return
    assert resp.status_code == 200, resp.text
    page1 = resp.json()
    assert 0 < len(page1["trades"]) <= 20
    stamps = [t["timestamp"] for t in page1["trades"]]
    assert stamps == sorted(stamps, reverse=True)
    assert all(0 < t["price"] < 1 and t["size"] > 0 for t in page1["trades"])
    if page1["has_more"]:
        page2 = api.get("/trades", params={"parsec_id": m["parsec_id"], "limit": 20,
                                           "cursor": page1["next_cursor"]}).json()
        assert page2["trades"]
        assert page2["trades"][0]["timestamp"] <= page1["trades"][-1]["timestamp"]
        ids1 = {t.get("id") for t in page1["trades"]}
        assert not ids1 & {t.get("id") for t in page2["trades"]} - {None}


# --- execution price ---------------------------------------------------------------------------------

@pytest.mark.parametrize("exchange", VENUES)
def test_execution_price_walks_the_live_book(api, exchange):
    m = [m for m in _first_market(api, exchange) if m["market_type"] == "binary"][0]
    book = api.get("/orderbook", params={"parsec_id": m["parsec_id"], "limit": 100}).json()
    asks = book["asks"]
    amount = asks[0][1] + asks[1][1] / 2  # all of the first level, half of the second
    est = api.get("/execution-price", params={"parsec_id": m["parsec_id"], "side": "buy", "amount": amount}).json()
    expected_cost = asks[0][0] * asks[0][1] + asks[1][0] * asks[1][1] / 2
    assert est["fully_filled"] is True and est["levels_consumed"] == 2
    assert math.isclose(est["filled_amount"], amount, rel_tol=1e-9)
    assert math.isclose(est["total_cost"], expected_cost, rel_tol=1e-9)
    # avg_price is rounded to 10 decimal places (pricing/execution.py): at prices of a few cents that is
    # more than a 1e-9 relative difference, so the tolerance is the rounding's half unit.
    assert math.isclose(est["avg_price"], expected_cost / amount, rel_tol=1e-9, abs_tol=5e-11)
    assert est["worst_price"] == asks[1][0]
    assert math.isclose(est["slippage"], (est["avg_price"] - asks[0][0]) / asks[0][0], rel_tol=1e-6)
    assert est["fee_info"]["exchange"] == exchange and est["fee_info"]["is_estimate"] is True
    if est["fee_estimate"] is not None:
        assert math.isclose(est["net_cost"], est["total_cost"] + est["fee_estimate"], rel_tol=1e-9)
    huge = api.get("/execution-price", params={"parsec_id": m["parsec_id"], "side": "sell", "amount": 10**9}).json()
    assert huge["fully_filled"] is False
    assert math.isclose(huge["filled_amount"], sum(s for _, s in book["bids"]), rel_tol=1e-6)


def test_kalshi_fee_estimate_follows_the_published_formula(api):
    m = _first_market(api, "kalshi")[0]
    book = api.get("/orderbook", params={"parsec_id": m["parsec_id"], "limit": 1}).json()
    price, size = book["asks"][0]
    n = min(size, 10)
    est = api.get("/execution-price", params={"parsec_id": m["parsec_id"], "side": "buy", "amount": n}).json()
    assert est["fee_info"]["fee_type"] == "quadratic"
    expected = math.ceil(round(0.07 * n * price * (1 - price) * 100, 9)) / 100
    assert math.isclose(est["fee_estimate"], expected, abs_tol=1e-9)


def test_execution_price_bad_input(api):
    m = _first_market(api, "kalshi")[0]
    _error(api.get("/execution-price", params={"parsec_id": m["parsec_id"], "side": "buy", "amount": 0}), 400,
           "validation_error")
    _error(api.get("/execution-price", params={"parsec_id": m["parsec_id"], "side": "hold", "amount": 5}), 400,
           "validation_error")
    body = _error(api.get("/execution-price", params={"parsec_id": m["parsec_id"], "side": "buy"}), 400,
                  "missing_parameter")
    assert "amount" in body["error"]
