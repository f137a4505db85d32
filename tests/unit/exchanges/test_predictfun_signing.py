"""Predict.fun orders built by pmrouter are byte-equal to predict-sdk 0.0.22's: the same key, salt,
clock, market and book go through the SDK's OrderBuilder (amounts, build_order, typed data, hash,
signature) and through pmrouter's session (`prepare_order`, its HTTP transport faked); the signed
order the API receives must match field for field, text for text. Market shapes: the four
exchanges (plain, neg-risk, yield-bearing, both), both outcomes, LIMIT with and without an
expiration, MARKET orders walking the book."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import httpx
import pytest
from eth_account import Account
from predict_sdk import BuildOrderInput, ChainId, LimitHelperInput, OrderBuilder, OrderBuilderOptions, Side
from predict_sdk import order_builder as sdk_order_builder
from predict_sdk.types import Book, MarketHelperInput

from pmrouter.exchanges.base import Credentials, OrderIntent
from pmrouter.exchanges.http import use_transport
from pmrouter.trading.rules import exact
from pmrouter.exchanges.predictfun import auth, order_builder
from pmrouter.exchanges.predictfun.adapter import PredictFunAdapter
from pmrouter.exchanges.predictfun.config import PredictFunConfig

PK = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ACCOUNT = Account.from_key(PK)
BASE = "http://predict.test"
YES, NO = "19633204485790857949828516737993423758628930235371629943999544859324645414627", "4242424242"
NOW = 1_800_000_000.0
BOOK = {"asks": [[0.52, 3.0], [0.55, 4.5], [0.61, 100.0]], "bids": [[0.49, 2.0], [0.47, 8.0], [0.4, 50.0]]}


def _market(mid: int, neg_risk: bool, yield_bearing: bool, fee: int, precision: int = 2) -> dict:
    return {"id": mid, "title": "T", "question": "Q?", "status": "REGISTERED", "tradingStatus": "OPEN",
            "isNegRisk": neg_risk, "isYieldBearing": yield_bearing, "feeRateBps": fee, "decimalPrecision": precision,
            "categorySlug": f"cat-{mid}", "createdAt": "2026-01-01T00:00:00.000Z",
            "outcomes": [{"name": "Yes", "indexSet": 1, "onChainId": YES, "status": None},
                         {"name": "No", "indexSet": 2, "onChainId": NO, "status": None}]}


def pmrouter_order(market: dict, *, outcome: int, side: str, order_type: str, price: float, size: float,
                   expiration: int | None = None) -> dict:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == f"/v1/markets/{market['id']}":
            return httpx.Response(200, json={"success": True, "data": market})
        if path == f"/v1/markets/{market['id']}/orderbook":
            return httpx.Response(200, json={"success": True, "data": {"marketId": market["id"],
                                                                       "updateTimestampMs": 1, **BOOK}})
        return httpx.Response(404, json={"success": False, "message": "not found"})

    async def run():
        use_transport(httpx.MockTransport(handler))
        try:
            adapter = PredictFunAdapter(PredictFunConfig(url=BASE, api_key="k"))
            m = await adapter.get_market(str(market["id"]))
            sess = adapter.open_session(Credentials(private_key=PK))
            return await sess.prepare_order(OrderIntent(m, m.outcomes[outcome], side, exact(price), exact(size), order_type,
                                                        expiration, "uid-7"))
        finally:
            use_transport(None)

    orig = order_builder.time.time
    order_builder.time.time = lambda: NOW
    try:
        prepared = asyncio.run(run())
    finally:
        order_builder.time.time = orig
    return {"order_id": prepared.order_id, **json.loads(prepared.payload)["data"]}


def sdk_order(market: dict, *, token: str, side: Side, strategy: str, price: float | None = None, size: float,
              levels=None, expires_at: datetime | None = None) -> dict:
    salt = str(order_builder.salt_for("uid-7"))
    builder = OrderBuilder.make(ChainId.BNB_MAINNET, PK, OrderBuilderOptions(generate_salt=lambda: salt))
    qty = int(round(size * 10**18))
    if strategy == "LIMIT":
        amounts = builder.get_limit_order_amounts(LimitHelperInput(side=side, price_per_share_wei=int(round(price * 10**18)),
                                                                   quantity_wei=qty))
    else:
        amounts = builder.get_market_order_amounts(MarketHelperInput(side=side, quantity_wei=qty),
                                                   Book(market_id=market["id"], update_timestamp_ms=1, **levels))
    orig = sdk_order_builder.time.time
    sdk_order_builder.time.time = lambda: NOW
    try:
        order = builder.build_order(strategy, BuildOrderInput(
            side=side, token_id=token, maker_amount=str(amounts.maker_amount), taker_amount=str(amounts.taker_amount),
            fee_rate_bps=market["feeRateBps"], expires_at=expires_at))
    finally:
        sdk_order_builder.time.time = orig
    typed = builder.build_typed_data(order, is_neg_risk=market["isNegRisk"], is_yield_bearing=market["isYieldBearing"])
    signed = builder.sign_typed_data_order(typed)
    return {"hash": builder.build_typed_data_hash(typed), "salt": signed.salt, "maker": signed.maker,
            "signer": signed.signer, "taker": signed.taker, "tokenId": signed.token_id,
            "makerAmount": signed.maker_amount, "takerAmount": signed.taker_amount, "expiration": signed.expiration,
            "nonce": signed.nonce, "feeRateBps": signed.fee_rate_bps, "side": int(signed.side),
            "signatureType": int(signed.signature_type), "signature": "0x" + signed.signature.removeprefix("0x"),
            "_price": str(amounts.price_per_share)}


def _asks_yes(book):  # the SDK takes the book of the outcome being traded, best first
    return {"asks": [tuple(x) for x in book["asks"]], "bids": [tuple(x) for x in book["bids"]]}


def _no_side(book):
    return {"asks": [(round(1 - p, 2), s) for p, s in book["bids"]], "bids": [(round(1 - p, 2), s) for p, s in book["asks"]]}


CASES = [
    # market flags, ours, SDK
    ((False, False, 200), dict(outcome=0, side="buy", order_type="gtc", price=0.5, size=10),
     dict(token=YES, side=Side.BUY, strategy="LIMIT", price=0.5, size=10)),
    ((True, False, 0), dict(outcome=0, side="sell", order_type="gtc", price=0.37, size=123.456789),
     dict(token=YES, side=Side.SELL, strategy="LIMIT", price=0.37, size=123.456789)),
    ((False, True, 150), dict(outcome=1, side="buy", order_type="gtd", price=0.123, size=7.5, expiration=1_900_000_000),
     dict(token=NO, side=Side.BUY, strategy="LIMIT", price=0.123, size=7.5,
          expires_at=datetime.fromtimestamp(1_900_000_000, tz=timezone.utc))),
    ((True, True, 200), dict(outcome=0, side="buy", order_type="fok", price=0.55, size=5),
     dict(token=YES, side=Side.BUY, strategy="MARKET", size=5, levels=_asks_yes(BOOK))),
    ((True, True, 200), dict(outcome=0, side="sell", order_type="ioc", price=0.45, size=9.25),
     dict(token=YES, side=Side.SELL, strategy="MARKET", size=9.25, levels=_asks_yes(BOOK))),
    ((False, False, 200), dict(outcome=1, side="buy", order_type="ioc", price=0.53, size=4),
     dict(token=NO, side=Side.BUY, strategy="MARKET", size=4, levels=_no_side(BOOK))),
]


@pytest.mark.parametrize("flags,ours,theirs", CASES)
def test_the_signed_order_is_byte_equal_to_the_sdk(flags, ours, theirs):
    market = _market(31, *flags)
    mine = pmrouter_order(market, **ours)
    ref = sdk_order(market, **theirs)
    price = ref.pop("_price")
    assert json.dumps(mine["order"]) == json.dumps(ref)
    assert mine["pricePerShare"] == price
    assert mine["order_id"] == ref["hash"]  # the id is known before sending
    assert mine["strategy"] == theirs["strategy"]
    if theirs["strategy"] == "MARKET":
        assert mine["isFillOrKill"] is (ours["order_type"] == "fok")
        assert mine["order"]["expiration"] == str(int(NOW) + 300)


def test_the_four_exchanges_are_the_sdks():
    builder = OrderBuilder.make(ChainId.BNB_MAINNET)
    for neg in (False, True):
        for yb in (False, True):
            assert order_builder.exchange_for(neg, yb) == builder._get_exchange_identifier(neg, yb)


def test_published_vector():
    amounts = order_builder.limit_amounts(0, 0.5, 10)
    signed = order_builder.sign_order(ACCOUNT, token_id=YES, side=0, amounts=amounts, fee_rate_bps=200, salt=1234567,
                                      expiration=order_builder.LIMIT_EXPIRATION, neg_risk=False, yield_bearing=False)
    assert (amounts.maker, amounts.taker) == (5 * 10**18, 10 * 10**18)
    assert signed.order_hash == "0x46d983d72fd88a91ff63bf09404ccbd5f14e392de95898502f21d1f869d1dcec"
    assert signed.signed.signature == ("0x9545b6fd576bce774850eeb010370c3c337149557ec87de3bb92c219b9e220a47284a88f0adc6f"
                                       "43b3a4e741b97f49ca5d704e1d6d00289270600481a5d5501a1c")


def test_login_signature_recovers_the_wallet():
    from eth_account.messages import encode_defunct

    body = auth.sign_login(ACCOUNT, "Sign in to predict.fun: nonce 42")
    assert Account.recover_message(encode_defunct(text=body["message"]), signature=body["signature"]) == ACCOUNT.address
    assert auth.headers("k", "jwt") == {"x-api-key": "k", "Authorization": "Bearer jwt"}


@pytest.mark.parametrize("size", [0.001, 0.0099])
def test_below_the_minimum_quantity_is_refused(size):
    with pytest.raises(ValueError):
        order_builder.limit_amounts(0, 0.5, size)
