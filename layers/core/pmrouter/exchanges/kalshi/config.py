"""Kalshi facts (docs.kalshi.com, trade-api v2, fixed-point since 2026-03)."""
from __future__ import annotations

from dataclasses import dataclass

from ...settings import env_config

EXCHANGE_ID = "kalshi"
NAME = "Kalshi"
MARKETS_PAGE = 1000  # GET /markets limit maximum
EVENTS_PAGE = 200  # GET /events limit maximum
TRADES_PAGE = 1000
# Candle widths Kalshi serves (period_interval, minutes) for each contract interval; wider ones
# are rolled up from these.
PERIOD = {"1m": 1, "1h": 60, "6h": 60, "1d": 1440, "1w": 1440, "max": 1440}
# Taker fee: round_up(0.07 x C x P x (1 - P)) to the cent (kalshi.com fee schedule).
TAKER_FEE_RATE = 0.07


@dataclass(frozen=True)
class KalshiConfig:
    # Includes /trade-api/v2: Kalshi signs the full path from the host.
    url: str = "https://external-api.kalshi.com/trade-api/v2"

    @classmethod
    def from_env(cls) -> "KalshiConfig":
        return env_config(cls, url="PMROUTER_KALSHI_URL")
