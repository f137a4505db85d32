"""POST /orders refuses bad input with a 400 naming the field (or 501/402/403 as the contract says),
records nothing for it, and never echoes or stores a per-request secret."""
from __future__ import annotations

import base64
import json
import time

import boto3
import pytest
from eth_account import Account

from pmrouter.settings import get_settings


def _market(api, exchange):
    for m in api.get("/markets", params={"exchanges": exchange, "limit": 50}).json()["markets"]:
        if m["market_type"] == "binary" and m["status"] == "active":
            return m
    raise AssertionError("no market")


def _post(api, exchange, **body):
    return api.post("/orders", params={"exchange": exchange}, json=body)


def _bad(resp, status, code, *needles):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code, body
    text = body["error"] + " " + " ".join(body.get("validation_errors") or [])
    for n in needles:
        assert n in text, (n, text)


@pytest.mark.parametrize("exchange", ["polymarket", "kalshi"])
def test_field_errors_name_the_field(api, exchange):
    m = _market(api, exchange)
    base = {"market_id": m["exchange_market_id"], "outcome": "yes", "side": "buy", "price": 0.5, "size": 10}
    _bad(_post(api, exchange, **{**base, "price": 1.2}), 400, "validation_error", "price")
    _bad(_post(api, exchange, **{**base, "price": 0}), 400, "validation_error", "price")
    _bad(_post(api, exchange, **{**base, "price": 0.505}), 400, "validation_error", "tick size")
    _bad(_post(api, exchange, **{**base, "size": 0.5}), 400, "validation_error", "minimum order size")
    _bad(_post(api, exchange, **{**base, "outcome": "maybe"}), 400, "validation_error", "outcome")
    _bad(_post(api, exchange, **{**base, "side": "hold"}), 400, "validation_error", "side")
    _bad(_post(api, exchange, **{k: v for k, v in base.items() if k != "price"}), 400, "missing_parameter", "price")
    _bad(_post(api, exchange, **{**base, "params": {"order_type": "day"}}), 400, "validation_error", "order_type")
    _bad(_post(api, exchange, **{**base, "market_id": "NO-SUCH-MARKET-0x"}), 404, "market_not_found")
    _bad(api.post("/orders", json=base), 400, "missing_parameter", "exchange")


def test_gtd_expiration_rules(api):
    m = _market(api, "polymarket")
    base = {"market_id": m["exchange_market_id"], "outcome": "yes", "side": "buy", "price": 0.05, "size": 10}
    _bad(_post(api, "polymarket", **base, params={"order_type": "gtd"}), 400, "validation_error", "expiration")
    soon = str(int(time.time()) + 30)
    _bad(_post(api, "polymarket", **base, params={"order_type": "gtd", "expiration": soon}), 400, "validation_error",
         "60 s")
    _bad(_post(api, "polymarket", **base, params={"expiration": soon}), 400, "validation_error", "only valid")
    later = str(int(time.time()) + 3600)
    ok = _post(api, "polymarket", **base, params={"order_type": "gtd", "expiration": later})
    assert ok.status_code == 200 and ok.json()["status"] == "open"


@pytest.mark.parametrize("exchange", ["polymarket", "kalshi"])
def test_insufficient_funds_is_402(api, exchange):
    m = _market(api, exchange)
    resp = _post(api, exchange, market_id=m["exchange_market_id"], outcome="yes", side="buy", price=0.5, size=10_000_000)
    _bad(resp, 402, "insufficient_funds")
    assert resp.headers["x-should-retry"] == "false"


def test_missing_credentials_and_bad_per_request_credentials(anon, stack):
    from pmrouter.auth.apikeys import new_api_key, store_key

    key = new_api_key()
    store_key(key, "fresh-customer", "trader", "free")
    fresh = {"X-API-Key": key}
    m = {"market_id": "x", "outcome": "yes", "side": "buy", "price": 0.5, "size": 10}
    resp = anon.get("/balance", params={"exchange": "kalshi"}, headers=fresh)
    _bad(resp, 403, "credentials_required", "onboard")
    resp = anon.get("/balance", params={"exchange": "kalshi"}, headers={**fresh, "X-Exchange-Credentials": "%%%"})
    _bad(resp, 400, "validation_error", "X-Exchange-Credentials")
    secret = "0x" + "ab" * 32
    bad_pem = base64.b64encode(json.dumps({"api_key_id": "k", "private_key": secret}).encode()).decode()
    resp = anon.get("/balance", params={"exchange": "kalshi"}, headers={**fresh, "X-Exchange-Credentials": bad_pem})
    _bad(resp, 400, "validation_error", "private_key")
    assert secret not in resp.text
    del m


def test_per_request_secrets_are_never_stored(api, stack):
    pk = "0x" + bytes(Account.create().key).hex()
    m = _market(api, "polymarket")
    resp = api.post("/orders", params={"exchange": "polymarket"},
                    json={"market_id": m["exchange_market_id"], "outcome": "yes", "side": "buy", "price": 0.02,
                          "size": 10, "credentials": {"private_key": pk}})
    assert resp.status_code == 200, resp.text
    assert pk[2:] not in resp.text
    s = get_settings()
    ddb = boto3.resource("dynamodb")
    for table in (s.accounts_table, s.api_keys_table, s.credentials_table, s.orders_table, s.fills_table):
        for item in ddb.Table(table).scan()["Items"]:
            assert pk[2:] not in repr(item).lower(), table
