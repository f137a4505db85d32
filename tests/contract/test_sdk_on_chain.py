"""Money on a real EVM, through the official SDK on the local stack (anvil, the fee escrow contract, a
USDC-like token and ConditionalTokens deployed): a builder order with fee_auth pulls the fee in real
tokens, settle_fees distributes it (affiliate and treasury shares, unfilled part refunded) exactly once,
a crash between recording and broadcasting is recovered by the next run; CTF split then merge returns
the collateral; /wallet reads the chain; with no chain configured the money routes answer 503.

Every balance here is read back from the chain, not from pmrouter's tables."""
from __future__ import annotations

import os
import time
import uuid
from decimal import Decimal

import parsec_api
import pytest
from eth_account import Account

from pmrouter.chain import client as chain_client
from pmrouter.store import chain_journal as journal
from pmrouter.chain.client import web3_for
from pmrouter.chain.config import configured
from pmrouter.escrow import service as escrow_service
from shared.localstack.stack import load_function
from tests.contract.test_sdk_fee_escrow import _market, escrow, fee_auth

BUILDER_SHARE_BPS = 1500  # the demo builder's tier share (Iron), as GET /builder/escrow/config shows


class Crash(BaseException):
    """The settle function's process dying mid-run (no `except Exception` can swallow it)."""


@pytest.fixture()
def chain(stack, monkeypatch):
    """The local EVM, selected the way a deployment selects a chain: PMROUTER_SANDBOX_CHAIN unset."""
    monkeypatch.delenv("PMROUTER_SANDBOX_CHAIN", raising=False)
    return stack.chain


@pytest.fixture()
def user(sdk, chain):
    u = sdk.builder.users.create(external_id=f"chain-{uuid.uuid4().hex[:8]}", qps_limit=10)
    sdk.builder.onboard.create(customer_id=u.customer_id, exchange="polymarket", mode="managed")
    return {"X-Builder-Customer-Id": u.customer_id}


@pytest.fixture()
def payer(sdk, user, chain):
    """The end user's managed wallet pays the fee: its key signs the PullFee (read from the sealed store
    here; a user would export it, 3 times an hour). The local faucet gave it USDC and the allowance."""
    from pmrouter.auth import credentials as credstore

    account = Account.from_key(credstore.load(user["X-Builder-Customer-Id"], "polymarket").credentials.private_key)
    assert chain.usdc_balance(account.address) == 10_000 * 10**6
    return account


def sent_by(chain, address: str) -> int:
    return web3_for(chain.url).eth.get_transaction_count(address)


def place(sdk, user, payer, *, price, size, order_type="fok", affiliate):
    cfg = sdk.builder.escrow.config()
    auth = fee_auth(cfg, payer, price, size)
    m = place.market
    order = sdk.orders.create(exchange="polymarket", market_id=m.exchange_market_id, outcome="yes", side="buy",
                              price=price, size=size, params={"order_type": order_type}, fee_auth=auth,
                              payer_address=payer.address, affiliate=affiliate, extra_headers=user)
    return order, auth


def test_builder_fee_moves_real_tokens_and_is_settled_once(sdk, user, payer, chain):
    cfg = sdk.builder.escrow.config()
    assert cfg.escrow_contract_address.lower() == chain.escrow.lower()
    assert cfg.treasury_address.lower() == chain.treasury.lower()
    m, book = _market(sdk)
    place.market = m
    affiliate = Account.create().address
    start, treasury_start = chain.usdc_balance(payer.address), chain.usdc_balance(chain.treasury)
    order, auth = place(sdk, user, payer, price=book.asks[0][0], size=10, affiliate=affiliate)
    fee = int(auth["fee_amount"])
    assert order.status == "filled"
    assert chain.usdc_balance(payer.address) == start - fee  # pulled before the order was sent
    assert escrow(auth["order_id"])["state"] == "held"

    load_function("settle_fees").handler({}, None)
    share = fee * BUILDER_SHARE_BPS // 10_000
    assert chain.usdc_balance(affiliate) == share
    assert chain.usdc_balance(chain.treasury) == treasury_start + fee - share
    assert chain.usdc_balance(payer.address) == start - fee  # filled: nothing to refund
    row = escrow(auth["order_id"])
    assert row["state"] == "settled" and web3_for(chain.url).eth.get_transaction_receipt(row["settle_tx"])["status"] == 1

    sent = sent_by(chain, chain.settlement.address)
    load_function("settle_fees").handler({}, None)  # a second run sends nothing
    assert sent_by(chain, chain.settlement.address) == sent
    assert chain.usdc_balance(affiliate) == share and chain.usdc_balance(payer.address) == start - fee

    with pytest.raises(parsec_api.BadRequestError):  # the authorization is spent: no second pull
        sdk.orders.create(exchange="polymarket", market_id=m.exchange_market_id, outcome="yes", side="buy",
                          price=book.asks[0][0], size=10, fee_auth=auth, payer_address=payer.address,
                          affiliate=affiliate, extra_headers=user)
    assert chain.usdc_balance(payer.address) == start - fee


def test_partly_filled_then_cancelled_order_refunds_the_unfilled_fraction(sdk, user, payer, chain):
    m, book = _market(sdk)
    place.market = m
    price, available = book.asks[0][0], book.asks[0][1]
    size = available + 7  # takes the whole best level, rests the rest
    affiliate = Account.create().address
    start = chain.usdc_balance(payer.address)
    order, auth = place(sdk, user, payer, price=price, size=size, order_type="gtc", affiliate=affiliate)
    assert 0 < order.filled < order.size
    sdk.orders.cancel(order.id, exchange="polymarket", extra_headers=user)
    load_function("settle_fees").handler({}, None)
    fee = int(auth["fee_amount"])
    aff, treasury, refund = escrow_service.shares(fee, Decimal(str(order.filled)) / Decimal(str(order.size)),
                                                  BUILDER_SHARE_BPS)
    assert refund > 0 and aff + treasury + refund == fee
    assert chain.usdc_balance(payer.address) == start - fee + refund
    assert chain.usdc_balance(affiliate) == aff


def test_a_crash_between_recording_and_broadcasting_the_settlement_is_recovered(sdk, user, payer, chain,
                                                                                  monkeypatch):
    m, book = _market(sdk)
    place.market = m
    affiliate = Account.create().address
    order, auth = place(sdk, user, payer, price=book.asks[0][0], size=10, affiliate=affiliate)
    fee, oid = int(auth["fee_amount"]), auth["order_id"].lower()
    table = configured().table

    def die(record):
        if oid in record.intent:
            raise Crash(record.tx_hash)

    monkeypatch.setattr(chain_client, "after_record", die)
    sent = sent_by(chain, chain.settlement.address)
    with pytest.raises(Crash) as crashed:
        escrow_service.settle_once()
    intent = f"escrow-settle:{chain.escrow.lower()}:{oid}"
    recorded = journal.get(table, intent)
    assert recorded.status == "signed" and recorded.tx_hash == str(crashed.value)
    assert chain.usdc_balance(affiliate) == 0 and escrow(oid)["state"] == "settling"
    assert sent_by(chain, chain.settlement.address) == sent  # the crash came before the broadcast
    monkeypatch.setattr(chain_client, "after_record", None)

    escrow_service.settle_once(now=time.time() + escrow_service.SETTLE_LEASE_S + 1)  # the next run
    share = fee * BUILDER_SHARE_BPS // 10_000
    assert chain.usdc_balance(affiliate) == share
    assert escrow(oid)["state"] == "settled" and escrow(oid)["settle_tx"] == recorded.tx_hash
    assert journal.get(table, intent).status == "mined"
    settled_count = sent_by(chain, chain.settlement.address)
    escrow_service.settle_once(now=time.time() + escrow_service.SETTLE_LEASE_S + 1)
    assert sent_by(chain, chain.settlement.address) == settled_count and chain.usdc_balance(affiliate) == share


def test_a_fee_the_chain_refuses_to_pull_stops_the_order(sdk, user, chain):
    """A payer who signed but never approved the contract: the pull is refused on chain (recorded with
    its reason), the order never reaches the venue and no token moves."""
    from pmrouter.auth import credentials as credstore

    payer = Account.from_key(credstore.load(user["X-Builder-Customer-Id"], "polymarket").credentials.private_key)
    chain.approve(payer, chain.escrow, 0)  # funded, but the escrow may not spend it
    funded = chain.usdc_balance(payer.address)
    m, book = _market(sdk)
    auth = fee_auth(sdk.builder.escrow.config(), payer, book.asks[0][0], 10)
    before = sdk.orders.list(exchange="polymarket", status="all", extra_headers=user)
    with pytest.raises(parsec_api.BadRequestError) as exc:
        sdk.orders.create(exchange="polymarket", market_id=m.exchange_market_id, outcome="yes", side="buy",
                          price=book.asks[0][0], size=10, fee_auth=auth, payer_address=payer.address,
                          affiliate=Account.create().address, extra_headers=user)
    assert "TokenTransferFailed" in exc.value.body["error"]
    assert chain.usdc_balance(payer.address) == funded
    assert len(sdk.orders.list(exchange="polymarket", status="all", extra_headers=user)) == len(before)
    rec = journal.get(configured().table, f"escrow-pull:{chain.escrow.lower()}:{auth['order_id'].lower()}")
    assert rec.status == "rejected" and rec.reason == "TokenTransferFailed()"


def test_ctf_split_then_merge_returns_the_collateral(sdk, stack, chain):
    from pmrouter.auth import credentials as credstore

    wallet = credstore.load(stack.customer_id, "polymarket").address
    cid = chain.prepare_condition()[0]
    start = chain.usdc_balance(wallet)
    key = str(uuid.uuid4())
    split = sdk.ctf.split(amount="2000000", condition_id=cid, extra_headers={"Idempotency-Key": key})
    assert split.status == "mined" and split.transaction_hash.startswith("0x")
    assert chain.usdc_balance(wallet) == start - 2_000_000
    assert chain.positions(wallet, cid) == [2_000_000, 2_000_000]
    again = sdk.ctf.split(amount="2000000", condition_id=cid, extra_headers={"Idempotency-Key": key})
    assert again.transaction_hash == split.transaction_hash  # a retry follows the same transaction
    assert chain.usdc_balance(wallet) == start - 2_000_000
    merge = sdk.ctf.merge(amount="2000000", condition_id=cid)
    assert merge.status == "mined" and merge.transaction_hash != split.transaction_hash
    assert chain.usdc_balance(wallet) == start and chain.positions(wallet, cid) == [0, 0]
    with pytest.raises(parsec_api.BadRequestError) as exc:  # more than the wallet holds: the chain refuses
        sdk.ctf.merge(amount="1000000", condition_id=cid)
    assert "refused" in exc.value.body["error"]
    with pytest.raises(parsec_api.BadRequestError):  # a condition nobody prepared
        sdk.ctf.split(amount="1000000", condition_id="0x" + os.urandom(32).hex())
    assert chain.usdc_balance(wallet) == start


def test_wallet_balances_come_from_the_chain(sdk, user, chain):
    wallet = sdk.wallet.retrieve(extra_headers=user).wallet
    chain.fund(wallet.eoa_address, usdc=1_234_567)  # on top of the local faucet's 10,000
    balances = {b.token: b for b in sdk.wallet.retrieve(extra_headers=user).wallet.balances}
    assert balances["pUSD"].raw_balance == str(10_000 * 10**6 + 1_234_567)
    assert balances["pUSD"].contract_address.lower() == chain.usdc.lower()
    assert int(balances["POL"].raw_balance) == 10**20
    assert not [t for t in balances if t.startswith("CTF ")]
    user_key = user["X-Builder-Customer-Id"]
    from pmrouter.auth import credentials as credstore

    owner = Account.from_key(credstore.load(user_key, "polymarket").credentials.private_key)
    cid = chain.prepare_condition()[0]
    sdk.ctf.split(amount="1000000", condition_id=cid, extra_headers=user)
    positions = {b.token: b for b in sdk.wallet.retrieve(extra_headers=user).wallet.balances if b.token.startswith("CTF ")}
    assert sorted(int(b.raw_balance) for b in positions.values()) == [1_000_000, 1_000_000]
    assert all(b.contract_address.lower() == chain.ctf.lower() for b in positions.values())
    assert sorted(chain.positions(owner.address, cid)) == [1_000_000, 1_000_000]
    after = {b.token: b for b in sdk.wallet.retrieve(extra_headers=user).wallet.balances}["pUSD"].raw_balance
    assert after == str(10_000 * 10**6 + 234_567)


def test_without_a_chain_the_money_routes_answer_503_and_record_nothing(sdk, user, payer, chain, monkeypatch):
    for var in ("PMROUTER_CHAIN_RPC_URL", "PMROUTER_SANDBOX_CHAIN"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(parsec_api.APIStatusError) as exc:
        sdk.ctf.split(amount="1000000", condition_id="0x" + "ab" * 32)
    assert exc.value.status_code == 503 and exc.value.body["code"] == "chain_not_configured"
    cfg = sdk.builder.escrow.config()
    assert cfg.fee_escrow_enabled is False
    m, book = _market(sdk)
    auth = fee_auth(cfg, payer, book.asks[0][0], 10)
    with pytest.raises(parsec_api.APIStatusError) as exc:
        sdk.orders.create(exchange="polymarket", market_id=m.exchange_market_id, outcome="yes", side="buy",
                          price=book.asks[0][0], size=10, fee_auth=auth, payer_address=payer.address,
                          affiliate=Account.create().address, extra_headers=user)
    assert exc.value.status_code == 503 and exc.value.body["code"] == "chain_not_configured"
    import boto3

    from pmrouter.settings import get_settings

    row = boto3.resource("dynamodb").Table(get_settings().escrow_table).get_item(
        Key={"escrow_id": auth["order_id"].lower()}).get("Item")
    assert row is None  # refused before anything was recorded
