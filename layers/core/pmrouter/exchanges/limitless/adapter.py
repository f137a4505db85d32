"""Limitless adapter: public market data (listings, YES/NO books, price history)."""
from __future__ import annotations

from ...pricing.candles import points_to_candles
from ...settings import Settings
from ..base import Candle, Capabilities, ExchangeAdapter, FeeModel, Interval, OrderBook, VenueMarket, VenueOutcome
from ..errors import MarketNotFound
from ..http import VenueHttp
from . import config, schemas
from .market_data import LimitlessMarketData


class LimitlessAdapter(ExchangeAdapter):
    id = config.EXCHANGE_ID
    name = config.NAME
    # No public per-market trade tape is documented, so /trades is 501 for Limitless.
    capabilities = Capabilities(fetch_markets=True, fetch_events=True, fetch_orderbook=True, fetch_price_history=True)
    fee_model = FeeModel(kind="linear", rate=config.DEFAULT_FEE_BPS / 10_000,
                         note="Limitless: taker fee at the account's rank rate (300 bps default)")

    def __init__(self, settings: Settings):
        self.http = VenueHttp(config.EXCHANGE_ID, config.base_url(settings), error_message=schemas.error_message)
        self.md = LimitlessMarketData(self.http)
        self._groups: dict[str, dict] = {}  # child slug -> group row (slug, title): lets detail lookups keep it

    async def list_markets(self) -> list[VenueMarket]:
        out: list[VenueMarket] = []
        for row in await self.md.all_listings():
            for m in schemas.parse_listing(row):
                out.append(m)
                self.remember(m)
                if m.exchange_group_id:
                    self._groups[m.exchange_market_id] = {"slug": m.exchange_group_id, "title": m.group_title}
        return out

    async def fetch_market(self, slug: str) -> VenueMarket:
        raw = await self.md.market(slug)
        if str(raw.get("marketType") or "").lower() == "group":
            children = ", ".join(str(c.get("slug")) for c in raw.get("markets") or [])
            raise MarketNotFound(self.id, f"{slug} is a group market; use one of its markets ({children})")
        return schemas.parse_market(raw, group=self._groups.get(slug))

    async def fee_model_for(self, market: VenueMarket) -> FeeModel:
        bps = market.extra.get("fee_bps")
        if bps is None:
            return self.fee_model
        return FeeModel(kind="linear", rate=float(bps) / 10_000, note=f"Limitless: {bps} bps taker fee")

    async def get_orderbook(self, market: VenueMarket, outcome: VenueOutcome, depth: int) -> OrderBook:
        raw = await self.md.orderbook(market.exchange_market_id)
        book = schemas.parse_orderbook(raw, market.outcomes.index(outcome))
        return OrderBook(book.bids[:depth], book.asks[:depth], book.timestamp, book.tick_size, book.min_order_size,
                         outcome.token_id or book.token_id)

    async def get_price_history(self, market: VenueMarket, outcome: VenueOutcome, interval: Interval,
                                start: int, end: int) -> list[Candle]:
        raw = await self.md.history(market.exchange_market_id, config.INTERVALS[interval], start, end)
        points = schemas.parse_history(raw)
        if market.outcomes.index(outcome) == 1:
            points = [(t, round(1 - p, 6)) for t, p in points]
        return points_to_candles(points, interval, start, end)


def create(settings: Settings) -> LimitlessAdapter:
    return LimitlessAdapter(settings)
