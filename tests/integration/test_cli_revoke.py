"""The operator CLI revokes exactly one key, named by its hash or by the full key, never by a prefix
(issue 8, item 8): `key_id` is only the first characters of a key, so two keys can share it."""
from __future__ import annotations

import json
import secrets

import httpx
import pytest

from pmrouter import cli
from pmrouter.auth import apikeys
from pmrouter.store.accounts import create_account


def run(capsys, *argv):
    assert cli.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture()
def twins(stack):
    """Two keys of one account whose displayed key ids are the same."""
    account = create_account("trader", "pro")
    prefix = apikeys.KEY_PREFIX + secrets.token_hex(3)
    keys = [prefix + secrets.token_urlsafe(24) for _ in range(2)]
    for k in keys:
        apikeys.store_key(k, account["customer_id"], "trader", "pro")
    assert apikeys.key_id(keys[0]) == apikeys.key_id(keys[1])
    return account["customer_id"], keys


def _works(stack, key) -> bool:
    apikeys.clear_cache()
    with httpx.Client(base_url=stack.url + "/api/v1", timeout=30) as c:
        return c.get("/exchanges", headers={"X-API-Key": key}).status_code == 200


def test_a_prefix_revokes_nothing(stack, twins, capsys):
    customer, keys = twins
    with pytest.raises(SystemExit) as exc:
        cli.main(["key", "revoke", "--key-id", apikeys.key_id(keys[0])])
    assert exc.value.code not in (0, None)
    assert all(_works(stack, k) for k in keys)


def test_revoke_by_hash_revokes_that_key_only(stack, twins, capsys):
    customer, keys = twins
    listed = run(capsys, "key", "list", "--customer", customer)
    hashes = {k["key_hash"] for k in listed}
    target = apikeys.hash_key(keys[0])
    assert target in hashes and len(hashes) == 2
    run(capsys, "key", "revoke", "--key-hash", target)
    assert not _works(stack, keys[0]) and _works(stack, keys[1])


def test_revoke_by_full_key_revokes_that_key_only(stack, twins, capsys):
    customer, keys = twins
    run(capsys, "key", "revoke", "--api-key", keys[1])
    assert _works(stack, keys[0]) and not _works(stack, keys[1])
    with pytest.raises(SystemExit):  # an unknown hash is an error, not a silent success
        cli.main(["key", "revoke", "--key-hash", "0" * 64])
