"""Chain parameters from the environment (deployed: the template's parameters; locally: the local
stack). No RPC URL means no chain: the money routes answer 503 instead of pretending."""
from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import ChainNotConfigured

# Polymarket on Polygon (docs.polymarket.com, contract addresses).
POLYGON_CHAIN_ID = 137
POLYMARKET_COLLATERAL = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"  # pUSD
CONDITIONAL_TOKENS = "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045"
NEG_RISK_ADAPTER = "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296"


@dataclass(frozen=True)
class ChainConfig:
    rpc_url: str
    chain_id: int
    collateral: str
    conditional_tokens: str
    neg_risk_adapter: str
    escrow_contract: str
    table: str
    confirm_seconds: float


def _env(name: str, default: str = "") -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def configured() -> ChainConfig | None:
    url = _env("PMROUTER_CHAIN_RPC_URL")
    if not url:
        return None
    return ChainConfig(
        rpc_url=url,
        chain_id=int(_env("PMROUTER_CHAIN_ID", str(POLYGON_CHAIN_ID))),
        collateral=_env("PMROUTER_CHAIN_COLLATERAL", POLYMARKET_COLLATERAL),
        conditional_tokens=_env("PMROUTER_CTF_CONTRACT", CONDITIONAL_TOKENS),
        neg_risk_adapter=_env("PMROUTER_NEG_RISK_ADAPTER", NEG_RISK_ADAPTER),
        escrow_contract=_env("PMROUTER_ESCROW_CONTRACT"),
        table=_env("PMROUTER_CHAIN_TABLE", "pmrouter-chain"),
        # Inside API Gateway's 29 s: a transaction not mined by then is answered 503 and followed by the retry.
        confirm_seconds=float(_env("PMROUTER_CHAIN_CONFIRM_SECONDS", "20")),
    )


def sandbox_selected() -> bool:
    """The explicit switch to the ledgers that move no money (escrow, CTF relayer, wallet balances):
    only a test stack sets it."""
    return _env("PMROUTER_SANDBOX_CHAIN") == "1"


def require() -> ChainConfig:
    cfg = configured()
    if cfg is None:
        raise ChainNotConfigured("no chain is configured (PMROUTER_CHAIN_RPC_URL)")
    return cfg
