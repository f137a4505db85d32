"""Opinion orders built by pmrouter are byte-equal to opinion-clob-sdk 0.7.0's: the same key, Safe,
salt, clock and market data go through the SDK's own Client (its REST layer stubbed) and through
pmrouter's session (its HTTP transport faked); the `POST /openapi/order` body must match byte for
byte, with the same `apikey` header, and so must the cancel. Shapes: USDT (18 decimals) and a
6-decimal quote token with its own exchange, binary and categorical-child markets, both outcomes,
LIMIT and MARKET, BUY and SELL."""
from __future__ import annotations

import asyncio
import json

import httpx
import opinion_api.rest as rest
import pytest
from eth_account import Account
from opinion_clob_sdk import Client
from opinion_clob_sdk import sdk as opinion_sdk
from opinion_clob_sdk.chain.py_order_utils.builders.order_builder import OrderBuilder as SdkOrderBuilder
from opinion_clob_sdk.chain.py_order_utils.model.order import PlaceOrderDataInput
from opinion_clob_sdk.chain.py_order_utils.model.order_type import LIMIT_ORDER, MARKET_ORDER
from opinion_clob_sdk.chain.py_order_utils.model.sides import OrderSide

from pmrouter.exchanges.base import Credentials, OrderIntent
from pmrouter.exchanges.http import use_transport
from pmrouter.trading.rules import exact
from pmrouter.exchanges.opinion import order_builder
from pmrouter.exchanges.opinion.adapter import OpinionAdapter
from pmrouter.exchanges.opinion.config import OpinionConfig

PK = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
SAFE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
APIKEY = "user-apikey-1"
HOST = "http://opinion.test"
NOW = 1_800_000_000
USDT = {"id": 1, "quoteTokenName": "USDT", "quoteTokenAddress": "0x55d398326f99059fF775485246999027B3197955",
        "ctfExchangeAddress": "0x5F45344126D6488025B0b84A3A8189F2487a7246", "decimal": 18, "symbol": "USDT",
        "chainId": "56"}
USDC = {"id": 2, "quoteTokenName": "USDC", "quoteTokenAddress": "0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d",
        "ctfExchangeAddress": "0x1111111111111111111111111111111111111111", "decimal": 6, "symbol": "USDC",
        "chainId": "56"}
YES, NO = "19633204485790857949828516737993423758628930235371629943999544859324645414627", "777"


def _market(mid: int, quote: dict, parent: int | None = None) -> dict:
    return {"marketId": mid, "marketTitle": "T", "status": 2, "statusEnum": "Activated", "marketType": 0,
            "yesTokenId": YES, "noTokenId": NO, "conditionId": "0x" + "ab" * 32, "quoteToken": quote["quoteTokenAddress"],
            "chainId": "56", "volume": "1", "createdAt": 1, "cutoffAt": 2_000_000_000, "rules": "r",
            **({"parentMarketId": parent} if parent else {})}


# The book MARKET orders are sized from (the traded token's own book).
BOOK = {"bids": [{"price": "0.3", "size": "2"}, {"price": "0.25", "size": "10"}, {"price": "0.1", "size": "50"}],
        "asks": [{"price": "0.55", "size": "5"}, {"price": "0.6", "size": "100"}, {"price": "0.9", "size": "50"}]}


def _result(path: str, method: str, quote: dict, market: dict) -> dict:
    if path == "/openapi/token/orderbook":
        return {"market": market["conditionId"], "tokenId": YES, "timestamp": 1, **BOOK}
    if path == "/openapi/quoteToken":
        return {"total": 2, "list": [USDT, USDC]}
    if path.startswith("/openapi/market/"):
        return {"data": market}
    if path == "/openapi/order" and method == "POST":
        return {"orderData": {"orderId": "ord-9", "status": 1}}
    if path == "/openapi/order/cancel":
        return {}
    if path.startswith("/openapi/order/"):
        return {"orderData": {"orderId": "ord-9", "status": 1, "marketId": market["marketId"], "side": 1,
                              "outcomeSide": 1, "price": "0.5", "orderShares": "10", "filledShares": "0",
                              "createdAt": NOW}}
    if path == "/openapi/user/balance":
        return {"walletAddress": Account.from_key(PK).address, "multiSignAddress": SAFE, "chainId": "56", "balances": []}
    raise AssertionError(path)


def sdk_requests(market: dict, quote: dict, salt: int, data: PlaceOrderDataInput) -> list[tuple[str, str, str, bytes | None]]:
    seen = []

    class R:
        def __init__(self, body):
            self.status, self.reason, self.headers, self.data = 200, "OK", {"content-type": "application/json"}, body

    def fake(self, method, url, headers=None, body=None, post_params=None, _request_timeout=None):
        path = url.split(HOST, 1)[-1].split("?")[0]
        seen.append((method, path, (headers or {}).get("apikey"), json.dumps(body).encode() if body is not None else None))
        return rest.RESTResponse(R(json.dumps({"errno": 0, "errmsg": "", "result": _result(path, method, quote, market)}).encode()))

    saved = (rest.RESTClientObject.request, SdkOrderBuilder.__init__.__defaults__, opinion_sdk.time)
    rest.RESTClientObject.request = fake
    SdkOrderBuilder.__init__.__defaults__ = (lambda: salt,)
    opinion_sdk.time = lambda: NOW
    try:
        client = Client(host=HOST, apikey=APIKEY, chain_id=56, rpc_url="http://127.0.0.1:9", private_key=PK,
                        multi_sig_addr=SAFE)
        client.place_order(data, check_approval=False)
        client.cancel_order("ord-9")
    finally:
        rest.RESTClientObject.request, SdkOrderBuilder.__init__.__defaults__, opinion_sdk.time = saved
    return [r for r in seen if r[0] == "POST"]


def pmrouter_requests(market: dict, quote: dict, *, outcome: int, side: str, order_type: str, price: float,
                      size: float) -> list[tuple[str, str, str, bytes | None]]:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        seen.append((request.method, path, request.headers.get("apikey"), request.content or None))
        return httpx.Response(200, json={"errno": 0, "errmsg": "", "result": _result(path, request.method, quote, market)})

    async def run():
        use_transport(httpx.MockTransport(handler))
        try:
            adapter = OpinionAdapter(OpinionConfig(url=HOST, api_key="platform"))
            m = await adapter.get_market(str(market["marketId"]))
            sess = adapter.open_session(Credentials(private_key=PK, clob_api_key=APIKEY, funder=SAFE))
            prepared = await sess.prepare_order(OrderIntent(m, m.outcomes[outcome], side, exact(price), exact(size), order_type,
                                                            None, "uid-3"))
            placed = await sess.submit_order(prepared)
            await sess.cancel_order(placed.id)
            return placed
        finally:
            use_transport(None)

    saved = order_builder.time.time
    order_builder.time.time = lambda: NOW
    try:
        asyncio.run(run())
    finally:
        order_builder.time.time = saved
    return [r for r in seen if r[0] == "POST"]


CASES = [
    (USDT, None, dict(outcome=0, side="buy", order_type="gtc", price=0.5, size=10),
     dict(tokenId=YES, side=OrderSide.BUY, orderType=LIMIT_ORDER, price="0.5", makerAmountInBaseToken=10)),
    (USDT, None, dict(outcome=1, side="sell", order_type="gtc", price=0.137, size=33.3),
     dict(tokenId=NO, side=OrderSide.SELL, orderType=LIMIT_ORDER, price="0.137", makerAmountInBaseToken=33.3)),
    (USDC, 500, dict(outcome=0, side="buy", order_type="gtc", price=0.333, size=7),
     dict(tokenId=YES, side=OrderSide.BUY, orderType=LIMIT_ORDER, price="0.333", makerAmountInBaseToken=7)),
    # MARKET orders carry no price: sized to the book within the limit (5 x 0.55 + 7.5 x 0.6 = 7.25 to spend;
    # the bids at or above 0.2 hold the 4 shares to sell).
    (USDC, 500, dict(outcome=0, side="buy", order_type="ioc", price=0.6, size=12.5),
     dict(tokenId=YES, side=OrderSide.BUY, orderType=MARKET_ORDER, price="0", makerAmountInQuoteToken=7.25)),
    (USDT, None, dict(outcome=1, side="sell", order_type="ioc", price=0.2, size=4),
     dict(tokenId=NO, side=OrderSide.SELL, orderType=MARKET_ORDER, price="0", makerAmountInBaseToken=4)),
]


@pytest.mark.parametrize("quote,parent,ours,theirs", CASES)
def test_order_and_cancel_bodies_are_byte_equal_to_the_sdk(quote, parent, ours, theirs):
    market = _market(813, quote, parent)
    mine = pmrouter_requests(market, quote, **ours)
    ref = sdk_requests(market, quote, order_builder.salt_for("uid-3"), PlaceOrderDataInput(marketId=813, **theirs))
    assert [(m, p) for m, p, _, _ in mine] == [(m, p) for m, p, _, _ in ref] == [
        ("POST", "/openapi/order"), ("POST", "/openapi/order/cancel")]
    for (_, _, key1, body1), (_, _, key2, body2) in zip(mine, ref):
        assert key1 == key2 == APIKEY
        assert body1 == body2
    order = json.loads(mine[0][3])
    assert order["maker"] == SAFE and order["signatureType"] == "2"


def test_the_safe_is_read_from_the_account_when_not_given():
    market = _market(813, USDT)
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"errno": 0, "errmsg": "", "result": _result(request.url.path, request.method,
                                                                                     USDT, market)})

    async def run():
        use_transport(httpx.MockTransport(handler))
        try:
            adapter = OpinionAdapter(OpinionConfig(url=HOST))
            sess = adapter.open_session(Credentials(private_key=PK, clob_api_key=APIKEY))
            return await sess.complete_credentials()
        finally:
            use_transport(None)

    creds = asyncio.run(run())
    assert creds.funder == SAFE and creds.signature_type == 2 and "/openapi/user/balance" in seen


@pytest.mark.parametrize("price", ["0.0005", "0.9995", "0.1234567"])
def test_prices_the_sdk_refuses_are_refused(price):
    with pytest.raises(ValueError):
        order_builder.limit_amounts(0, price, 10**18)
