"""Helpers the order suites share, as fixtures (a `tests` package in site-packages shadows imports
of this folder)."""
from __future__ import annotations

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
