"""Opinion venue constants. The REST host comes from `PMROUTER_OPINION_URL`; every path starts with
`/openapi`. Facts from the Open API spec and opinion-clob-sdk 0.7.0."""
from __future__ import annotations

from dataclasses import dataclass

from ...settings import env_config

EXCHANGE_ID = "opinion"
NAME = "Opinion"

CHAIN_ID = 56  # BNB Smart Chain; the only chain Opinion runs on
QUOTE_TOKEN_DECIMALS = 18  # USDT on BNB

# GET /openapi/market caps `limit` at 20; marketType 2 = binary and categorical together.
PAGE_LIMIT = 20
MARKET_TYPE_ALL = 2
# Parallel page requests once the first page has told us `total` (the venue allows 15 req/s per key).
PAGE_CONCURRENCY = 6

# Prices: the SDK accepts [0.001, 0.999] with up to 6 dp; books quote on a 0.001 grid.
TICK_SIZE = 0.001

# Market.status codes (Open API spec): 1 Created, 2 Activated, 3 Resolving, 4 Resolved, 5 Failed, 6 Deleted.
STATUS_ACTIVATED = 2
STATUS_RESOLVED = 4

# Market.marketType: 0 binary, 1 categorical (children in `childMarkets`).
MARKET_TYPE_BINARY = 0
MARKET_TYPE_CATEGORICAL = 1

# Contract interval -> the price-history `interval` we ask for. The SDK lists 1m|1h|1d|1w|max, but
# the venue is only confirmed to honour 1h and 1d live, so we ask for nothing else: 6h candles are
# built from the hourly series, 1w and max from the daily one. 1m cannot be built from coarser
# points, so it is refused with a 400 naming the intervals we can serve.
HISTORY_INTERVAL = {"1h": "1h", "6h": "1h", "1d": "1d", "1w": "1d", "max": "1d"}

MARKET_URL = "https://app.opinion.trade/detail?topicId={market_id}"


@dataclass(frozen=True)
class OpinionConfig:
    url: str = "https://proxy.opinion.trade:8443"
    # The platform's market-data key (`apikey` header). Deployed, bootstrap copies the platform
    # secret's `opinion_api_key` into PMROUTER_OPINION_API_KEY at cold start.
    api_key: str = ""

    @classmethod
    def from_env(cls) -> "OpinionConfig":
        return env_config(cls, url="PMROUTER_OPINION_URL", api_key="PMROUTER_OPINION_API_KEY")

    def auth_headers(self) -> dict[str, str]:
        return {"apikey": self.api_key} if self.api_key else {}
