"""Venue facts (fill in): every constant names where it comes from (the venue's docs page, its
official SDK and version, or a recorded fixture under tests/fixtures/venues/<venue>/).

What belongs here: EXCHANGE_ID (the contract's lower-case id, also the registry key), NAME (as the
venue spells itself), the base URL's environment variable and its production default (no test may
touch the internet: every URL must be overridable), page sizes and limits the venue enforces, chain
id and contract addresses for on-chain venues, and the fee schedule used for estimates.
"""
from __future__ import annotations

from ...settings import Settings

EXCHANGE_ID = "template"
NAME = "Template"


def base_url(settings: Settings) -> str:
    """The REST host (fill in: read it from the venue's `PMROUTER_<VENUE>_URL` setting)."""
    raise NotImplementedError("the template is not a venue")
