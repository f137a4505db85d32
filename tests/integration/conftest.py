"""Helpers the order suites share, as fixtures (a `tests` package in site-packages shadows imports
of this folder)."""
from __future__ import annotations

import contextlib

import httpx
import pytest


class RestingOrders:
    """Orders that rest far below the book, so the venue's open orders show every copy of them."""

    def __init__(self, api):
        self.api = api

    def market(self, exchange: str) -> tuple[dict, dict]:
        for m in self.api.get("/markets", params={"exchanges": exchange, "limit": 50}).json()["markets"]:
            if m["market_type"] == "binary" and m["status"] == "active":
                book = self.api.get("/orderbook", params={"parsec_id": m["parsec_id"], "limit": 5}).json()
                if len(book["bids"]) >= 2:
                    return m, book
        raise AssertionError(f"no {exchange} market with a book")

    def body(self, exchange: str, price_offset: int = 3) -> tuple[dict, dict]:
        """(market, POST /orders body) for a buy `price_offset` ticks below the lowest bid shown."""
        m, book = self.market(exchange)
        tick = m.get("tick_size") or 0.01
        return m, {"market_id": m["exchange_market_id"], "outcome": "yes", "side": "buy",
                   "price": round(max(tick, book["bids"][-1][0] - price_offset * tick), 4),
                   "size": max(m.get("min_order_size") or 1, 5)}

    def open_ids(self, exchange: str, market_id: str) -> list[str]:
        resp = self.api.get("/orders", params={"exchange": exchange, "market_id": market_id, "status": "open"})
        assert resp.status_code == 200, resp.text
        return [o["id"] for o in resp.json()]


@pytest.fixture(scope="session")
def resting(api) -> RestingOrders:
    return RestingOrders(api)


@pytest.fixture(scope="session")
def polymarket_linked(stack):
    """`with polymarket_linked(role, name) as (client, customer_id)`: an API client for a new account
    of the internal tier (so the rate limiter measures nothing), linked to Polymarket with its own
    key, so trading routes get past the credentials check."""
    from eth_account import Account

    from pmrouter.auth.apikeys import new_api_key, store_key
    from pmrouter.store.accounts import create_account

    @contextlib.contextmanager
    def linked(role: str, name: str):
        account = create_account(role, "internal", name=name)
        key = new_api_key()
        store_key(key, account["customer_id"], role, "internal")
        with httpx.Client(base_url=stack.url + "/api/v1", headers={"X-API-Key": key}, timeout=60) as c:
            r = c.post("/onboard", json={"exchange": "polymarket", "mode": "self",
                                         "private_key": "0x" + bytes(Account.create().key).hex()})
            assert r.status_code == 200, r.text
            yield c, account["customer_id"]

    return linked
