"""Configuration from environment variables, read once per process.

Venue settings (base URLs, market-data API keys) are not here: each venue package reads its own in
`exchanges/<venue>/config.py`, so adding a venue touches only its package and the registry. AWS
endpoints follow boto3's own `AWS_ENDPOINT_URL`.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def env(name: str, default: str) -> str:
    """The variable's value, or `default` when it is unset or empty."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_config(cls: type[T], **variables: str) -> T:
    """A venue's config dataclass from its own variables (field name -> variable name); a field whose
    variable is unset keeps the class default (the production value)."""
    return cls(**{name: env(var, getattr(cls, name)) for name, var in variables.items()})


@dataclass(frozen=True)
class Settings:
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
    def fromenv(cls) -> "Settings":
        return cls(
            accounts_table=env("PMROUTER_ACCOUNTS_TABLE", "pmrouter-accounts"),
            api_keys_table=env("PMROUTER_API_KEYS_TABLE", "pmrouter-api-keys"),
            catalog_table=env("PMROUTER_CATALOG_TABLE", "pmrouter-catalog"),
            credentials_table=env("PMROUTER_CREDENTIALS_TABLE", "pmrouter-credentials"),
            orders_table=env("PMROUTER_ORDERS_TABLE", "pmrouter-orders"),
            fills_table=env("PMROUTER_FILLS_TABLE", "pmrouter-fills"),
            usage_table=env("PMROUTER_USAGE_TABLE", "pmrouter-usage"),
            escrow_table=env("PMROUTER_ESCROW_TABLE", "pmrouter-escrow"),
            platform_secret_id=env("PMROUTER_PLATFORM_SECRET_ID", "pmrouter/platform"),
            region=env("AWS_REGION", env("AWS_DEFAULT_REGION", "us-east-1")),
            stage=env("PMROUTER_STAGE", "local"),
            catalog_refresh_seconds=float(env("PMROUTER_CATALOG_REFRESH_SECONDS", "30")),
            api_key_cache_seconds=float(env("PMROUTER_API_KEY_CACHE_SECONDS", "30")),
            log_level=env("PMROUTER_LOG_LEVEL", "INFO"),
        )


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.fromenv()


def reload_settings() -> Settings:
    """For tests and the local runner, which set the environment after import."""
    get_settings.cache_clear()
    return get_settings()
