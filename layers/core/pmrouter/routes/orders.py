"""/orders, /fills, /positions, /balance: a user's trading on Polymarket and Kalshi."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Header, Query

from ..api.auth import ActingCustomer, CurrentPrincipal
from ..api.errors import MissingParameter, ValidationFailed
from ..api.selectors import adapter_for, clamp_limit, identifier
from ..contract.trading import BalanceResponse, CreateOrderRequest, FillOut, Order, Position
from ..exchanges import errors as venue
from ..trading import service

router = APIRouter(tags=["trading"])

ExchangeQ = Annotated[str | None, Query()]
CredsHeader = Annotated[str | None, Header(alias="X-Exchange-Credentials")]


def _exchange(exchange: str | None):
    if not exchange:
        raise MissingParameter("exchange is required in the query string (e.g. ?exchange=polymarket)")
    return adapter_for(exchange)


@router.post("/orders", response_model=Order)
async def create_order(
    customer_id: ActingCustomer,
    principal: CurrentPrincipal,
    body: Annotated[CreateOrderRequest, Body()],
    exchange: ExchangeQ = None,
    x_exchange_credentials: CredsHeader = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Order:
    return await service.place_order(_exchange(exchange), principal, customer_id, body,
                                     idempotency_key=idempotency_key, header_credentials=x_exchange_credentials)


@router.get("/orders", response_model=list[Order])
async def list_orders(
    customer_id: ActingCustomer,
    exchange: ExchangeQ = None,
    market_id: Annotated[str | None, Query()] = None,
    status: Annotated[Literal["open", "closed", "all"], Query()] = "open",
    start_ts: Annotated[int | None, Query()] = None,
    end_ts: Annotated[int | None, Query()] = None,
    limit: Annotated[int | None, Query()] = None,
    x_exchange_credentials: CredsHeader = None,
) -> list[Order]:
    adapter = _exchange(exchange)
    service.require_trading(adapter, "order listing")
    if status != "open" and not adapter.capabilities.fetch_order_history:
        raise service.NotSupported(f"{adapter.name} does not support order history")
    if start_ts is not None and end_ts is not None and start_ts > end_ts:
        raise ValidationFailed([f"start_ts ({start_ts}) must not be after end_ts ({end_ts})"])
    size = clamp_limit(limit, default=100, maximum=500)
    sess = service.open_session(adapter, customer_id, x_exchange_credentials, None)
    try:
        rows = await sess.session.list_orders(market_id=market_id, status=status, start=start_ts, end=end_ts,
                                              limit=size)
    except venue.VenueError as exc:
        raise service.from_venue(exc) from None
    mine = service.records_by_venue_id(customer_id, adapter.id) if rows else {}
    out = [service.order_from_venue(o, mine.get(o.id)) for o in rows]
    if status != "open" and sess.mode != "per_request":
        out = service.merge_history(out, customer_id, adapter.id, market_id=market_id,
                                    status=status, start=start_ts, end=end_ts)
    return out[:size]


@router.get("/orders/{order_id}", response_model=Order)
async def get_order(customer_id: ActingCustomer, order_id: str, exchange: ExchangeQ = None,
                    x_exchange_credentials: CredsHeader = None) -> Order:
    order_id = identifier(order_id, "order_id")
    return await service.get_order(_exchange(exchange), customer_id, order_id, x_exchange_credentials)


@router.delete("/orders/{order_id}", response_model=Order)
async def cancel_order(customer_id: ActingCustomer, order_id: str, exchange: ExchangeQ = None,
                       x_exchange_credentials: CredsHeader = None) -> Order:
    order_id = identifier(order_id, "order_id")
    return await service.cancel_order(_exchange(exchange), customer_id, order_id, x_exchange_credentials)


@router.get("/fills", response_model=list[FillOut])
async def list_fills(customer_id: ActingCustomer, exchange: ExchangeQ = None,
                     market_id: Annotated[str | None, Query()] = None,
                     limit: Annotated[int | None, Query()] = None,
                     x_exchange_credentials: CredsHeader = None) -> list[FillOut]:
    adapter = _exchange(exchange)
    service.require_trading(adapter, "fills", "fetch_fills")
    size = clamp_limit(limit, default=100, maximum=500)
    sess = service.open_session(adapter, customer_id, x_exchange_credentials, None)
    try:
        rows = await sess.session.fills(market_id=market_id, limit=size)
    except venue.VenueError as exc:
        raise service.from_venue(exc) from None
    return [FillOut(**f.__dict__) for f in rows[:size]]


@router.get("/positions", response_model=list[Position])
async def list_positions(customer_id: ActingCustomer, exchange: ExchangeQ = None,
                         market_id: Annotated[str | None, Query()] = None,
                         x_exchange_credentials: CredsHeader = None) -> list[Position]:
    adapter = _exchange(exchange)
    service.require_trading(adapter, "positions", "fetch_positions")
    sess = service.open_session(adapter, customer_id, x_exchange_credentials, None)
    try:
        rows = await sess.session.positions(market_id=market_id)
    except venue.VenueError as exc:
        raise service.from_venue(exc) from None
    return [Position(**p.__dict__) for p in rows]


@router.get("/balance", response_model=BalanceResponse)
async def balance(customer_id: ActingCustomer, exchange: ExchangeQ = None,
                  refresh: Annotated[bool, Query()] = False,
                  x_exchange_credentials: CredsHeader = None) -> BalanceResponse:
    adapter = _exchange(exchange)
    service.require_trading(adapter, "balances", "fetch_balance")
    sess = service.open_session(adapter, customer_id, x_exchange_credentials, None)
    try:
        raw = await sess.session.balance(refresh=refresh and adapter.capabilities.refresh_balance)
    except venue.VenueError as exc:
        raise service.from_venue(exc) from None
    return BalanceResponse(raw=raw)
