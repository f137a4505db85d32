"""The official limitless-sdk, unchanged, against the sandbox Limitless: HMAC-authenticated, it reads
the profile and the market's venue, places a resting GTC order, finds it among the user's orders
and cancels it; a crossing FAK fills against the book. Proves the simulator speaks the protocol."""
from __future__ import annotations

import asyncio

import pytest
from eth_account import Account
from limitless_sdk.api.errors import APIError
from limitless_sdk.api.http_client import HttpClient
from limitless_sdk.orders.client import OrderClient
from limitless_sdk.types import OrderType, Side
from limitless_sdk.types.api_tokens import HMACCredentials

from shared.localstack.servers import serve
from shared.sandbox import limitless
from shared.sandbox.universe import current_universe


@pytest.fixture(scope="module")
def venue():
    app = limitless.create_app(current_universe())
    server = serve(app, "limitless-official")
    yield server.url, app.state.world
    server.stop()


def _market(world):
    for slug, (lst, row) in world.by_slug.items():
        if row["status"] == "FUNDED" and row["venue"]["adapter"] is None:
            return slug, row
    raise AssertionError("no open simple market")


def test_official_client_places_lists_and_cancels(venue):
    url, world = venue
    account = Account.create()
    token_id, secret = world.trading.issue_token(account.address)
    slug, row = _market(world)
    book = world.orderbook(slug)
    below = round(book["bids"][-1]["price"] - 0.01, 3)
    best_ask = book["asks"][0]["price"]

    async def flow():
        http = HttpClient(base_url=url, hmac_credentials=HMACCredentials(token_id=token_id, secret=secret))
        try:
            client = OrderClient(http_client=http, wallet=account)
            placed = await client.create_order(token_id=row["tokens"]["yes"], side=Side.BUY, order_type=OrderType.GTC,
                                               market_slug=slug, price=below, size=5.0)
            mine = await http.get(f"/markets/{slug}/user-orders")
            cancelled = await client.cancel(placed.order.id)
            after = await http.get(f"/markets/{slug}/user-orders")
            taker = await client.create_order(token_id=row["tokens"]["yes"], side=Side.BUY, order_type=OrderType.FAK,
                                              market_slug=slug, price=best_ask, size=2.0)
            with pytest.raises(APIError) as bad:  # another account's owner id is refused
                http2 = HttpClient(base_url=url, hmac_credentials=HMACCredentials(token_id=token_id, secret="AAAA"))
                try:
                    await OrderClient(http_client=http2, wallet=account).create_order(
                        token_id=row["tokens"]["yes"], side=Side.BUY, order_type=OrderType.GTC, market_slug=slug,
                        price=below, size=5.0)
                finally:
                    await http2.close()
            return placed, mine, cancelled, after, taker, bad.value
        finally:
            await http.close()

    placed, mine, cancelled, after, taker, bad = asyncio.run(flow())
    assert placed.order.status == "LIVE"
    assert [o["id"] for o in mine["orders"]] == [placed.order.id]
    assert "canceled" in str(cancelled).lower()
    assert after["orders"] == []
    assert taker.maker_matches and taker.execution.matched
    assert bad.status_code == 401
