"""Polymarket trading session against the sandbox CLOB: L1-derived credentials, signed orders,
matching, balances, positions, and the venue's refusals."""
from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from eth_account import Account

from pmrouter.exchanges.base import Credentials, OrderIntent
from pmrouter.exchanges.errors import InsufficientFunds, VenueAuthError, VenueBadRequest
from pmrouter.exchanges.polymarket.adapter import PolymarketAdapter
from pmrouter.exchanges.polymarket.config import PolymarketConfig
from shared.localstack.servers import serve
from shared.sandbox import polymarket
from shared.sandbox.universe import current_universe


def run(c):
    return asyncio.run(c)


@pytest.fixture(scope="module")
def env():
    u = current_universe()
    servers = [serve(polymarket.create_gamma_app(u), "gamma"), serve(polymarket.create_clob_app(u), "clob"),
               serve(polymarket.create_data_app(u), "data")]
    s = PolymarketConfig(gamma_url=servers[0].url, clob_url=servers[1].url, data_url=servers[2].url)
    adapter = PolymarketAdapter(s)
    yield adapter, servers[1].url
    for srv in servers:
        srv.stop()


def new_session(adapter):
    return adapter.open_session(Credentials(private_key="0x" + bytes(Account.create().key).hex()))


def market(adapter):
    return next(m for m in run(adapter.list_markets()) if m.market_type == "binary" and m.status == "active")


def test_l1_creds_balance_and_resting_order(env):
    adapter, _ = env
    s = new_session(adapter)
    full = run(s.complete_credentials())
    assert full.clob_api_key and full.clob_api_secret and full.clob_api_passphrase
    assert int(run(s.balance())["balance"]) == 10_000 * 10**6
    m = market(adapter)
    book = run(adapter.get_orderbook(m, m.outcomes[0], 100))
    price = round(book.bids[-1][0] - m.tick_size, 2)
    prepared = run(s.prepare_order(OrderIntent(m, m.outcomes[0], "buy", price, 10, "gtc", None, "u1")))
    placed = run(s.submit_order(prepared))
    assert placed.id == prepared.order_id and placed.status == "open"
    assert int(run(s.balance())["balance"]) == 10_000 * 10**6 - int(round(price * 10 * 10**6))
    assert [o.id for o in run(s.list_orders(market_id=m.exchange_market_id, status="open", start=None, end=None,
                                            limit=10))] == [placed.id]
    assert run(s.cancel_order(placed.id)).status == "cancelled"
    assert int(run(s.balance())["balance"]) == 10_000 * 10**6


def test_taker_fill_positions_and_sell_back(env):
    adapter, _ = env
    s = new_session(adapter)
    m = market(adapter)
    book = run(adapter.get_orderbook(m, m.outcomes[0], 10))
    ask, depth = book.asks[0]
    buy = run(s.submit_order(run(s.prepare_order(OrderIntent(m, m.outcomes[0], "buy", ask, 5, "ioc", None, "u2")))))
    assert buy.status == "filled" and buy.filled == pytest.approx(5)
    fills = run(s.fills(market_id=m.exchange_market_id, limit=10))
    assert fills and fills[0].order_id == buy.id and fills[0].is_taker
    pos = run(s.positions(market_id=None))
    assert [(p.market_id, p.size) for p in pos] == [(m.exchange_market_id, pytest.approx(5))]
    bid = book.bids[0][0]
    sell = run(s.submit_order(run(s.prepare_order(OrderIntent(m, m.outcomes[0], "sell", bid, 5, "fok", None, "u3")))))
    assert sell.status == "filled"
    assert run(s.positions(market_id=None)) == []
    history = run(s.list_orders(market_id=m.exchange_market_id, status="closed", start=None, end=None, limit=10))
    assert {buy.id, sell.id} <= {o.id for o in history}


def test_venue_refusals(env):
    adapter, clob_url = env
    s = new_session(adapter)
    m = market(adapter)
    with pytest.raises(InsufficientFunds):
        run(s.submit_order(run(s.prepare_order(OrderIntent(m, m.outcomes[0], "buy", 0.5, 1_000_000, "gtc", None, "x")))))
    with pytest.raises(InsufficientFunds):  # selling shares it does not hold
        run(s.submit_order(run(s.prepare_order(OrderIntent(m, m.outcomes[0], "sell", 0.5, 10, "gtc", None, "y")))))
    soon = OrderIntent(m, m.outcomes[0], "buy", 0.05, 10, "gtd", int(time.time()) + 10, "z")
    with pytest.raises(VenueBadRequest):
        run(s.submit_order(run(s.prepare_order(soon))))
    r = httpx.get(clob_url + "/data/orders", headers={"POLY_API_KEY": "nope", "POLY_ADDRESS": "0x0",
                                                      "POLY_SIGNATURE": "x", "POLY_TIMESTAMP": str(int(time.time()))})
    assert r.status_code == 401 and r.json() == {"error": "Unauthorized/Invalid api key"}
    forged = adapter.open_session(Credentials(private_key="0x" + bytes(Account.create().key).hex(),
                                              clob_api_key="00000000-0000-0000-0000-000000000000",
                                              clob_api_secret="c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
                                              clob_api_passphrase="pp"))
    with pytest.raises(VenueAuthError):
        run(forged.balance())


def test_fok_buy_signs_exactly_the_limit_and_never_overspends(env):
    adapter, _ = env
    s = new_session(adapter)
    m = market(adapter)
    ask = run(adapter.get_orderbook(m, m.outcomes[0], 5)).asks[0][0]
    before = int(run(s.balance())["balance"])
    prepared = run(s.prepare_order(OrderIntent(m, m.outcomes[0], "buy", ask, 5, "fok", None, "exact")))
    signed = prepared.payload
    assert signed.maker_amount / signed.taker_amount <= ask + 1e-12  # never above the caller's limit
    placed = run(s.submit_order(prepared))
    assert placed.status == "filled"
    spent = before - int(run(s.balance())["balance"])
    assert 0 < spent <= signed.maker_amount
