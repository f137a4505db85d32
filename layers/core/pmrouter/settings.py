"""Configuration from environment variables, read once per process.

Every venue base URL is configurable so a deployment can point at the real venues (the defaults),
a venue's demo environment, or the sandbox. AWS endpoints follow boto3's own `AWS_ENDPOINT_URL`.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    polymarket_clob_url: str
    polymarket_gamma_url: str
    polymarket_data_url: str
    kalshi_url: str
    limitless_url: str
    opinion_url: str
    predictfun_url: str
    # Venue API keys for market data (Opinion's `apikey`, Predict.fun's `x-api-key`). Platform secrets:
    # deployed, they are loaded from Secrets Manager into these variables at cold start.
    opinion_api_key: str
    predictfun_api_key: str

    accounts_table: str
    api_keys_table: str
    catalog_table: str
    credentials_table: str
    orders_table: str
    fills_table: str
    usage_table: str
    escrow_table: str

    platform_secret_id: str  # Secrets Manager secret (JSON) holding platform secrets
    region: str
    stage: str
    catalog_refresh_seconds: float
    api_key_cache_seconds: float
    log_level: str

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            polymarket_clob_url=_env("PMROUTER_POLYMARKET_CLOB_URL", "https://clob.polymarket.com"),
            polymarket_gamma_url=_env("PMROUTER_POLYMARKET_GAMMA_URL", "https://gamma-api.polymarket.com"),
            polymarket_data_url=_env("PMROUTER_POLYMARKET_DATA_URL", "https://data-api.polymarket.com"),
            kalshi_url=_env("PMROUTER_KALSHI_URL", "https://external-api.kalshi.com/trade-api/v2"),
            limitless_url=_env("PMROUTER_LIMITLESS_URL", "https://api.limitless.exchange"),
            opinion_url=_env("PMROUTER_OPINION_URL", "https://proxy.opinion.trade:8443"),
            predictfun_url=_env("PMROUTER_PREDICTFUN_URL", "https://api.predict.fun"),
            opinion_api_key=_env("PMROUTER_OPINION_API_KEY", ""),
            predictfun_api_key=_env("PMROUTER_PREDICTFUN_API_KEY", ""),
            accounts_table=_env("PMROUTER_ACCOUNTS_TABLE", "pmrouter-accounts"),
            api_keys_table=_env("PMROUTER_API_KEYS_TABLE", "pmrouter-api-keys"),
            catalog_table=_env("PMROUTER_CATALOG_TABLE", "pmrouter-catalog"),
            credentials_table=_env("PMROUTER_CREDENTIALS_TABLE", "pmrouter-credentials"),
            orders_table=_env("PMROUTER_ORDERS_TABLE", "pmrouter-orders"),
            fills_table=_env("PMROUTER_FILLS_TABLE", "pmrouter-fills"),
            usage_table=_env("PMROUTER_USAGE_TABLE", "pmrouter-usage"),
            escrow_table=_env("PMROUTER_ESCROW_TABLE", "pmrouter-escrow"),
            platform_secret_id=_env("PMROUTER_PLATFORM_SECRET_ID", "pmrouter/platform"),
            region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "us-east-1")),
            stage=_env("PMROUTER_STAGE", "local"),
            catalog_refresh_seconds=float(_env("PMROUTER_CATALOG_REFRESH_SECONDS", "30")),
            api_key_cache_seconds=float(_env("PMROUTER_API_KEY_CACHE_SECONDS", "30")),
            log_level=_env("PMROUTER_LOG_LEVEL", "INFO"),
        )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


def reload_settings() -> Settings:
    """For tests and the local runner, which set the environment after import."""
    get_settings.cache_clear()
    return get_settings()
