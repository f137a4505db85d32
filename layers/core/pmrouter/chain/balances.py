"""A wallet's balances read from the chain: the collateral token, the native token that pays gas (POL
on Polygon) and its outcome tokens (ConditionalTokens positions), in base units."""
from __future__ import annotations

import os
from dataclasses import dataclass

from . import artifacts
from .client import ChainClient
from .config import ChainConfig


@dataclass(frozen=True)
class Balance:
    token: str
    raw: int
    decimals: int
    contract_address: str | None  # None for the native token


def wallet_balances(cfg: ChainConfig, address: str) -> list[Balance]:
    client = ChainClient(cfg)
    token = client.contract(cfg.collateral, artifacts.abi("ERC20"))
    owner = client.w3.to_checksum_address(address)
    collateral = client.rpc(lambda: token.functions.balanceOf(owner).call())
    return [Balance("pUSD", int(collateral), 6, client.w3.to_checksum_address(cfg.collateral)),
            Balance("POL", client.native_balance(owner), 18, None), *outcome_tokens(client, owner)]


def outcome_tokens(client: ChainClient, owner: str) -> list[Balance]:
    """Every ConditionalTokens position the wallet holds: the token ids it ever received (TransferSingle
    and TransferBatch logs addressed to it), then their balances in one balanceOfBatch. Logs are read
    from PMROUTER_CHAIN_LOGS_FROM_BLOCK; unset, none are read (public Polygon RPCs refuse a scan from
    genesis: set it to the block the wallets were created after)."""
    start = os.environ.get("PMROUTER_CHAIN_LOGS_FROM_BLOCK", "")
    if not start.isdigit():
        return []
    ctf = client.contract(client.cfg.conditional_tokens, artifacts.abi("ConditionalTokens"))
    ids: set[int] = set()
    for event in (ctf.events.TransferSingle, ctf.events.TransferBatch):
        logs = client.rpc(lambda e=event: e.get_logs(from_block=int(start), argument_filters={"to": owner}))
        for log in logs:
            ids.update([log.args.id] if "id" in log.args else log.args.ids)
    ordered = sorted(ids)
    held = client.rpc(lambda: ctf.functions.balanceOfBatch([owner] * len(ordered), ordered).call()) if ordered else []
    address = client.w3.to_checksum_address(client.cfg.conditional_tokens)
    return [Balance(f"CTF {token_id}", int(amount), 6, address) for token_id, amount in zip(ordered, held) if amount]
