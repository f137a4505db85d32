"""Predict.fun trading session (api.predict.fun/v1; orders signed as predict-sdk 0.0.22 signs them).

Contract order types map to the venue's strategies: gtc -> LIMIT (expiring 2100-01-01, the SDK's
default), gtd -> LIMIT with the caller's expiration, fok -> MARKET with isFillOrKill, ioc -> MARKET
(fills what the book has within the limit, the rest is dropped). MARKET orders expire five minutes
after signing and are priced from the live book, only at levels within the caller's limit.

Credentials: `private_key` (the EOA that signs orders and the login message; maker = signer,
signature type 0) and optionally `clob_api_key`, the account's own `x-api-key`; without it
pmrouter's platform key is used. The login JWT is fetched on demand and cached per wallet.

Order ids are the orders' EIP-712 hashes: known before sending, so a lost response is found again
with `GET /v1/orders/{hash}`. Cancelling removes the order from the off-chain book
(`POST /v1/orders/remove`, by the venue's numeric id).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from ..base import (
    Credentials, OrderIntent, PreparedOrder, TradingSession, VenueFill, VenueMarket, VenueOrder, VenuePosition,
    accepted_unread, immediate_final, levels_within,
)
from ..ctf_orders import BUY, SELL, account_from_key
from ..errors import InsufficientFunds, MarketNotFound, VenueAuthError, VenueBadRequest, VenueError
from ..parsing import to_datetime, to_float
from . import auth, config, order_builder, schemas

if TYPE_CHECKING:
    from .adapter import PredictFunAdapter

WEI = order_builder.WEI
STATUS = {"OPEN": "open", "FILLED": "filled", "CANCELLED": "cancelled", "EXPIRED": "cancelled",
          "INVALIDATED": "cancelled"}


def _wei(value: Any) -> float:
    return (to_float(value) or 0.0) / WEI


class PredictFunSession(TradingSession):
    def __init__(self, adapter: "PredictFunAdapter", credentials: Credentials):
        self._account = account_from_key(credentials.private_key, config.NAME)
        credentials.require_only(config.NAME, ("private_key", "clob_api_key"))
        self.adapter = adapter
        self.credentials = credentials
        self._api_key = credentials.clob_api_key or adapter.md.headers.get("x-api-key")

    def __repr__(self) -> str:
        return "PredictFunSession(***)"

    @property
    def address(self) -> str | None:
        return self._account.address

    # --- auth -------------------------------------------------------------------------------------

    async def _jwt(self, fresh: bool = False) -> str:
        key = self._account.address.lower()
        token = None if fresh else self.adapter.jwts.get(key)
        if token is None:
            http = self.adapter.http
            res = await http.request("GET", "/v1/auth/message", headers=auth.headers(self._api_key))
            message = schemas.unwrap(res)[0]
            res = await http.request("POST", "/v1/auth", json_body=auth.sign_login(self._account, message["message"]),
                                     headers=auth.headers(self._api_key))
            token = str(schemas.unwrap(res)[0]["token"])
            self.adapter.jwts.put(key, token)
        return token

    async def _call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                    body: str | None = None) -> Any:
        for attempt in (0, 1):
            headers = auth.headers(self._api_key, await self._jwt(fresh=attempt == 1))
            try:
                res = await self.adapter.http.request(method, path, params=params, headers=headers,
                                                      content=body.encode() if body else None)
            except VenueAuthError:
                if attempt:
                    raise
                continue  # an expired JWT: log in again once
            return res
        raise AssertionError("unreachable")

    async def complete_credentials(self) -> Credentials:
        await self._jwt(fresh=True)  # proves the key and the wallet log in
        return self.credentials

    # --- orders -------------------------------------------------------------------------------------

    async def prepare_order(self, intent: OrderIntent) -> PreparedOrder:
        market, outcome = intent.market, intent.outcome
        if not outcome.token_id:
            raise MarketNotFound(self.adapter.id, f"{market.parsec_id} has no token for {outcome.name}")
        side = BUY if intent.side == "buy" else SELL
        strategy = "MARKET" if intent.order_type in ("fok", "ioc") else "LIMIT"
        try:
            if strategy == "LIMIT":
                amounts = order_builder.limit_amounts(side, intent.price, intent.size)
            else:
                book = await self.adapter.get_orderbook(market, outcome, 100)
                within = levels_within(book.asks if side == BUY else book.bids, intent.side, intent.price)
                amounts = order_builder.market_amounts(side, intent.size, within)
        except ValueError as exc:
            raise VenueBadRequest(self.adapter.id, str(exc)) from None
        signed = order_builder.sign_order(
            self._account, token_id=outcome.token_id, side=side, amounts=amounts,
            fee_rate_bps=int(market.extra.get("fee_rate_bps", config.DEFAULT_FEE_BPS)),
            salt=order_builder.salt_for(intent.client_order_id),
            expiration=order_builder.expiration_for(strategy, intent.expiration if intent.order_type == "gtd"
                                                    else None),
            neg_risk=bool(market.extra.get("is_neg_risk")), yield_bearing=bool(market.extra.get("is_yield_bearing")))
        body = signed.body(amounts.price_per_share, strategy,
                           (intent.order_type == "fok") if strategy == "MARKET" else None)
        return PreparedOrder(intent, body, signed.order_hash)

    async def submit_order(self, prepared: PreparedOrder) -> VenueOrder:
        intent = prepared.intent
        try:
            await self._call("POST", "/v1/orders", body=prepared.payload)
        except VenueBadRequest as exc:
            text = exc.message.lower()
            if "balance" in text or "allowance" in text or "insufficient" in text:
                raise InsufficientFunds(self.adapter.id, exc.message, status=exc.status) from None
            raise
        try:  # the answer carries no state: read it back
            order = await self.get_order(prepared.order_id or "")
        except VenueError:
            return accepted_unread(intent, prepared.order_id or "")
        order.client_order_id = intent.client_order_id
        return immediate_final(order, intent)

    async def _parse(self, row: dict[str, Any]) -> VenueOrder:
        signed = row.get("order") or {}
        size, filled = _wei(row.get("amount")), _wei(row.get("amountFilled"))
        market_id = str(row.get("marketId") or "")
        outcome = ""
        try:
            market = await self.adapter.get_market(market_id)
            outcome = next((o.name for o in market.outcomes if o.token_id == str(signed.get("tokenId"))), "")
        except MarketNotFound:
            pass
        maker, taker = to_float(signed.get("makerAmount")) or 0.0, to_float(signed.get("takerAmount")) or 0.0
        side = "buy" if int(signed.get("side", 0)) == BUY else "sell"
        shares, cash = (taker, maker) if side == "buy" else (maker, taker)
        status = STATUS.get(str(row.get("status") or "").upper(), "pending")
        if status == "open" and filled > 0:
            status = "partially_filled"
        if size and filled >= size - 1e-12:
            status = "filled"
        return VenueOrder(str(signed.get("hash") or row.get("id")), market_id, outcome, side,  # type: ignore[arg-type]
                          round(cash / shares, 6) if shares else 0.0, size, filled, status,  # type: ignore[arg-type]
                          to_datetime(row.get("createdAt")) or datetime.now(timezone.utc), None, None)

    async def _row(self, order_hash: str) -> dict[str, Any]:
        try:
            res = await self._call("GET", f"/v1/orders/{order_hash}")
        except VenueBadRequest as exc:
            if exc.status == 404:
                raise MarketNotFound(self.adapter.id, f"order {order_hash} not found") from None
            raise
        data = schemas.unwrap(res)[0] or {}
        row = data.get("order") if isinstance(data.get("order"), dict) and "amount" in data.get("order", {}) else data
        if not row:
            raise MarketNotFound(self.adapter.id, f"order {order_hash} not found")
        return row

    async def get_order(self, order_id: str) -> VenueOrder:
        return await self._parse(await self._row(order_id))

    async def cancel_order(self, order_id: str) -> VenueOrder:
        row = await self._row(order_id)
        await self._call("POST", "/v1/orders/remove", body='{"data":{"ids":["%s"]}}' % str(row["id"]).replace('"', ""))
        return await self.get_order(order_id)

    async def list_orders(self, *, market_id: str | None, status: Literal["open", "closed", "all"],
                          start: int | None, end: int | None, limit: int) -> list[VenueOrder]:
        out: list[VenueOrder] = []
        after = None
        venue_status = {"open": "OPEN", "closed": None, "all": None}[status]
        while len(out) < limit:
            res = await self._call("GET", "/v1/orders", params={"status": venue_status, "first": config.PAGE_SIZE,
                                                                 "after": after, "marketId": market_id})
            rows, after = schemas.unwrap(res)
            for row in rows or []:
                o = await self._parse(row)
                if status == "closed" and o.status in ("open", "partially_filled"):
                    continue
                ts = o.created_at.timestamp()
                if (start is None or ts >= start) and (end is None or ts <= end):
                    out.append(o)
            if not rows or not after:
                break
        return out[:limit]

    async def find_order(self, client_order_id: str, market: VenueMarket | None) -> VenueOrder | None:
        # The record carries the order hash (known before sending); this is only reached without one.
        return None

    # --- account ------------------------------------------------------------------------------------

    async def fills(self, *, market_id: str | None, limit: int | None) -> list[VenueFill]:
        me = self._account.address.lower()
        res = await self._call("GET", "/v1/orders/matches", params={"signerAddress": self._account.address,
                                                                     "marketId": market_id, "first": config.PAGE_SIZE})
        out = []
        for event in schemas.unwrap(res)[0] or []:
            market = event.get("market") or {}
            for role, leg in [("taker", event.get("taker") or {})] + [("maker", m) for m in event.get("makers") or []]:
                if str(leg.get("signer", "")).lower() != me:
                    continue
                out.append(VenueFill(
                    fill_id=f"{event.get('transactionHash')}:{leg.get('orderHash')}",
                    order_id=str(leg.get("orderHash") or ""),
                    market_id=str(market.get("id") or ""), outcome=str((leg.get("outcome") or {}).get("name") or ""),
                    side="buy" if leg.get("quoteType") == "Bid" else "sell", price=_wei(leg.get("price")),
                    size=_wei(leg.get("amount")), fee=0.0, is_taker=role == "taker",
                    created_at=to_datetime(event.get("executedAt")) or datetime.now(timezone.utc)))
        return out[: limit or None]

    async def positions(self, *, market_id: str | None) -> list[VenuePosition]:
        res = await self._call("GET", "/v1/positions", params={"first": config.PAGE_SIZE})
        out = []
        for row in schemas.unwrap(res)[0] or []:
            mid = str((row.get("market") or {}).get("id") or "")
            size = _wei(row.get("amount"))
            if size <= 0 or (market_id and mid != market_id):
                continue
            value = to_float(row.get("valueUsd")) or 0.0
            out.append(VenuePosition(mid, str((row.get("outcome") or {}).get("name") or ""), size,
                                     to_float(row.get("averageBuyPriceUsd")) or 0.0, round(value / size, 6)))
        return out

    async def balance(self, *, refresh: bool = False) -> dict[str, Any]:
        """USDT sits in the wallet on BNB Chain (no REST balance); the raw answer is the connected
        account (`GET /v1/account`)."""
        return schemas.unwrap(await self._call("GET", "/v1/account"))[0] or {}

