"""Polymarket adapter: catalog from Gamma, books and prices from the CLOB, the tape from the Data API."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...pricing.candles import points_to_candles
from ..base import (
    Candle, Capabilities, Credentials, ExchangeAdapter, FeeModel, Interval, OrderBook, TradesPage, VenueMarket, VenueOutcome,
)
from ...cache import TtlCache
from ..errors import MarketNotFound, VenueError
from ..http import VenueHttp
from . import config, schemas
from .market_data import PolymarketMarketData

if TYPE_CHECKING:
    from .trading import PolymarketSession

NO_FEE = FeeModel(kind="none", note="Polymarket: no taker fee on this market")


class PolymarketAdapter(ExchangeAdapter):
    id = config.EXCHANGE_ID
    name = config.NAME
    capabilities = Capabilities.trading_venue(fetch_price_history=True, fetch_trades=True, refresh_balance=True,
                                              fetch_user_activity=True)
    order_types = frozenset({"gtc", "ioc", "fok", "gtd"})
    # Most markets are fee-free; fee-enabled ones publish {r, e} in /clob-markets (fee_model_for).
    fee_model = NO_FEE

    def __init__(self, cfg: config.PolymarketConfig):
        self.config = cfg
        self.gamma = VenueHttp(config.EXCHANGE_ID, cfg.gamma_url, error_message=schemas.error_message)
        self.clob = VenueHttp(config.EXCHANGE_ID, cfg.clob_url, error_message=schemas.error_message)
        self.data = VenueHttp(config.EXCHANGE_ID, cfg.data_url, error_message=schemas.error_message)
        self.md = PolymarketMarketData(self.gamma, self.clob, self.data)
        self._fees: TtlCache[str, FeeModel] = TtlCache(600, 20_000)

    def open_session(self, credentials: Credentials) -> "PolymarketSession":
        from .trading import PolymarketSession

        return PolymarketSession(self, credentials)

    def market_aliases(self, m: VenueMarket) -> tuple[str, ...]:
        return (m.exchange_market_id, m.condition_id.lower()) if m.condition_id else (m.exchange_market_id,)

    def market_key(self, market_id: str) -> str:
        key = super().market_key(market_id)
        return key.lower() if key.startswith("0x") else key  # condition ids are hex

    async def list_markets(self) -> list[VenueMarket]:
        out = []
        for raw in await self.md.all_markets():
            m = schemas.parse_market(raw)
            self.remember(m)
            out.append(m)
        return out

    async def fetch_market(self, key: str) -> VenueMarket:
        """By Gamma id ("572473"), condition id ("0x…") or slug."""
        raw = await self.md.market(key)
        if not raw:
            raise MarketNotFound(self.id, f"no market {key}")
        return schemas.parse_market(raw)

    async def fee_model_for(self, market: VenueMarket) -> FeeModel:
        """Fee-enabled markets publish `fd: {r: rate, e: exponent, to: taker_only}` in /clob-markets;
        the taker fee is r x contracts x (p(1-p))^e."""
        cid = market.condition_id
        if not cid:
            return NO_FEE
        hit = self._fees.get(cid)
        if hit is not None:
            return hit
        try:
            info = await self.md.clob_market(cid)
        except VenueError:
            return FeeModel(kind="none", note="Polymarket fee parameters unavailable; estimate assumes no fee")
        fd = info.get("fd") or {}
        rate = schemas.num(fd.get("r"))
        model = NO_FEE if not rate else FeeModel(kind="quadratic", rate=rate, exponent=schemas.num(fd.get("e")) or 1.0,
                                                 note="Polymarket taker fee r x C x (p(1-p))^e from the market's fee parameters")
        self._fees.put(cid, model)
        return model

    async def user_activity(self, address: str, limit: int) -> list[dict]:
        """A wallet's public on-chain activity (trades, splits, merges, redemptions) from the Data API."""
        rows = await self.data.get("/activity", {"user": address, "limit": limit})
        return rows or []

    @staticmethod
    def _token(market: VenueMarket, outcome: VenueOutcome) -> str:
        if not outcome.token_id:
            raise MarketNotFound(config.EXCHANGE_ID, f"{market.parsec_id} has no CLOB token for {outcome.name}")
        return outcome.token_id

    async def get_orderbook(self, market: VenueMarket, outcome: VenueOutcome, depth: int) -> OrderBook:
        book = schemas.parse_book(await self.md.book(self._token(market, outcome)))
        return OrderBook(book.bids[:depth], book.asks[:depth], book.timestamp, book.tick_size or market.tick_size,
                         book.min_order_size or market.min_order_size, book.token_id or outcome.token_id)

    async def get_price_history(self, market: VenueMarket, outcome: VenueOutcome, interval: Interval,
                                start: int, end: int) -> list[Candle]:
        raw = await self.md.prices_history(self._token(market, outcome), start, end, config.FIDELITY[interval])
        return points_to_candles(schemas.parse_history(raw), interval, start, end)

    async def get_trades(self, market: VenueMarket, outcome: VenueOutcome, start: int | None, end: int | None,
                         limit: int, cursor: str | None) -> TradesPage:
        """Data API offsets, filtered to this outcome's token and the time window. The cursor is
        the next offset; paging stops at the API's offset ceiling or past `start`."""
        token = self._token(market, outcome)
        if not market.condition_id:
            return TradesPage([])
        offset = int(cursor) if cursor and cursor.isdigit() else 0
        out = []
        while len(out) < limit and offset < config.DATA_MAX_OFFSET:
            page = await self.md.trades(market.condition_id, config.DATA_TRADES_PAGE, offset)
            if not page:
                return TradesPage(out, None)
            for i, row in enumerate(page):
                t = int(row.get("timestamp") or 0)
                if start is not None and t < start:
                    return TradesPage(out, None)
                if row.get("asset") == token and (end is None or t <= end):
                    out.append(schemas.parse_trade(row, outcome.name))
                    if len(out) == limit:
                        offset += i + 1
                        more = i + 1 < len(page) or len(page) == config.DATA_TRADES_PAGE
                        return TradesPage(out, str(offset) if more else None)
            offset += len(page)
            if len(page) < config.DATA_TRADES_PAGE:
                return TradesPage(out, None)
        return TradesPage(out, None)


def create(cfg: config.PolymarketConfig | None = None) -> PolymarketAdapter:
    return PolymarketAdapter(cfg or config.PolymarketConfig.from_env())
