"""Limitless facts (api.limitless.exchange; limitless-sdk 1.3.0)."""
from __future__ import annotations

from ...settings import Settings

EXCHANGE_ID = "limitless"
NAME = "Limitless"
CHAIN_ID = 8453
TICK = 0.001
# `GET /markets/active` pages are 1-based; the API caps `limit` (25 in the SDK's paging helpers).
PAGE_LIMIT = 25
# Order-book sizes are integer share amounts scaled by 1e6 (shares have 6 decimals, like USDC);
# the SDK's OrderbookEntry documents them so. Prices are decimal probabilities.
SIZE_SCALE = 1_000_000
DEFAULT_FEE_BPS = 300  # the SDK's default rank fee when a profile is unknown
INTERVALS = {"1m": "1h", "1h": "1h", "6h": "6h", "1d": "1d", "1w": "1w", "max": "all"}


def base_url(settings: Settings) -> str:
    return settings.limitless_url
