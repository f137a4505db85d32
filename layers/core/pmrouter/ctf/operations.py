"""Split, merge and redeem on Polymarket's ConditionalTokens contract (and its NegRiskAdapter for a
neg-risk redeem), built as the venue uses them: collateral = the exchange's collateral token, parent
collection = zero, binary partition [1, 2] (YES = index set 1, NO = 2). Signed by the customer's own
Polygon key (a managed wallet, or a self-onboarded one with its private key) and sent through the
journaled chain client, so a retried request (same Idempotency-Key) follows the same transaction."""
from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account

from ..chain import artifacts
from ..chain.client import ChainClient, TxResult
from ..chain.config import require
from ..chain.errors import ChainNotConfigured

ZERO32 = b"\x00" * 32
BINARY_PARTITION = [1, 2]
MAX_UINT = 2**256 - 1


@dataclass(frozen=True)
class CtfCall:
    action: str  # split | merge | redeem
    condition_id: str  # 0x bytes32
    amount: int | None = None  # split/merge
    neg_risk: bool = False
    amounts: list[int] | None = None  # neg-risk redeem: per outcome


def _target(client: ChainClient, neg_risk: bool) -> tuple[str, list]:
    if not neg_risk:
        return client.cfg.conditional_tokens, artifacts.abi("ConditionalTokens")
    adapter = client.cfg.neg_risk_adapter
    if not adapter or adapter.lower() == "none":
        raise ChainNotConfigured("no neg-risk adapter is configured on this chain (PMROUTER_NEG_RISK_ADAPTER)")
    return adapter, artifacts.abi("NegRiskAdapter")


def calldata(client: ChainClient, call: CtfCall) -> tuple[str, str, list]:
    """(contract address, data, abi) of the call."""
    to, abi = _target(client, call.neg_risk)
    c = client.contract(to, abi)
    cid = bytes.fromhex(call.condition_id[2:])
    collateral = client.w3.to_checksum_address(client.cfg.collateral)
    if call.neg_risk:
        args = {"split": [cid, call.amount], "merge": [cid, call.amount], "redeem": [cid, call.amounts]}[call.action]
        fn = {"split": "splitPosition", "merge": "mergePositions", "redeem": "redeemPositions"}[call.action]
    elif call.action == "redeem":
        fn, args = "redeemPositions", [collateral, ZERO32, cid, BINARY_PARTITION]
    else:
        fn = "splitPosition" if call.action == "split" else "mergePositions"
        args = [collateral, ZERO32, cid, BINARY_PARTITION, call.amount]
    return to, c.encode_abi(fn, args), abi


def submit(private_key: str, call: CtfCall, request_id: str) -> TxResult:
    """Send the call from the wallet of `private_key`; a split first lets the contract spend the
    collateral if the wallet has not already (its own journaled transaction)."""
    client = ChainClient(require())
    account = Account.from_key(private_key)
    to, data, abi = calldata(client, call)
    intent = f"ctf-{call.action}:{account.address.lower()}:{request_id}"
    if call.action == "split":
        _ensure_allowance(client, account, to, call.amount or 0, intent)
    return client.send(intent, account, to, data, abi=abi)


def _ensure_allowance(client: ChainClient, account, spender: str, amount: int, intent: str) -> None:
    token = client.contract(client.cfg.collateral, artifacts.abi("ERC20"))
    allowed = client.rpc(lambda: token.functions.allowance(account.address, client.w3.to_checksum_address(spender)).call())
    if allowed >= amount:
        return
    client.send(intent + ":approve", account, client.cfg.collateral,
                token.encode_abi("approve", [client.w3.to_checksum_address(spender), MAX_UINT]),
                abi=artifacts.abi("ERC20"))
