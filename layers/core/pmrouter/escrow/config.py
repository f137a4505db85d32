"""Escrow parameters. Platform-wide values come from the environment (deployed: the template);
per-builder values (share, fee, affiliate address) from the builder's account."""
from __future__ import annotations

import os
from dataclasses import dataclass

# Builder tiers (docs.parsecapi.com/builders/tiers): share of the fee the builder keeps, in bps.
BUILDER_SHARE_BPS = {"iron": 1500, "bronze": 2500, "silver": 3500, "gold": 4000, "platinum": 4500}
MAX_FEE_BPS = {"iron": 50, "bronze": 75, "silver": 100, "gold": 125, "platinum": 150}


def fee_cap_bps(account: dict) -> int:
    """The most a builder may charge, in bps of the order's notional: the `fee_bps` an operator set on
    the account (1 to 10,000), else the tier's maximum. `GET /builder/escrow/config` shows the same."""
    tier = str(account.get("builder_tier", "iron"))
    configured = account.get("fee_bps")
    if configured:
        return max(1, min(10_000, int(configured)))
    return MAX_FEE_BPS.get(tier, MAX_FEE_BPS["iron"])


@dataclass(frozen=True)
class EscrowConfig:
    contract: str
    treasury: str
    min_fee_usdc: int  # base units (6 dp)
    min_fee_bps: int
    chain_id: int = 137


def platform() -> EscrowConfig:
    return EscrowConfig(
        contract=os.environ.get("PMROUTER_ESCROW_CONTRACT", "0xbd25057b4d3252ca1ec26e1e5efb6480315ba142"),
        treasury=os.environ.get("PMROUTER_ESCROW_TREASURY", "0x000000000000000000000000000000000000dEaD"),
        min_fee_usdc=int(os.environ.get("PMROUTER_ESCROW_MIN_FEE_USDC", "100000")),
        min_fee_bps=int(os.environ.get("PMROUTER_ESCROW_MIN_FEE_BPS", "10")),
        # The contract signs over block.chainid: the verifier must use the chain the contract is on.
        chain_id=int(os.environ.get("PMROUTER_CHAIN_ID") or 137),
    )
