"""Sandbox Limitless trading, checking what the venue documents (developers/authentication,
developers/eip712-signing, api-1.yaml; limitless-sdk 1.3.0 as the client it must accept unchanged).

- Auth: scoped API tokens, `lmts-api-key` / `lmts-timestamp` (ISO-8601 ms, within 30 s) /
  `lmts-signature` = base64 HMAC-SHA256 (base64-decoded secret) of `ts\\nMETHOD\\npath?query\\nbody`;
  or a legacy `X-API-Key`. Tokens are issued by the sandbox (`issue_token`), standing in for the
  venue's Privy-identity derivation.
- `POST /orders`: `ownerId` is the token's profile id; the EIP-712 signature ("Limitless CTF
  Exchange"/1/8453, verifyingContract = the market's `venue.exchange`) recovers to `signer`;
  maker == signer and signatureType 0; feeRateBps is the profile's rank rate, 0 on collateral-fee
  venues (else FEE_RATE_MISMATCH); tokenId is one of the market's tokens; GTC/FAK carry a `price` on
  the 0.001 tick consistent with the amounts; FOK has takerAmount 1 and no price; postOnly only with
  GTC; balances are checked (422). Answers 201 `{order, makerMatches, execution}`.
- `DELETE /orders/{id}`, `GET /markets/{slug}/user-orders`, `GET /portfolio/positions`,
  `GET /portfolio/trades`, `GET /profiles/{address}`.
Errors are NestJS-style `{message, error, statusCode}`. Faucet: 10,000 USDC per new account.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from . import ctf_v1
from .ledger import Ledger, NotEnoughBalance
from .matching import Order, Rejected
from .universe import book

CHAIN_ID = 8453
DOMAIN = {"name": "Limitless CTF Exchange", "version": "1", "chain_id": CHAIN_ID}
SKEW_S = 30
UNIT = Decimal(1_000_000)
TICK = Decimal("0.001")
DEFAULT_FEE_BPS = 300


class LimitlessError(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class LimitlessTrading:
    def __init__(self, world) -> None:
        self.world = world
        self.ledger = Ledger(Decimal(10_000), self._levels)
        self.tokens: dict[str, tuple[str, dict]] = {}  # token id -> (address, {id, secret})
        self.legacy_keys: dict[str, str] = {}  # X-API-Key -> address
        self.profiles: dict[str, dict[str, Any]] = {}  # lowercase address -> profile
        self.token_market: dict[str, tuple[str, int]] = {}  # token id -> (slug, 0 yes | 1 no)
        for slug, (_, row) in world.by_slug.items():
            self.token_market[row["tokens"]["yes"]] = (slug, 0)
            self.token_market[row["tokens"]["no"]] = (slug, 1)
        self.info: dict[str, dict[str, Any]] = {}  # order id -> wire fields

    # --- accounts -------------------------------------------------------------------------------------

    def profile(self, address: str) -> dict[str, Any]:
        key = address.lower()
        p = self.profiles.get(key)
        if p is None:
            p = self.profiles[key] = {"id": 10_000 + len(self.profiles), "account": address,
                                      "rank": {"feeRateBps": DEFAULT_FEE_BPS}}
            self.ledger.wallet(key)
        return p

    def issue_token(self, address: str) -> tuple[str, str]:
        """(token id, base64 secret) of a scoped trading token for `address`."""
        token_id = str(uuid.uuid4())
        secret = base64.b64encode(secrets.token_bytes(32)).decode()
        self.tokens[token_id] = (address, {"secret": secret})
        self.profile(address)
        return token_id, secret

    def issue_legacy_key(self, address: str) -> str:
        key = "lmts_" + secrets.token_hex(16)
        self.legacy_keys[key] = address
        self.profile(address)
        return key

    def _levels(self, token: str):
        slug, side = self.token_market[token]
        lst, row = self.world.by_slug[slug]
        bids, asks = book(row["slug"], "limitless", 0, lst.probs[row["_side"]], lst.tick, lst.min_size)
        if side == 0:
            return bids, asks
        return ([(round(1 - p, 3), s) for p, s in asks], [(round(1 - p, 3), s) for p, s in bids])

    def yes_depth(self, slug: str):
        return self.ledger.depth(self.world.by_slug[slug][1]["tokens"]["yes"])


def _order_json(t: LimitlessTrading, o: Order) -> dict[str, Any]:
    info = t.info[o.id]
    status = {"open": "LIVE", "filled": "MATCHED", "cancelled": "CANCELLED", "expired": "EXPIRED",
              "rejected": "CANCELLED"}[o.status]
    return {"id": o.id, "salt": info["salt"], "tokenId": o.instrument, "marketSlug": info["slug"],
            "side": 0 if o.side == "buy" else 1, "price": float(o.price), "orderType": info["orderType"],
            "originalSize": str(int(o.size * UNIT)), "remainingSize": str(int(o.remaining * UNIT)),
            "status": status, "createdAt": _iso(o.created_at), "updatedAt": _iso(o.updated_at)}


def trading_router(t: LimitlessTrading) -> APIRouter:
    r = APIRouter()
    world = t.world

    async def authed(request: Request) -> tuple[str, bytes]:
        h = request.headers
        body = await request.body()
        if h.get("lmts-api-key"):
            known = t.tokens.get(h["lmts-api-key"])
            ts, sig = h.get("lmts-timestamp") or "", h.get("lmts-signature") or ""
            if known is None or not ts or not sig:
                raise LimitlessError(401, "Invalid API token")
            try:
                when = datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise LimitlessError(401, "Invalid timestamp") from None
            if abs(when - datetime.now(timezone.utc).timestamp()) > SKEW_S:
                raise LimitlessError(401, "Request timestamp outside the allowed window")
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            message = f"{ts}\n{request.method.upper()}\n{path}\n{body.decode()}"
            expected = base64.b64encode(hmac.new(base64.b64decode(known[1]["secret"]), message.encode(),
                                                 hashlib.sha256).digest()).decode()
            if not hmac.compare_digest(expected, sig):
                raise LimitlessError(401, "Invalid signature")
            return known[0], body
        legacy = t.legacy_keys.get(h.get("x-api-key") or "")
        if legacy is None:
            raise LimitlessError(401, "Authentication required")
        return legacy, body

    @r.get("/profiles/{address}")
    async def profile(address: str, request: Request):
        caller, _ = await authed(request)
        return t.profile(address if address != "me" else caller)

    @r.post("/orders", status_code=201)
    async def place(request: Request):
        caller, raw = await authed(request)
        try:
            body = json.loads(raw)
            order, owner_id, order_type, slug = body["order"], body["ownerId"], body["orderType"], body["marketSlug"]
        except (ValueError, KeyError, TypeError):
            raise LimitlessError(400, "order, ownerId, orderType and marketSlug are required") from None
        me = t.profile(caller)
        if owner_id != me["id"]:
            raise LimitlessError(403, "ownerId does not match the authenticated account")
        if order_type not in ("GTC", "FAK", "FOK"):
            raise LimitlessError(400, f"orderType must be GTC, FAK or FOK, got {order_type}")
        if body.get("postOnly") is not None and order_type != "GTC":
            raise LimitlessError(400, "postOnly is only supported for GTC orders")
        if slug not in world.by_slug:
            raise LimitlessError(404, "Market not found")
        lst, row = world.by_slug[slug]
        if row["status"] != "FUNDED":
            raise LimitlessError(400, "Market is not open for trading")
        token = str(order.get("tokenId"))
        if t.token_market.get(token, ("",))[0] != slug:
            raise LimitlessError(400, "tokenId does not belong to this market")
        venue = row["venue"]
        try:
            signer = ctf_v1.recover(order, str(order.get("signature") or ""), **DOMAIN, exchange=venue["exchange"])
        except (ctf_v1.BadSignature, KeyError, TypeError, ValueError):
            raise LimitlessError(400, "Invalid order signature") from None
        if signer != order["signer"] or order["maker"] != order["signer"] or int(order["signatureType"]) != 0:
            raise LimitlessError(400, "Invalid order signature: signer must be the maker (EOA)")
        if signer.lower() != caller.lower():
            raise LimitlessError(403, "The order maker is not the authenticated account")
        fee = 0 if venue.get("feeModuleType") == "COLLATERAL" else me["rank"]["feeRateBps"]
        if int(order["feeRateBps"]) != fee:
            raise LimitlessError(400, f"FEE_RATE_MISMATCH: expected feeRateBps {fee}")
        side = "buy" if int(order["side"]) == 0 else "sell"
        maker_amt, taker_amt = int(order["makerAmount"]), int(order["takerAmount"])
        if maker_amt <= 0 or taker_amt <= 0:
            raise LimitlessError(400, "amounts must be positive")
        if order_type == "FOK":
            if taker_amt != 1 or "price" in order:
                raise LimitlessError(400, "FOK orders carry makerAmount only (takerAmount 1, no price)")
            if side == "buy":
                size, price = t.ledger.market_buy_size(token, Decimal(maker_amt) / UNIT)
                price = price or TICK
            else:
                size, price = Decimal(maker_amt) / UNIT, TICK
        else:
            if "price" not in order:
                raise LimitlessError(400, "price is required for GTC and FAK orders")
            price = Decimal(str(order["price"]))
            if price % TICK or not TICK <= price <= 1 - TICK:
                raise LimitlessError(400, f"price {price} is not on the 0.001 tick inside (0, 1)")
            shares, cash = (taker_amt, maker_amt) if side == "buy" else (maker_amt, taker_amt)
            if abs(Decimal(shares) * price - Decimal(cash)) >= 1:
                raise LimitlessError(400, "makerAmount and takerAmount do not match price")
            size = Decimal(shares) / UNIT
            if size < Decimal(str(lst.min_size)):
                raise LimitlessError(400, f"size below the market minimum {lst.min_size}")
        order_id = str(uuid.uuid4())
        o = Order(order_id, caller.lower(), token, side, price, size,  # type: ignore[arg-type]
                  tif={"GTC": "GTC", "FAK": "IOC", "FOK": "FOK"}[order_type], post_only=bool(body.get("postOnly")))
        t.info[order_id] = {"salt": order["salt"], "slug": slug, "orderType": order_type, "owner": caller}
        try:
            if size <= 0:
                raise Rejected("fill-or-kill order could not be fully filled")
            fills = t.ledger.place(o)
        except NotEnoughBalance:
            del t.info[order_id]
            raise LimitlessError(422, "Insufficient balance") from None
        except Rejected as exc:
            del t.info[order_id]
            raise LimitlessError(400, exc.reason) from None
        matched = sum((f.size for f in fills), Decimal(0))
        usd = sum((f.size * f.price for f in fills), Decimal(0))
        return {"order": {**order, "id": order_id, "status": _order_json(t, o)["status"], "createdAt": _iso(o.created_at)},
                "makerMatches": [{"id": f.id, "createdAt": _iso(f.ts), "matchedSize": str(int(f.size * UNIT)),
                                  "orderId": f.maker_order} for f in fills],
                "execution": {"matched": bool(fills), "settlementStatus": "MATCHED" if fills else "UNMATCHED",
                              "feeRateBps": fee, "effectiveFeeBps": 0,
                              "totalsRaw": {"contractsGross": str(int(matched * UNIT)), "contractsFee": "0",
                                            "contractsNet": str(int(matched * UNIT)), "usdGross": str(int(usd * UNIT)),
                                            "usdFee": "0", "usdNet": str(int(usd * UNIT))}}}

    @r.delete("/orders/{order_id}")
    async def cancel(order_id: str, request: Request):
        caller, _ = await authed(request)
        try:
            o = t.ledger.cancel(order_id, caller.lower())
        except KeyError:
            raise LimitlessError(404, "Order not found") from None
        if o.status != "cancelled":
            raise LimitlessError(400, "Order is not open")
        return {"message": "Order canceled successfully"}

    @r.get("/markets/{slug}/user-orders")
    async def user_orders(slug: str, request: Request):
        caller, _ = await authed(request)
        wanted = set((request.query_params.get("statuses") or "LIVE").split(","))
        with t.ledger.lock:
            t.ledger.engine.expire()
            rows = [_order_json(t, o) for o in t.ledger.engine.orders.values()
                    if o.owner == caller.lower() and t.info.get(o.id, {}).get("slug") == slug]
        return {"orders": [r for r in rows if r["status"] in wanted]}

    @r.get("/portfolio/positions")
    async def positions(request: Request):
        caller, _ = await authed(request)
        w = t.ledger.wallet(caller.lower())
        by_slug: dict[str, dict[str, Any]] = {}
        with t.ledger.lock:
            active = {t.info[o.id]["slug"] for o in t.ledger.engine.orders.values()
                      if o.owner == caller.lower() and o.status == "open" and o.id in t.info}
            for token in set(w.shares) | set(w.locked_shares) | {world.by_slug[s][1]["tokens"]["yes"] for s in active}:
                slug, side = t.token_market[token]
                lst, row = world.by_slug[slug]
                entry = by_slug.setdefault(slug, {
                    "market": {"id": row["id"], "slug": slug, "title": row["title"]},
                    "tokensBalance": {"yes": "0", "no": "0"}, "positions": {},
                    "latestTrade": {"latestYesPrice": round(lst.probs[row["_side"]], 3),
                                    "latestNoPrice": round(1 - lst.probs[row["_side"]], 3)},
                    "orders": {"liveOrdersCount": 0}})
                held = w.held(token)
                key = "yes" if side == 0 else "no"
                entry["tokensBalance"][key] = str(int(held * UNIT))
                cost = w.cost.get(token, Decimal(0))
                entry["positions"][key] = {"cost": str(int(cost * UNIT)),
                                           "fillPrice": float(round(cost / held, 6)) if held else 0.0}
        return {"rewards": None, "points": 0, "accumulativePoints": 0, "amm": [], "clob": list(by_slug.values()),
                "group": []}

    @r.get("/portfolio/trades")
    async def trades(request: Request):
        caller, _ = await authed(request)
        me = caller.lower()
        wanted = request.query_params.get("marketSlug")
        rows = []
        for f in reversed(t.ledger.fills_for(me)):
            for role, oid in (("taker", f.taker_order), ("maker", f.maker_order)):
                o = t.ledger.engine.orders[oid]
                if o.owner != me:
                    continue
                slug, side = t.token_market[f.instrument]
                if wanted and slug != wanted:
                    continue
                rows.append({"id": f"{f.id}:{role}", "orderId": oid, "marketSlug": slug, "tokenId": f.instrument,
                             "outcome": "Yes" if side == 0 else "No", "side": 0 if o.side == "buy" else 1,
                             "price": float(f.price), "size": str(int(f.size * UNIT)), "fee": "0", "role": role,
                             "createdAt": _iso(f.ts)})
        return {"data": rows}

    return r


def install(app, world) -> LimitlessTrading:
    trading = getattr(world, "trading", None) or LimitlessTrading(world)
    world.trading = trading
    app.include_router(trading_router(trading))

    @app.exception_handler(LimitlessError)
    async def _err(_: Request, exc: LimitlessError) -> JSONResponse:
        names = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 422: "Unprocessable Entity"}
        return JSONResponse({"message": exc.message, "error": names.get(exc.status, "Error"), "statusCode": exc.status},
                            exc.status)

    return trading
