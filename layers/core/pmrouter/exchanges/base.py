"""The one interface every venue adapter implements, and the venue-neutral types it speaks.

Adapters translate a venue's own wire format into these types (prices 0..1, sizes in contracts,
books best-first, times as aware UTC datetimes). Everything above the adapters (routes, catalog,
pricing) sees only these types and never a venue payload.
"""
from __future__ import annotations

import dataclasses
import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, ClassVar, Iterable, Literal, Sequence

from ..cache import TtlCache
from .errors import MarketNotFound, VenueNotSupported

Interval = Literal["1m", "1h", "6h", "1d", "1w", "max"]
Side = Literal["buy", "sell"]


@dataclass(frozen=True)
class Capabilities:
    """What a venue can do through pmrouter, in the contract's `CapabilityMap` vocabulary.

    `GET /exchanges` serialises this as-is and the API answers 501 for any operation whose flag is
    False, so the flags are the single source of truth for both. Each route checks its own flag
    (`ExchangeAdapter.require`); an adapter setting a flag overrides the hook the flag names:

      fetch_markets                  list_markets / fetch_market (the catalog sync skips a venue without it)
      fetch_events                   events come from the catalog's group ids (`VenueMarket.exchange_group_id`)
      fetch_orderbook                get_orderbook (and /execution-price)
      fetch_orderbook_history        (no venue yet: historical /orderbook answers 501)
      fetch_price_history            get_price_history
      fetch_trades                   get_trades
      fetch_user_activity            user_activity
      create_order, cancel_order     open_session -> TradingSession.prepare_order/submit_order, cancel_order
      fetch_order_history            TradingSession.list_orders(status="closed"|"all")
      fetch_fills                    TradingSession.fills
      fetch_positions                TradingSession.positions
      fetch_balance                  TradingSession.balance
      refresh_balance                TradingSession.balance(refresh=True) asks the venue to re-read chain state
      websocket, watch_address       contract vocabulary only: /ws feeds come from `<venue>/stream.py`
                                     (every venue false today, as the contract's /exchanges reports them)
    """

    fetch_markets: bool = False
    create_order: bool = False
    cancel_order: bool = False
    fetch_positions: bool = False
    fetch_balance: bool = False
    fetch_orderbook: bool = False
    fetch_price_history: bool = False
    fetch_trades: bool = False
    fetch_events: bool = False
    fetch_user_activity: bool = False
    refresh_balance: bool = False
    websocket: bool = False
    fetch_orderbook_history: bool = False
    fetch_fills: bool = False
    fetch_order_history: bool = False
    watch_address: bool = False

    def as_dict(self) -> dict[str, bool]:
        return dataclasses.asdict(self)

    @classmethod
    def trading_venue(cls, **more: bool) -> "Capabilities":
        """Listings, events, live books and the whole order life cycle (place, cancel, history, fills,
        positions, balance) through pmrouter, plus `more`: what every trading venue serves."""
        return cls(fetch_markets=True, fetch_events=True, fetch_orderbook=True, create_order=True, cancel_order=True,
                   fetch_order_history=True, fetch_fills=True, fetch_positions=True, fetch_balance=True, **more)


@dataclass(frozen=True)
class FeeModel:
    """How a venue charges a taker, for pre-trade estimates (never for settlement).

    kind:
      - "none": no trading fee.
      - "linear": fee = rate * notional (rate as a fraction, e.g. 0.03 for 300 bps); with
        basis="min_side", fee = rate * contracts * min(p, 1 - p) instead (the CTF-exchange fee of
        Limitless and Predict.fun: highest at p = 0.5, vanishing towards 0 and 1).
      - "quadratic": fee = rate * contracts * p * (1 - p), optionally raised to `exponent`
        on the p(1-p) term (Kalshi's 0.07 * C * P * (1-P); Polymarket's fd {r, e}).
      - "lookup_table": a stepped table; not used by the five venues today.
    round_up_to: if set, the per-order fee is rounded up to this increment (Kalshi: 0.01 USD).
    """

    kind: Literal["none", "linear", "quadratic", "lookup_table"]
    rate: float = 0.0
    exponent: float = 1.0
    round_up_to: float | None = None
    note: str | None = None
    basis: Literal["notional", "min_side"] = "notional"  # what a "linear" rate applies to


@dataclass(frozen=True)
class VenueOutcome:
    name: str  # canonical label as the venue shows it, e.g. "Yes", "No", "Trump"
    token_id: str | None = None  # venue token/asset id for token venues; None for Kalshi
    price: float | None = None  # last/mid price 0..1 when the listing carries one


@dataclass
class VenueMarket:
    """A market as the catalog stores it and `/markets` returns it (the contract's `Market`)."""

    exchange: str
    exchange_market_id: str
    question: str
    outcomes: list[VenueOutcome]
    status: str  # active | closed | resolved | archived
    market_type: str  # binary | categorical
    exchange_group_id: str = ""  # venue event/group id; "" when the venue has none
    group_title: str = ""
    volume_total: float = 0.0
    volume_24h: float | None = None
    liquidity: float | None = None
    open_interest: float | None = None
    best_bid: float | None = None
    best_ask: float | None = None
    last_price: float | None = None
    tick_size: float | None = None
    min_order_size: float | None = None
    slug: str | None = None
    url: str | None = None
    description: str | None = None
    rules: str | None = None
    condition_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    end_date: datetime | None = None
    event_start_time: datetime | None = None
    image_url: str | None = None
    icon_url: str | None = None
    # Venue facts an adapter needs later (neg_risk, series ticker, fee rate, ...). Never serialised.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def parsec_id(self) -> str:
        return f"{self.exchange}:{self.exchange_market_id}"

    @property
    def parsec_group_id(self) -> str:
        return f"{self.exchange}:{self.exchange_group_id}" if self.exchange_group_id else ""


@dataclass(frozen=True)
class OrderBook:
    """A live book for one outcome. bids best-first (descending), asks best-first (ascending)."""

    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    timestamp: datetime | None = None
    tick_size: float | None = None
    min_order_size: float | None = None
    token_id: str | None = None


@dataclass(frozen=True)
class Candle:
    timestamp: datetime  # period start, UTC
    open: float
    high: float
    low: float
    close: float
    volume: float
    open_interest: float | None = None


@dataclass(frozen=True)
class PublicTrade:
    """One public trade, as adapters return it and as `/trades` serialises it (the contract's trade
    object: `contract.marketdata.TradesResponse.trades`), so its fields are the wire's."""

    price: float  # price of the requested outcome, 0..1
    size: float
    timestamp: datetime
    source_channel: str
    id: str | None = None
    side: str | None = None
    aggressor_side: str | None = None
    outcome: str | None = None
    yes_price: float | None = None
    no_price: float | None = None
    tx_hash: str | None = None
    taker_address: str | None = None


@dataclass(frozen=True)
class TradesPage:
    trades: list[PublicTrade]
    next_cursor: str | None = None  # venue cursor, already opaque to our callers


class ExchangeAdapter(ABC):
    """One venue. Market-data methods are async and raise `pmrouter.exchanges.errors.VenueError`s."""

    id: ClassVar[str]
    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    fee_model: ClassVar[FeeModel]
    # The contract's order types this venue accepts; the API answers 501 for the others.
    order_types: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    async def list_markets(self) -> list[VenueMarket]:
        """Every listed market the venue publishes (all pages), for the catalog sync."""

    # Market metadata (tick size, tokens, neg-risk...) is read on every order and book request but
    # changes rarely: one cache per adapter, filled by the catalog listing and by single lookups.
    market_cache_ttl: ClassVar[float] = 60.0
    market_cache_size: ClassVar[int] = 5000
    numeric_market_ids: ClassVar[bool] = False  # venues whose market ids are integers

    @functools.cached_property
    def market_cache(self) -> TtlCache[str, VenueMarket]:
        return TtlCache(self.market_cache_ttl, self.market_cache_size)

    def market_key(self, market_id: str) -> str:
        """The venue's canonical form of a caller's market id (the cache key and the id fetched).
        Raises MarketNotFound for an id that cannot exist on the venue, before any request."""
        key = (market_id or "").strip()
        if self.numeric_market_ids and not key.isdigit():
            raise MarketNotFound(self.id, f"{self.name} market ids are integers, got {market_id!r}")
        if not key:
            raise MarketNotFound(self.id, "empty market id")
        return key

    def market_aliases(self, market: VenueMarket) -> Iterable[str]:
        """Every key a cached market is found under."""
        return (market.exchange_market_id,)

    def remember(self, market: VenueMarket) -> None:
        for key in self.market_aliases(market):
            self.market_cache.put(key, market)

    async def get_market(self, market_id: str) -> VenueMarket:
        """One market by its venue-native id; raises MarketNotFound."""
        key = self.market_key(market_id)
        hit = self.market_cache.get(key)
        if hit is not None:
            return hit
        market = await self.fetch_market(key)
        self.remember(market)
        self.market_cache.put(key, market)  # also under the id the caller used (a slug, say)
        return market

    @abstractmethod
    async def fetch_market(self, key: str) -> VenueMarket:
        """One market from the venue by its canonical id (see `market_key`); raises MarketNotFound."""

    @abstractmethod
    async def get_orderbook(self, market: VenueMarket, outcome: VenueOutcome, depth: int) -> OrderBook:
        """The live book of `outcome`, best-first on both sides, at most `depth` levels a side."""

    async def get_price_history(
        self, market: VenueMarket, outcome: VenueOutcome, interval: Interval, start: int, end: int
    ) -> list[Candle]:
        """Candles with period start in [start, end] (Unix seconds), ascending (`fetch_price_history`)."""
        raise self.not_supported("price history")

    async def get_trades(
        self,
        market: VenueMarket,
        outcome: VenueOutcome,
        start: int | None,
        end: int | None,
        limit: int,
        cursor: str | None,
    ) -> TradesPage:
        """Public trades, newest first (`fetch_trades`)."""
        raise self.not_supported("public trades")

    def open_session(self, credentials: "Credentials") -> "TradingSession":
        """A trading session for one user's credentials (venues with `create_order`)."""
        raise self.not_supported("trading")

    # --- optional hooks: a default for venues that do not override them ------------------------------

    def tick_at(self, market: VenueMarket, price: float) -> float | None:
        """The tick at `price`. Most venues have one grid per market; Kalshi's varies by price range."""
        return market.tick_size

    async def fee_model_for(self, market: VenueMarket) -> FeeModel:
        """The taker fee model of one market, for estimates; venues whose rate is per market override."""
        return self.fee_model

    async def user_activity(self, address: str, limit: int) -> list[dict]:
        """A wallet's recent venue activity, newest first, as the venue publishes it (`fetch_user_activity`)."""
        raise self.not_supported("user activity")

    def not_supported(self, what: str) -> VenueNotSupported:
        return VenueNotSupported(self.id, f"{self.name} does not support {what}")

    def require(self, flag: str, what: str) -> None:
        """Raise VenueNotSupported (a 501) unless `capabilities.<flag>` is set; a typo in `flag` is a bug."""
        if not getattr(self.capabilities, flag):
            raise self.not_supported(what)

    async def aclose(self) -> None:  # pragma: no cover - adapters holding clients override
        return None


def resolve_outcome(market: VenueMarket, selector: str | None) -> VenueOutcome:
    """The contract's outcome selector: case-insensitive label, or a numeric index.

    Binary markets default to "yes"; categorical markets require a selector.
    Raises ValueError with a message meant for the API user.
    """
    outcomes: Sequence[VenueOutcome] = market.outcomes
    if selector is None or selector == "":
        if market.market_type == "binary":
            selector = "yes"
        else:
            names = ", ".join(o.name for o in outcomes)
            raise ValueError(f"outcome is required for categorical market {market.parsec_id}; one of: {names}")
    wanted = selector.strip().lower()
    for o in outcomes:
        if o.name.lower() == wanted:
            return o
    if wanted.isdigit():
        idx = int(wanted)
        if 0 <= idx < len(outcomes):
            return outcomes[idx]
    names = ", ".join(o.name for o in outcomes)
    raise ValueError(f"unknown outcome {selector!r} for {market.parsec_id}; one of: {names} (or an index 0..{len(outcomes) - 1})")


# --- trading -----------------------------------------------------------------------------------------
# Venues that trade (capabilities.create_order) implement `open_session`. A session is bound to one
# user's credentials for one request; it is never cached across users and never persisted.

OrderType = Literal["gtc", "ioc", "fok", "gtd"]
OrderStatus = Literal["pending", "open", "filled", "partially_filled", "cancelled", "rejected"]


@dataclass(frozen=True)
class Credentials:
    """The contract's RequestCredentials, plus what onboarding derives. Never logged or echoed:
    `__repr__` names only which fields are present."""

    api_key_id: str | None = None  # Kalshi key id
    private_key: str | None = None  # Polymarket 0x EOA key, or Kalshi RSA PEM
    clob_api_key: str | None = None
    clob_api_secret: str | None = None
    clob_api_passphrase: str | None = None
    funder: str | None = None  # Polymarket maker (proxy/Safe) when it differs from the EOA
    signature_type: int = 0  # Polymarket: 0 EOA, 1 POLY_PROXY, 2 POLY_GNOSIS_SAFE

    def __repr__(self) -> str:
        present = [f for f in ("api_key_id", "private_key", "clob_api_key", "clob_api_secret", "clob_api_passphrase")
                   if getattr(self, f)]
        return f"Credentials(present={present})"

    __str__ = __repr__

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v not in (None, "")}

    def require_only(self, venue: str, allowed: tuple[str, ...]) -> None:
        """ValueError (a 400 naming the fields, never their values) for fields the venue does not use: a
        Kalshi key id sent to Limitless is a mistake to report, not to ignore."""
        extra = [f for f in ("api_key_id", "private_key", "clob_api_key", "clob_api_secret", "clob_api_passphrase",
                             "funder") if getattr(self, f) and f not in allowed]
        if extra:
            raise ValueError(f"{', '.join(extra)} {'is' if len(extra) == 1 else 'are'} not used by {venue} "
                             f"(it takes {', '.join(allowed)})")


@dataclass(frozen=True)
class OrderIntent:
    """A validated order, venue-neutral. `price` is the limit price of `outcome` (0..1). Price and size
    are the exact decimals the request carried; each venue's builder converts them once to its units."""

    market: VenueMarket
    outcome: VenueOutcome
    side: Side
    price: Decimal
    size: Decimal
    order_type: OrderType = "gtc"
    expiration: int | None = None  # Unix seconds (gtd)
    client_order_id: str = ""


@dataclass
class VenueOrder:
    id: str
    market_id: str
    outcome: str
    side: Side
    price: float
    size: float
    filled: float
    status: OrderStatus
    created_at: datetime
    updated_at: datetime | None = None
    client_order_id: str | None = None


def levels_within(levels: Sequence[tuple[float, float]], side: Side,
                  limit: Decimal | float) -> list[tuple[float, float]]:
    """The best-first book levels an order may take without crossing its limit: asks at or below a
    BUY's price, bids at or above a SELL's. Venue market orders that carry no price are sized from
    these, so the caller's limit holds against the book pmrouter saw (a float book, so the limit
    joins it as a float, within the book's own rounding)."""
    limit = float(limit)
    return [(p, q) for p, q in levels if (p <= limit + 1e-12 if side == "buy" else p >= limit - 1e-12)]


def take(levels: Sequence[tuple[float, float]], size: Decimal | float) -> tuple[float, float]:
    """(shares, notional) that up to `size` shares take from best-first `levels` (a float book)."""
    size = float(size)
    shares = notional = 0.0
    for p, q in levels:
        n = min(q, size - shares)
        if n <= 0:
            break
        shares += n
        notional += n * p
    return shares, notional


def accepted_unread(intent: "OrderIntent", order_id: str) -> VenueOrder:
    """An order the venue accepted (it answered with an id) whose state could not be read back: it is
    `pending` under its venue id, for reconciliation, never an error (a retry must not place it again)."""
    now = datetime.now(timezone.utc)
    return VenueOrder(order_id, intent.market.exchange_market_id, intent.outcome.name, intent.side, float(intent.price),
                      float(intent.size), 0.0, "pending", now, now, intent.client_order_id)


def immediate_final(order: VenueOrder, intent: "OrderIntent") -> VenueOrder:
    """An ioc/fok order never rests: read back still live, it is final as what it filled."""
    if intent.order_type in ("fok", "ioc") and order.status in ("open", "partially_filled"):
        order.status = "filled" if order.filled >= float(intent.size) - 1e-9 else "cancelled"
    return order


@dataclass(frozen=True)
class PreparedOrder:
    """A signed order ready to send. `order_id` is known before sending when the venue's id is
    derived from the order itself (Polymarket's EIP-712 hash), so a lost response can be resolved."""

    intent: OrderIntent
    payload: Any
    order_id: str | None = None


@dataclass(frozen=True)
class VenueFill:
    fill_id: str
    order_id: str
    market_id: str
    outcome: str
    side: Side
    price: float
    size: float
    fee: float
    is_taker: bool
    created_at: datetime


@dataclass(frozen=True)
class VenuePosition:
    market_id: str
    outcome: str
    size: float
    average_price: float
    current_price: float


class TradingSession(ABC):
    """One user's authenticated view of a venue."""

    # False where the venue's order records carry nothing tied to the signed order (no hash, salt or
    # client id): `find_order` cannot find a lost placement, so reconciliation never presumes one
    # rejected (it may be live at the venue) and leaves it pending.
    lost_orders_findable: ClassVar[bool] = True
    credentials: Credentials | None = None  # what the session signs with (set by every venue's session)

    @abstractmethod
    async def prepare_order(self, intent: OrderIntent) -> PreparedOrder: ...

    @abstractmethod
    async def submit_order(self, prepared: PreparedOrder) -> VenueOrder: ...

    @abstractmethod
    async def cancel_order(self, order_id: str) -> VenueOrder: ...

    @abstractmethod
    async def get_order(self, order_id: str) -> VenueOrder: ...

    @abstractmethod
    async def list_orders(self, *, market_id: str | None, status: Literal["open", "closed", "all"],
                          start: int | None, end: int | None, limit: int) -> list[VenueOrder]: ...

    @abstractmethod
    async def find_order(self, client_order_id: str, market: VenueMarket | None) -> VenueOrder | None:
        """The venue's copy of an order we may or may not have placed (reconciliation)."""

    @abstractmethod
    async def fills(self, *, market_id: str | None, limit: int | None) -> list[VenueFill]: ...

    @abstractmethod
    async def positions(self, *, market_id: str | None) -> list[VenuePosition]: ...

    @abstractmethod
    async def balance(self, *, refresh: bool = False) -> dict[str, Any]:
        """The venue's raw balance payload (the contract's opaque `raw`)."""

    @abstractmethod
    async def complete_credentials(self) -> Credentials:
        """The credentials to store after onboarding, completed from what the user gave
        (Polymarket derives its CLOB API key from the private key through L1 auth)."""

    @property
    def address(self) -> str | None:
        """The wallet address the session trades from, where the venue has one."""
        return None
