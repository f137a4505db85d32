"""Contract deployment (operator CLI, local stack). Not journaled: a deployment is an operator's
one-off act that they watch, and a lost one is simply repeated; only its address matters after."""
from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from web3.exceptions import ContractLogicError

from . import artifacts
from .client import revert_reason, web3_for


def deploy(rpc_url: str, chain_id: int, account: LocalAccount, artifact: dict[str, Any], *args: Any,
           timeout: float = 120) -> str:
    """Deploy `artifact` (abi + bytecode) with constructor `args`; returns the contract's address."""
    w3 = web3_for(rpc_url)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    try:  # building estimates gas, which runs the constructor: a refusal surfaces here with its reason
        tx = factory.constructor(*args).build_transaction({
            "from": account.address, "chainId": chain_id,
            "nonce": w3.eth.get_transaction_count(account.address, "pending")})
    except ContractLogicError as exc:
        reason = revert_reason(exc, artifact["abi"])
        raise RuntimeError(f"deployment of {artifact.get('contractName', 'contract')} would revert: {reason}") from None
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.05)
    if int(receipt["status"]) != 1 or not receipt.get("contractAddress"):
        raise RuntimeError(f"deployment of {artifact.get('contractName', 'contract')} reverted ({tx_hash.hex()})")
    return w3.to_checksum_address(receipt["contractAddress"])


def deploy_escrow(rpc_url: str, chain_id: int, account: LocalAccount, *, usdc: str, treasury: str) -> str:
    """ParsecFeeEscrow with `account` (the settlement key) as its operator."""
    return deploy(rpc_url, chain_id, account, artifacts.load("ParsecFeeEscrow"), usdc, account.address, treasury)
