"""Opinion trading session (proxy.opinion.trade:8443/openapi, opinion-clob-sdk 0.7.0).

Contract order types map to the venue's two trading methods: gtc -> LIMIT, ioc -> MARKET, which
takes no limit price: pmrouter sizes it to the book within the caller's limit (a BUY spends what
those levels cost in the quote token, a SELL sells at most what they take). FOK and GTD do not exist
at the venue (501).

Credentials: `private_key` (the EOA that signs, signature type 2), `clob_api_key` (the account's
Open API `apikey`), and the Safe that holds the funds as `funder`; without it pmrouter reads the
apikey account's `multiSignAddress` from `GET /openapi/user/balance`.

Order ids are the venue's `orderId`. A lost placement response stays pending: the venue's order
rows carry nothing tied to the signed order (no salt, no hash), so pmrouter cannot tell it apart
from an identical order; the order shows in the account's listing when it was accepted.
"""
from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, Literal

from ..base import (
    Credentials, OrderIntent, PreparedOrder, TradingSession, VenueFill, VenueMarket, VenueOrder, VenuePosition,
    accepted_unread, immediate_final, levels_within, take,
)
from ..ctf_orders import BUY, SELL, account_from_key
from ..errors import InsufficientFunds, MarketNotFound, VenueBadRequest, VenueError, VenueUnavailable
from ..parsing import to_datetime_or_now as _ts
from ..parsing import to_float
from . import config, order_builder, schemas

if TYPE_CHECKING:
    from .adapter import OpinionAdapter

METHOD = {"gtc": order_builder.LIMIT, "ioc": order_builder.MARKET}
STATUS = {1: "open", 2: "filled", 3: "cancelled", 4: "cancelled", 5: "rejected"}
PAGE = 20


class OpinionSession(TradingSession):
    lost_orders_findable = False  # see the module docstring

    def __init__(self, adapter: "OpinionAdapter", credentials: Credentials):
        self._account = account_from_key(credentials.private_key, config.NAME)
        credentials.require_only(config.NAME, ("private_key", "clob_api_key", "funder"))
        if not credentials.clob_api_key:
            raise ValueError("clob_api_key is required for Opinion (the account's Open API apikey)")
        self.adapter = adapter
        self.credentials = credentials
        self._safe = credentials.funder

    def __repr__(self) -> str:
        return "OpinionSession(***)"

    @property
    def address(self) -> str | None:
        return self._safe or self._account.address

    async def _call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                    body: str | None = None) -> dict[str, Any]:
        res = await self.adapter.http.request(method, path, params=params, content=body.encode() if body else None,
                                              headers={"apikey": self.credentials.clob_api_key or ""})
        return schemas.unwrap(res)

    async def _safe_address(self) -> str:
        if not self._safe:
            info = await self._call("GET", "/openapi/user/balance")
            if not info.get("multiSignAddress"):
                raise VenueBadRequest(self.adapter.id, "this Opinion account has no Safe (multiSignAddress) yet")
            self._safe = str(info["multiSignAddress"])
        return self._safe

    async def complete_credentials(self) -> Credentials:
        safe = await self._safe_address()
        return Credentials(private_key=self.credentials.private_key, clob_api_key=self.credentials.clob_api_key,
                           funder=safe, signature_type=2)

    async def _quote_token(self, address: str) -> dict[str, Any]:
        key = address.lower()
        hit = self.adapter.quote_tokens.get(key)
        if hit is None:
            listed = await self._call("GET", "/openapi/quoteToken", params={"chainId": config.CHAIN_ID})
            rows, _ = schemas.page_items(listed)
            for row in rows:
                self.adapter.quote_tokens.put(str(row.get("quoteTokenAddress", "")).lower(), row)
            hit = self.adapter.quote_tokens.get(key)
        if hit is None:
            raise VenueBadRequest(self.adapter.id, f"quote token {address} is not listed by /openapi/quoteToken")
        return hit

    # --- orders -------------------------------------------------------------------------------------

    async def prepare_order(self, intent: OrderIntent) -> PreparedOrder:
        market = intent.market
        if not intent.outcome.token_id:
            raise MarketNotFound(self.adapter.id, f"{market.parsec_id} has no token for {intent.outcome.name}")
        quote = await self._quote_token(str(market.extra.get("quote_token") or ""))
        side = BUY if intent.side == "buy" else SELL
        amount = await self._market_amount(intent) if intent.order_type == "ioc" else None
        try:
            signed = order_builder.sign_order(
                self._account, safe=await self._safe_address(), exchange=str(quote["ctfExchangeAddress"]),
                token_id=intent.outcome.token_id, side=side, method=METHOD[intent.order_type],
                price=str(intent.price), size=intent.size, decimals=int(quote.get("decimal", 18)),
                salt=order_builder.salt_for(intent.client_order_id), amount=amount)
        except ValueError as exc:
            raise VenueBadRequest(self.adapter.id, str(exc)) from None
        return PreparedOrder(intent, (signed, str(quote["quoteTokenAddress"])), None)

    async def _market_amount(self, intent: OrderIntent) -> float:
        """A MARKET order carries no price: it is sized to what the book within the caller's limit
        holds (a BUY spends what those levels cost, a SELL sells at most what they take), so the limit
        holds against the book pmrouter saw (the book may still move before the venue matches)."""
        book = await self.adapter.get_orderbook(intent.market, intent.outcome, 100)
        within = levels_within(book.asks if intent.side == "buy" else book.bids, intent.side, intent.price)
        shares, notional = take(within, intent.size)
        if shares <= 0:
            raise VenueBadRequest(self.adapter.id, f"no liquidity within {intent.price} for a market order")
        return math.floor(notional * 10**6) / 10**6 if intent.side == "buy" else shares

    async def submit_order(self, prepared: PreparedOrder) -> VenueOrder:
        intent = prepared.intent
        signed, currency = prepared.payload
        body = signed.body(int(intent.market.exchange_market_id), currency)
        try:
            res = await self._call("POST", "/openapi/order", body=body)
        except VenueBadRequest as exc:
            if "balance" in exc.message.lower() or "insufficient" in exc.message.lower():
                raise InsufficientFunds(self.adapter.id, exc.message, status=exc.status) from None
            raise
        order_id = str((res.get("orderData") or {}).get("orderId") or "")
        if not order_id:  # accepted (errno 0) without an id: it may be live, so it stays pending
            raise VenueUnavailable(self.adapter.id, "opinion accepted the order without an orderId", ambiguous=True)
        try:
            order = await self.get_order(order_id)
        except VenueError:
            return accepted_unread(intent, order_id)
        order.outcome, order.market_id = intent.outcome.name, intent.market.exchange_market_id
        order.client_order_id = intent.client_order_id
        return immediate_final(order, intent)

    def _parse(self, row: dict[str, Any]) -> VenueOrder:
        size, filled = to_float(row.get("orderShares")) or 0.0, to_float(row.get("filledShares")) or 0.0
        status = STATUS.get(int(row.get("status") or 0), "pending")
        if status == "open" and filled > 0:
            status = "partially_filled"
        outcome = row.get("outcome") or ("Yes" if int(row.get("outcomeSide") or 1) == 1 else "No")
        return VenueOrder(str(row.get("orderId")), str(row.get("marketId") or ""), str(outcome),
                          "buy" if int(row.get("side") or 1) == 1 else "sell", to_float(row.get("price")) or 0.0,
                          size, filled, status, _ts(row.get("createdAt")), None, None)  # type: ignore[arg-type]

    async def get_order(self, order_id: str) -> VenueOrder:
        res = await self._call("GET", f"/openapi/order/{order_id}")
        if not res.get("orderData"):
            raise MarketNotFound(self.adapter.id, f"order {order_id} not found")
        return self._parse(res["orderData"])

    async def cancel_order(self, order_id: str) -> VenueOrder:
        await self._call("POST", "/openapi/order/cancel", body=json.dumps({"orderId": order_id}))
        return await self.get_order(order_id)

    async def list_orders(self, *, market_id: str | None, status: Literal["open", "closed", "all"],
                          start: int | None, end: int | None, limit: int) -> list[VenueOrder]:
        wanted = {"open": "1", "closed": "2,3,4,5", "all": None}[status]
        out: list[VenueOrder] = []
        page = 1
        while len(out) < limit:
            rows, total = schemas.page_items(await self._call("GET", "/openapi/order", params={
                "marketId": market_id, "status": wanted, "limit": PAGE, "page": page}))
            for row in rows:
                o = self._parse(row)
                ts = o.created_at.timestamp()
                if (start is None or ts >= start) and (end is None or ts <= end):
                    out.append(o)
            if not rows or page * PAGE >= total:
                break
            page += 1
        return out[:limit]

    async def find_order(self, client_order_id: str, market: VenueMarket | None) -> VenueOrder | None:
        return None  # see the module docstring: nothing in Opinion's order rows identifies a signed order

    # --- account ------------------------------------------------------------------------------------

    async def fills(self, *, market_id: str | None, limit: int | None) -> list[VenueFill]:
        rows, _ = schemas.page_items(await self._call("GET", "/openapi/trade", params={
            "marketId": market_id, "page": 1, "limit": PAGE}))
        out = []
        for t in rows:
            out.append(VenueFill(
                fill_id=str(t.get("tradeNo") or t.get("txHash")), order_id=str(t.get("orderNo") or ""),
                market_id=str(t.get("marketId") or ""),
                outcome=str(t.get("outcome") or ("Yes" if int(t.get("outcomeSide") or 1) == 1 else "No")),
                side="buy" if str(t.get("side", "")).lower() in ("buy", "1") else "sell",
                price=to_float(t.get("price")) or 0.0, size=to_float(t.get("shares")) or 0.0,
                fee=to_float(t.get("feeFormatted") or t.get("fee")) or 0.0, is_taker=bool(t.get("isTaker", True)),
                created_at=_ts(t.get("createdAt"))))
        return out[: limit or None]

    async def positions(self, *, market_id: str | None) -> list[VenuePosition]:
        rows, _ = schemas.page_items(await self._call("GET", "/openapi/positions", params={
            "marketId": market_id, "page": 1, "limit": PAGE}))
        out = []
        for p in rows:
            size = to_float(p.get("sharesOwned")) or 0.0
            if size <= 0:
                continue
            value = to_float(p.get("currentValueInQuoteToken")) or 0.0
            out.append(VenuePosition(str(p.get("marketId") or ""),
                                     str(p.get("outcome") or ("Yes" if int(p.get("outcomeSide") or 1) == 1 else "No")),
                                     size, to_float(p.get("avgEntryPrice")) or 0.0, round(value / size, 6)))
        return out

    async def balance(self, *, refresh: bool = False) -> dict[str, Any]:
        return await self._call("GET", "/openapi/user/balance")
