"""Limitless trading session (api.limitless.exchange, limitless-sdk 1.3.0).

Contract order types map to the venue's: gtc -> GTC (post_only allowed), ioc -> FAK (price and
size; the remainder is killed), fok -> FOK, the venue's market order, which takes no limit price
(takerAmount 1): pmrouter sends it only when the book within the caller's limit fills `size`, a BUY
spending what those levels cost, a SELL selling `size` shares. GTD is not offered (501).

Credentials: `private_key` (the EOA that signs; maker = signer, signature type 0), and the API
token: `clob_api_key` (token id) with `clob_api_secret` (HMAC secret), or `clob_api_key` alone for
a legacy `lmts_...` key. The profile (`GET /profiles/{address}`) gives the owner id and the
account's fee rate.

Order ids are `<market slug>:<venue order id>`: the venue lists an account's orders per market
only, so the slug travels with the id. The salt is derived from pmrouter's order uid, so that a
lost response is found again by salt in the market's user orders.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from ..base import (
    Credentials, OrderIntent, PreparedOrder, TradingSession, VenueFill, VenueMarket, VenueOrder, VenuePosition,
    immediate_final, levels_within, take,
)
from ..ctf_orders import BUY, SELL, account_from_key
from ..errors import InsufficientFunds, MarketNotFound, VenueBadRequest, VenueError, VenueUnavailable
from ..parsing import to_datetime, to_float
from . import auth, config, order_builder

if TYPE_CHECKING:
    from .adapter import LimitlessAdapter

ORDER_TYPE = {"gtc": "GTC", "ioc": "FAK", "fok": "FOK"}
SCALE = order_builder.SCALE
OPEN_STATUSES = "LIVE"
ALL_STATUSES = "LIVE,MATCHED,CANCELLED,EXPIRED"


def split_id(order_id: str) -> tuple[str, str]:
    slug, sep, venue_id = order_id.rpartition(":")
    if not sep or not slug or not venue_id:
        raise MarketNotFound(config.EXCHANGE_ID, f"order {order_id} not found (Limitless ids are <market>:<order id>)")
    return slug, venue_id


def _status(raw_status: Any, filled: float, size: float) -> str:
    s = str(raw_status or "").upper()
    if s in ("MATCHED", "FILLED") or (size and filled >= size - 1e-9):
        return "filled"
    if s in ("CANCELLED", "CANCELED", "EXPIRED", "KILLED"):
        return "cancelled"
    if s == "LIVE":
        return "partially_filled" if filled > 0 else "open"
    return "pending"


def _units(value: Any) -> float:
    return (to_float(value) or 0.0) / SCALE


class LimitlessSession(TradingSession):
    def __init__(self, adapter: "LimitlessAdapter", credentials: Credentials):
        self._account = account_from_key(credentials.private_key, config.NAME)
        credentials.require_only(config.NAME, ("private_key", "clob_api_key", "clob_api_secret"))
        if not credentials.clob_api_key:
            raise ValueError("clob_api_key is required for Limitless (the API token id; with clob_api_secret "
                             "for HMAC tokens)")
        self.adapter = adapter
        self.credentials = credentials
        self._profile: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return "LimitlessSession(***)"

    @property
    def address(self) -> str | None:
        return self._account.address

    async def _call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                    body: str | None = None) -> Any:
        signed_path = auth.request_path(path, params)
        headers = auth.headers(self.credentials.clob_api_key or "", self.credentials.clob_api_secret, method,
                               signed_path, body or "")
        return await self.adapter.http.request(method, signed_path, content=body.encode() if body else None,
                                               headers=headers)

    async def profile(self) -> dict[str, Any]:
        """The account's owner id and fee rank, cached for a minute per token and wallet (one venue call
        fewer per order; a changed rank is refused by the venue as FEE_RATE_MISMATCH and re-read)."""
        if self._profile is None:
            key = f"{self.credentials.clob_api_key}|{self._account.address}"
            self._profile = self.adapter.profiles.get(key)
            if self._profile is None:
                self._profile = await self._call("GET", f"/profiles/{self._account.address}") or {}
                self.adapter.profiles.put(key, self._profile)
        return self._profile

    async def complete_credentials(self) -> Credentials:
        await self.profile()  # proves the token and the wallet belong together
        return self.credentials

    # --- orders -------------------------------------------------------------------------------------

    async def prepare_order(self, intent: OrderIntent) -> PreparedOrder:
        token = intent.outcome.token_id
        if not token:
            raise MarketNotFound(self.adapter.id, f"{intent.market.parsec_id} has no token for {intent.outcome.name}")
        venue = intent.market.extra.get("venue") or {}
        if not venue.get("exchange"):
            raise VenueBadRequest(self.adapter.id, f"{intent.market.parsec_id} has no CLOB venue (exchange contract)")
        profile = await self.profile()
        rank_bps = int((profile.get("rank") or {}).get("feeRateBps", config.DEFAULT_FEE_BPS))
        fee = order_builder.fee_rate_for(venue, rank_bps)
        side = BUY if intent.side == "buy" else SELL
        try:
            if intent.order_type == "fok":
                amount = await self._fok_amount(intent)
                maker, taker, price = order_builder.fok_amount(amount), 1, None
            else:
                price, maker, taker = order_builder.limit_amounts(side, intent.price, intent.size,
                                                                  intent.market.tick_size or config.TICK)
        except ValueError as exc:
            raise VenueBadRequest(self.adapter.id, str(exc)) from None
        signed = order_builder.sign_order(self._account, exchange=venue["exchange"], token_id=token, side=side,
                                          maker_amount=maker, taker_amount=taker, fee_rate_bps=fee,
                                          salt=order_builder.salt_for(intent.client_order_id), price=price)
        return PreparedOrder(intent, signed, None)

    async def _fok_amount(self, intent: OrderIntent) -> float:
        """The venue's FOK carries no price: pmrouter sends it only when the book within the caller's
        limit fills `size`, spending (BUY) what those levels cost, so the limit holds against the book
        it saw (the book may still move before the venue matches)."""
        book = await self.adapter.get_orderbook(intent.market, intent.outcome, 100)
        within = levels_within(book.asks if intent.side == "buy" else book.bids, intent.side, intent.price)
        size = float(intent.size)  # the book is in floats; the fok amount is sized against it
        shares, notional = take(within, size)
        if shares < size - 1e-9:
            raise ValueError(f"fill-or-kill: the book within {intent.price} holds {shares:g} of {size:g} shares")
        return math.floor(notional * 10**6) / 10**6 if intent.side == "buy" else size

    async def submit_order(self, prepared: PreparedOrder) -> VenueOrder:
        intent = prepared.intent
        signed: order_builder.SignedOrder = prepared.payload
        profile = await self.profile()
        body = signed.body(int(profile["id"]), ORDER_TYPE[intent.order_type], intent.market.exchange_market_id)
        try:
            res = await self._call("POST", "/orders", body=body)
        except VenueBadRequest as exc:
            raise self._refusal(exc) from None
        order = res.get("order") or {}
        if not order.get("id"):  # accepted without an id: it may be live; reconciliation finds it by salt
            raise VenueUnavailable(self.adapter.id, "limitless accepted the order without an id", ambiguous=True)
        filled = sum(_units(m.get("matchedSize")) for m in res.get("makerMatches") or [])
        if intent.order_type == "fok" and filled == 0:
            filled = _units((res.get("execution") or {}).get("totalsRaw", {}).get("contractsGross"))
        now = datetime.now(timezone.utc)
        placed = VenueOrder(f"{intent.market.exchange_market_id}:{order['id']}", intent.market.exchange_market_id,
                            intent.outcome.name, intent.side, float(intent.price), float(intent.size), filled,
                            _status(order.get("status"), filled, float(intent.size)),  # type: ignore[arg-type]
                            to_datetime(order.get("createdAt")) or now, now, intent.client_order_id)
        return immediate_final(placed, intent)

    def _refusal(self, exc: VenueError) -> VenueError:
        text = exc.message.lower()
        if "fee_rate_mismatch" in text:
            self.adapter.profiles.pop(f"{self.credentials.clob_api_key}|{self._account.address}")
        if "balance" in text or "allowance" in text or exc.status == 422:
            return InsufficientFunds(self.adapter.id, exc.message, status=exc.status)
        return exc

    def _parse(self, slug: str, market: VenueMarket | None, raw: dict[str, Any]) -> VenueOrder:
        size = _units(raw.get("originalSize") or raw.get("quantity"))
        remaining = raw.get("remainingSize")
        filled = size - _units(remaining) if remaining is not None else _units(raw.get("matchedSize"))
        side = raw.get("side")
        outcome = ""
        if market is not None:
            outcome = next((o.name for o in market.outcomes if o.token_id and o.token_id == str(raw.get("tokenId"))),
                           market.outcomes[0].name)
        return VenueOrder(f"{slug}:{raw['id']}", slug, outcome,
                          "buy" if side in (0, "0", "BUY", "buy") else "sell", to_float(raw.get("price")) or 0.0,
                          size, filled, _status(raw.get("status"), filled, size),  # type: ignore[arg-type]
                          to_datetime(raw.get("createdAt")) or datetime.now(timezone.utc),
                          to_datetime(raw.get("updatedAt")), None)

    async def _market_orders(self, slug: str, statuses: str) -> list[tuple[dict[str, Any], VenueOrder]]:
        try:
            market = await self.adapter.get_market(slug)
        except MarketNotFound:
            market = None
        res = await self._call("GET", f"/markets/{quote(slug, safe='')}/user-orders", params={"statuses": statuses})
        rows = res if isinstance(res, list) else (res or {}).get("orders") or []
        return [(r, self._parse(slug, market, r)) for r in rows]

    async def cancel_order(self, order_id: str) -> VenueOrder:
        slug, venue_id = split_id(order_id)
        try:
            await self._call("DELETE", f"/orders/{quote(venue_id, safe='')}")
        except VenueBadRequest as exc:
            if exc.status == 404:
                raise MarketNotFound(self.adapter.id, f"order {order_id} not found") from None
            raise
        return await self.get_order(order_id)

    async def get_order(self, order_id: str) -> VenueOrder:
        slug, venue_id = split_id(order_id)
        for raw, order in await self._market_orders(slug, ALL_STATUSES):
            if str(raw.get("id")) == venue_id:
                return order
        raise MarketNotFound(self.adapter.id, f"order {order_id} not found")

    async def _markets_with_activity(self) -> list[str]:
        res = await self._call("GET", "/portfolio/positions")
        return [str((row.get("market") or {}).get("slug")) for row in (res or {}).get("clob") or []
                if (row.get("market") or {}).get("slug")]

    async def list_orders(self, *, market_id: str | None, status: Literal["open", "closed", "all"],
                          start: int | None, end: int | None, limit: int) -> list[VenueOrder]:
        slugs = [market_id] if market_id else await self._markets_with_activity()
        statuses = OPEN_STATUSES if status == "open" else ALL_STATUSES
        rows: list[VenueOrder] = []
        for slug in slugs:
            for _, o in await self._market_orders(slug, statuses):
                if status == "closed" and o.status in ("open", "partially_filled"):
                    continue
                ts = o.created_at.timestamp()
                if (start is None or ts >= start) and (end is None or ts <= end):
                    rows.append(o)
        rows.sort(key=lambda o: o.created_at, reverse=True)
        return rows[:limit]

    async def find_order(self, client_order_id: str, market: VenueMarket | None) -> VenueOrder | None:
        if market is None:
            return None
        salt = order_builder.salt_for(client_order_id)
        for raw, order in await self._market_orders(market.exchange_market_id, ALL_STATUSES):
            if str(raw.get("salt")) == str(salt):
                return order
        return None

    # --- account ------------------------------------------------------------------------------------

    async def fills(self, *, market_id: str | None, limit: int | None) -> list[VenueFill]:
        res = await self._call("GET", "/portfolio/trades", params={"marketSlug": market_id})
        rows = res if isinstance(res, list) else (res or {}).get("data") or []
        out = []
        for t in rows:
            slug = str(t.get("marketSlug") or "")
            out.append(VenueFill(
                fill_id=str(t.get("id")), order_id=f"{slug}:{t.get('orderId')}", market_id=slug,
                outcome=str(t.get("outcome") or ""),
                side="buy" if t.get("side") in (0, "0", "BUY", "buy") else "sell",
                price=to_float(t.get("price")) or 0.0, size=_units(t.get("size")), fee=_units(t.get("fee")),
                is_taker=str(t.get("role") or "").lower() == "taker",
                created_at=to_datetime(t.get("createdAt")) or datetime.now(timezone.utc)))
        return out[: limit or None]

    async def positions(self, *, market_id: str | None) -> list[VenuePosition]:
        res = await self._call("GET", "/portfolio/positions")
        out = []
        for row in (res or {}).get("clob") or []:
            slug = str((row.get("market") or {}).get("slug") or "")
            if market_id and slug != market_id:
                continue
            balances = row.get("tokensBalance") or {}
            positions = row.get("positions") or {}
            latest = row.get("latestTrade") or {}
            for key, name, price_key in (("yes", "Yes", "latestYesPrice"), ("no", "No", "latestNoPrice")):
                size = _units(balances.get(key))
                if size <= 0:
                    continue
                pos = positions.get(key) or {}
                out.append(VenuePosition(slug, name, size, to_float(pos.get("fillPrice")) or 0.0,
                                         to_float(latest.get(price_key)) or 0.0))
        return out

    async def balance(self, *, refresh: bool = False) -> dict[str, Any]:
        """Limitless publishes no REST cash balance (USDC sits in the wallet on Base); the raw answer is
        the account's profile (owner id, fee rank) and the trading address."""
        profile = await self.profile() if not refresh else await self._fresh_profile()
        return {"profile": profile, "address": self._account.address}

    async def _fresh_profile(self) -> dict[str, Any]:
        self._profile = None
        self.adapter.profiles.pop(f"{self.credentials.clob_api_key}|{self._account.address}")
        return await self.profile()

