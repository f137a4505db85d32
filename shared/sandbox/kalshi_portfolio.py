"""Sandbox Kalshi trading: RSA-PSS authenticated portfolio endpoints over a matching engine.

Auth as the venue checks it: `KALSHI-ACCESS-KEY` must be a registered key id, the timestamp (ms)
within 30 s of the server clock, and the RSA-PSS (SHA-256, MGF1, 32-byte salt) signature valid for
`timestamp + METHOD + <request path without query>` under the key's public key.

One book per ticker in YES terms (bid = buy YES, ask = sell YES = buy NO), seeded from the sandbox
world's book with a market maker of unlimited funds. Collateral: a bid at p locks p per contract, an
ask locks 1 − p (it buys NO). Positions are net YES contracts (negative = NO). Taker fee: round up to
the cent of 0.07 × C × P × (1 − P). Sandbox faucet: a registered key's user starts with $10,000.
"""
from __future__ import annotations

import base64
import math
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from .matching import MatchingEngine, Order, Rejected

FAUCET_CENTS = 1_000_000
MM = "market-maker"
SKEW_MS = 30_000
TIF = {"good_till_canceled": "GTC", "immediate_or_cancel": "IOC", "fill_or_kill": "FOK"}
ONE = Decimal(1)


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": ""}}, status_code=status)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        self.status, self.code, self.message = status, code, message


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def d4(x: Decimal) -> str:
    return f"{x:.4f}"


def fp(x: Decimal) -> str:
    return f"{x:.2f}"


@dataclass
class User:
    id: str
    cash_cents: int = FAUCET_CENTS
    locked_cents: int = 0
    positions: dict[str, Decimal] = field(default_factory=dict)
    exposure: dict[str, Decimal] = field(default_factory=dict)  # dollars paid for the open position
    fees_cents: int = 0


class Portfolio:
    """Users, keys and the engine. Thread-safe through the engine lock."""

    def __init__(self, world) -> None:
        self.world = world
        self.engine = MatchingEngine()
        self.keys: dict[str, tuple[Any, str]] = {}
        self.users: dict[str, User] = {}
        self.fills: list[dict[str, Any]] = []
        self._seeded: set[str] = set()
        self.lock = self.engine.lock

    def register_key(self, key_id: str, public_pem: str, user_id: str | None = None) -> str:
        public = serialization.load_pem_public_key(public_pem.encode())
        user_id = user_id or str(uuid.uuid4())
        with self.lock:
            self.keys[key_id] = (public, user_id)
            self.users.setdefault(user_id, User(user_id))
        return user_id

    def sweep(self) -> None:
        """Expire good-till-time orders and give their owners the locked collateral back."""
        with self.lock:
            for o in self.engine.expire():
                u = self.users.get(o.owner)
                if u is not None:
                    u.locked_cents -= math.ceil(self.unit_cost(o.side, o.price) * o.remaining * 100)

    def seed(self, ticker: str) -> None:
        if ticker in self._seeded:
            return
        yes, no = self.world.levels(ticker)
        bids = [(Decimal(p), Decimal(q)) for p, q in reversed(yes)]
        asks = [(ONE - Decimal(p), Decimal(q)) for p, q in reversed(no)]
        self.engine.seed(ticker, MM, bids, asks, id_prefix="mm")
        self._seeded.add(ticker)

    def depth(self, ticker: str) -> tuple[list[list[str]], list[list[str]]] | None:
        """The live book in the venue's representation (yes bids, no bids; ascending)."""
        if ticker not in self._seeded:
            return None
        with self.lock:
            book = self.engine.book(ticker)
            yes = [[d4(p), fp(q)] for p, q in sorted(book.depth("buy"))]
            no = [[d4(ONE - p), fp(q)] for p, q in sorted(book.depth("sell"), reverse=True)]
        return yes, no

    # --- money --------------------------------------------------------------------------------------

    @staticmethod
    def unit_cost(side: str, price: Decimal) -> Decimal:
        return price if side == "buy" else ONE - price

    def apply_fill(self, owner: str, ticker: str, side: str, price: Decimal, qty: Decimal, *, taker: bool,
                   limit_price: Decimal) -> int:
        if owner == MM:
            return 0
        u = self.users[owner]
        locked = math.ceil(self.unit_cost(side, limit_price) * qty * 100)
        spent = math.ceil(self.unit_cost(side, price) * qty * 100)
        fee = math.ceil(round(float(Decimal("0.07") * qty * price * (ONE - price) * 100), 6)) if taker else 0
        u.locked_cents -= locked
        u.cash_cents -= spent + fee
        u.fees_cents += fee
        signed = qty if side == "buy" else -qty
        u.positions[ticker] = u.positions.get(ticker, Decimal(0)) + signed
        u.exposure[ticker] = u.exposure.get(ticker, Decimal(0)) + self.unit_cost(side, price) * qty
        return fee


def portfolio_router(portfolio: Portfolio, prefix: str) -> APIRouter:
    r = APIRouter()

    def authed(request: Request) -> User:
        key_id = request.headers.get("KALSHI-ACCESS-KEY")
        stamp = request.headers.get("KALSHI-ACCESS-TIMESTAMP", "")
        signature = request.headers.get("KALSHI-ACCESS-SIGNATURE", "")
        if not key_id or not stamp or not signature:
            raise ApiError(401, "authentication_error", "missing authentication headers")
        known = portfolio.keys.get(key_id)
        if known is None:
            raise ApiError(401, "authentication_error", "unknown API key")
        if not stamp.isdigit() or abs(int(stamp) - time.time() * 1000) > SKEW_MS:
            raise ApiError(401, "authentication_error", "timestamp outside the allowed window")
        msg = f"{stamp}{request.method.upper()}{request.url.path}".encode()
        try:
            known[0].verify(base64.b64decode(signature), msg,
                            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
                            hashes.SHA256())
        except (InvalidSignature, ValueError):
            raise ApiError(401, "authentication_error", "invalid signature") from None
        portfolio.sweep()
        return portfolio.users[known[1]]

    def order_json(o: Order) -> dict[str, Any]:
        bid = o.side == "buy"
        status = {"open": "resting", "filled": "executed", "cancelled": "canceled", "expired": "canceled",
                  "rejected": "canceled"}[o.status]
        return {
            "order_id": o.id, "user_id": o.owner, "client_order_id": o.client_id or "", "ticker": o.instrument,
            "outcome_side": "yes" if bid else "no", "book_side": "bid" if bid else "ask", "type": "limit",
            "status": status, "yes_price_dollars": d4(o.price), "no_price_dollars": d4(ONE - o.price),
            "fill_count_fp": fp(o.filled), "remaining_count_fp": fp(o.remaining if o.status == "open" else Decimal(0)),
            "initial_count_fp": fp(o.size), "taker_fill_cost_dollars": "0.0000", "maker_fill_cost_dollars": "0.0000",
            "taker_fees_dollars": "0.0000", "maker_fees_dollars": "0.0000", "created_time": iso(o.created_at),
            "last_update_time": iso(o.updated_at), "self_trade_prevention_type": o.stp and "taker_at_cross",
            "expiration_time": iso(o.expires_at) if o.expires_at else None,
            # legacy fields the official SDK models require
            "side": "yes" if bid else "no", "action": "buy" if bid else "sell",
            "yes_price": int(o.price * 100), "no_price": int((ONE - o.price) * 100),
            "fill_count": int(o.filled), "remaining_count": int(o.remaining), "initial_count": int(o.size),
        }

    @r.post(prefix + "/portfolio/events/orders", status_code=201)
    async def create_order(request: Request, user: User = Depends(authed)):
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "invalid_parameters", "body must be JSON") from None
        for f in ("ticker", "side", "count", "price", "time_in_force", "self_trade_prevention_type"):
            if f not in body:
                raise ApiError(400, "invalid_parameters", f"{f} is required")
        ticker = body["ticker"]
        if ticker not in portfolio.world.markets:
            raise ApiError(404, "not_found", "market not found")
        if portfolio.world.markets[ticker]["status"] != "active":
            raise ApiError(400, "market_closed", "market is not open for trading")
        if body["side"] not in ("bid", "ask"):
            raise ApiError(400, "invalid_parameters", "side must be bid or ask")
        if body["time_in_force"] not in TIF:
            raise ApiError(400, "invalid_parameters", "invalid time_in_force")
        try:
            price, count = Decimal(str(body["price"])), Decimal(str(body["count"]))
        except Exception:
            raise ApiError(400, "invalid_parameters", "price and count must be fixed-point strings") from None
        if price.as_tuple().exponent < -4 or not Decimal("0.01") <= price <= Decimal("0.99") or price % Decimal("0.01"):
            raise ApiError(400, "invalid_price", "price must be on the market's price grid (0.01 to 0.99 by 0.01)")
        if count <= 0 or count % 1:
            raise ApiError(400, "invalid_count", "count must be a positive whole number of contracts")
        side = "buy" if body["side"] == "bid" else "sell"
        with portfolio.lock:
            portfolio.seed(ticker)
            need = math.ceil(portfolio.unit_cost(side, price) * count * 100)
            if user.cash_cents - user.locked_cents < need:
                raise ApiError(400, "insufficient_balance", "Insufficient balance for this order")
            expires = body.get("expiration_time")
            if expires is not None:
                if body["time_in_force"] == "immediate_or_cancel":
                    raise ApiError(400, "invalid_parameters", "Cannot specify both immediate_or_cancel and expiration_ts")
                if not isinstance(expires, int) or expires <= time.time():
                    raise ApiError(400, "invalid_parameters", "Expiration timestamp must be in the future")
            order = Order(str(uuid.uuid4()), user.id, ticker, side, price, count,
                          tif="GTD" if expires is not None else TIF[body["time_in_force"]],
                          expires_at=float(expires) if expires is not None else None,
                          stp="cancel_taker" if body["self_trade_prevention_type"] == "taker_at_cross" else None,
                          client_id=body.get("client_order_id"))
            user.locked_cents += need
            try:
                fills = portfolio.engine.submit(order)
            except Rejected:
                order.status = "cancelled"
                portfolio.engine.orders[order.id] = order
                fills = []
            fee_total = 0
            for f in fills:
                fee = portfolio.apply_fill(user.id, ticker, side, f.price, f.size, taker=True, limit_price=price)
                fee_total += fee
                maker = portfolio.engine.orders[f.maker_order]
                portfolio.apply_fill(maker.owner, ticker, maker.side, f.price, f.size, taker=False, limit_price=maker.price)
                for owner, oid, s, is_taker in ((user.id, order.id, side, True), (maker.owner, maker.id, maker.side, False)):
                    if owner != MM:
                        portfolio.fills.append({"fill_id": f"{f.id}-{'t' if is_taker else 'm'}", "trade_id": f.id,
                                                "order_id": oid, "ticker": ticker, "market_ticker": ticker,
                                                "outcome_side": "yes" if s == "buy" else "no",
                                                "book_side": "bid" if s == "buy" else "ask", "count_fp": fp(f.size),
                                                "yes_price_dollars": d4(f.price), "no_price_dollars": d4(ONE - f.price),
                                                "is_taker": is_taker, "created_time": iso(f.ts), "_owner": owner,
                                                "fee_cost": f"{(fee if is_taker else 0) / 100:.4f}"})
            if order.status != "open":  # whatever did not rest is no longer locked
                user.locked_cents -= math.ceil(portfolio.unit_cost(side, price) * order.remaining * 100) \
                    if order.remaining > 0 else 0
        return {"order_id": order.id, "client_order_id": order.client_id or "", "fill_count": fp(order.filled),
                "remaining_count": fp(order.remaining if order.status == "open" else Decimal(0)),
                "average_fill_price": d4(sum((f.price * f.size for f in fills), Decimal(0)) / order.filled)
                if order.filled else None, "average_fee_paid": f"{fee_total / 100:.4f}",
                "ts_ms": int(time.time() * 1000)}

    @r.delete(prefix + "/portfolio/events/orders/{order_id}")
    def cancel(order_id: str, user: User = Depends(authed)):
        with portfolio.lock:
            try:
                order = portfolio.engine.orders[order_id]
            except KeyError:
                raise ApiError(404, "not_found", "order not found") from None
            if order.owner != user.id:
                raise ApiError(404, "not_found", "order not found")
            if order.status != "open":
                raise ApiError(400, "order_not_cancellable", "order is not resting")
            reduced = order.remaining
            portfolio.engine.cancel(order_id, user.id)
            user.locked_cents -= math.ceil(portfolio.unit_cost(order.side, order.price) * reduced * 100)
        return {"order_id": order_id, "client_order_id": order.client_id or "", "reduced_by": fp(reduced),
                "ts_ms": int(time.time() * 1000)}

    @r.get(prefix + "/portfolio/orders")
    def orders(request: Request, user: User = Depends(authed)):
        q = request.query_params
        status = set((q.get("status") or "").split(",")) - {""}
        rows = [order_json(o) for o in portfolio.engine.orders.values() if o.owner == user.id]
        rows = [o for o in rows if (not q.get("ticker") or o["ticker"] == q["ticker"])
                and (not status or o["status"] in status)]
        rows.sort(key=lambda o: o["created_time"], reverse=True)
        return {"orders": rows[: int(q.get("limit") or 100)], "cursor": ""}

    @r.get(prefix + "/portfolio/orders/{order_id}")
    def order(order_id: str, user: User = Depends(authed)):
        o = portfolio.engine.orders.get(order_id)
        if o is None or o.owner != user.id:
            raise ApiError(404, "not_found", "order not found")
        return {"order": order_json(o)}

    @r.get(prefix + "/portfolio/fills")
    def fills(request: Request, user: User = Depends(authed)):
        q = request.query_params
        rows = [{k: v for k, v in f.items() if k != "_owner"} for f in reversed(portfolio.fills)
                if f["_owner"] == user.id and (not q.get("ticker") or f["ticker"] == q["ticker"])]
        return {"fills": rows[: int(q.get("limit") or 100)], "cursor": ""}

    @r.get(prefix + "/portfolio/positions")
    def positions(request: Request, user: User = Depends(authed)):
        q = request.query_params
        rows = [{"ticker": t, "position_fp": fp(p), "market_exposure_dollars": d4(user.exposure.get(t, Decimal(0))),
                 "total_traded_dollars": d4(user.exposure.get(t, Decimal(0))), "realized_pnl_dollars": "0.0000",
                 "fees_paid_dollars": d4(Decimal(user.fees_cents) / 100), "last_updated_ts": iso(time.time())}
                for t, p in user.positions.items() if p != 0 and (not q.get("ticker") or t == q["ticker"])]
        return {"market_positions": rows, "event_positions": [], "cursor": ""}

    @r.get(prefix + "/portfolio/balance")
    def balance(user: User = Depends(authed)):
        available = user.cash_cents - user.locked_cents
        return {"balance": available, "balance_dollars": f"{available / 100:.2f}",
                "portfolio_value": user.cash_cents, "updated_ts": int(time.time())}

    return r


def install(app, world, prefix: str) -> Portfolio:
    portfolio = Portfolio(world)
    world.portfolio = portfolio
    world.register_key = portfolio.register_key  # the local stack and tests register sandbox keys here
    app.include_router(portfolio_router(portfolio, prefix))

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error(exc.status, exc.code, exc.message)

    return portfolio

