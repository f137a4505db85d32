"""Predict.fun REST calls: paths, parameters and cursor paging. Parsing lives in `schemas`."""
from __future__ import annotations

from typing import Any

from ..errors import VenueProtocolError
from ..http import VenueHttp
from . import config, schemas

# A venue that keeps handing out cursors must not keep the catalog sync busy forever.
_MAX_PAGES = 2000


class PredictMarketData:
    def __init__(self, http: VenueHttp, headers: dict[str, str]):
        self.http = http
        self.headers = headers

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> tuple[Any, str | None]:
        body = await self.http.get(path, params=params, headers=self.headers)
        return schemas.unwrap(body)

    async def _all_pages(self, path: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        after: str | None = None
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            data, cursor = await self._get(path, {"first": config.PAGE_SIZE, "after": after})
            if not isinstance(data, list):
                raise VenueProtocolError(config.EXCHANGE_ID, f"predict.fun {path} data is not a list")
            rows.extend(x for x in data if isinstance(x, dict))
            if not data or cursor is None or cursor in seen:
                break
            seen.add(cursor)
            after = cursor
        return rows

    async def all_markets(self) -> list[dict[str, Any]]:
        return await self._all_pages("/v1/markets")

    async def all_categories(self) -> list[dict[str, Any]]:
        return await self._all_pages("/v1/categories")

    async def market(self, market_id: str) -> dict[str, Any]:
        data, _ = await self._get(f"/v1/markets/{market_id}")
        if not isinstance(data, dict):
            raise VenueProtocolError(config.EXCHANGE_ID, f"predict.fun market {market_id} is not an object")
        return data

    async def category(self, slug: str) -> dict[str, Any]:
        data, _ = await self._get(f"/v1/categories/{slug}")
        if not isinstance(data, dict):
            raise VenueProtocolError(config.EXCHANGE_ID, f"predict.fun category {slug} is not an object")
        return data

    async def orderbook(self, market_id: str) -> dict[str, Any]:
        data, _ = await self._get(f"/v1/markets/{market_id}/orderbook")
        return data

    async def matches(self, market_id: str, first: int, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Order match events of one market, newest first (`executedAt DESC`)."""
        data, cursor = await self._get("/v1/orders/matches", {
            "marketId": market_id, "first": max(1, min(first, config.TRADES_PAGE_MAX)), "after": after,
        })
        if not isinstance(data, list):
            raise VenueProtocolError(config.EXCHANGE_ID, "predict.fun matches data is not a list")
        return [x for x in data if isinstance(x, dict)], cursor

    async def timeseries(self, market_id: str, resolution: str, start: int, end: int) -> list[dict[str, Any]]:
        """The first outcome's chance samples over [start, end], all cursor pages (bounded)."""
        samples: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(config.TIMESERIES_MAX_PAGES):
            data, after = await self._get(f"/v1/markets/{market_id}/timeseries", {
                "metric": "chance", "resolution": resolution, "from": int(start), "to": int(end),
                "limit": config.TIMESERIES_LIMIT, "after": after,
            })
            series = (data or {}).get("series") if isinstance(data, dict) else None
            if not isinstance(series, list):
                raise VenueProtocolError(config.EXCHANGE_ID, "predict.fun timeseries has no series list")
            samples.extend(x for x in series if isinstance(x, dict))
            if after is None or len(series) < config.TIMESERIES_LIMIT:
                break
        return samples
