"""`escrow.chain()` on the contract: what the settlement service relies on (a repeated call sends
nothing, a pull interrupted by a crash is finished before anyone concludes it never happened), and
which implementation is selected (the sandbox only when asked for, no chain = ChainNotConfigured)."""
from __future__ import annotations

import os
import time

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from pmrouter.chain import client as chain_client
from pmrouter.chain import keys
from pmrouter.chain.errors import ChainNotConfigured
from pmrouter.escrow import authorization
from pmrouter.escrow import chain as escrow_chain
from pmrouter.escrow.config import EscrowConfig

FEE = 300_000


class Crash(BaseException):
    pass


@pytest.fixture()
def esc(local_chain, tables, monkeypatch):
    for k, v in local_chain.env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("PMROUTER_SANDBOX_CHAIN", raising=False)
    monkeypatch.setattr(keys, "settlement_account", lambda: local_chain.settlement)
    return escrow_chain.chain()


def authorized(local_chain):
    payer = Account.create()
    local_chain.fund(payer.address, usdc=FEE)
    local_chain.approve(payer, local_chain.escrow)
    order_id, deadline = "0x" + os.urandom(32).hex(), int(time.time()) + 600
    cfg = EscrowConfig(contract=local_chain.escrow, treasury=local_chain.treasury, min_fee_usdc=0, min_fee_bps=0)
    typed = authorization.typed_data(cfg, order_id, payer.address, FEE, deadline)
    sig = "0x" + bytes(payer.sign_message(encode_typed_data(full_message=typed)).signature).hex()
    return payer, order_id, deadline, sig


def test_the_contract_is_selected_and_repeats_send_nothing(esc, local_chain):
    assert isinstance(esc, escrow_chain.ContractEscrowChain)
    payer, oid, deadline, sig = authorized(local_chain)
    first = esc.pull_fee(oid, payer.address, FEE, deadline, sig)
    assert esc.pull_fee(oid, payer.address, FEE, deadline, sig) == first
    assert local_chain.usdc_balance(payer.address) == 0 and esc.pulled(oid) and not esc.settled(oid)
    affiliate = Account.create().address
    settle = esc.distribute(oid, affiliate, 45_000, 255_000, 0)
    assert esc.distribute(oid, affiliate, 45_000, 255_000, 0) == settle and esc.settled(oid)
    assert local_chain.usdc_balance(affiliate) == 45_000


def test_a_pull_interrupted_before_broadcast_is_finished_by_pulled(esc, local_chain, monkeypatch):
    payer, oid, deadline, sig = authorized(local_chain)

    def die(record):
        raise Crash()

    monkeypatch.setattr(chain_client, "after_record", die)
    with pytest.raises(Crash):
        esc.pull_fee(oid, payer.address, FEE, deadline, sig)
    monkeypatch.setattr(chain_client, "after_record", None)
    assert local_chain.usdc_balance(payer.address) == FEE  # nothing went out yet
    assert esc.pulled(oid)  # the journaled pull is sent, then the chain is asked
    assert local_chain.usdc_balance(payer.address) == 0
    esc.distribute(oid, Account.create().address, 0, 0, FEE)  # the settlement refunds it
    assert local_chain.usdc_balance(payer.address) == FEE and esc.settled(oid)


def test_a_refused_pull_is_an_error_not_a_payment(esc, local_chain):
    from pmrouter.chain.errors import TransactionFailed

    payer, oid, deadline, sig = authorized(local_chain)
    with pytest.raises(TransactionFailed) as exc:
        esc.pull_fee(oid, payer.address, FEE + 1, deadline, sig)  # terms the payer did not sign
    assert exc.value.reason == "InvalidSignature()" and not esc.pulled(oid)


def test_selection_is_explicit(tables, monkeypatch):
    monkeypatch.delenv("PMROUTER_CHAIN_RPC_URL", raising=False)
    monkeypatch.delenv("PMROUTER_SANDBOX_CHAIN", raising=False)
    with pytest.raises(ChainNotConfigured):
        escrow_chain.chain()
    monkeypatch.setenv("PMROUTER_SANDBOX_CHAIN", "1")
    assert isinstance(escrow_chain.chain(), escrow_chain.SandboxEscrowChain)
    monkeypatch.setenv("PMROUTER_SANDBOX_CHAIN", "0")
    monkeypatch.setenv("PMROUTER_CHAIN_RPC_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("PMROUTER_ESCROW_CONTRACT", "")
    with pytest.raises(ChainNotConfigured):  # a chain but no escrow contract deployed
        escrow_chain.chain()


def test_the_off_chain_verifier_uses_the_configured_chain_id(monkeypatch):
    """The contract hashes block.chainid into the domain: a deployment on another chain (a testnet)
    must verify signatures for that chain, or every pull would revert."""
    from pmrouter.errors import InvalidInput as ValidationFailed
    from pmrouter.contract.trading import FeeAuthorization
    from pmrouter.escrow import config

    monkeypatch.setenv("PMROUTER_CHAIN_ID", "80002")
    monkeypatch.setenv("PMROUTER_ESCROW_CONTRACT", "0x" + "12" * 20)
    cfg = config.platform()
    assert cfg.chain_id == 80002
    payer, oid, deadline = Account.create(), "0x" + os.urandom(32).hex(), int(time.time()) + 600

    def signed(chain_id: int) -> FeeAuthorization:
        typed = authorization.typed_data(replace_chain(cfg, chain_id), oid, payer.address, 200_000, deadline)
        sig = "0x" + bytes(payer.sign_message(encode_typed_data(full_message=typed)).signature).hex()
        return FeeAuthorization(order_id=oid, payer=payer.address, fee_amount="200000", deadline=deadline, signature=sig)

    assert authorization.verify(cfg, signed(80002), payer.address, 0.5, 10) == 200_000
    with pytest.raises(ValidationFailed):
        authorization.verify(cfg, signed(137), payer.address, 0.5, 10)


def replace_chain(cfg, chain_id):
    from dataclasses import replace

    return replace(cfg, chain_id=chain_id)


def test_settlement_without_a_chain_touches_nothing(tables, monkeypatch):
    import boto3

    from pmrouter.escrow import service
    from pmrouter.settings import get_settings

    monkeypatch.delenv("PMROUTER_CHAIN_RPC_URL", raising=False)
    monkeypatch.delenv("PMROUTER_SANDBOX_CHAIN", raising=False)
    table = boto3.resource("dynamodb").Table(get_settings().escrow_table)
    table.put_item(Item={"escrow_id": "0x" + "ee" * 32, "state": "held", "status": "held", "customer_id": "c",
                         "order_uid": "u", "fee": 1000, "affiliate": "0x" + "11" * 20, "affiliate_bps": 1500})
    report = service.settle_once()
    assert report["chain"] == "not configured" and report["settled"] == 0
    assert table.get_item(Key={"escrow_id": "0x" + "ee" * 32})["Item"]["state"] == "held"
