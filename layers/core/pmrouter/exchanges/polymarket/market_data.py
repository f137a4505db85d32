"""Polymarket public REST calls across its three hosts."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..http import VenueHttp
from . import config


class PolymarketMarketData:
    def __init__(self, gamma: VenueHttp, clob: VenueHttp, data: VenueHttp):
        self.gamma, self.clob, self.data = gamma, clob, data

    async def all_markets(self) -> list[dict[str, Any]]:
        """Every open market (Gamma offset paging until a short page). Closed markets are not
        collected: there are far more of them than open ones, and nothing trades there."""
        rows: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await self.gamma.get("/markets", {"limit": config.GAMMA_PAGE, "offset": offset, "closed": "false"})
            rows.extend(page or [])
            if not page or len(page) < config.GAMMA_PAGE:
                return rows
            offset += len(page)

    async def market(self, market_id: str) -> dict[str, Any] | None:
        if market_id.startswith("0x"):
            rows = await self.gamma.get("/markets", {"condition_ids": market_id})
            return rows[0] if rows else None
        if market_id.isdigit():
            return await self.gamma.get(f"/markets/{market_id}")
        return await self.gamma.get(f"/markets/slug/{quote(market_id, safe='')}")

    async def book(self, token_id: str) -> dict[str, Any]:
        return await self.clob.get("/book", {"token_id": token_id})

    async def clob_market(self, condition_id: str) -> dict[str, Any]:
        return await self.clob.get(f"/clob-markets/{condition_id}")

    async def prices_history(self, token_id: str, start: int, end: int, fidelity: int) -> dict[str, Any]:
        return await self.clob.get("/prices-history", {"market": token_id, "startTs": start, "endTs": end,
                                                       "fidelity": fidelity})

    async def trades(self, condition_id: str, limit: int, offset: int) -> list[dict[str, Any]]:
        """The market's public tape, newest first (taker side of each match, the Data API default)."""
        return await self.data.get("/trades", {"market": condition_id, "limit": limit, "offset": offset})
