"""Kalshi trading session against the sandbox venue: signed requests, matching, money, positions."""
from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pmrouter.exchanges.base import Credentials, OrderIntent
from pmrouter.exchanges.errors import InsufficientFunds, VenueAuthError
from pmrouter.exchanges.kalshi import auth
from pmrouter.exchanges.kalshi.adapter import KalshiAdapter
from pmrouter.exchanges.kalshi.config import KalshiConfig
from shared.localstack.servers import serve
from shared.sandbox.kalshi import create_app
from shared.sandbox.universe import current_universe


def keypair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return pem, pub


@pytest.fixture(scope="module")
def env():
    app = create_app(current_universe())
    server = serve(app, "kalshi-trading")
    adapter = KalshiAdapter(KalshiConfig(url=server.url + "/trade-api/v2"))
    yield adapter, app.state.world, server
    server.stop()


def session(env):
    adapter, world, _ = env
    pem, pub = keypair()
    key_id = str(uuid.uuid4())
    world.register_key(key_id, pub)
    return adapter.open_session(Credentials(api_key_id=key_id, private_key=pem))


def run(coro):
    return asyncio.run(coro)


def market(adapter):
    return next(m for m in run(adapter.list_markets()) if m.status == "active")


def test_rejects_unsigned_and_forged_requests(env):
    adapter, world, server = env
    r = httpx.get(server.url + "/trade-api/v2/portfolio/balance")
    assert r.status_code == 401 and r.json()["error"]["code"] == "authentication_error"
    pem, pub = keypair()
    other_pem, _ = keypair()
    world.register_key("kid-1", pub)
    forged = auth.headers("kid-1", auth.load_private_key(other_pem), "GET", "/trade-api/v2/portfolio/balance")
    assert httpx.get(server.url + "/trade-api/v2/portfolio/balance", headers=forged).status_code == 401
    good = auth.headers("kid-1", auth.load_private_key(pem), "GET", "/trade-api/v2/portfolio/balance")
    assert httpx.get(server.url + "/trade-api/v2/portfolio/balance", headers=good).status_code == 200
    wrong_path = auth.headers("kid-1", auth.load_private_key(pem), "GET", "/trade-api/v2/portfolio/orders")
    assert httpx.get(server.url + "/trade-api/v2/portfolio/balance", headers=wrong_path).status_code == 401
    bad = adapter.open_session(Credentials(api_key_id="nope", private_key=pem))
    with pytest.raises(VenueAuthError):
        run(bad.balance())


def test_resting_order_cancel_and_money(env):
    adapter, _, _ = env
    s = session(env)
    m = market(adapter)
    start = run(s.balance())["balance"]
    book = run(adapter.get_orderbook(m, m.outcomes[0], 100))
    price = max(0.01, round(book.bids[-1][0] - 0.01, 2))
    before = dict(book.bids).get(price, 0.0)
    intent = OrderIntent(m, m.outcomes[0], "buy", price, 10, "gtc", None, "cid-rest")
    placed = run(s.submit_order(run(s.prepare_order(intent))))
    assert placed.status == "open" and placed.filled == 0
    assert run(s.balance())["balance"] == start - round(price * 10 * 100)
    live = dict(run(adapter.get_orderbook(m, m.outcomes[0], 100)).bids)
    assert live[price] == before + 10  # the venue's public book shows the resting order
    assert run(s.find_order("cid-rest", m)).id == placed.id
    cancelled = run(s.cancel_order(placed.id))
    assert cancelled.status == "cancelled"
    assert run(s.balance())["balance"] == start


def test_crossing_ioc_fills_and_positions(env):
    adapter, _, _ = env
    s = session(env)
    m = market(adapter)
    book = run(adapter.get_orderbook(m, m.outcomes[0], 10))
    best_ask, size_at_best = book.asks[0]
    qty = int(size_at_best) + 5  # more than the best level: partial at best, rest at the next if crossing
    intent = OrderIntent(m, m.outcomes[0], "buy", best_ask, qty, "ioc", None, "cid-ioc")
    placed = run(s.submit_order(run(s.prepare_order(intent))))
    assert placed.status == "cancelled" and 0 < placed.filled <= size_at_best
    fills = run(s.fills(market_id=m.exchange_market_id, limit=10))
    assert sum(f.size for f in fills) == placed.filled and all(f.is_taker for f in fills)
    assert all(f.fee > 0 for f in fills)
    pos = run(s.positions(market_id=None))
    assert [(p.market_id, p.outcome, p.size) for p in pos] == [(m.exchange_market_id, "Yes", placed.filled)]
    no = OrderIntent(m, m.outcomes[1], "buy", round(1 - book.bids[0][0], 2), 1, "fok", None, "cid-no")
    bought_no = run(s.submit_order(run(s.prepare_order(no))))
    assert bought_no.status == "filled"
    assert run(s.positions(market_id=m.exchange_market_id))[0].size == placed.filled - 1


def test_fok_that_cannot_fill_changes_nothing_and_funds_are_checked(env):
    adapter, _, _ = env
    s = session(env)
    m = market(adapter)
    book = run(adapter.get_orderbook(m, m.outcomes[0], 100))
    total = int(sum(q for _, q in book.asks))
    too_big = OrderIntent(m, m.outcomes[0], "buy", book.asks[0][0], total + 50, "fok", None, "cid-fok")
    res = run(s.submit_order(run(s.prepare_order(too_big))))
    assert res.filled == 0 and res.status == "cancelled"
    assert run(adapter.get_orderbook(m, m.outcomes[0], 100)).asks == book.asks
    huge = OrderIntent(m, m.outcomes[0], "buy", 0.5, 1_000_000, "gtc", None, "cid-huge")
    with pytest.raises(InsufficientFunds):
        run(s.submit_order(run(s.prepare_order(huge))))


def test_bad_credentials_name_the_field(env):
    adapter, _, _ = env
    with pytest.raises(ValueError, match="private_key"):
        adapter.open_session(Credentials(api_key_id="k", private_key="not a pem"))
    with pytest.raises(ValueError, match="api_key_id"):
        adapter.open_session(Credentials(private_key="x"))


def test_good_till_time_expires_and_releases_collateral(env):
    import time

    adapter, _, _ = env
    s = session(env)
    m = market(adapter)
    start = run(s.balance())["balance"]
    intent = OrderIntent(m, m.outcomes[0], "buy", 0.02, 10, "gtd", int(time.time()) + 2, "cid-gtt")
    prepared = run(s.prepare_order(intent))
    assert prepared.payload["expiration_time"] == intent.expiration
    placed = run(s.submit_order(prepared))
    assert placed.status == "open" and run(s.balance())["balance"] == start - 20
    time.sleep(2.2)
    assert run(s.get_order(placed.id)).status == "cancelled"
    assert run(s.balance())["balance"] == start
