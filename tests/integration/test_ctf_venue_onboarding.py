"""Limitless, Opinion and Predict.fun accounts linked the way users link them: `POST /onboard` (self),
a builder onboarding an end user and trading as that user (`X-Builder-Customer-Id`), credentials the
venue refuses, and `mode=managed` where pmrouter cannot create the venue account."""
from __future__ import annotations

import uuid

import pytest
from eth_account import Account

VENUES = ["limitless", "opinion", "predictfun"]


def _credentials(stack, exchange: str) -> dict:
    wallet = Account.create()
    pk = "0x" + bytes(wallet.key).hex()
    world = stack.apps[exchange].state.world
    if exchange == "limitless":
        token_id, secret = world.trading.issue_token(wallet.address)
        return {"private_key": pk, "clob_api_key": token_id, "clob_api_secret": secret}
    if exchange == "opinion":
        return {"private_key": pk, "clob_api_key": world.trading.issue_account(wallet.address).apikey}
    return {"private_key": pk}


@pytest.mark.parametrize("exchange", VENUES)
def test_builder_onboards_an_end_user_who_then_trades_as_themselves(api, stack, resting, exchange):
    user = api.post("/builder/users", json={"external_id": uuid.uuid4().hex})
    assert user.status_code == 201, user.text
    cid = user.json()["customer_id"]
    linked = api.post("/builder/onboard", json={"customer_id": cid, "exchange": exchange, "mode": "self",
                                                **_credentials(stack, exchange)})
    assert linked.status_code == 200, linked.text
    assert exchange in linked.json()["linked_exchanges"]
    as_user = {"X-Builder-Customer-Id": cid}
    m, body = resting.body(exchange, price_offset=6)
    placed = api.post("/orders", params={"exchange": exchange}, json=body, headers=as_user)
    assert placed.status_code == 200 and placed.json()["status"] == "open", placed.text
    theirs = api.get("/orders", params={"exchange": exchange}, headers=as_user).json()
    assert [o["id"] for o in theirs] == [placed.json()["id"]]
    mine = api.get("/orders", params={"exchange": exchange, "status": "all", "limit": 500}).json()
    assert placed.json()["id"] not in {o["id"] for o in mine}  # the builder's own account does not see it
    ping = {r["exchange"]: r for r in api.get("/ping", headers=as_user).json()}
    assert ping[exchange]["has_credentials"] and ping[exchange]["authenticated"]
    cancelled = api.delete(f"/orders/{placed.json()['id']}", params={"exchange": exchange}, headers=as_user)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


@pytest.mark.parametrize("exchange", ["limitless", "opinion"])
def test_credentials_the_venue_refuses_are_a_400_and_nothing_is_stored(api, stack, exchange):
    user = api.post("/builder/users", json={"external_id": uuid.uuid4().hex}).json()["customer_id"]
    creds = _credentials(stack, exchange)
    creds["clob_api_key"] = "not-a-key-the-venue-issued"
    r = api.post("/builder/onboard", json={"customer_id": user, "exchange": exchange, "mode": "self", **creds})
    assert r.status_code == 400 and r.json()["code"] == "authentication_failed", r.text
    assert "not-a-key" not in r.text and creds["private_key"][2:] not in r.text
    ping = {p["exchange"]: p for p in api.get("/ping", headers={"X-Builder-Customer-Id": user}).json()}
    assert not ping[exchange]["has_credentials"]


@pytest.mark.parametrize("exchange", VENUES)
def test_self_onboarding_without_a_key_names_the_field(api, exchange):
    r = api.post("/onboard", json={"exchange": exchange, "mode": "self"})
    assert r.status_code == 400 and "private_key" in r.text, r.text


@pytest.mark.parametrize("exchange", VENUES)
def test_managed_mode_is_refused_where_pmrouter_cannot_create_the_account(api, exchange):
    r = api.post("/onboard", json={"exchange": exchange, "mode": "managed"})
    assert r.status_code == 400, r.text


@pytest.mark.parametrize("exchange", VENUES)
def test_a_field_the_venue_does_not_use_is_named_not_ignored(api, stack, resting, exchange):
    creds = {**_credentials(stack, exchange), "api_key_id": "kalshi-key-id", "clob_api_passphrase": "pp"}
    m, body = resting.body(exchange, price_offset=7)
    r = api.post("/orders", params={"exchange": exchange}, json={**body, "credentials": creds})
    assert r.status_code == 400, r.text
    assert "api_key_id" in r.text and "clob_api_passphrase" in r.text and "kalshi-key-id" not in r.text
