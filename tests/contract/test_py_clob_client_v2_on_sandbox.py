"""The official py-clob-client-v2, unchanged, against the sandbox CLOB: it derives credentials,
places an order, lists it and cancels it. Proves the simulator speaks the venue's protocol."""
from __future__ import annotations

import pytest
from eth_account import Account
from py_clob_client_v2 import ApiCreds, ClobClient, OrderArgs, OrderType, PartialCreateOrderOptions, Side
from py_clob_client_v2.clob_types import OpenOrderParams, OrderPayload

from shared.localstack.servers import serve
from shared.sandbox import polymarket
from shared.sandbox.universe import current_universe


@pytest.fixture(scope="module")
def clob():
    u = current_universe()
    app = polymarket.create_clob_app(u)
    server = serve(app, "clob-official")
    yield server.url, app.state.world
    server.stop()


def test_official_client_places_lists_and_cancels(clob):
    url, world = clob
    pk = "0x" + bytes(Account.create().key).hex()
    raw = ClobClient(host=url, chain_id=137, key=pk).create_or_derive_api_key()
    client = ClobClient(host=url, chain_id=137, key=pk, creds=ApiCreds(raw.api_key, raw.api_secret, raw.api_passphrase))
    market = next(m for m in world.markets if m["active"] and not m["negRisk"])
    token = market["clobTokenIds"].split('"')[1]
    tick = world.listing[market["id"]].tick
    bids, _ = world.levels(token)
    price = round(bids[-1][0] - tick, 2)
    resp = client.create_and_post_order(OrderArgs(token_id=token, price=price, size=10, side=Side.BUY),
                                        options=PartialCreateOrderOptions(tick_size=str(tick)), order_type=OrderType.GTC)
    assert resp["success"] is True and resp["status"] == "live"
    order_id = resp["orderID"]
    open_orders = client.get_open_orders(OpenOrderParams(asset_id=token))
    assert [o["id"] for o in open_orders] == [order_id]
    cancelled = client.cancel_order(OrderPayload(orderID=order_id))
    assert cancelled["canceled"] == [order_id]
    assert client.get_open_orders(OpenOrderParams(asset_id=token)) == []
