"""Predict.fun venue constants. The REST host comes from `PMROUTER_PREDICTFUN_URL`; every path
starts with `/v1`. Facts from dev.predict.fun and predict-sdk 0.0.22."""
from __future__ import annotations

from dataclasses import dataclass

from ...settings import env_config

EXCHANGE_ID = "predictfun"
NAME = "Predict.fun"

CHAIN_ID = 56  # BNB Smart Chain (testnet 97)
TOKEN_DECIMALS = 18  # USDT and outcome shares are both 1e18 on the wire (wei strings)

# Cursor paging (`first` + `after`, answer carries `cursor`, null on the last page).
PAGE_SIZE = 100
TRADES_PAGE_MAX = 100

# Market.status values that still trade when tradingStatus is OPEN.
TRADING_STATUSES = frozenset({"REGISTERED", "OPEN", "UNPAUSED", "PRICE_PROPOSED", "PRICE_DISPUTED"})
TRADING_OPEN = "OPEN"

# Fee: `feeRateBps` per market; the venue charges takers rate * min(p, 1 - p) * shares (makers pay
# nothing). Used when a market does not carry its own rate.
DEFAULT_FEE_BPS = 200

MARKET_URL = "https://predict.fun/market/{slug}"

# Price history: `GET /v1/markets/{id}/timeseries?metric=chance&resolution=` answers the venue's own
# samples of the first outcome's chance (in percent) at 1m, 5m, 1h or 1d spacing (recorded live,
# tests/fixtures/venues/predictfun/timeseries.json). Each contract interval asks for the widest
# resolution that divides it, and candles are built from the samples (as for Polymarket and Opinion).
TIMESERIES_RESOLUTION = {"1m": "1m", "1h": "1h", "6h": "1h", "1d": "1d", "1w": "1d", "max": "1d"}
TIMESERIES_LIMIT = 1000  # samples a page
TIMESERIES_MAX_PAGES = 10


def tick_size(decimal_precision: int | None) -> float:
    """`decimalPrecision` 2 -> 0.01, 3 -> 0.001 (the venue allows only these two)."""
    dp = decimal_precision if decimal_precision in (2, 3) else 2
    return round(10.0 ** -dp, dp)


@dataclass(frozen=True)
class PredictFunConfig:
    url: str = "https://api.predict.fun"
    # The platform's market-data key (`x-api-key` header); a platform secret like Opinion's.
    api_key: str = ""

    @classmethod
    def from_env(cls) -> "PredictFunConfig":
        return env_config(cls, url="PMROUTER_PREDICTFUN_URL", api_key="PMROUTER_PREDICTFUN_API_KEY")

    def auth_headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key} if self.api_key else {}
