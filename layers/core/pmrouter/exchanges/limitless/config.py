"""Limitless facts (api.limitless.exchange; limitless-sdk 1.3.0; the official web app
limitless-labs-group/Limitless-Exchange). Each wire unit below is pinned by a fixture under
tests/fixtures/venues/limitless/ that names its source."""
from __future__ import annotations

from dataclasses import dataclass

from ...settings import env_config

EXCHANGE_ID = "limitless"
NAME = "Limitless"
CHAIN_ID = 8453
TICK = 0.001
# `GET /markets/active` pages are 1-based; the API caps `limit` at 25 (larger limits answer no rows).
PAGE_LIMIT = 25
# Order-book sizes, `minSize` (book and `settings`) and trade-tape amounts are integer share or USDC
# amounts scaled by 1e6 (6 decimals). Prices everywhere - `prices`, book levels, history points,
# trade events - are 0..1 probabilities.
SIZE_SCALE = 1_000_000
# The taker fee rate is per account: `GET /profiles/{address}` -> `rank.feeRateBps`, which the
# official SDKs sign into every order and default to 300 bps when a profile has none. A market
# only says whether it charges fees at all (`metadata.fee`, a bool). Public estimates use the
# default rank rate; the CTF exchange charges rate * min(p, 1 - p) * contracts (docs: buy fee
# 0.40%-3.00% of the contracts, sell fee 0.42%-1.50%, exactly that curve at 300 bps).
DEFAULT_FEE_BPS = 300
# `historical-price?interval=` is a look-back window ending now (the web app's 1H/6H/1D/1W/1M/ALL
# range buttons), not a candle width. Smallest window first: the adapter asks for the smallest
# one that still covers the caller's start, and builds candles from the points itself.
HISTORY_WINDOWS: tuple[tuple[str, int], ...] = (
    ("1h", 3600), ("6h", 21600), ("1d", 86400), ("1w", 604800), ("1m", 2592000),
)
HISTORY_ALL = "all"
EVENTS_PAGE_LIMIT = 25
MAX_EVENT_PAGES = 20  # pages one /trades call may read while skipping events newer than `end`


def history_window(start: int, now: int) -> str:
    back = max(0, now - start)
    for name, seconds in HISTORY_WINDOWS:
        if back <= seconds:
            return name
    return HISTORY_ALL


@dataclass(frozen=True)
class LimitlessConfig:
    url: str = "https://api.limitless.exchange"

    @classmethod
    def from_env(cls) -> "LimitlessConfig":
        return env_config(cls, url="PMROUTER_LIMITLESS_URL")
