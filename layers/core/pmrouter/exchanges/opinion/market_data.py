"""Opinion Open API calls: paths, parameters and paging. Parsing lives in `schemas`."""
from __future__ import annotations

import asyncio
from typing import Any

from ..http import VenueHttp
from . import config, schemas


class OpinionMarketData:
    def __init__(self, http: VenueHttp, headers: dict[str, str]):
        self.http = http
        self.headers = headers

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.http.get(path, params=params, headers=self.headers)
        return schemas.unwrap(body)

    async def _market_page(self, page: int) -> tuple[list[dict[str, Any]], int]:
        result = await self._get("/openapi/market", {
            "page": page,
            "limit": config.PAGE_LIMIT,
            "marketType": config.MARKET_TYPE_ALL,
            "chainId": config.CHAIN_ID,
        })
        return schemas.page_items(result)

    async def all_market_rows(self) -> list[dict[str, Any]]:
        """Every market row (binary markets and categorical parents with their children), all pages.

        No `status` filter: the venue then lists every state, so resolved and resolving markets
        reach the catalog too. Page 1 gives `total`; the rest are fetched a few at a time.
        """
        rows, total = await self._market_page(1)
        if not rows or len(rows) >= total:
            return rows
        pages = -(-total // config.PAGE_LIMIT)
        gate = asyncio.Semaphore(config.PAGE_CONCURRENCY)

        async def one(page: int) -> list[dict[str, Any]]:
            async with gate:
                items, _ = await self._market_page(page)
                return items

        for items in await asyncio.gather(*(one(p) for p in range(2, pages + 1))):
            rows.extend(items)
        # A market that moved between pages while we read would appear twice: keep the first.
        seen: set[str] = set()
        unique = []
        for row in rows:
            key = str(row.get("marketId"))
            if key not in seen:
                seen.add(key)
                unique.append(row)
        return unique

    async def market(self, market_id: str) -> dict[str, Any]:
        return schemas.detail(await self._get(f"/openapi/market/{market_id}"))

    async def orderbook(self, token_id: str) -> dict[str, Any]:
        return await self._get("/openapi/token/orderbook", {"token_id": token_id})

    async def price_history(self, token_id: str, interval: str, start: int, end: int) -> list[tuple[int, float]]:
        result = await self._get("/openapi/token/price-history", {
            "token_id": token_id, "interval": interval, "start_at": int(start), "end_at": int(end),
        })
        return schemas.parse_history(result)
