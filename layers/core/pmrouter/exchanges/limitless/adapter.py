"""Limitless adapter: public market data (listings, YES/NO books, price history, the trade tape)."""
from __future__ import annotations

import time

from ...pricing.candles import points_to_candles
from ..base import (Candle, Capabilities, ExchangeAdapter, FeeModel, Interval, OrderBook, PublicTrade, TradesPage,
                    VenueMarket, VenueOutcome)
from ...cache import TtlCache
from ..errors import MarketNotFound
from ..http import VenueHttp
from ..tape import admit
from . import config, schemas
from .market_data import LimitlessMarketData

NO_FEE = FeeModel(kind="none", note="Limitless: this market charges no trading fee (metadata.fee is false)")


class LimitlessAdapter(ExchangeAdapter):
    id = config.EXCHANGE_ID
    name = config.NAME
    capabilities = Capabilities.trading_venue(fetch_price_history=True, fetch_trades=True)
    order_types = frozenset({"gtc", "ioc", "fok"})  # GTC, FAK, FOK (trading.py); the venue has no GTD
    fee_model = FeeModel(kind="linear", basis="min_side", rate=config.DEFAULT_FEE_BPS / 10_000,
                         note=(f"Limitless: takers pay their rank's feeRateBps (default {config.DEFAULT_FEE_BPS}) "
                               "x min(p, 1-p) x contracts, makers nothing; estimated at the default rank rate"))

    def __init__(self, cfg: config.LimitlessConfig):
        self.config = cfg
        self.http = VenueHttp(config.EXCHANGE_ID, cfg.url, error_message=schemas.error_message)
        self.md = LimitlessMarketData(self.http)
        self._groups: dict[str, dict] = {}  # child slug -> group row (slug, title): lets detail lookups keep it
        self.profiles: TtlCache[str, dict] = TtlCache(60, 10_000)  # (token, address) -> profile (trading.py)

    def open_session(self, credentials):
        from .trading import LimitlessSession

        return LimitlessSession(self, credentials)

    async def list_markets(self) -> list[VenueMarket]:
        out: list[VenueMarket] = []
        for row in await self.md.all_listings():
            for m in schemas.parse_listing(row):
                out.append(m)
                self.remember(m)
                if m.exchange_group_id:
                    self._groups[m.exchange_market_id] = {"slug": m.exchange_group_id, "title": m.group_title,
                                                           "negRiskMarketId": row.get("negRiskMarketId")}
        return out

    async def fetch_market(self, slug: str) -> VenueMarket:
        raw = await self.md.market(slug)
        if schemas.is_group(raw):
            children = ", ".join(str(c.get("slug")) for c in raw.get("markets") or [])
            raise MarketNotFound(self.id, f"{slug} is a group market; use one of its markets ({children})")
        if not schemas.is_clob(raw):
            raise MarketNotFound(self.id, f"{slug} is an AMM market; pmrouter serves Limitless order-book markets")
        return schemas.parse_market(raw, group=self._groups.get(slug))

    async def fee_model_for(self, market: VenueMarket) -> FeeModel:
        return self.fee_model if market.extra.get("fee_enabled", True) else NO_FEE

    async def get_orderbook(self, market: VenueMarket, outcome: VenueOutcome, depth: int) -> OrderBook:
        raw = await self.md.orderbook(market.exchange_market_id)
        book = schemas.parse_orderbook(raw, market.outcomes.index(outcome))
        return OrderBook(book.bids[:depth], book.asks[:depth], book.timestamp, book.tick_size, book.min_order_size,
                         outcome.token_id or book.token_id)

    async def get_price_history(self, market: VenueMarket, outcome: VenueOutcome, interval: Interval,
                                start: int, end: int) -> list[Candle]:
        window = config.history_window(start, int(time.time()))
        raw = await self.md.history(market.exchange_market_id, window)
        points = schemas.parse_history(raw, market.question)
        if market.outcomes.index(outcome) == 1:
            points = [(t, round(1 - p, 6)) for t, p in points]
        return points_to_candles(points, interval, start, end)

    async def get_trades(self, market: VenueMarket, outcome: VenueOutcome, start: int | None, end: int | None,
                         limit: int, cursor: str | None) -> TradesPage:
        """The market's public events feed (a neg-risk group's children share the group's feed, as
        in the venue's web app), newest first. The cursor is `page.row` of the venue feed, so every
        call resumes exactly."""
        slug = market.exchange_group_id if market.extra.get("neg_risk") else market.exchange_market_id
        idx = market.outcomes.index(outcome)
        page, skip = _resume_point(cursor)
        trades: list[PublicTrade] = []
        for _ in range(config.MAX_EVENT_PAGES):
            body = await self.md.events(slug, page, config.EVENTS_PAGE_LIMIT)
            rows = schemas.event_rows(body)
            for pos in range(skip, len(rows)):
                event = rows[pos]
                trade = schemas.parse_trade_event(event, market, idx) if isinstance(event, dict) else None
                if not admit(trades, trade, start, end):
                    return TradesPage(trades, None)
                if len(trades) >= limit:
                    return TradesPage(trades, f"{page}.{pos + 1}")
            total = int(body.get("totalPages") or page) if isinstance(body, dict) else page
            if not rows or page >= total:
                return TradesPage(trades, None)
            page, skip = page + 1, 0
        return TradesPage(trades, f"{page}.0")


def _resume_point(cursor: str | None) -> tuple[int, int]:
    page, _, row = (cursor or "").partition(".")
    return (int(page) if page.isdigit() and int(page) > 0 else 1), (int(row) if row.isdigit() else 0)


def create(cfg: config.LimitlessConfig | None = None) -> LimitlessAdapter:
    return LimitlessAdapter(cfg or config.LimitlessConfig.from_env())
