"""Managed wallets with the official SDK: onboard creates the key inside pmrouter, orders are signed
server-side, the key is exported only to its owner, rate limited, and never stored in the clear."""
from __future__ import annotations

import boto3
import parsec_api
import pytest
from eth_account import Account
from parsec_api import ParsecAPI

from pmrouter.auth.apikeys import new_api_key, store_key
from pmrouter.settings import get_settings
from pmrouter.store.accounts import create_account


@pytest.fixture()
def trader(stack):
    account = create_account("trader", "pro")
    key = new_api_key()
    store_key(key, account["customer_id"], "trader", "pro")
    return ParsecAPI(base_url=stack.url, api_key=key, _strict_response_validation=True, max_retries=0)


def test_managed_wallet_flow(trader, caplog):
    with pytest.raises(parsec_api.BadRequestError):
        trader.onboard.create(exchange="kalshi", mode="managed")
    done = trader.onboard.create(exchange="polymarket", mode="managed")
    assert done.status == "complete" and done.eoa_address and "wallet_eoa_created" in done.steps_completed
    again = trader.onboard.create(exchange="polymarket", mode="managed")
    assert again.status == "already_linked" and again.steps_completed == [] and again.eoa_address == done.eoa_address
    wallet = trader.wallet.retrieve()
    assert wallet.wallet.eoa_address == done.eoa_address and wallet.wallet.balances[0].raw_balance == str(10_000 * 10**6)
    m = next(x for x in trader.markets.list(exchanges=["polymarket"], limit=50).markets
             if x.market_type == "binary" and x.status == "active")
    order = trader.orders.create(exchange="polymarket", market_id=m.exchange_market_id, outcome="yes", side="buy",
                                 price=0.02, size=10)
    assert order.status == "open"  # signed server-side with the managed key
    with caplog.at_level("WARNING", logger="pmrouter.audit"):
        exported = trader.wallet.export_key()
    assert Account.from_key(exported.private_key).address == done.eoa_address
    assert any(r.getMessage() == "wallet.export_key" for r in caplog.records)
    assert all(exported.private_key[2:] not in r.getMessage() + str(r.__dict__) for r in caplog.records)
    s = get_settings()
    for table in (s.accounts_table, s.credentials_table, s.orders_table, s.api_keys_table):
        for item in boto3.resource("dynamodb").Table(table).scan()["Items"]:
            assert exported.private_key[2:].lower() not in repr(item).lower()
    trader.wallet.export_key()
    trader.wallet.export_key()
    with pytest.raises(parsec_api.RateLimitError) as exc:
        trader.wallet.export_key()
    assert exc.value.body["code"] == "rate_limit_exceeded" and int(exc.value.response.headers["Retry-After"]) > 0


def test_export_needs_a_managed_wallet(sdk):
    with pytest.raises(parsec_api.NotFoundError):  # the demo account linked Polymarket with its own key
        sdk.wallet.export_key()
