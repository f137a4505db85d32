"""Opinion adapter (market data only).

Catalog: `GET /openapi/market` (marketType=2, 20 a page). A categorical market is listed as its
children, each a yes/no market of its own (`exchange_group_id` = the parent's marketId). Books and
price history are per outcome token. Opinion publishes no per-market public trade tape (only
`/openapi/trade/user/{wallet}`), so `fetch_trades` is off.
"""
from __future__ import annotations

from typing import Any

from ...pricing.candles import points_to_candles
from ..base import Candle, Capabilities, ExchangeAdapter, FeeModel, Interval, OrderBook, VenueMarket, VenueOutcome
from ...cache import TtlCache
from ..errors import MarketNotFound, VenueBadRequest
from ..http import VenueHttp
from . import config, schemas
from .market_data import OpinionMarketData


class OpinionAdapter(ExchangeAdapter):
    id = config.EXCHANGE_ID
    name = config.NAME
    numeric_market_ids = True
    capabilities = Capabilities.trading_venue(fetch_price_history=True)
    order_types = frozenset({"gtc", "ioc"})  # LIMIT and MARKET (trading.py); no FOK or GTD at the venue
    # Opinion charges takers only, 0%..1% of notional, highest near p = 0.5, with a $0.25 minimum
    # fee (docs.opinion.trade "Fees"). The exact curve is not published, so estimates use its 1% ceiling.
    fee_model = FeeModel(
        kind="linear",
        rate=0.01,
        note="Opinion: taker-only fee between 0% and 1% of notional (highest near 50%), $0.25 minimum; "
             "estimated at the 1% ceiling",
    )

    def __init__(self, cfg: config.OpinionConfig):
        self.config = cfg
        self.http = VenueHttp(config.EXCHANGE_ID, cfg.url.rstrip("/"), error_message=schemas.error_message)
        self.md = OpinionMarketData(self.http, cfg.auth_headers())
        # child marketId -> (parent marketId, parent title); the relation never changes, so it
        # outlives the metadata TTL and lets a detail lookup keep its group.
        self._parents: dict[str, tuple[str, str]] = {}
        self.quote_tokens: TtlCache[str, dict] = TtlCache(3600, 100)  # quote token -> its exchange (trading.py)

    def open_session(self, credentials):
        from .trading import OpinionSession

        return OpinionSession(self, credentials)

    # --- metadata cache ---------------------------------------------------------------------------

    def remember(self, market: VenueMarket) -> None:
        super().remember(market)
        if market.exchange_group_id:
            if len(self._parents) >= 50 * self.market_cache_size:
                self._parents.clear()
            self._parents[market.exchange_market_id] = (market.exchange_group_id, market.group_title)

    # --- catalog ----------------------------------------------------------------------------------

    async def list_markets(self) -> list[VenueMarket]:
        markets: list[VenueMarket] = []
        for row in await self.md.all_market_rows():
            markets.extend(schemas.parse_listing(row))
        for m in markets:
            self.remember(m)
        return markets

    async def fetch_market(self, market_id: str) -> VenueMarket:
        raw = await self.md.market(market_id)
        if schemas.is_categorical(raw):
            raise MarketNotFound(
                self.id, f"opinion market {market_id} is a categorical market; trade one of its options "
                         f"({', '.join(str(c.get('marketId')) for c in raw.get('childMarkets') or [])})")
        parent: dict[str, Any] | None = None
        link = self._parents.get(market_id)
        if link is not None:
            parent = {"marketId": link[0], "marketTitle": link[1]}
        return schemas.parse_binary(raw, parent=parent)

    # --- live data --------------------------------------------------------------------------------

    async def get_orderbook(self, market: VenueMarket, outcome: VenueOutcome, depth: int) -> OrderBook:
        token = outcome.token_id
        if not token:
            raise MarketNotFound(self.id, f"{market.parsec_id} outcome {outcome.name!r} has no token id")
        book = schemas.parse_orderbook(await self.md.orderbook(token), depth)
        if book.token_id is None:
            book = OrderBook(book.bids, book.asks, book.timestamp, book.tick_size, book.min_order_size, token)
        return book

    async def get_price_history(
        self, market: VenueMarket, outcome: VenueOutcome, interval: Interval, start: int, end: int
    ) -> list[Candle]:
        token = outcome.token_id
        if not token:
            raise MarketNotFound(self.id, f"{market.parsec_id} outcome {outcome.name!r} has no token id")
        venue_interval = config.HISTORY_INTERVAL.get(interval)
        if venue_interval is None:
            raise VenueBadRequest(self.id, f"Opinion publishes price history at 1h and 1d only; interval "
                                           f"{interval!r} is not served (use one of {', '.join(config.HISTORY_INTERVAL)})")
        points = await self.md.price_history(token, venue_interval, start, end)
        return points_to_candles(points, interval, start, end)


def create(cfg: config.OpinionConfig | None = None) -> OpinionAdapter:
    return OpinionAdapter(cfg or config.OpinionConfig.from_env())
