"""Issue 8, item 8: the inputs an independent schema fuzzer found answered with a 500. Each is a 400
with the contract's error body."""
from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest


@pytest.fixture(scope="module")
def builder(polymarket_linked):
    # linked to Polymarket, so the order routes get past the credentials check to the id itself
    with polymarket_linked("builder", "no-500") as (c, _):
        yield c


def _is_contract_400(r: httpx.Response) -> None:
    assert r.status_code == 400, (r.status_code, r.text[:300])
    body = r.json()
    assert isinstance(body["error"], str) and body["error"] and body["retryable"] is False
    assert body["code"] in ("validation_error", "bad_request", "missing_parameter"), body


@pytest.mark.parametrize("mode", ["managed", "self"])
def test_builder_onboard_with_empty_customer_id_and_exchange(builder, mode):
    user = builder.post("/builder/users", json={"external_id": "onboard-empty"}).json()["customer_id"]
    for customer_id, exchange in [("", ""), ("", "polymarket"), (" ", ""), ("\x01", "polymarket"),
                                  ("x" * 3000, "polymarket"), (user, ""), (user, " ")]:
        r = builder.post("/builder/onboard", json={"customer_id": customer_id, "exchange": exchange, "mode": mode})
        _is_contract_400(r)


@pytest.mark.parametrize("order_id", ["\x01", "abc\x7f", "a\x00b", "\u202e\u00e9", "x" * 3000])
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_order_id_with_control_or_odd_characters(builder, order_id, method):
    for exchange in ("polymarket", "kalshi"):
        r = builder.request(method, "/orders/" + quote(order_id, safe=""), params={"exchange": exchange})
        _is_contract_400(r)


@pytest.mark.parametrize("cursor", ["\u00b2", "\u0663", "9" * 4000, "1" * 20, "-1", "+1", " 1"])
@pytest.mark.parametrize("path", ["/markets", "/events", "/builder/users"])
def test_cursors_that_are_not_ours(builder, path, cursor):
    _is_contract_400(builder.get(path, params={"cursor": cursor}))
