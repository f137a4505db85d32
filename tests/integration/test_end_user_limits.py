"""Issue 8, item 3: an end user's own API key draws from its builder. The user's `qps_limit` is the
rate of that key (one bucket with impersonation), its requests count against the builder's monthly
quota, and creating users mints no capacity."""
from __future__ import annotations

import uuid

import boto3
import httpx
import pytest

from pmrouter.auth.apikeys import new_api_key, store_key
from pmrouter.settings import get_settings
from pmrouter.store.accounts import create_account
from pmrouter.usage import limits


@pytest.fixture()
def builder(stack):
    account = create_account("builder", "free", name="end-user-limits")
    key = new_api_key()
    store_key(key, account["customer_id"], "builder", "free")
    limits.limiter.reset()
    with httpx.Client(base_url=stack.url + "/api/v1", headers={"X-API-Key": key}, timeout=30) as c:
        yield c, account["customer_id"], stack.url + "/api/v1"


def _user(c, qps: int) -> dict:
    r = c.post("/builder/users", json={"external_id": uuid.uuid4().hex, "qps_limit": qps})
    assert r.status_code == 201, r.text
    return r.json()


def _month_item(customer_id: str):
    start, _ = limits.month_bounds()
    return boto3.resource("dynamodb").Table(get_settings().usage_table).get_item(
        Key={"pk": f"month#{customer_id}#{start}"}).get("Item")


def _fill_month(builder_id: str) -> None:
    """Put the builder at its monthly cap, and drop this process's leases so the next request asks."""
    start, _ = limits.month_bounds()
    boto3.resource("dynamodb").Table(get_settings().usage_table).put_item(
        Item={"pk": f"month#{builder_id}#{start}", "used": limits.tier_of("free").monthly})
    limits.limiter.reset()


def test_own_key_is_held_to_the_users_qps_limit(builder):
    c, _, base = builder
    user = _user(c, 1)  # free tier: burst equals rate, so one request a second
    with httpx.Client(base_url=base, headers={"X-API-Key": user["api_key"]}, timeout=30) as mine:
        statuses = [mine.get("/exchanges") for _ in range(4)]
    codes = [r.status_code for r in statuses]
    assert codes.count(200) <= 2, codes  # one token, plus at most one refilled while the loop ran
    limited = next(r for r in statuses if r.status_code == 429)
    assert limited.json()["code"] == "rate_limit_exceeded" and limited.json()["limit_qps"] == 1


def test_own_key_and_impersonation_share_one_bucket(builder):
    c, _, base = builder
    user = _user(c, 1)
    first = c.get("/ping", headers={"X-Builder-Customer-Id": user["customer_id"]})
    assert first.status_code == 200, first.text
    with httpx.Client(base_url=base, headers={"X-API-Key": user["api_key"]}, timeout=30) as mine:
        assert mine.get("/ping").status_code == 429


def test_own_key_counts_against_the_builders_month(builder):
    c, builder_id, base = builder
    user = _user(c, 5)
    with httpx.Client(base_url=base, headers={"X-API-Key": user["api_key"]}, timeout=30) as mine:
        assert mine.get("/exchanges").status_code == 200
    assert _month_item(user["customer_id"]) is None, "an end user has no monthly quota of its own"
    before = int(_month_item(builder_id)["used"])
    _fill_month(builder_id)
    with httpx.Client(base_url=base, headers={"X-API-Key": user["api_key"]}, timeout=30) as mine:
        r = mine.get("/exchanges")
    assert before >= 1
    assert r.status_code == 429 and r.json()["code"] == "monthly_limit_exceeded", r.text


def test_many_users_mint_no_monthly_capacity(builder):
    """Each new user used to come with a fresh free-tier quota of its own; at the builder's cap,
    every user's key stops too."""
    c, builder_id, base = builder
    users = [_user(c, 1) for _ in range(3)]
    _fill_month(builder_id)
    for user in users:
        with httpx.Client(base_url=base, headers={"X-API-Key": user["api_key"]}, timeout=30) as mine:
            assert mine.get("/exchanges").status_code == 429


def test_deactivated_users_key_stops_at_once(builder):
    c, _, base = builder
    user = _user(c, 5)
    with httpx.Client(base_url=base, headers={"X-API-Key": user["api_key"]}, timeout=30) as mine:
        assert mine.get("/exchanges").status_code == 200
        assert c.delete(f"/builder/users/{user['customer_id']}").status_code == 204
        assert mine.get("/exchanges").status_code == 401


def test_usage_of_an_end_user_shows_what_it_draws_on(builder):
    c, _, base = builder
    user = _user(c, 2)
    with httpx.Client(base_url=base, headers={"X-API-Key": user["api_key"]}, timeout=30) as mine:
        body = mine.get("/usage").json()
    assert body["tier"] == "free" and body["limits"]["rest_qps"] == 2 and body["usage"]["monthly_requests"] >= 1
