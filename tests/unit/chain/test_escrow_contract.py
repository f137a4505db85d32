"""ParsecFeeEscrow on a real EVM (anvil): the happy paths move real tokens, and every revert path
reverts with its own error. Signatures are made by pmrouter's off-chain verifier's typed data, so the
contract and `escrow/authorization.py` are proven to agree on the EIP-712 digest."""
from __future__ import annotations

import os
import time

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from pmrouter.chain import artifacts
from pmrouter.chain.client import revert_reason, web3_for
from pmrouter.escrow import authorization
from pmrouter.escrow.config import EscrowConfig
from shared.localstack.chain import CHAIN_ID, LocalChain

ABI = artifacts.abi("ParsecFeeEscrow")
FEE = 250_000
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.fixture(scope="module")
def chain(local_chain: LocalChain) -> LocalChain:
    return local_chain


@pytest.fixture(scope="module")
def escrow(chain):
    return web3_for(chain.url).eth.contract(address=chain.escrow, abi=ABI)


def sign(payer, escrow_address: str, order_id: str, fee: int, deadline: int, chain_id: int = CHAIN_ID) -> bytes:
    cfg = EscrowConfig(contract=escrow_address, treasury="0x" + "00" * 20, min_fee_usdc=0, min_fee_bps=0,
                       chain_id=chain_id)
    typed = authorization.typed_data(cfg, order_id, payer.address, fee, deadline)
    return bytes(payer.sign_message(encode_typed_data(full_message=typed)).signature)


def funded_payer(chain: LocalChain, usdc: int = 10_000_000):
    payer = Account.create()
    chain.fund(payer.address, usdc=usdc)
    chain.approve(payer, chain.escrow)
    return payer


def new_id() -> str:
    return "0x" + os.urandom(32).hex()


def transact(chain: LocalChain, escrow, account, fn: str, *args):
    return chain._send(account, escrow.address, fn, list(args), ABI)


def reverts(escrow, sender: str, fn: str, *args) -> str:
    """The custom error a call reverts with (eth_call, so nothing is mined)."""
    with pytest.raises(Exception) as exc:
        getattr(escrow.functions, fn)(*args).call({"from": sender})
    return revert_reason(exc.value, ABI).split("(")[0]


def pull(chain, escrow, payer, fee=FEE, order_id=None):
    order_id = order_id or new_id()
    deadline = int(time.time()) + 600
    transact(chain, escrow, chain.settlement, "pullFee", bytes.fromhex(order_id[2:]), payer.address, fee, deadline,
             sign(payer, escrow.address, order_id, fee, deadline))
    return bytes.fromhex(order_id[2:])


def test_contract_digest_equals_the_off_chain_verifiers(chain, escrow):
    payer, order_id, deadline = Account.create(), new_id(), 2_000_000_000
    cfg = EscrowConfig(contract=escrow.address, treasury="0x" + "00" * 20, min_fee_usdc=0, min_fee_bps=0)
    from eth_utils import keccak

    signable = encode_typed_data(full_message=authorization.typed_data(cfg, order_id, payer.address, FEE, deadline))
    expected = keccak(b"\x19" + signable.version + signable.header + signable.body)
    on_chain = escrow.functions.pullFeeDigest(bytes.fromhex(order_id[2:]), payer.address, FEE, deadline).call()
    assert on_chain == expected


def test_pull_then_distribute_moves_real_tokens(chain, escrow):
    payer, affiliate = funded_payer(chain), Account.create().address
    before_payer, before_treasury = chain.usdc_balance(payer.address), chain.usdc_balance(chain.treasury)
    oid = pull(chain, escrow, payer)
    assert chain.usdc_balance(payer.address) == before_payer - FEE
    assert chain.usdc_balance(escrow.address) >= FEE
    assert escrow.functions.feeRecords(oid).call() == [payer.address, FEE, 1]
    transact(chain, escrow, chain.settlement, "distribute", oid, affiliate, 30_000, 170_000, 50_000)
    assert chain.usdc_balance(affiliate) == 30_000
    assert chain.usdc_balance(chain.treasury) == before_treasury + 170_000
    assert chain.usdc_balance(payer.address) == before_payer - FEE + 50_000
    assert escrow.functions.feeRecords(oid).call()[2] == 2


def test_refund_returns_the_whole_fee(chain, escrow):
    payer = funded_payer(chain)
    before = chain.usdc_balance(payer.address)
    oid = pull(chain, escrow, payer)
    transact(chain, escrow, chain.settlement, "refund", oid)
    assert chain.usdc_balance(payer.address) == before
    assert escrow.functions.feeRecords(oid).call()[2] == 3


def test_second_pull_of_an_order_id_reverts(chain, escrow):
    payer = funded_payer(chain)
    order_id = new_id()
    pull(chain, escrow, payer, order_id=order_id)
    deadline = int(time.time()) + 600
    sig = sign(payer, escrow.address, order_id, FEE, deadline)
    assert reverts(escrow, chain.settlement.address, "pullFee", bytes.fromhex(order_id[2:]), payer.address, FEE,
                   deadline, sig) == "AlreadyPulled"


def test_pull_reverts_on_every_bad_input(chain, escrow):
    payer, stranger = funded_payer(chain), Account.create()
    op = chain.settlement.address
    oid = new_id()
    raw_id = bytes.fromhex(oid[2:])
    deadline = int(time.time()) + 600
    good = sign(payer, escrow.address, oid, FEE, deadline)
    # only the operator
    assert reverts(escrow, stranger.address, "pullFee", raw_id, payer.address, FEE, deadline, good) == "NotOperator"
    assert reverts(escrow, payer.address, "pullFee", raw_id, payer.address, FEE, deadline, good) == "NotOperator"
    # the authorization's terms
    past = int(time.time()) - 10
    assert reverts(escrow, op, "pullFee", raw_id, payer.address, FEE, past,
                   sign(payer, escrow.address, oid, FEE, past)) == "AuthorizationExpired"
    assert reverts(escrow, op, "pullFee", raw_id, payer.address, 0, deadline,
                   sign(payer, escrow.address, oid, 0, deadline)) == "ZeroAmount"
    assert reverts(escrow, op, "pullFee", raw_id, "0x" + "00" * 20, FEE, deadline, good) == "ZeroAddress"
    # a signature over anything else
    assert reverts(escrow, op, "pullFee", raw_id, payer.address, FEE + 1, deadline, good) == "InvalidSignature"
    assert reverts(escrow, op, "pullFee", raw_id, payer.address, FEE, deadline + 1, good) == "InvalidSignature"
    assert reverts(escrow, op, "pullFee", bytes.fromhex(new_id()[2:]), payer.address, FEE, deadline,
                   good) == "InvalidSignature"
    assert reverts(escrow, op, "pullFee", raw_id, payer.address, FEE, deadline,
                   sign(stranger, escrow.address, oid, FEE, deadline)) == "InvalidSignature"
    assert reverts(escrow, op, "pullFee", raw_id, payer.address, FEE, deadline,
                   sign(payer, escrow.address, oid, FEE, deadline, chain_id=1)) == "InvalidSignature"
    assert reverts(escrow, op, "pullFee", raw_id, payer.address, FEE, deadline,
                   sign(payer, chain.usdc, oid, FEE, deadline)) == "InvalidSignature"  # another contract's domain
    assert reverts(escrow, op, "pullFee", raw_id, payer.address, FEE, deadline, good[:64]) == "InvalidSignature"
    assert reverts(escrow, op, "pullFee", raw_id, payer.address, FEE, deadline, b"\x00" * 65) == "InvalidSignature"
    # the malleable twin of a valid signature (s -> n - s, v flipped) is refused
    r, s, v = good[:32], int.from_bytes(good[32:64], "big"), good[64]
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
    assert reverts(escrow, op, "pullFee", raw_id, payer.address, FEE, deadline, twin) == "InvalidSignature"
    # the payer's funds and allowance
    broke = Account.create()
    chain.fund(broke.address)
    chain.approve(broke, escrow.address)
    sig = sign(broke, escrow.address, oid, FEE, deadline)
    assert reverts(escrow, op, "pullFee", raw_id, broke.address, FEE, deadline, sig) == "TokenTransferFailed"
    unapproved = Account.create()
    chain.fund(unapproved.address, usdc=FEE)
    sig = sign(unapproved, escrow.address, oid, FEE, deadline)
    assert reverts(escrow, op, "pullFee", raw_id, unapproved.address, FEE, deadline, sig) == "TokenTransferFailed"
    # and the good one still works afterwards: nothing above changed state
    transact(chain, escrow, chain.settlement, "pullFee", raw_id, payer.address, FEE, deadline, good)


def test_distribute_and_refund_revert_paths(chain, escrow):
    payer, stranger, affiliate = funded_payer(chain), Account.create(), Account.create().address
    op = chain.settlement.address
    chain.fund(stranger.address)
    oid = pull(chain, escrow, payer)
    unknown = bytes.fromhex(new_id()[2:])
    assert reverts(escrow, stranger.address, "distribute", oid, affiliate, 0, FEE, 0) == "NotOperator"
    assert reverts(escrow, payer.address, "refund", oid) == "NotOperator"
    assert reverts(escrow, op, "distribute", unknown, affiliate, 0, FEE, 0) == "NotHeld"
    assert reverts(escrow, op, "refund", unknown) == "NotHeld"
    assert reverts(escrow, op, "distribute", oid, affiliate, 1, FEE, 0) == "SharesMismatch"
    assert reverts(escrow, op, "distribute", oid, affiliate, 0, FEE - 1, 0) == "SharesMismatch"
    assert reverts(escrow, op, "distribute", oid, "0x" + "00" * 20, 1, FEE - 1, 0) == "ZeroAddress"
    transact(chain, escrow, chain.settlement, "distribute", oid, affiliate, 0, FEE, 0)
    assert reverts(escrow, op, "distribute", oid, affiliate, 0, FEE, 0) == "NotHeld"  # settled once
    assert reverts(escrow, op, "refund", oid) == "NotHeld"
    refunded = pull(chain, escrow, payer)
    transact(chain, escrow, chain.settlement, "refund", refunded)
    assert reverts(escrow, op, "refund", refunded) == "NotHeld"
    assert reverts(escrow, op, "distribute", refunded, affiliate, 0, FEE, 0) == "NotHeld"


def test_constructor_refuses_zero_addresses_and_a_token_without_code(chain):
    from pmrouter.chain.deploy import deploy

    art = artifacts.load("ParsecFeeEscrow")
    w3 = web3_for(chain.url)
    factory = w3.eth.contract(abi=ABI, bytecode=art["bytecode"])
    op, zero = chain.settlement.address, "0x" + "00" * 20
    for args, error in (((zero, op, op), "ZeroAddress"), ((chain.usdc, zero, op), "ZeroAddress"),
                        ((chain.usdc, op, zero), "ZeroAddress"), ((op, op, op), "NotAContract")):
        with pytest.raises(Exception) as exc:
            w3.eth.call({"from": op, "data": factory.constructor(*args).data_in_transaction})
        assert revert_reason(exc.value, ABI).startswith(error)
    with pytest.raises(RuntimeError):  # and a deployment that reverts is an error, not an address
        deploy(chain.url, CHAIN_ID, chain.settlement, art, zero, op, op)
