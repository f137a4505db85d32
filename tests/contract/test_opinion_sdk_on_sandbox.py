"""The official opinion-clob-sdk, unchanged, against the sandbox Opinion: with an account's apikey and
its Safe, it reads the quote tokens and the market, places a resting LIMIT order, lists it,
cancels it, and a MARKET buy fills against the book. Proves the simulator speaks the protocol."""
from __future__ import annotations

import pytest
from eth_account import Account
from opinion_clob_sdk import Client
from opinion_clob_sdk.chain.py_order_utils.model.order import PlaceOrderDataInput
from opinion_clob_sdk.chain.py_order_utils.model.order_type import LIMIT_ORDER, MARKET_ORDER
from opinion_clob_sdk.chain.py_order_utils.model.sides import OrderSide

from shared.localstack.servers import serve
from shared.sandbox import opinion
from shared.sandbox.universe import current_universe


@pytest.fixture(scope="module")
def venue():
    app = opinion.create_app(current_universe(), api_key="platform-key")
    server = serve(app, "opinion-official")
    yield server.url, app.state.world
    server.stop()


def test_official_client_places_lists_and_cancels(venue):
    url, world = venue
    wallet = Account.create()
    acct = world.trading.issue_account(wallet.address)
    mid, market = next((m, row) for m, row in world.binary.items() if row["status"] == 2)
    bids, asks = world.book(market["yesTokenId"])
    client = Client(host=url, apikey=acct.apikey, chain_id=56, rpc_url="http://127.0.0.1:9",
                    private_key="0x" + bytes(wallet.key).hex(), multi_sig_addr=acct.safe)
    below = f"{float(bids[-1]['price']) - 0.01:.3f}"
    placed = client.place_order(PlaceOrderDataInput(marketId=mid, tokenId=market["yesTokenId"], side=OrderSide.BUY,
                                                    orderType=LIMIT_ORDER, price=below, makerAmountInBaseToken=5))
    assert placed.errno == 0, placed.errmsg
    order_id = placed.result.order_data.order_id
    listed = client.get_my_orders(market_id=mid, status="1")
    assert [o.order_id for o in listed.result.list] == [order_id]
    assert client.cancel_order(order_id).errno == 0
    assert client.get_order_by_id(order_id).result.order_data.status == 3
    taker = client.place_order(PlaceOrderDataInput(marketId=mid, tokenId=market["yesTokenId"], side=OrderSide.BUY,
                                                   orderType=MARKET_ORDER, price="0", makerAmountInQuoteToken=2))
    assert taker.errno == 0, taker.errmsg
    assert float(client.get_order_by_id(taker.result.order_data.order_id).result.order_data.filled_shares) > 0
    stranger = Client(host=url, apikey=acct.apikey, chain_id=56, rpc_url="http://127.0.0.1:9",
                      private_key="0x" + bytes(Account.create().key).hex(), multi_sig_addr=acct.safe)
    refused = stranger.place_order(PlaceOrderDataInput(marketId=mid, tokenId=market["yesTokenId"], side=OrderSide.BUY,
                                                       orderType=LIMIT_ORDER, price=below, makerAmountInBaseToken=5))
    assert refused.errno != 0  # a key that is not the account's signer
