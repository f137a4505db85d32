"""The CTF calls as Polymarket's contracts take them: ConditionalTokens with the collateral, a zero
parent collection and the binary partition; the NegRiskAdapter's own (conditionId, amount) forms for
neg-risk markets. Decoded back with each contract's ABI, independently of how they were built."""
from __future__ import annotations

from dataclasses import replace

import pytest
from eth_abi import decode
from eth_utils import keccak

from pmrouter.chain.client import ChainClient
from pmrouter.chain.config import CONDITIONAL_TOKENS, NEG_RISK_ADAPTER, POLYMARKET_COLLATERAL, ChainConfig
from pmrouter.chain.errors import ChainNotConfigured
from pmrouter.ctf.operations import CtfCall, calldata

CFG = ChainConfig(rpc_url="http://127.0.0.1:9", chain_id=137, collateral=POLYMARKET_COLLATERAL,
                  conditional_tokens=CONDITIONAL_TOKENS, neg_risk_adapter=NEG_RISK_ADAPTER, escrow_contract="",
                  table="t", confirm_seconds=1)
CID = "0x" + "cd" * 32


def selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def split_args(data: str, types: list[str]):
    return decode(types, bytes.fromhex(data[10:]))


def test_standard_split_merge_redeem_target_conditional_tokens():
    client = ChainClient(CFG)
    to, data, _ = calldata(client, CtfCall("split", CID, amount=5_000_000))
    assert to == CONDITIONAL_TOKENS and data[:10] == selector("splitPosition(address,bytes32,bytes32,uint256[],uint256)")
    collateral, parent, cid, partition, amount = split_args(data, ["address", "bytes32", "bytes32", "uint256[]", "uint256"])
    assert collateral.lower() == POLYMARKET_COLLATERAL.lower() and parent == b"\x00" * 32
    assert "0x" + cid.hex() == CID and list(partition) == [1, 2] and amount == 5_000_000
    _, data, _ = calldata(client, CtfCall("merge", CID, amount=7))
    assert data[:10] == selector("mergePositions(address,bytes32,bytes32,uint256[],uint256)")
    _, data, _ = calldata(client, CtfCall("redeem", CID))
    assert data[:10] == selector("redeemPositions(address,bytes32,bytes32,uint256[])")
    assert list(split_args(data, ["address", "bytes32", "bytes32", "uint256[]"])[3]) == [1, 2]


def test_neg_risk_calls_target_the_adapter():
    client = ChainClient(CFG)
    to, data, _ = calldata(client, CtfCall("split", CID, amount=9, neg_risk=True))
    assert to == NEG_RISK_ADAPTER and data[:10] == selector("splitPosition(bytes32,uint256)")
    assert split_args(data, ["bytes32", "uint256"])[1] == 9
    _, data, _ = calldata(client, CtfCall("merge", CID, amount=9, neg_risk=True))
    assert data[:10] == selector("mergePositions(bytes32,uint256)")
    _, data, _ = calldata(client, CtfCall("redeem", CID, neg_risk=True, amounts=[3, 4]))
    assert data[:10] == selector("redeemPositions(bytes32,uint256[])")
    assert list(split_args(data, ["bytes32", "uint256[]"])[1]) == [3, 4]


def test_neg_risk_without_an_adapter_is_not_configured():
    client = ChainClient(replace(CFG, neg_risk_adapter="none"))
    with pytest.raises(ChainNotConfigured):
        calldata(client, CtfCall("split", CID, amount=1, neg_risk=True))
