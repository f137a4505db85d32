"""Keys that control funds are never destroyed (issue 8, items 6 and 7): self-mode onboarding cannot
overwrite a funded managed wallet's sealed key, deactivation disables the key but keeps it, the
operator recovers it with `pmrouter wallet recover` (audited); key export is audited with who asked
(key id, builder, request id) and its limit holds per builder across all its users."""
from __future__ import annotations

import json
import logging
import uuid

import boto3
import httpx
import pytest
from eth_account import Account

from pmrouter import cli
from pmrouter.auth import credentials as credstore
from pmrouter.auth.apikeys import key_id, new_api_key, store_key
from pmrouter.settings import get_settings
from pmrouter.store.accounts import create_account


class Builder:
    """A fresh builder (own export allowance) with its end users."""

    def __init__(self, stack):
        self.stack = stack
        self.account = create_account("builder", "pro")
        self.key = new_api_key()
        store_key(self.key, self.account["customer_id"], "builder", "pro")
        self.http = httpx.Client(base_url=stack.url + "/api/v1", headers={"X-API-Key": self.key}, timeout=30)

    def user(self, managed: bool = True) -> dict:
        r = self.http.post("/builder/users", json={"external_id": uuid.uuid4().hex})
        assert r.status_code == 201, r.text
        user = r.json()
        if managed:
            r = self.http.post("/builder/onboard", json={"customer_id": user["customer_id"], "exchange": "polymarket",
                                                         "mode": "managed"})
            assert r.status_code == 200, r.text
            user["eoa_address"] = r.json()["eoa_address"]
        user["as"] = {"X-Builder-Customer-Id": user["customer_id"]}
        return user

    def onboard_self(self, user: dict, via_builder_route: bool = False) -> httpx.Response:
        key = "0x" + bytes(Account.create().key).hex()
        if via_builder_route:
            return self.http.post("/builder/onboard", json={"customer_id": user["customer_id"], "exchange": "polymarket",
                                                            "mode": "self", "private_key": key})
        return self.http.post("/onboard", json={"exchange": "polymarket", "mode": "self", "private_key": key},
                              headers=user["as"])

    def export(self, user: dict, **headers) -> httpx.Response:
        return self.http.post("/wallet/export-key", json={"wallet_type": "eoa"}, headers={**user["as"], **headers})


@pytest.fixture()
def builder(stack):
    b = Builder(stack)
    yield b
    b.http.close()


def recover(capsys, customer_id: str) -> dict:
    assert cli.main(["wallet", "recover", "--customer", customer_id, "--reason", "support ticket 42"]) == 0
    return json.loads(capsys.readouterr().out)


def _credential_items(customer_id: str) -> list[dict]:
    table = boto3.resource("dynamodb").Table(get_settings().credentials_table)
    return table.query(KeyConditionExpression=boto3.dynamodb.conditions.Key("customer_id").eq(customer_id))["Items"]


def _set_sandbox_balance(stack, address: str, units: int) -> None:
    stack.apps["polymarket-clob"].state.world.trading.wallet(address).collateral = units


# --- item 6: a managed wallet's key is never overwritten or destroyed -------------------------------


@pytest.mark.parametrize("via_builder_route", [False, True])
def test_self_onboarding_over_a_funded_managed_wallet_is_refused(builder, via_builder_route):
    user = builder.user()
    r = builder.onboard_self(user, via_builder_route)
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "conflict" and body["retryable"] is False
    assert "managed wallet" in body["error"] and "export" in body["error"]
    credstore.clear_cache()
    stored = credstore.load(user["customer_id"], "polymarket")
    assert stored.mode == "managed" and stored.address == user["eoa_address"]
    assert Account.from_key(stored.credentials.private_key).address == user["eoa_address"]


def test_self_onboarding_after_export_keeps_the_managed_key_recoverable(builder, capsys):
    user = builder.user()
    exported = builder.export(user).json()["private_key"]
    r = builder.onboard_self(user)
    assert r.status_code == 200, r.text
    credstore.clear_cache()
    assert credstore.load(user["customer_id"], "polymarket").mode == "self"
    found = recover(capsys, user["customer_id"])
    keys = {w["address"]: w["private_key"] for w in found["wallets"]}
    assert keys[user["eoa_address"]] == exported


def test_self_onboarding_over_an_empty_managed_wallet_is_allowed_and_keeps_the_key(builder, stack, capsys):
    user = builder.user()
    _set_sandbox_balance(stack, user["eoa_address"], 0)
    r = builder.onboard_self(user)
    assert r.status_code == 200, r.text
    found = recover(capsys, user["customer_id"])
    assert user["eoa_address"] in {w["address"] for w in found["wallets"]}
    assert any(w["address"] == user["eoa_address"] and w["status"] == "retired" for w in found["wallets"])


def test_deactivation_disables_the_key_but_keeps_it_for_recovery(builder, capsys, caplog):
    user = builder.user()
    assert builder.http.delete(f"/builder/users/{user['customer_id']}").status_code == 204
    credstore.clear_cache()
    assert credstore.load(user["customer_id"], "polymarket") is None  # disabled: nothing signs with it
    items = _credential_items(user["customer_id"])
    sealed = [i for i in items if i["exchange"] == "polymarket"]
    assert sealed and "ct" in sealed[0] and sealed[0]["status"] == "deactivated"
    with caplog.at_level(logging.WARNING, logger="pmrouter.audit"):
        found = recover(capsys, user["customer_id"])
    wallet = next(w for w in found["wallets"] if w["address"] == user["eoa_address"])
    assert Account.from_key(wallet["private_key"]).address == user["eoa_address"]
    events = [r for r in caplog.records if getattr(r, "event", None) == "wallet.recover"]
    assert events and events[0].customer_id == user["customer_id"] and events[0].reason == "support ticket 42"
    assert all(wallet["private_key"][2:] not in r.getMessage() + repr(r.__dict__) for r in caplog.records)
    audit = [i for i in _credential_items(user["customer_id"]) if str(i["exchange"]).startswith("audit#")]
    assert audit and audit[0]["event"] == "wallet.recover" and audit[0]["reason"] == "support ticket 42"
    assert wallet["private_key"][2:].lower() not in repr(audit).lower()


def test_recover_needs_a_reason_and_a_known_customer(stack, capsys):
    with pytest.raises(SystemExit):
        cli.main(["wallet", "recover", "--customer", str(uuid.uuid4())])
    with pytest.raises(SystemExit):
        cli.main(["wallet", "recover", "--customer", str(uuid.uuid4()), "--reason", "x"])


# --- item 7: export audited with who asked; the limit holds per builder -----------------------------


def test_export_audit_names_the_key_the_builder_and_the_request(builder, caplog):
    user = builder.user()
    with caplog.at_level(logging.WARNING, logger="pmrouter.audit"):
        r = builder.export(user, **{"X-Request-Id": "req-export-7"})
    assert r.status_code == 200, r.text
    event = next(x for x in caplog.records if getattr(x, "event", None) == "wallet.export_key")
    assert event.customer_id == user["customer_id"]
    assert event.key_id == key_id(builder.key)
    assert event.builder_id == builder.account["customer_id"]
    assert event.request_id == "req-export-7"


def test_export_limit_holds_per_builder_across_its_users(builder, stack):
    users = [builder.user() for _ in range(4)]
    for u in users[:3]:
        assert builder.export(u).status_code == 200
    over = builder.export(users[3])
    assert over.status_code == 429, over.text
    assert over.json()["code"] == "rate_limit_exceeded" and int(over.headers["Retry-After"]) > 0
    # The user's own key draws on the same builder allowance.
    with httpx.Client(base_url=stack.url + "/api/v1", headers={"X-API-Key": users[3]["api_key"]}, timeout=30) as own:
        mine = own.post("/wallet/export-key", json={"wallet_type": "eoa"})
    assert mine.status_code == 429, mine.text
