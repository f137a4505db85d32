"""Builder flow with fee escrow, end to end with the official SDK in strict mode: create a user,
onboard it managed, place an order with fee_auth as that user, fill it in the sandbox, settle (twice:
the second run changes nothing), read pool, usage and escrow config; a cancelled order is refunded."""
from __future__ import annotations

import math
import os
import time
import uuid

import boto3
import parsec_api
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from pmrouter.settings import get_settings
from shared.localstack.stack import load_function

AFFILIATE = "0x1111111111111111111111111111111111111111"


def pull_fee_signature(payer, contract: str, order_id: str, fee: int, deadline: int) -> str:
    """Signed the way the docs describe ParsecFeeEscrow's PullFee, independently of pmrouter's code."""
    typed = {
        "primaryType": "PullFee",
        "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                   {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
                  "PullFee": [{"name": "orderId", "type": "bytes32"}, {"name": "payer", "type": "address"},
                              {"name": "feeAmount", "type": "uint256"}, {"name": "deadline", "type": "uint256"}]},
        "domain": {"name": "ParsecFeeEscrow", "version": "1", "chainId": 137,
                   "verifyingContract": contract},
        "message": {"orderId": bytes.fromhex(order_id[2:]), "payer": payer.address, "feeAmount": fee, "deadline": deadline},
    }
    from eth_utils import to_checksum_address

    typed["domain"]["verifyingContract"] = to_checksum_address(contract)
    return "0x" + payer.sign_message(encode_typed_data(full_message=typed)).signature.hex().removeprefix("0x")


def fee_auth(cfg, signer, price, size, bps=50, **over):
    order_id = "0x" + os.urandom(32).hex()
    fee = max(int(cfg.min_fee_usdc), math.ceil(price * size * bps / 10_000 * 10**6))
    deadline = int(time.time()) + 300
    auth = {"order_id": order_id, "payer": signer.address, "fee_amount": str(fee), "deadline": deadline,
            "signature": pull_fee_signature(signer, cfg.escrow_contract_address, order_id, fee, deadline)}
    auth.update(over)
    return auth


def escrow(escrow_id):
    return boto3.resource("dynamodb").Table(get_settings().escrow_table).get_item(Key={"escrow_id": escrow_id})["Item"]


@pytest.fixture()
def user(sdk):
    u = sdk.builder.users.create(external_id=f"fees-{uuid.uuid4().hex[:8]}", qps_limit=10)
    sdk.builder.onboard.create(customer_id=u.customer_id, exchange="polymarket", mode="managed")
    return {"X-Builder-Customer-Id": u.customer_id}


def wallet_of(user) -> Account:
    """The user's managed wallet, the payer of their fees (read from the store as the server does:
    exporting it would spend the builder's export allowance)."""
    from pmrouter.auth import credentials

    return Account.from_key(credentials.load(user["X-Builder-Customer-Id"], "polymarket").credentials.private_key)


def _market(sdk):
    for m in sdk.markets.list(exchanges=["polymarket"], limit=50).markets:
        if m.market_type == "binary" and m.status == "active":
            book = sdk.orderbook.retrieve(parsec_id=m.parsec_id, limit=3)
            if book.asks and book.asks[0][1] >= 10:
                return m, book
    raise AssertionError("no market")


def test_filled_order_fee_is_settled_exactly_once(sdk, user):
    cfg = sdk.builder.escrow.config()
    assert cfg.fee_escrow_enabled and cfg.affiliate_fee_bps == 1500 and int(cfg.min_fee_usdc) > 0
    m, book = _market(sdk)
    price, size = book.asks[0][0], 10
    payer = wallet_of(user)
    auth = fee_auth(cfg, payer, price, size)
    order = sdk.orders.create(exchange="polymarket", market_id=m.exchange_market_id, outcome="yes", side="buy",
                              price=price, size=size, params={"order_type": "fok"}, fee_auth=auth,
                              payer_address=payer.address, affiliate=AFFILIATE, extra_headers=user)
    assert order.status == "filled"
    assert escrow(auth["order_id"])["status"] == "held"
    settle = load_function("settle_fees").handler({}, None)
    assert settle["settled"] >= 1
    e = escrow(auth["order_id"])
    fee = int(auth["fee_amount"])
    assert e["status"] == "settled" and int(e["refund_amount"]) == 0
    assert int(e["affiliate_amount"]) == fee * 1500 // 10_000
    assert int(e["affiliate_amount"]) + int(e["treasury_amount"]) == fee
    again = load_function("settle_fees").handler({}, None)
    assert escrow(auth["order_id"])["settle_tx"] == e["settle_tx"]  # the chain was called once
    assert auth["order_id"] not in str(again)
    reuse = {**auth}
    with pytest.raises(parsec_api.BadRequestError) as exc:  # an authorization is spent once
        sdk.orders.create(exchange="polymarket", market_id=m.exchange_market_id, outcome="yes", side="buy",
                          price=price, size=size, fee_auth=reuse, payer_address=payer.address, affiliate=AFFILIATE,
                          extra_headers=user)
    assert "already used" in exc.value.body["error"]
    pool = sdk.builder.pool()
    assert pool.end_user_count >= 1 and pool.total_allocated_qps >= 10
    assert sdk.account.usage().tier == "scale"


def test_cancelled_order_fee_is_refunded(sdk, user):
    cfg = sdk.builder.escrow.config()
    m, _ = _market(sdk)
    payer = wallet_of(user)
    auth = fee_auth(cfg, payer, 0.02, 10)
    order = sdk.orders.create(exchange="polymarket", market_id=m.exchange_market_id, outcome="yes", side="buy",
                              price=0.02, size=10, fee_auth=auth, payer_address=payer.address, affiliate=AFFILIATE,
                              extra_headers=user)
    assert sdk.orders.cancel(order.id, exchange="polymarket", extra_headers=user).status == "cancelled"
    load_function("settle_fees").handler({}, None)
    e = escrow(auth["order_id"])
    assert e["status"] == "settled" and int(e["refund_amount"]) == int(auth["fee_amount"])
    assert int(e["affiliate_amount"]) == int(e["treasury_amount"]) == 0


@pytest.mark.parametrize("change,needle", [
    ({"deadline": 1}, "deadline"),
    ({"fee_amount": "1"}, "minimum"),
    ({"signature": "0x" + "11" * 65}, "signature"),
    ({"payer": "0x2222222222222222222222222222222222222222"}, "payer"),
])
def test_bad_fee_authorizations_are_refused(sdk, user, change, needle):
    cfg = sdk.builder.escrow.config()
    m, _ = _market(sdk)
    payer = wallet_of(user)
    auth = fee_auth(cfg, payer, 0.02, 10, **change)
    with pytest.raises(parsec_api.BadRequestError) as exc:
        sdk.orders.create(exchange="polymarket", market_id=m.exchange_market_id, outcome="yes", side="buy", price=0.02,
                          size=10, fee_auth=auth, payer_address=payer.address, affiliate=AFFILIATE, extra_headers=user)
    assert needle in exc.value.body["error"] + " ".join(exc.value.body.get("validation_errors") or [])
