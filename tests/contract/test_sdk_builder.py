"""The builder flow with the official SDK in strict mode: create users (idempotent), list, update,
onboard a user, trade as that user through X-Builder-Customer-Id, read the pool, deactivate."""
from __future__ import annotations

import uuid

import parsec_api
import pytest
from eth_account import Account


def test_builder_user_lifecycle(sdk):
    ext = f"user-{uuid.uuid4().hex[:8]}"
    first = sdk.builder.users.with_raw_response.create(external_id=ext, qps_limit=3)
    assert first.http_request.method == "POST" and first.status_code == 201
    user = first.parse()
    again = sdk.builder.users.with_raw_response.create(external_id=ext, qps_limit=3)
    assert again.status_code == 200 and again.parse().customer_id == user.customer_id
    assert again.parse().api_key == user.api_key and user.api_key.startswith("pk_live_")
    got = sdk.builder.users.retrieve(user.customer_id)
    assert got.external_id == ext and got.qps_limit == 3
    assert sdk.builder.users.update(user.customer_id, qps_limit=7).qps_limit == 7
    listed = sdk.builder.users.list(limit=100)
    assert user.customer_id in {u.customer_id for u in listed.users}
    pool = sdk.builder.pool()
    assert pool.qps_pool == 500 and pool.total_allocated_qps >= 7 and pool.end_user_count >= 1
    sdk.builder.users.deactivate(user.customer_id)
    with pytest.raises(parsec_api.BadRequestError):
        sdk.builder.users.update(user.customer_id, qps_limit=2)


def test_impersonated_trading_is_the_end_users_own(sdk, stack):
    user = sdk.builder.users.create(external_id=f"trader-{uuid.uuid4().hex[:8]}")
    as_user = {"X-Builder-Customer-Id": user.customer_id}
    with pytest.raises(parsec_api.PermissionDeniedError):  # not onboarded yet: no credentials
        sdk.account.balance(exchange="polymarket", extra_headers=as_user)
    done = sdk.builder.onboard.create(customer_id=user.customer_id, exchange="polymarket", mode="self",
                                      private_key="0x" + bytes(Account.create().key).hex())
    assert done.status == "complete" and done.linked_exchanges == ["polymarket"]
    assert int(sdk.account.balance(exchange="polymarket", extra_headers=as_user).raw["balance"]) == 10_000 * 10**6
    m = next(x for x in sdk.markets.list(exchanges=["polymarket"], limit=50).markets
             if x.market_type == "binary" and x.status == "active")
    order = sdk.orders.create(exchange="polymarket", market_id=m.exchange_market_id, outcome="yes", side="buy",
                              price=0.02, size=10, extra_headers=as_user)
    assert [o.id for o in sdk.orders.list(exchange="polymarket", extra_headers=as_user)] == [order.id]
    assert order.id not in {o.id for o in sdk.orders.list(exchange="polymarket")}  # not the builder's own
    sdk.builder.users.deactivate(user.customer_id)
    with pytest.raises(parsec_api.PermissionDeniedError):
        sdk.orders.list(exchange="polymarket", extra_headers=as_user)
