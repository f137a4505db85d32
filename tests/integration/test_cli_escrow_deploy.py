"""`pmrouter escrow deploy` against the local chain: the contract it deploys is operated by the
platform secret's settlement key, pulls and refunds, and answers to nobody else."""
from __future__ import annotations

import json

from eth_account import Account

from pmrouter import cli
from pmrouter.chain import artifacts
from pmrouter.chain.client import web3_for


def test_escrow_deploy_uses_the_settlement_key(stack, capsys):
    treasury = Account.create().address
    assert cli.main(["escrow", "deploy", "--treasury", treasury]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["operator"] == stack.chain.settlement.address and out["chain_id"] == 137
    assert out["token"].lower() == stack.chain.usdc.lower()
    escrow = web3_for(stack.chain.url).eth.contract(address=out["escrow_contract"], abi=artifacts.abi("ParsecFeeEscrow"))
    assert escrow.functions.operator().call() == stack.chain.settlement.address
    assert escrow.functions.treasury().call() == treasury
    assert escrow.functions.usdc().call().lower() == stack.chain.usdc.lower()
    assert out["escrow_contract"] != stack.chain.escrow  # a new contract, not the stack's


def test_escrow_deploy_without_a_chain_says_what_to_configure(stack, capsys, monkeypatch):
    import pytest

    monkeypatch.delenv("PMROUTER_CHAIN_RPC_URL")
    with pytest.raises(SystemExit) as exc:
        cli.main(["escrow", "deploy", "--treasury", Account.create().address])
    assert "PMROUTER_CHAIN_RPC_URL" in str(exc.value) and "chain_settlement_key" in str(exc.value)
