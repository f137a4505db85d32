"""The operator CLI against the local stack: accounts and keys it creates work on the API, and a
revoked key stops working."""
from __future__ import annotations

import json

import httpx

from pmrouter import cli
from pmrouter.auth import apikeys


def run(capsys, *argv):
    assert cli.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_account_and_keys(stack, capsys):
    made = run(capsys, "account", "create", "--type", "builder", "--tier", "pro", "--qps-pool", "900")
    assert made["api_key"].startswith("pk_live_") and made["account_type"] == "builder"
    with httpx.Client(base_url=stack.url + "/api/v1", timeout=30) as c:
        pool = c.get("/builder/pool", headers={"X-API-Key": made["api_key"]})
        assert pool.status_code == 200 and pool.json()["qps_pool"] == 900
        second = run(capsys, "key", "issue", "--customer", made["customer_id"])
        listed = run(capsys, "key", "list", "--customer", made["customer_id"])
        assert {k["key_id"] for k in listed} == {made["key_id"], second["key_id"]}
        assert all(k["status"] == "active" for k in listed)
        run(capsys, "key", "revoke", "--api-key", second["api_key"])
        apikeys.clear_cache()  # the function's 30 s cache; a deployed stack waits it out
        assert c.get("/exchanges", headers={"X-API-Key": second["api_key"]}).status_code == 401
        assert c.get("/exchanges", headers={"X-API-Key": made["api_key"]}).status_code == 200
