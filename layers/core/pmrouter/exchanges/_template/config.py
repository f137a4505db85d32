"""Venue facts (fill in): every constant names where it comes from (the venue's docs page, its
official SDK and version, or a recorded fixture under tests/fixtures/venues/<venue>/).

What belongs here: EXCHANGE_ID (the contract's lower-case id, also the registry key), NAME (as the
venue spells itself), the base URL's environment variable and its production default (no test may
touch the internet: every URL must be overridable), page sizes and limits the venue enforces, chain
id and contract addresses for on-chain venues, and the fee schedule used for estimates.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...settings import env_config

EXCHANGE_ID = "template"
NAME = "Template"


@dataclass(frozen=True)
class TemplateConfig:
    """Where the venue is (fill in): every base URL with its production default, read from the
    venue's own `PMROUTER_<VENUE>_..._URL` variables, and the platform key its market data needs, if
    any, as `api_key` from `PMROUTER_<VENUE>_API_KEY` (deployed, bootstrap fills that variable from
    the platform secret's `<venue>_api_key`). Tests build one directly (`TemplateConfig(url=...)`);
    `create()` reads the environment."""

    url: str = "https://api.venue.example"

    @classmethod
    def from_env(cls) -> "TemplateConfig":
        return env_config(cls, url="PMROUTER_TEMPLATE_URL")
