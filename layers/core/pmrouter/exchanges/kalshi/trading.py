"""Kalshi trading session (V2 event-order endpoints, fixed-point strings, RSA-PSS signed).

Kalshi orders live in YES terms: `side: bid` buys YES at `price`, `side: ask` sells YES at `price`
(economically, buys NO at 1 − price). The contract's (outcome, side, price) maps as:
    buy  Yes @ p -> bid @ p          sell Yes @ p -> ask @ p
    buy  No  @ p -> ask @ 1 − p      sell No  @ p -> bid @ 1 − p
Orders read back from the venue are reported in YES terms (bid = buy Yes, ask = sell Yes); orders
placed through pmrouter are reported in the terms the caller used (the order record keeps them).
"""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from ..base import (
    Credentials, OrderIntent, PreparedOrder, TradingSession, VenueFill, VenueMarket, VenueOrder, VenuePosition,
)
from ..errors import InsufficientFunds, MarketNotFound, VenueBadRequest
from . import auth
from ..parsing import to_datetime_or_now
from .schemas import dollars, ts

if TYPE_CHECKING:
    from .adapter import KalshiAdapter

TIF = {"gtc": "good_till_canceled", "gtd": "good_till_canceled", "ioc": "immediate_or_cancel",
       "fok": "fill_or_kill"}
STATUS_QUERY = {"open": "resting", "closed": "canceled,executed", "all": None}


def _d4(x: float | Decimal) -> str:
    return str(Decimal(str(x)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))


def _fp(x: float | Decimal) -> str:
    return str(Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def to_book(outcome_index: int, side: str, price: Decimal | float) -> tuple[str, Decimal]:
    """(Kalshi side, YES price) for a contract order (the intent's Decimal passes through unchanged)."""
    p = Decimal(str(price))
    if outcome_index == 0:
        return ("bid" if side == "buy" else "ask"), p
    return ("ask" if side == "buy" else "bid"), Decimal(1) - p


def order_status(raw: dict[str, Any]) -> str:
    status = (raw.get("status") or "").lower()
    filled = dollars(raw.get("fill_count_fp")) or 0.0
    if status == "executed":
        return "filled"
    if status in ("canceled", "cancelled"):
        return "cancelled"
    if status == "resting":
        return "partially_filled" if filled > 0 else "open"
    return "pending"


def parse_order(raw: dict[str, Any]) -> VenueOrder:
    book_side = (raw.get("book_side") or ("bid" if raw.get("side") == "yes" else "ask")).lower()
    filled = dollars(raw.get("fill_count_fp")) or 0.0
    initial = dollars(raw.get("initial_count_fp"))
    if initial is None:
        initial = filled + (dollars(raw.get("remaining_count_fp")) or 0.0)
    return VenueOrder(
        id=str(raw["order_id"]),
        market_id=str(raw.get("ticker") or raw.get("market_ticker") or ""),
        outcome="Yes",
        side="buy" if book_side == "bid" else "sell",
        price=dollars(raw.get("yes_price_dollars")) or 0.0,
        size=initial,
        filled=filled,
        status=order_status(raw),  # type: ignore[arg-type]
        created_at=to_datetime_or_now(raw.get("created_time")),
        updated_at=ts(raw.get("last_update_time")),
        client_order_id=raw.get("client_order_id"),
    )


class KalshiSession(TradingSession):
    def __init__(self, adapter: "KalshiAdapter", credentials: Credentials):
        if not credentials.api_key_id:
            raise ValueError("api_key_id is required for Kalshi")
        if not credentials.private_key:
            raise ValueError("private_key (the RSA PEM) is required for Kalshi")
        self.adapter = adapter
        self.credentials = credentials
        self._key_id = credentials.api_key_id
        self._key = auth.load_private_key(credentials.private_key)
        self._root = urlsplit(adapter.http.base_url).path.rstrip("/")

    def __repr__(self) -> str:
        return "KalshiSession(***)"

    async def _call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                    body: Any = None) -> Any:
        headers = auth.headers(self._key_id, self._key, method, self._root + path)
        return await self.adapter.http.request(method, path, params=params, json_body=body, headers=headers)

    # --- orders -------------------------------------------------------------------------------------

    async def prepare_order(self, intent: OrderIntent) -> PreparedOrder:
        side, yes_price = to_book(intent.market.outcomes.index(intent.outcome), intent.side, intent.price)
        payload = {
            "ticker": intent.market.exchange_market_id,
            "side": side,
            "count": _fp(intent.size),
            "price": _d4(yes_price),
            "time_in_force": TIF[intent.order_type],
            "self_trade_prevention_type": "taker_at_cross",
            "client_order_id": intent.client_order_id,
        }
        if intent.order_type == "gtd" and intent.expiration:
            payload["expiration_time"] = int(intent.expiration)  # good till this time (Unix seconds)
        return PreparedOrder(intent, payload, None)

    async def submit_order(self, prepared: PreparedOrder) -> VenueOrder:
        intent = prepared.intent
        try:
            res = await self._call("POST", "/portfolio/events/orders", body=prepared.payload)
        except VenueBadRequest as exc:
            if "insufficient" in exc.message.lower():
                raise InsufficientFunds(exc.exchange, exc.message, status=exc.status) from None
            raise
        filled = dollars(res.get("fill_count")) or 0.0
        remaining = dollars(res.get("remaining_count")) or 0.0
        if remaining <= 0 and filled >= float(intent.size) - 1e-9:
            status = "filled"
        elif intent.order_type in ("ioc", "fok") or remaining <= 0:
            status = "cancelled"
        else:
            status = "partially_filled" if filled > 0 else "open"
        now = to_datetime_or_now(res.get("ts_ms"))  # Unix milliseconds
        return VenueOrder(str(res["order_id"]), intent.market.exchange_market_id, intent.outcome.name, intent.side,
                          float(intent.price), float(intent.size), filled, status, now, now,  # type: ignore[arg-type]
                          res.get("client_order_id") or intent.client_order_id)

    async def cancel_order(self, order_id: str) -> VenueOrder:
        await self._call("DELETE", f"/portfolio/events/orders/{quote(order_id, safe='')}")
        return await self.get_order(order_id)

    async def get_order(self, order_id: str) -> VenueOrder:
        res = await self._call("GET", f"/portfolio/orders/{quote(order_id, safe='')}")
        return parse_order(res["order"])

    async def list_orders(self, *, market_id: str | None, status: Literal["open", "closed", "all"],
                          start: int | None, end: int | None, limit: int) -> list[VenueOrder]:
        out: list[VenueOrder] = []
        cursor = None
        while len(out) < limit:
            res = await self._call("GET", "/portfolio/orders", params={
                "ticker": market_id, "status": STATUS_QUERY[status], "min_ts": start, "max_ts": end,
                "limit": min(1000, limit), "cursor": cursor})
            out.extend(parse_order(o) for o in res.get("orders") or [])
            cursor = res.get("cursor") or None
            if not cursor:
                break
        return out[:limit]

    async def find_order(self, client_order_id: str, market: VenueMarket | None) -> VenueOrder | None:
        rows = await self.list_orders(market_id=market.exchange_market_id if market else None, status="all",
                                      start=None, end=None, limit=1000)
        return next((o for o in rows if o.client_order_id == client_order_id), None)

    # --- account ------------------------------------------------------------------------------------

    async def fills(self, *, market_id: str | None, limit: int | None) -> list[VenueFill]:
        res = await self._call("GET", "/portfolio/fills", params={"ticker": market_id, "limit": min(limit or 100, 1000)})
        out = []
        for f in res.get("fills") or []:
            bid = (f.get("book_side") or "").lower() == "bid"
            out.append(VenueFill(
                fill_id=str(f.get("fill_id") or f.get("trade_id")), order_id=str(f.get("order_id")),
                market_id=str(f.get("ticker") or f.get("market_ticker")), outcome="Yes",
                side="buy" if bid else "sell", price=dollars(f.get("yes_price_dollars")) or 0.0,
                size=dollars(f.get("count_fp")) or 0.0, fee=dollars(f.get("fee_cost")) or 0.0,
                is_taker=bool(f.get("is_taker")), created_at=to_datetime_or_now(f.get("created_time"))))
        return out

    async def positions(self, *, market_id: str | None) -> list[VenuePosition]:
        res = await self._call("GET", "/portfolio/positions", params={"ticker": market_id, "limit": 1000})
        out = []
        for p in res.get("market_positions") or []:
            qty = dollars(p.get("position_fp")) or 0.0
            if qty == 0:
                continue
            ticker = str(p["ticker"])
            exposure = abs(dollars(p.get("market_exposure_dollars")) or 0.0)
            try:
                market = await self.adapter.get_market(ticker)
                yes_now = market.outcomes[0].price
            except MarketNotFound:
                yes_now = None
            yes = qty > 0
            current = yes_now if yes else (1 - yes_now if yes_now is not None else None)
            out.append(VenuePosition(market_id=ticker, outcome="Yes" if yes else "No", size=abs(qty),
                                     average_price=round(exposure / abs(qty), 6), current_price=current or 0.0))
        return out

    async def balance(self, *, refresh: bool = False) -> dict[str, Any]:
        return await self._call("GET", "/portfolio/balance")

    async def complete_credentials(self) -> Credentials:
        return self.credentials
