"""Polymarket facts (docs.polymarket.com; py-clob-client-v2 1.2.1)."""
from __future__ import annotations

from dataclasses import dataclass

from ...settings import env_config

EXCHANGE_ID = "polymarket"
NAME = "Polymarket"
CHAIN_ID = 137
GAMMA_PAGE = 500
DATA_TRADES_PAGE = 500
DATA_MAX_OFFSET = 10_000  # the Data API refuses deeper offsets
# prices-history `fidelity` is the point spacing in minutes.
FIDELITY = {"1m": 1, "1h": 60, "6h": 60, "1d": 360, "1w": 1440, "max": 1440}

# CLOB V2 contracts (py-clob-client-v2 config.py, chain 137)
EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
COLLATERAL = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"


@dataclass(frozen=True)
class PolymarketConfig:
    gamma_url: str = "https://gamma-api.polymarket.com"  # listings, events
    clob_url: str = "https://clob.polymarket.com"  # books, prices, orders
    data_url: str = "https://data-api.polymarket.com"  # trades, positions, activity

    @classmethod
    def from_env(cls) -> "PolymarketConfig":
        return env_config(cls, gamma_url="PMROUTER_POLYMARKET_GAMMA_URL", clob_url="PMROUTER_POLYMARKET_CLOB_URL",
                          data_url="PMROUTER_POLYMARKET_DATA_URL")
