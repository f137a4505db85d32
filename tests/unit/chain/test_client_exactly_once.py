"""The chain client's money-safety, abuse cases first: a replayed intent sends nothing, concurrent
senders never share a nonce, a crash between recording and broadcasting is recovered with the same
transaction, and a refused or reverted call is a recorded failure with its reason."""
from __future__ import annotations

import os
import threading

import pytest
from eth_account import Account

from pmrouter.chain import artifacts, client as chain_client
from pmrouter.store import chain_journal as journal
from pmrouter.chain.client import ChainClient, web3_for
from pmrouter.chain.config import configured
from pmrouter.chain.errors import TransactionFailed

TOKEN_ABI = artifacts.abi("ERC20")


class Crash(BaseException):
    """Stands for the process dying: BaseException, so no `except Exception` in the code under test
    can swallow it."""


@pytest.fixture()
def cli(local_chain, tables, monkeypatch):
    for k, v in local_chain.env().items():
        monkeypatch.setenv(k, v)
    return ChainClient(configured())


@pytest.fixture()
def atomic_dynamodb(monkeypatch):
    """Reads too: a thread reading the journal must not see another's claim half applied."""
    from tests.unit.moto_atomic import WRITES, serialize

    serialize(monkeypatch, WRITES + ("get_item", "query"))


@pytest.fixture()
def sender(local_chain):
    account = Account.create()
    local_chain.fund(account.address, usdc=1_000_000)
    return account


def transfer_data(cli, to: str, amount: int) -> str:
    return cli.contract(cli.cfg.collateral, TOKEN_ABI).encode_abi("transfer", [to, amount])


def tx_count(cli, address) -> int:
    return web3_for(cli.cfg.rpc_url).eth.get_transaction_count(address)


def test_a_replayed_intent_sends_nothing(cli, sender, local_chain):
    to = Account.create().address
    first = cli.send("t:replay", sender, cli.cfg.collateral, transfer_data(cli, to, 1000))
    again = cli.send("t:replay", sender, cli.cfg.collateral, transfer_data(cli, to, 1000))
    other_terms = cli.send("t:replay", sender, cli.cfg.collateral, transfer_data(cli, to, 999_999))
    assert first.status == "mined" and again == first == other_terms
    assert local_chain.usdc_balance(to) == 1000 and tx_count(cli, sender.address) == 1


def test_concurrent_sends_never_share_a_nonce_and_each_intent_is_sent_once(cli, sender, local_chain, atomic_dynamodb):
    to = Account.create().address
    results, errors = [], []

    def run(i: int) -> None:
        try:  # 8 threads, 4 intents: every intent twice at once
            results.append(cli.send(f"t:conc:{i % 4}", sender, cli.cfg.collateral, transfer_data(cli, to, 10 + i % 4)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    by_intent = {r.intent: r for r in results}
    assert len(by_intent) == 4 and all(r == by_intent[r.intent] for r in results)
    assert sorted(r.nonce for r in by_intent.values()) == [0, 1, 2, 3]
    assert tx_count(cli, sender.address) == 4
    assert local_chain.usdc_balance(to) == 10 + 11 + 12 + 13


def test_a_crash_between_record_and_broadcast_is_recovered_with_the_same_transaction(cli, sender, local_chain,
                                                                                    monkeypatch):
    to = Account.create().address

    def die(record):
        raise Crash(record.tx_hash)

    monkeypatch.setattr(chain_client, "after_record", die)
    with pytest.raises(Crash) as crashed:
        cli.send("t:crash", sender, cli.cfg.collateral, transfer_data(cli, to, 5000))
    recorded = journal.get(cli.cfg.table, "t:crash")
    assert recorded.status == "signed" and recorded.tx_hash == str(crashed.value)
    assert tx_count(cli, sender.address) == 0 and local_chain.usdc_balance(to) == 0  # nothing went out
    assert [r.intent for r in journal.pending(cli.cfg.table, sender.address)] == ["t:crash"]
    monkeypatch.setattr(chain_client, "after_record", None)
    # the next run, whatever it was asked to send for this intent, sends the recorded transaction
    resumed = cli.send("t:crash", sender, cli.cfg.collateral, transfer_data(cli, to, 1))
    assert resumed.tx_hash == recorded.tx_hash and resumed.status == "mined"
    assert local_chain.usdc_balance(to) == 5000 and tx_count(cli, sender.address) == 1
    assert journal.pending(cli.cfg.table, sender.address) == []
    # and a new intent after the recovery takes the next nonce
    assert cli.send("t:after", sender, cli.cfg.collateral, transfer_data(cli, to, 1)).nonce == 1


def test_a_crash_after_broadcast_is_found_again_without_resending(cli, sender, local_chain):
    to = Account.create().address
    result = cli.send("t:sent", sender, cli.cfg.collateral, transfer_data(cli, to, 7))
    journal.mark(cli.cfg.table, "t:sent", "sent")  # as if the process died before reading the receipt
    again = cli.send("t:sent", sender, cli.cfg.collateral, transfer_data(cli, to, 7))
    assert again.tx_hash == result.tx_hash and local_chain.usdc_balance(to) == 7
    assert journal.get(cli.cfg.table, "t:sent").status == "mined"


def test_a_call_that_would_revert_is_a_recorded_failure_and_nothing_is_broadcast(cli, sender):
    escrow_abi = artifacts.abi("ParsecFeeEscrow")
    data = cli.contract(cli.cfg.escrow_contract, escrow_abi).encode_abi("refund", [os.urandom(32)])
    with pytest.raises(TransactionFailed) as exc:
        cli.send("t:refused", sender, cli.cfg.escrow_contract, data, abi=escrow_abi)
    assert exc.value.reason == "NotOperator()"
    rec = journal.get(cli.cfg.table, "t:refused")
    assert rec.status == "rejected" and rec.reason == "NotOperator()" and tx_count(cli, sender.address) == 0
    with pytest.raises(TransactionFailed):  # a retry is refused again; still nothing sent
        cli.send("t:refused", sender, cli.cfg.escrow_contract, data, abi=escrow_abi)
    assert tx_count(cli, sender.address) == 0


def test_a_refused_intent_goes_through_once_its_cause_is_gone(cli, sender, local_chain):
    """Nothing was signed for a refusal, so the same intent may be tried again: a payment that lacked
    funds goes through after a top-up, once."""
    to = Account.create().address
    too_much = transfer_data(cli, to, 3_000_000)  # the sender holds 1,000,000
    with pytest.raises(TransactionFailed):
        cli.send("t:topup", sender, cli.cfg.collateral, too_much, abi=TOKEN_ABI)
    assert journal.get(cli.cfg.table, "t:topup").status == "rejected" and tx_count(cli, sender.address) == 0
    local_chain.fund(sender.address, usdc=2_000_000)
    done = cli.send("t:topup", sender, cli.cfg.collateral, too_much, abi=TOKEN_ABI)
    assert done.status == "mined" and local_chain.usdc_balance(to) == 3_000_000
    assert cli.send("t:topup", sender, cli.cfg.collateral, too_much, abi=TOKEN_ABI) == done
    assert local_chain.usdc_balance(to) == 3_000_000 and tx_count(cli, sender.address) == 1


def test_a_mined_revert_is_a_recorded_failure_with_its_reason(cli, sender):
    escrow_abi = artifacts.abi("ParsecFeeEscrow")
    data = cli.contract(cli.cfg.escrow_contract, escrow_abi).encode_abi("refund", [os.urandom(32)])
    with pytest.raises(TransactionFailed) as exc:  # a fixed gas limit skips the estimate: it is mined
        cli.send("t:reverted", sender, cli.cfg.escrow_contract, data, gas=100_000, abi=escrow_abi)
    rec = journal.get(cli.cfg.table, "t:reverted")
    assert rec.status == "reverted" and rec.reason == "NotOperator()" and exc.value.tx_hash == rec.tx_hash
    assert tx_count(cli, sender.address) == 1 and journal.pending(cli.cfg.table, sender.address) == []


def test_a_nonce_used_outside_pmrouter_is_skipped(cli, sender, local_chain):
    local_chain._send(sender, cli.cfg.collateral, "transfer", [Account.create().address, 1], TOKEN_ABI)
    result = cli.send("t:outside", sender, cli.cfg.collateral, transfer_data(cli, Account.create().address, 1))
    assert result.nonce == 1 and result.status == "mined"


def test_a_transaction_whose_nonce_went_elsewhere_is_recorded_as_dropped(cli, sender, local_chain, monkeypatch):
    def die(record):
        raise Crash()

    monkeypatch.setattr(chain_client, "after_record", die)
    with pytest.raises(Crash):
        cli.send("t:dropped", sender, cli.cfg.collateral, transfer_data(cli, Account.create().address, 3))
    monkeypatch.setattr(chain_client, "after_record", None)
    local_chain._send(sender, cli.cfg.collateral, "transfer", [Account.create().address, 1], TOKEN_ABI)  # nonce 0
    with pytest.raises(TransactionFailed) as exc:
        cli.send("t:dropped", sender, cli.cfg.collateral, "0x")
    assert "another transaction" in exc.value.reason
    assert journal.get(cli.cfg.table, "t:dropped").status == "dropped"


def test_a_transaction_left_unsent_by_a_crash_goes_out_before_the_next_one(cli, sender, local_chain, monkeypatch):
    """Otherwise its nonce would be a gap that holds every later transaction in the node's queue."""
    to = Account.create().address

    def die(record):
        raise Crash()

    monkeypatch.setattr(chain_client, "after_record", die)
    with pytest.raises(Crash):
        cli.send("t:gap", sender, cli.cfg.collateral, transfer_data(cli, to, 40))
    monkeypatch.setattr(chain_client, "after_record", None)
    later = cli.send("t:next", sender, cli.cfg.collateral, transfer_data(cli, to, 2))
    assert later.nonce == 1 and later.status == "mined"
    assert journal.get(cli.cfg.table, "t:gap").status == "mined"
    assert local_chain.usdc_balance(to) == 42 and tx_count(cli, sender.address) == 2
