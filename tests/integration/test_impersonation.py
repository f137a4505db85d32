"""X-Builder-Customer-Id on every impersonable route, against: the builder's own user, another
builder's user, a deactivated user, a non-builder key, and no header. Market-data routes ignore it."""
from __future__ import annotations

import uuid

import httpx
import pytest
from eth_account import Account

from pmrouter.auth.apikeys import new_api_key, store_key
from pmrouter.store.accounts import create_account

ROUTES = [
    ("GET", "/balance?exchange=polymarket", None),
    ("GET", "/positions?exchange=polymarket", None),
    ("GET", "/fills?exchange=polymarket", None),
    ("GET", "/orders?exchange=polymarket", None),
    ("GET", "/orders/0xdeadbeef?exchange=polymarket", None),
    ("DELETE", "/orders/0xdeadbeef?exchange=polymarket", None),
    ("POST", "/orders?exchange=polymarket", {"market_id": "x", "outcome": "yes", "side": "buy", "price": 0.5, "size": 5}),
    ("POST", "/onboard", {"exchange": "kalshi", "mode": "self"}),
    ("GET", "/ping", None),
]


@pytest.fixture(scope="module")
def world(stack, api):
    def client(key):
        return httpx.Client(base_url=stack.url + "/api/v1", headers={"X-API-Key": key}, timeout=30)

    other_builder = create_account("builder", "pro")
    other_key = new_api_key()
    store_key(other_key, other_builder["customer_id"], "builder", "pro")
    trader = create_account("trader", "pro")
    trader_key = new_api_key()
    store_key(trader_key, trader["customer_id"], "trader", "pro")

    def new_user(c):
        r = c.post("/builder/users", json={"external_id": uuid.uuid4().hex})
        assert r.status_code == 201, r.text
        return r.json()["customer_id"]

    mine = new_user(api)
    r = api.post("/builder/onboard", json={"customer_id": mine, "exchange": "polymarket", "mode": "self",
                                           "private_key": "0x" + bytes(Account.create().key).hex()})
    assert r.status_code == 200, r.text
    gone = new_user(api)
    assert api.delete(f"/builder/users/{gone}").status_code == 204
    with client(other_key) as oc:
        theirs = new_user(oc)
    yield {"mine": mine, "theirs": theirs, "gone": gone, "trader": client(trader_key), "other": client(other_key)}


def _call(c, method, path, body, customer):
    headers = {"X-Builder-Customer-Id": customer} if customer else {}
    return c.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("method,path,body", ROUTES)
def test_matrix(api, world, method, path, body):
    own = _call(api, method, path, body, world["mine"])
    assert own.status_code != 403 or own.json()["code"] == "credentials_required", own.text
    for who in ("theirs", "gone"):
        resp = _call(api, method, path, body, world[who])
        assert resp.status_code == 403 and resp.json()["code"] == "forbidden", (who, resp.text)
    not_builder = _call(world["trader"], method, path, body, world["mine"])
    assert not_builder.status_code == 403 and "builder account" in not_builder.json()["error"]
    other = _call(world["other"], method, path, body, world["mine"])
    assert other.status_code == 403
    plain = _call(api, method, path, body, None)
    assert plain.status_code != 403 or plain.json()["code"] == "credentials_required"


def test_own_user_data_is_separate_from_the_builders(api, world):
    as_user = {"X-Builder-Customer-Id": world["mine"]}
    user_balance = api.get("/balance", params={"exchange": "polymarket"}, headers=as_user).json()["raw"]
    rows = {r["exchange"]: r for r in api.get("/ping", headers=as_user).json()}
    assert rows["polymarket"]["has_credentials"] and not rows["kalshi"]["has_credentials"]
    builder_rows = {r["exchange"]: r for r in api.get("/ping").json()}
    assert builder_rows["kalshi"]["has_credentials"]  # the builder's own link, invisible to its user
    assert int(user_balance["balance"]) == 10_000 * 10**6


def test_market_data_ignores_the_header(api, world):
    m = api.get("/markets", params={"limit": 1}).json()["markets"][0]
    resp = api.get("/orderbook", params={"parsec_id": m["parsec_id"]},
                   headers={"X-Builder-Customer-Id": world["theirs"]})
    assert resp.status_code == 200


def test_builder_routes_need_a_builder(world):
    for method, path in (("GET", "/builder/pool"), ("GET", "/builder/users"), ("POST", "/builder/users")):
        resp = world["trader"].request(method, path, json={"external_id": "x"} if method == "POST" else None)
        assert resp.status_code == 403 and resp.json()["code"] == "forbidden"
    assert world["other"].get(f"/builder/users/{world['mine']}").status_code == 404


def test_impersonated_calls_carry_user_and_pool_headers(api, world):
    resp = api.get("/balance", params={"exchange": "polymarket"}, headers={"X-Builder-Customer-Id": world["mine"]})
    assert resp.status_code == 200
    assert int(resp.headers["x-ratelimit-user-limit"]) == 5  # the default end-user QPS
    assert int(resp.headers["x-ratelimit-user-remaining"]) >= 0
    assert int(resp.headers["x-ratelimit-pool-limit"]) == 500
