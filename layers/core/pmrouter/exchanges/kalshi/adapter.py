"""Kalshi adapter: market data from the public endpoints."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...pricing.candles import INTERVAL_SECONDS, merge_candles
from ..base import (
    Candle, Capabilities, Credentials, ExchangeAdapter, FeeModel, Interval, OrderBook, TradesPage, VenueMarket, VenueOutcome,
)
from ...cache import TtlCache
from ..http import VenueHttp
from . import config, schemas
from .market_data import KalshiMarketData

if TYPE_CHECKING:
    from .trading import KalshiSession


class KalshiAdapter(ExchangeAdapter):
    id = config.EXCHANGE_ID
    name = config.NAME
    capabilities = Capabilities.trading_venue(fetch_price_history=True, fetch_trades=True)
    # Kalshi's time_in_force: good_till_canceled, immediate_or_cancel, fill_or_kill; a good-till-time
    # order is good_till_canceled with `expiration_time`, which is the contract's gtd.
    order_types = frozenset({"gtc", "ioc", "fok", "gtd"})
    fee_model = FeeModel(kind="quadratic", rate=config.TAKER_FEE_RATE, round_up_to=0.01,
                         note="Kalshi taker fee: round up to the cent of 0.07 x contracts x P x (1 - P)")

    def __init__(self, cfg: config.KalshiConfig):
        self.config = cfg
        self.http = VenueHttp(config.EXCHANGE_ID, cfg.url, error_message=schemas.error_message)
        self.md = KalshiMarketData(self.http)
        self._events: TtlCache[str, dict] = TtlCache(600, 20_000)

    async def list_markets(self) -> list[VenueMarket]:
        events = {e["event_ticker"]: e for e in await self.md.all_events()}
        out = []
        for raw in await self.md.all_markets():
            m = schemas.parse_market(raw, events.get(raw.get("event_ticker", "")))
            self.remember(m)
            out.append(m)
        for ticker, e in events.items():
            self._events.put(ticker, e)
        return out

    def market_key(self, market_id: str) -> str:
        return super().market_key(market_id).upper()  # tickers are upper case

    async def fetch_market(self, ticker: str) -> VenueMarket:
        raw = await self.md.market(ticker)
        event_ticker = raw.get("event_ticker") or ""
        event = self._events.get(event_ticker)
        if event is None and event_ticker:
            event = await self.md.event(event_ticker)
            self._events.put(event_ticker, event)
        return schemas.parse_market(raw, event)

    def open_session(self, credentials: Credentials) -> "KalshiSession":
        from .trading import KalshiSession

        return KalshiSession(self, credentials)

    def tick_at(self, market: VenueMarket, price: float) -> float | None:
        return schemas.tick_at(market.extra.get("price_ranges"), price) or market.tick_size

    async def get_orderbook(self, market: VenueMarket, outcome: VenueOutcome, depth: int) -> OrderBook:
        raw = await self.md.orderbook(market.exchange_market_id, depth)
        book = schemas.parse_orderbook(raw, market.outcomes.index(outcome), depth)
        best = book.bids[0][0] if book.bids else 0.5
        return OrderBook(book.bids, book.asks, book.timestamp, self.tick_at(market, best), market.min_order_size,
                         f"{market.exchange_market_id}:{outcome.name.lower()}")

    async def get_price_history(self, market: VenueMarket, outcome: VenueOutcome, interval: Interval,
                                start: int, end: int) -> list[Candle]:
        series = market.extra.get("series_ticker")
        if not series:
            event = await self.md.event(market.exchange_group_id)
            series = event.get("series_ticker")
        period = config.PERIOD[interval]
        raw = await self.md.candlesticks(series, market.exchange_market_id, start, end, period)
        candles = schemas.parse_candles(raw, period, market.outcomes.index(outcome))
        if INTERVAL_SECONDS[interval] != period * 60:
            candles = merge_candles(candles, interval)
        return [c for c in candles if start - INTERVAL_SECONDS[interval] < c.timestamp.timestamp() <= end]

    async def get_trades(self, market: VenueMarket, outcome: VenueOutcome, start: int | None, end: int | None,
                         limit: int, cursor: str | None) -> TradesPage:
        raw = await self.md.trades(market.exchange_market_id, start, end, min(limit, config.TRADES_PAGE), cursor)
        idx = market.outcomes.index(outcome)
        trades = [schemas.parse_trade(t, idx) for t in raw.get("trades") or []]
        trades.sort(key=lambda t: t.timestamp, reverse=True)
        return TradesPage(trades, raw.get("cursor") or None)


def create(cfg: config.KalshiConfig | None = None) -> KalshiAdapter:
    return KalshiAdapter(cfg or config.KalshiConfig.from_env())
