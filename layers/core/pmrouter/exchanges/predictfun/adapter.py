"""Predict.fun adapter (market data only).

Catalog: `GET /v1/markets` (cursor pages); group = the market's category (`categorySlug`, title
from `GET /v1/categories`). One book per market on the YES side; the second outcome's book is its
mirror. Public trades: `GET /v1/orders/matches?marketId=` (newest first, cursor pages). Price
history: `GET /v1/markets/{id}/timeseries` (the venue's own chance samples, built into candles).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from ...pricing.candles import points_to_candles
from ..base import (Candle, Capabilities, ExchangeAdapter, FeeModel, Interval, OrderBook, TradesPage, VenueMarket,
                    VenueOutcome)
from ...cache import TtlCache
from ..errors import MarketNotFound, VenueError
from ..http import VenueHttp
from ..tape import admit
from . import config, schemas
from .market_data import PredictMarketData

log = logging.getLogger(__name__)

# How many venue pages one /trades call may read while skipping fills newer than `end`.
_MAX_TRADE_PAGES = 20


def _fee_note(bps: int) -> str:
    return f"Predict.fun: takers pay {bps} bps x min(p, 1-p) x shares (the market's feeRateBps), makers nothing"


class PredictFunAdapter(ExchangeAdapter):
    id = config.EXCHANGE_ID
    name = config.NAME
    numeric_market_ids = True
    capabilities = Capabilities.trading_venue(fetch_price_history=True, fetch_trades=True)
    order_types = frozenset({"gtc", "gtd", "ioc", "fok"})  # LIMIT (+expiration), MARKET (+isFillOrKill): trading.py
    fee_model = FeeModel(kind="linear", basis="min_side", rate=config.DEFAULT_FEE_BPS / 10_000,
                         note=_fee_note(config.DEFAULT_FEE_BPS))

    def __init__(self, cfg: config.PredictFunConfig):
        self.config = cfg
        self.http = VenueHttp(config.EXCHANGE_ID, cfg.url.rstrip("/"), error_message=schemas.error_message)
        self.md = PredictMarketData(self.http, cfg.auth_headers())
        self._categories: dict[str, dict[str, Any]] = {}  # slug -> {title, startsAt, endsAt, status}
        self.jwts: TtlCache[str, str] = TtlCache(600, 10_000)  # wallet -> login JWT (trading.py)

    def open_session(self, credentials):
        from .trading import PredictFunSession

        return PredictFunSession(self, credentials)

    # --- metadata cache ---------------------------------------------------------------------------

    def _learn_categories(self, rows: list[dict[str, Any]]) -> None:
        if len(self._categories) > 10 * self.market_cache_size:
            self._categories.clear()
        for row in rows:
            slug, info = schemas.category_info(row)
            if slug:
                self._categories[slug] = info

    # --- catalog ----------------------------------------------------------------------------------

    async def _categories_best_effort(self) -> list[dict[str, Any]]:
        try:
            return await self.md.all_categories()
        except VenueError as exc:  # titles are cosmetic: a failing category list must not empty the catalog
            log.warning("predict.fun categories unavailable, groups keep no title: %s", exc)
            return []

    async def list_markets(self) -> list[VenueMarket]:
        rows, categories = await asyncio.gather(self.md.all_markets(), self._categories_best_effort())
        self._learn_categories(categories)
        markets = [schemas.parse_market(r, self._categories) for r in rows]
        for m in markets:
            self.remember(m)
        return markets

    async def fetch_market(self, market_id: str) -> VenueMarket:
        raw = await self.md.market(market_id)
        slug = str(raw.get("categorySlug") or "")
        if slug and slug not in self._categories:
            try:
                self._learn_categories([await self.md.category(slug)])
            except VenueError as exc:
                log.info("predict.fun category %s unavailable: %s", slug, exc)
        return schemas.parse_market(raw, self._categories)

    async def fee_model_for(self, market: VenueMarket) -> FeeModel:
        bps = int(market.extra.get("fee_rate_bps", config.DEFAULT_FEE_BPS))
        return FeeModel(kind="linear", basis="min_side", rate=bps / 10_000, note=_fee_note(bps))

    # --- live data --------------------------------------------------------------------------------

    def _index_set(self, market: VenueMarket, outcome: VenueOutcome) -> int:
        for pos, o in enumerate(market.outcomes):
            if o is outcome or (outcome.token_id and o.token_id == outcome.token_id) or o.name == outcome.name:
                sets = market.extra.get("index_sets") or []
                return sets[pos] if pos < len(sets) and sets[pos] else pos + 1
        raise MarketNotFound(self.id, f"{market.parsec_id} has no outcome {outcome.name!r}")

    async def get_orderbook(self, market: VenueMarket, outcome: VenueOutcome, depth: int) -> OrderBook:
        index_set = self._index_set(market, outcome)
        data = await self.md.orderbook(market.exchange_market_id)
        decimals = int(market.extra.get("decimal_precision", 2))
        return schemas.parse_orderbook(data, yes_side=index_set == 1, decimals=decimals, depth=depth,
                                       tick=market.tick_size, token_id=outcome.token_id)

    async def get_price_history(self, market: VenueMarket, outcome: VenueOutcome, interval: Interval,
                                start: int, end: int) -> list[Candle]:
        index_set = self._index_set(market, outcome)
        samples = await self.md.timeseries(market.exchange_market_id, config.TIMESERIES_RESOLUTION[interval], start, end)
        return points_to_candles(schemas.parse_timeseries(samples, first_outcome=index_set == 1), interval, start, end)

    async def get_trades(self, market: VenueMarket, outcome: VenueOutcome, start: int | None, end: int | None,
                         limit: int, cursor: str | None) -> TradesPage:
        index_set = self._index_set(market, outcome)
        trades = []
        after = cursor
        for _ in range(_MAX_TRADE_PAGES):
            # Ask for exactly what is still missing, so every row of a page is consumed and the
            # venue's cursor is an exact resume point.
            rows, next_cursor = await self.md.matches(market.exchange_market_id, limit - len(trades), after)
            for event in rows:
                trade = schemas.parse_match(event, index_set, outcome.name)
                if not admit(trades, trade, start, end):
                    return TradesPage(trades, None)
            if not rows or next_cursor is None:
                return TradesPage(trades, None)
            after = next_cursor
            if len(trades) >= limit:
                break
        return TradesPage(trades, after)


def create(cfg: config.PredictFunConfig | None = None) -> PredictFunAdapter:
    return PredictFunAdapter(cfg or config.PredictFunConfig.from_env())
