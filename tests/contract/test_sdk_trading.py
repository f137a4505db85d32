"""The official SDK in strict mode drives the whole trading flow on the local stack, on every trading
venue, with stored credentials (the onboarded demo account) and with per-request credentials."""
from __future__ import annotations

import base64
import json
import time

import parsec_api
import pytest
from eth_account import Account

from shared.sandbox.kalshi_ws import register_new_key

VENUES = ["polymarket", "kalshi", "limitless", "opinion", "predictfun"]
GTD_VENUES = ["polymarket", "kalshi", "predictfun"]  # the others answer 501 for gtd


def _market(sdk, exchange):
    for m in sdk.markets.list(exchanges=[exchange], limit=50).markets:
        if m.market_type == "binary" and m.status == "active":
            book = sdk.orderbook.retrieve(parsec_id=m.parsec_id, outcome="yes", limit=5)
            if len(book.bids) >= 2 and len(book.asks) >= 2:
                return m, book
    raise AssertionError(f"no liquid binary market on {exchange}")


def _per_request_credentials(stack, exchange) -> dict:
    if exchange in ("polymarket", "predictfun"):
        return {"private_key": "0x" + bytes(Account.create().key).hex()}
    if exchange == "opinion":  # the session reads the account's Safe from the venue
        wallet = Account.create()
        acct = stack.apps["opinion"].state.world.trading.issue_account(wallet.address)
        return {"private_key": "0x" + bytes(wallet.key).hex(), "clob_api_key": acct.apikey}
    if exchange == "limitless":
        wallet = Account.create()
        token_id, secret = stack.apps["limitless"].state.world.trading.issue_token(wallet.address)
        return {"private_key": "0x" + bytes(wallet.key).hex(), "clob_api_key": token_id, "clob_api_secret": secret}
    key_id, pem = register_new_key(stack.apps["kalshi"].state.world)
    return {"api_key_id": key_id, "private_key": pem}


def test_ping_reports_both_venues_linked(sdk):
    rows = {r.exchange: r for r in sdk.account.ping()}
    assert set(rows) == set(VENUES)
    assert all(r.has_credentials and r.authenticated for r in rows.values())


@pytest.mark.parametrize("exchange", VENUES)
def test_trading_flow_with_stored_credentials(sdk, exchange):
    m, book = _market(sdk, exchange)
    assert sdk.account.balance(exchange=exchange).raw
    tick = m.tick_size or 0.01
    est = sdk.execution_price.retrieve(parsec_id=m.parsec_id, side="buy", amount=m.min_order_size or 5)
    assert est.fully_filled
    size = max(m.min_order_size or 1, 5)
    resting_price = round(book.bids[-1][0] - tick, 4)
    order = sdk.orders.create(exchange=exchange, market_id=m.exchange_market_id, outcome="yes", side="buy",
                              price=resting_price, size=size)
    assert order.status == "open" and order.filled == 0
    assert order.id in {o.id for o in sdk.orders.list(exchange=exchange, status="open")}
    assert sdk.orders.retrieve(order.id, exchange=exchange).status == "open"
    cancelled = sdk.orders.cancel(order.id, exchange=exchange)
    assert cancelled.status == "cancelled"
    taker = sdk.orders.create(exchange=exchange, market_id=m.exchange_market_id, outcome="yes", side="buy",
                              price=book.asks[0][0], size=size, params={"order_type": "ioc"})
    assert taker.status in ("filled", "cancelled") and taker.filled > 0
    fills = sdk.fills.list(exchange=exchange, market_id=m.exchange_market_id)
    assert any(f.order_id == taker.id for f in fills)
    positions = sdk.positions.list(exchange=exchange)
    assert any(p.market_id == m.exchange_market_id and p.size > 0 for p in positions)
    closed = sdk.orders.list(exchange=exchange, status="all", limit=50)
    assert {order.id, taker.id} <= {o.id for o in closed}


@pytest.mark.parametrize("exchange", VENUES)
def test_trading_flow_with_per_request_credentials(sdk, stack, exchange):
    creds = _per_request_credentials(stack, exchange)
    header = base64.b64encode(json.dumps(creds).encode()).decode()
    m, book = _market(sdk, exchange)
    tick = m.tick_size or 0.01
    size = max(m.min_order_size or 1, 5)
    order = sdk.orders.create(exchange=exchange, market_id=m.exchange_market_id, outcome="yes", side="buy",
                              price=round(book.bids[-1][0] - tick, 4), size=size, credentials=creds)
    assert order.status == "open"
    assert sdk.account.balance(exchange=exchange, x_exchange_credentials=header).raw
    mine = sdk.orders.list(exchange=exchange, x_exchange_credentials=header)
    assert [o.id for o in mine] == [order.id]  # a fresh account sees only its own order
    assert sdk.orders.cancel(order.id, exchange=exchange, x_exchange_credentials=header).status == "cancelled"


@pytest.mark.parametrize("exchange", GTD_VENUES)
def test_good_till_date_orders_rest_until_their_expiration(sdk, exchange):
    m, book = _market(sdk, exchange)
    tick = m.tick_size or 0.01
    expiration = str(int(time.time()) + 3600)
    order = sdk.orders.create(exchange=exchange, market_id=m.exchange_market_id, outcome="yes", side="buy",
                              price=round(book.bids[-1][0] - tick, 4), size=max(m.min_order_size or 1, 5),
                              params={"order_type": "gtd", "expiration": expiration})
    assert order.status == "open"
    assert sdk.orders.cancel(order.id, exchange=exchange).status == "cancelled"


def test_an_order_type_the_venue_does_not_offer_is_501(sdk):
    m, book = _market(sdk, "limitless")
    with pytest.raises(parsec_api.InternalServerError) as exc:
        sdk.orders.create(exchange="limitless", market_id=m.exchange_market_id, outcome="yes", side="buy",
                          price=book.bids[-1][0], size=5, params={"order_type": "gtd", "expiration": "1999999999"})
    assert exc.value.status_code == 501


def test_kalshi_orders_read_back_in_the_callers_terms(sdk):
    m, book = _market(sdk, "kalshi")
    no_price = round(1 - book.asks[-1][0] - 0.01, 2)  # a NO bid below the book: it rests
    order = sdk.orders.create(exchange="kalshi", market_id=m.exchange_market_id, outcome="no", side="buy",
                              price=no_price, size=3)
    assert (order.outcome, order.side, order.price, order.status) == ("No", "buy", no_price, "open")
    listed = {o.id: o for o in sdk.orders.list(exchange="kalshi", market_id=m.exchange_market_id)}
    assert (listed[order.id].outcome, listed[order.id].side, listed[order.id].price) == ("No", "buy", no_price)
    got = sdk.orders.retrieve(order.id, exchange="kalshi")
    assert (got.outcome, got.price) == ("No", no_price)
    assert sdk.orders.cancel(order.id, exchange="kalshi").outcome == "No"
