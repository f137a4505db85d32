"""Polymarket trading session (CLOB V2).

Contract order types map to the venue's: gtc -> GTC, gtd -> GTD (with `expiration`), fok -> FOK,
ioc -> FAK. FOK and FAK are the venue's market-order shapes: a BUY signs the USDC to spend
(size x price) against the shares it must at least receive, a SELL signs the shares against the
USDC; both computed exactly so that the signed price never crosses the caller's limit (a BUY
spends whole cents, so when size x price is not a whole number of cents it buys slightly fewer
than `size` shares). The order id is the EIP-712 hash of the signed order.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from ..base import (
    Credentials, OrderIntent, PreparedOrder, TradingSession, VenueFill, VenueMarket, VenueOrder, VenuePosition,
)
from ..ctf_orders import account_from_key
from ..errors import InsufficientFunds, MarketNotFound, VenueAuthError, VenueBadRequest, VenueError
from ..parsing import to_datetime_or_now as _ts
from . import auth, order_builder
from .schemas import num

if TYPE_CHECKING:
    from .adapter import PolymarketAdapter

ORDER_TYPE = {"gtc": "GTC", "gtd": "GTD", "fok": "FOK", "ioc": "FAK"}
END_CURSOR = "LTE="


def _status(raw_status: str, filled: float, size: float) -> str:
    s = (raw_status or "").upper().replace("ORDER_STATUS_", "")
    if s in ("MATCHED", "FILLED") or (size and filled >= size - 1e-9):
        return "filled"
    if s in ("CANCELED", "CANCELLED", "CANCELED_MARKET_RESOLVED", "INVALID", "UNMATCHED", "EXPIRED"):
        return "cancelled"
    if s == "LIVE":
        return "partially_filled" if filled > 0 else "open"
    return "pending"


class PolymarketSession(TradingSession):
    def __init__(self, adapter: "PolymarketAdapter", credentials: Credentials):
        self._account = account_from_key(credentials.private_key, "Polymarket")
        clob = [credentials.clob_api_key, credentials.clob_api_secret, credentials.clob_api_passphrase]
        if any(clob) and not all(clob):
            raise ValueError("clob_api_key, clob_api_secret and clob_api_passphrase go together")
        self.adapter = adapter
        self.credentials = credentials
        self._api = tuple(clob) if all(clob) else None
        self._funder = credentials.funder or self._account.address

    def __repr__(self) -> str:
        return "PolymarketSession(***)"

    @property
    def address(self) -> str | None:
        return self._funder

    # --- auth -------------------------------------------------------------------------------------

    async def _api_creds(self) -> tuple[str, str, str]:
        if self._api is None:
            clob = self.adapter.clob
            try:
                res = await clob.request("POST", "/auth/api-key", headers=auth.l1_headers(self._account))
            except VenueBadRequest:
                res = await clob.request("GET", "/auth/derive-api-key", headers=auth.l1_headers(self._account))
            if not res or not res.get("apiKey"):
                raise VenueAuthError(self.adapter.id, "could not create or derive CLOB API credentials")
            self._api = (res["apiKey"], res["secret"], res["passphrase"])
        return self._api  # type: ignore[return-value]

    async def _l2(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: str | None = None,
                  http=None) -> Any:
        key, secret, passphrase = await self._api_creds()
        headers = auth.l2_headers(self._account.address, key, secret, passphrase, method, path, body)
        return await (http or self.adapter.clob).request(method, path, params=params,
                                                         content=body.encode() if body else None, headers=headers)

    async def complete_credentials(self) -> Credentials:
        key, secret, passphrase = await self._api_creds()
        return Credentials(private_key=self.credentials.private_key, clob_api_key=key, clob_api_secret=secret,
                           clob_api_passphrase=passphrase, funder=self.credentials.funder,
                           signature_type=self.credentials.signature_type)

    # --- orders -----------------------------------------------------------------------------------

    async def prepare_order(self, intent: OrderIntent) -> PreparedOrder:
        token = intent.outcome.token_id
        if not token:
            raise MarketNotFound(self.adapter.id, f"{intent.market.parsec_id} has no CLOB token for {intent.outcome.name}")
        tick = intent.market.tick_size or 0.01
        side = order_builder.BUY if intent.side == "buy" else order_builder.SELL
        if intent.order_type in ("fok", "ioc"):
            maker, taker = order_builder.fill_or_kill_amounts(side, intent.size, intent.price, tick)
        else:
            maker, taker = order_builder.limit_amounts(side, intent.size, intent.price, tick)
        signed = order_builder.sign_order(
            self._account, token_id=token, side=side, maker_amount=maker, taker_amount=taker,
            neg_risk=bool(intent.market.extra.get("neg_risk")), funder=self._funder,
            signature_type=self.credentials.signature_type,
            expiration=intent.expiration if intent.order_type == "gtd" and intent.expiration else 0)
        return PreparedOrder(intent, signed, signed.order_hash)

    async def submit_order(self, prepared: PreparedOrder) -> VenueOrder:
        intent = prepared.intent
        signed: order_builder.SignedOrder = prepared.payload
        key, _, _ = await self._api_creds()
        body = signed.body(key, ORDER_TYPE[intent.order_type])
        try:
            res = await self._l2("POST", "/order", body=body)
        except VenueBadRequest as exc:
            raise self._refusal(exc.message, exc.status) from None
        if not res.get("success", False):
            raise self._refusal(res.get("errorMsg") or "order rejected", 400)
        making, taking = num(res.get("makingAmount")) or 0.0, num(res.get("takingAmount")) or 0.0
        filled = taking if intent.side == "buy" else making
        status = (res.get("status") or "").lower()
        if status == "matched" and filled >= float(intent.size) - 1e-9:
            state = "filled"
        elif intent.order_type in ("fok", "ioc") and status in ("matched", "unmatched"):
            state = "cancelled" if filled < float(intent.size) - 1e-9 else "filled"
        elif status in ("live", "matched"):
            state = "partially_filled" if filled > 0 else "open"
        else:
            state = "pending"  # "delayed": the venue holds the order before matching it
        now = datetime.now(timezone.utc)
        return VenueOrder(res.get("orderID") or signed.order_hash, intent.market.exchange_market_id,
                          intent.outcome.name, intent.side, float(intent.price), float(intent.size), filled, state,  # type: ignore[arg-type]
                          now, now, intent.client_order_id)

    def _refusal(self, message: str, status: int | None) -> VenueError:
        if "balance" in message.lower() or "allowance" in message.lower():
            return InsufficientFunds(self.adapter.id, message, status=status)
        return VenueBadRequest(self.adapter.id, message, status=status)

    async def _parse_order(self, raw: dict[str, Any]) -> VenueOrder:
        size, matched = num(raw.get("original_size")) or 0.0, num(raw.get("size_matched")) or 0.0
        try:
            market = await self.adapter.get_market(raw.get("market") or "")
            market_id = market.exchange_market_id
        except MarketNotFound:
            market_id = raw.get("market") or ""
        return VenueOrder(str(raw["id"]), market_id, str(raw.get("outcome") or ""),
                          "buy" if str(raw.get("side")).upper() == "BUY" else "sell", num(raw.get("price")) or 0.0,
                          size, matched, _status(raw.get("status"), matched, size),  # type: ignore[arg-type]
                          _ts(raw.get("created_at")), None, None)

    async def cancel_order(self, order_id: str) -> VenueOrder:
        res = await self._l2("DELETE", "/order", body=json.dumps({"orderID": order_id}, separators=(",", ":")))
        refused = (res or {}).get("not_canceled") or {}
        if order_id in refused and "not found" in str(refused[order_id]).lower():
            raise MarketNotFound(self.adapter.id, f"order {order_id} not found")
        return await self.get_order(order_id)

    async def get_order(self, order_id: str) -> VenueOrder:
        raw = await self._l2("GET", f"/data/order/{order_id}")
        if not raw:
            raise MarketNotFound(self.adapter.id, f"order {order_id} not found")
        return await self._parse_order(raw)

    async def _open_orders(self, market: VenueMarket | None) -> list[VenueOrder]:
        out, cursor = [], "MA=="
        while cursor and cursor != END_CURSOR:
            res = await self._l2("GET", "/data/orders", params={"market": market.condition_id if market else None,
                                                                 "next_cursor": cursor})
            for raw in res.get("data") or []:
                out.append(await self._parse_order(raw))
            cursor = res.get("next_cursor")
        return out

    async def list_orders(self, *, market_id: str | None, status: Literal["open", "closed", "all"],
                          start: int | None, end: int | None, limit: int) -> list[VenueOrder]:
        """Open orders come from /data/orders. The CLOB has no history endpoint for finished orders;
        those it still knows by id are found through the account's trades, and pmrouter adds the orders
        it placed itself (routes/orders.py)."""
        market = await self.adapter.get_market(market_id) if market_id else None
        rows = await self._open_orders(market) if status in ("open", "all") else []
        if status in ("closed", "all"):
            seen = {o.id for o in rows}
            for fill in await self.fills(market_id=market_id, limit=500):
                if fill.order_id not in seen:
                    seen.add(fill.order_id)
                    try:
                        order = await self.get_order(fill.order_id)
                    except MarketNotFound:
                        continue
                    if order.status not in ("open", "partially_filled"):
                        rows.append(order)
        rows = [o for o in rows if (start is None or o.created_at.timestamp() >= start)
                and (end is None or o.created_at.timestamp() <= end)]
        return rows[:limit]

    async def find_order(self, client_order_id: str, market: VenueMarket | None) -> VenueOrder | None:
        # Polymarket ids are order hashes, known before sending: the record carries it.
        if client_order_id.startswith("0x"):
            try:
                return await self.get_order(client_order_id)
            except MarketNotFound:
                return None
        return None

    # --- account ----------------------------------------------------------------------------------

    async def fills(self, *, market_id: str | None, limit: int | None) -> list[VenueFill]:
        market = await self.adapter.get_market(market_id) if market_id else None
        out: list[VenueFill] = []
        cursor = "MA=="
        me = self._funder.lower()
        while cursor and cursor != END_CURSOR and len(out) < (limit or 500):
            res = await self._l2("GET", "/data/trades", params={"maker_address": self._funder, "next_cursor": cursor,
                                                                 "market": market.condition_id if market else None})
            for t in res.get("data") or []:
                mid = market.exchange_market_id if market else (await self._market_id(t.get("market")))
                if str(t.get("trader_side")).upper() == "TAKER":
                    out.append(VenueFill(str(t["id"]), str(t["taker_order_id"]), mid, str(t.get("outcome") or ""),
                                         "buy" if str(t.get("side")).upper() == "BUY" else "sell",
                                         num(t.get("price")) or 0.0, num(t.get("size")) or 0.0,
                                         self._fee(t, num(t.get("price")) or 0.0, num(t.get("size")) or 0.0), True,
                                         _ts(t.get("match_time"))))
                for mo in t.get("maker_orders") or []:
                    if str(mo.get("maker_address", "")).lower() != me:
                        continue
                    out.append(VenueFill(f"{t['id']}:{mo['order_id']}", str(mo["order_id"]), mid,
                                         str(mo.get("outcome") or ""),
                                         "buy" if str(mo.get("side")).upper() == "BUY" else "sell",
                                         num(mo.get("price")) or 0.0, num(mo.get("matched_amount")) or 0.0, 0.0, False,
                                         _ts(t.get("match_time"))))
            cursor = res.get("next_cursor")
        return out[: limit or None]

    @staticmethod
    def _fee(trade: dict[str, Any], price: float, size: float) -> float:
        bps = num(trade.get("fee_rate_bps")) or 0.0
        return round(bps / 10_000 * min(price, 1 - price) * size, 6)

    async def _market_id(self, condition_id: str | None) -> str:
        try:
            return (await self.adapter.get_market(condition_id or "")).exchange_market_id
        except MarketNotFound:
            return condition_id or ""

    async def positions(self, *, market_id: str | None) -> list[VenuePosition]:
        market = await self.adapter.get_market(market_id) if market_id else None
        rows = await self.adapter.data.get("/positions", {"user": self._funder, "sizeThreshold": 0,
                                                          "market": market.condition_id if market else None})
        out = []
        for p in rows or []:
            size = num(p.get("size")) or 0.0
            if size <= 0:
                continue
            out.append(VenuePosition(await self._market_id(p.get("conditionId")), str(p.get("outcome") or ""), size,
                                     num(p.get("avgPrice")) or 0.0, num(p.get("curPrice")) or 0.0))
        return out

    async def balance(self, *, refresh: bool = False) -> dict[str, Any]:
        params = {"asset_type": "COLLATERAL", "signature_type": self.credentials.signature_type}
        if refresh:
            await self._l2("GET", "/balance-allowance/update", params=params)
        return await self._l2("GET", "/balance-allowance", params=params)
