"""Limitless public REST calls."""
from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from ..http import VenueHttp
from . import config


def _slug(slug: str) -> str:
    return quote(slug, safe="")


class LimitlessMarketData:
    def __init__(self, http: VenueHttp):
        self.http = http

    async def active_page(self, page: int) -> dict[str, Any]:
        return await self.http.get("/markets/active", {"page": page, "limit": config.PAGE_LIMIT})

    async def all_listings(self) -> list[dict[str, Any]]:
        first = await self.active_page(1)
        rows = list(first.get("data") or [])
        total = int(first.get("totalMarketsCount") or len(rows))
        pages = -(-total // config.PAGE_LIMIT)
        for start in range(2, pages + 1, 6):  # a few pages at a time: the venue asks for gentle clients
            batch = await asyncio.gather(*(self.active_page(p) for p in range(start, min(start + 6, pages + 1))))
            for b in batch:
                rows.extend(b.get("data") or [])
        return rows

    async def market(self, slug: str) -> dict[str, Any]:
        return await self.http.get(f"/markets/{_slug(slug)}")

    async def orderbook(self, slug: str) -> dict[str, Any]:
        return await self.http.get(f"/markets/{_slug(slug)}/orderbook")

    async def history(self, slug: str, window: str) -> Any:
        """Price points over a look-back window (see config.HISTORY_WINDOWS); the web app sends
        nothing else, so neither do we."""
        return await self.http.get(f"/markets/{_slug(slug)}/historical-price", {"interval": window})

    async def events(self, slug: str, page: int, limit: int) -> dict[str, Any]:
        """The market's public trade tape, newest first: `{data: [trade event], totalPages}`."""
        return await self.http.get(f"/markets/{_slug(slug)}/events", {"page": page, "limit": limit})
