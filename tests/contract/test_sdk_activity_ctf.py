"""User activity across venues (best effort per venue) and the Polymarket CTF routes, through the SDK."""
from __future__ import annotations

import parsec_api
import pytest

from pmrouter.auth import credentials as credstore

CID = "0x" + "ab" * 32


def test_user_activity_reports_each_venue(sdk, stack):
    wallet = credstore.load(stack.customer_id, "polymarket").address
    markets = [x for x in sdk.markets.list(exchanges=["polymarket"], limit=50).markets
               if x.market_type == "binary" and x.status == "active"]
    m = markets[-1]  # away from the markets other tests trade
    book = sdk.orderbook.retrieve(parsec_id=m.parsec_id, limit=1)
    order = sdk.orders.create(exchange="polymarket", market_id=m.exchange_market_id, outcome="yes", side="buy",
                              price=book.asks[0][0], size=5, params={"order_type": "ioc"})
    assert order.filled > 0
    out = sdk.account.user_activity(address=wallet)
    assert set(out.status) == {"polymarket", "opinion", "limitless", "predictfun"}
    assert out.status["polymarket"].success is True and out.exchanges["polymarket"]
    assert out.exchanges["polymarket"][0]["transactionHash"].startswith("0x")
    assert out.status["opinion"].success is False and out.status["opinion"].error
    with pytest.raises(parsec_api.BadRequestError):
        sdk.account.user_activity(address="not-an-address")


def test_ctf_split_merge_redeem(sdk, stack):
    """On the local chain's ConditionalTokens: split, merge part back, the oracle resolves YES, redeem
    pays the YES side; every step is a mined transaction and the wallet's collateral adds up."""
    chain = stack.chain
    wallet = credstore.load(stack.customer_id, "polymarket").address
    cid, question = chain.prepare_condition()
    start = chain.usdc_balance(wallet)
    for res in (sdk.ctf.split(amount="1000000", condition_id=cid), sdk.ctf.merge(amount="500000", condition_id=cid)):
        assert res.status == "mined" and res.transaction_hash.startswith("0x")
    assert chain.positions(wallet, cid) == [500_000, 500_000] and chain.usdc_balance(wallet) == start - 500_000
    chain.resolve(question, [1, 0])
    assert sdk.ctf.redeem(condition_id=cid).status == "mined"
    assert chain.positions(wallet, cid) == [0, 0] and chain.usdc_balance(wallet) == start
    with pytest.raises(parsec_api.APIStatusError) as exc:  # the local chain has no NegRiskAdapter
        sdk.ctf.redeem(condition_id=cid, neg_risk=True, amounts=["1000000", "0"])
    assert exc.value.status_code == 503 and exc.value.body["code"] == "chain_not_configured"
    with pytest.raises(parsec_api.BadRequestError) as exc:
        sdk.ctf.redeem(condition_id=CID, neg_risk=True)
    assert "amounts" in exc.value.body["error"]
    with pytest.raises(parsec_api.BadRequestError):
        sdk.ctf.split(amount="1.5", condition_id=CID)
    with pytest.raises(parsec_api.BadRequestError):
        sdk.ctf.split(amount="100", condition_id="0x1234")
