"""A wallet's balances read from the chain: the collateral token and the native token that pays gas
(POL on Polygon), in base units."""
from __future__ import annotations

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
            Balance("POL", client.native_balance(owner), 18, None)]
