"""The `/ws` wire contract: what a client may send and what the server sends back.

Shapes follow the Parsec contract (§5) and the official SDK's `parsec_api/streaming.py`, the
strictest reader there is: it keys books by `parsec_id:outcome`, expects a snapshot before any
delta, checks `server_seq == last + 1` on every delta and answers `resync_required` with `resync`.

Client messages are parsed leniently about *extra* keys (the SDK sends explicit nulls and the docs
allow `exchange`+`market_id` selectors) but strictly about types. Server messages are `extra=forbid`
models: the tests validate every frame the server sends against them. The hot path (deltas) builds
plain dicts with exactly these keys rather than model instances; `tests/unit/stream` keeps the two
in step.
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

# --- error codes (docs.parsecapi.com/websocket/reliability-resync-and-limits) -------------------------

AUTH_REQUIRED = 1001  # not authenticated yet, or a second auth
AUTH_INVALID = 1002  # bad API key / terminal token (and the 15 s auth window)
INVALID_MARKET = 2001  # malformed message or selector
MARKET_NOT_FOUND = 2002
EXCHANGE_UNAVAILABLE = 2003
INVALID_OUTCOME = 2005
RATE_LIMITED = 3001  # more than 3 subscribe/unsubscribe/resync a second
MAX_SUBSCRIPTIONS = 3002  # the tier's subscription cap

BookState = Literal["fresh", "stale", "needs_refresh"]
# "polling": the venue has no documented push feed (or none pmrouter uses); the book is refreshed
# from REST on a timer. The SDK reads the field as a plain string.
FeedState = Literal["healthy", "degraded", "disconnected", "polling"]


# --- client -> server ------------------------------------------------------------------------------------

class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MarketSelector(_In):
    parsec_id: str | None = None
    exchange: str | None = None
    market_id: str | None = None
    outcome: str | None = None
    depth: int | None = None


class AuthIn(_In):
    type: Literal["auth"]
    api_key: str
    # Builders stream for one of their end users, as `X-Builder-Customer-Id` does on REST.
    builder_customer_id: str | None = None


class AuthTerminalIn(_In):
    type: Literal["auth_terminal"]
    token: str


class SubscribeIn(_In):
    type: Literal["subscribe"]
    markets: list[MarketSelector] = Field(min_length=1, max_length=100)


class UnsubscribeIn(_In):
    type: Literal["unsubscribe"]
    markets: list[MarketSelector] = Field(min_length=1, max_length=100)


class ResyncIn(MarketSelector):
    type: Literal["resync"]


ClientMessage = Annotated[Union[AuthIn, AuthTerminalIn, SubscribeIn, UnsubscribeIn, ResyncIn],
                          Field(discriminator="type")]
client_message = TypeAdapter(ClientMessage)


# --- server -> client ------------------------------------------------------------------------------------

class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthOk(_Out):
    type: Literal["auth_ok"] = "auth_ok"
    customer_id: str


class AuthError(_Out):
    type: Literal["auth_error"] = "auth_error"
    code: int
    message: str


class ErrorOut(_Out):
    type: Literal["error"] = "error"
    code: int
    message: str
    parsec_id: str | None = None


class Heartbeat(_Out):
    type: Literal["heartbeat"] = "heartbeat"
    ts_ms: int


class _Market(_Out):
    parsec_id: str
    outcome: str


class ResyncRequired(_Market):
    type: Literal["resync_required"] = "resync_required"


class SlowReader(_Market):
    type: Literal["slow_reader"] = "slow_reader"


class _Identity(_Out):
    parsec_id: str
    exchange: str
    outcome: str
    token_id: str
    market_id: str


class _BookFrame(_Identity):
    book_state: BookState
    feed_state: FeedState
    stale_after_ms: int
    exchange_ts_ms: int | None = None
    ingest_ts_ms: int | None = None


class OrderbookOut(_BookFrame):
    type: Literal["orderbook"] = "orderbook"
    kind: Literal["snapshot"] = "snapshot"
    title: str | None = None
    tick_size: float | None = None
    min_order_size: float | None = None
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    server_seq: int = Field(ge=1)


class Change(_Out):
    side: Literal["bid", "ask"]
    price: float
    size: float


class OrderbookDeltaOut(_BookFrame):
    type: Literal["orderbook_delta"] = "orderbook_delta"
    changes: list[Change]
    server_seq: int = Field(ge=2)


class ActivityOut(_Identity):
    type: Literal["activity"] = "activity"
    kind: Literal["trade", "fill"]
    price: float
    size: float
    side: Literal["buy", "sell"] | None = None
    aggressor_side: Literal["buy", "sell"] | None = None
    trade_id: str | None = None
    fill_id: str | None = None
    order_id: str | None = None
    liquidity_role: Literal["maker", "taker"] | None = None
    server_seq: int = Field(ge=1)
    feed_state: FeedState
    exchange_ts_ms: int | None = None
    ingest_ts_ms: int | None = None
    source_channel: str


ServerMessage = Annotated[Union[AuthOk, AuthError, ErrorOut, Heartbeat, ResyncRequired, SlowReader, OrderbookOut,
                                OrderbookDeltaOut, ActivityOut], Field(discriminator="type")]
server_message = TypeAdapter(ServerMessage)
