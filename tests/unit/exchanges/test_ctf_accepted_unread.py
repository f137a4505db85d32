"""An order the venue accepted is never reported as an error because reading it back failed: on
Predict.fun and Opinion the placement answer carries no state, and when the follow-up read fails the
order is `pending` under its venue id (reconciliation settles it). Without an id at all it is an
ambiguous outcome (the caller gets `pending`, never a retryable error that would place it twice)."""
from __future__ import annotations

import asyncio

import httpx
import pytest
from eth_account import Account

from pmrouter.exchanges.base import Credentials, OrderIntent
from pmrouter.exchanges.errors import VenueUnavailable
from pmrouter.exchanges.http import use_transport
from pmrouter.exchanges.opinion.adapter import OpinionAdapter
from pmrouter.exchanges.predictfun.adapter import PredictFunAdapter
from pmrouter.exchanges.opinion.config import OpinionConfig
from pmrouter.exchanges.predictfun.config import PredictFunConfig

PK = "0x" + "11" * 32
YES, NO = "1001", "1002"


def _run(adapter_factory, market_id: str, creds: Credentials, handler):
    async def go():
        use_transport(httpx.MockTransport(handler))
        try:
            adapter = adapter_factory()
            m = await adapter.get_market(market_id)
            sess = adapter.open_session(creds)
            prepared = await sess.prepare_order(OrderIntent(m, m.outcomes[0], "buy", 0.5, 10, "gtc", None, "uid-1"))
            return prepared, await sess.submit_order(prepared)
        finally:
            use_transport(None)
    return asyncio.run(go())


def test_predict_order_accepted_but_unreadable_is_pending_under_its_hash():
    market = {"id": 5, "title": "T", "question": "Q", "status": "REGISTERED", "tradingStatus": "OPEN",
              "isNegRisk": False, "isYieldBearing": False, "feeRateBps": 200, "decimalPrecision": 2,
              "categorySlug": "c", "outcomes": [{"name": "Yes", "indexSet": 1, "onChainId": YES},
                                                {"name": "No", "indexSet": 2, "onChainId": NO}]}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/markets/5":
            return httpx.Response(200, json={"success": True, "data": market})
        if path == "/v1/auth/message":
            return httpx.Response(200, json={"success": True, "data": {"message": "m"}})
        if path == "/v1/auth":
            return httpx.Response(200, json={"success": True, "data": {"token": "jwt"}})
        if path == "/v1/orders" and request.method == "POST":
            return httpx.Response(200, json={"success": True, "data": {"code": "OK", "orderId": "9"}})
        if path.startswith("/v1/orders/"):
            return httpx.Response(503, json={"success": False, "message": "down"})
        return httpx.Response(404, json={"success": False, "message": "not found"})

    prepared, placed = _run(lambda: PredictFunAdapter(PredictFunConfig(url="http://p.test", api_key="k")),
                            "5", Credentials(private_key=PK), handler)
    assert placed.status == "pending" and placed.id == prepared.order_id and placed.id.startswith("0x")


@pytest.mark.parametrize("answer,expected", [({"orderData": {"orderId": "77"}}, "pending"), ({}, "ambiguous")])
def test_opinion_order_accepted_but_unreadable(answer, expected):
    quote = {"quoteTokenAddress": "0x55d398326f99059fF775485246999027B3197955",
             "ctfExchangeAddress": "0x5F45344126D6488025B0b84A3A8189F2487a7246", "decimal": 18, "chainId": "56"}
    market = {"marketId": 8, "marketTitle": "T", "status": 2, "marketType": 0, "yesTokenId": YES, "noTokenId": NO,
              "quoteToken": quote["quoteTokenAddress"], "chainId": "56"}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        ok = lambda result: httpx.Response(200, json={"errno": 0, "errmsg": "", "result": result})  # noqa: E731
        if path == "/openapi/market/8":
            return ok({"data": market})
        if path == "/openapi/quoteToken":
            return ok({"total": 1, "list": [quote]})
        if path == "/openapi/order" and request.method == "POST":
            return ok(answer)
        return httpx.Response(503, text="down")

    creds = Credentials(private_key=PK, clob_api_key="k", funder=Account.create().address)
    factory = lambda: OpinionAdapter(OpinionConfig(url="http://o.test"))  # noqa: E731
    if expected == "ambiguous":
        with pytest.raises(VenueUnavailable) as exc:
            _run(factory, "8", creds, handler)
        assert exc.value.ambiguous
        return
    _, placed = _run(factory, "8", creds, handler)
    assert (placed.status, placed.id) == ("pending", "77")
