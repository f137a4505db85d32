"""Kalshi public REST calls (no auth needed for market data)."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..http import VenueHttp
from . import config


class KalshiMarketData:
    def __init__(self, http: VenueHttp):
        self.http = http

    async def _all(self, path: str, key: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = await self.http.get(path, {**params, "cursor": cursor})
            rows.extend(page.get(key) or [])
            cursor = page.get("cursor") or None
            if not cursor:
                return rows

    async def all_markets(self) -> list[dict[str, Any]]:
        return await self._all("/markets", "markets", {"limit": config.MARKETS_PAGE})

    async def all_events(self) -> list[dict[str, Any]]:
        return await self._all("/events", "events", {"limit": config.EVENTS_PAGE})

    async def market(self, ticker: str) -> dict[str, Any]:
        return (await self.http.get(f"/markets/{quote(ticker, safe='')}"))["market"]

    async def event(self, event_ticker: str) -> dict[str, Any]:
        return (await self.http.get(f"/events/{quote(event_ticker, safe='')}"))["event"]

    async def orderbook(self, ticker: str, depth: int) -> dict[str, Any]:
        return await self.http.get(f"/markets/{quote(ticker, safe='')}/orderbook", {"depth": depth})

    async def candlesticks(self, series: str, ticker: str, start: int, end: int, period: int) -> dict[str, Any]:
        return await self.http.get(f"/series/{quote(series, safe='')}/markets/{quote(ticker, safe='')}/candlesticks",
                                   {"start_ts": start, "end_ts": end, "period_interval": period})

    async def trades(self, ticker: str, start: int | None, end: int | None, limit: int,
                     cursor: str | None) -> dict[str, Any]:
        return await self.http.get("/markets/trades", {"ticker": ticker, "min_ts": start, "max_ts": end,
                                                       "limit": limit, "cursor": cursor})
