"""Sandbox Predict.fun trading, checking what the venue documents (dev.predict.fun: authenticate,
create an order, remove orders; predict-sdk 0.0.22 for the signed order).

- Auth: `x-api-key` on every call (the market-data app checks it) and, on personal endpoints,
  `Authorization: Bearer <JWT>` from `GET /v1/auth/message` + `POST /v1/auth` (`{signer, message,
  signature}`, EIP-191 personal_sign of a message this venue issued, recovering `signer`).
- `POST /v1/orders` `{data: {order, pricePerShare, strategy, slippageBps, isFillOrKill?}}`:
  `order.hash` is the EIP-712 digest under "predict.fun CTF Exchange"/1/56 and the exchange picked by
  the market's isNegRisk/isYieldBearing; the signature recovers `signer` == `maker` == the JWT's
  wallet; feeRateBps is the market's; tradingStatus OPEN; tokenId one of the market's outcomes;
  quantity >= 1e16; LIMIT: expiration in the future, pricePerShare on the market's decimalPrecision
  and maker/taker = pricePerShare x shares / 1e18; MARKET: expiration within five minutes,
  isFillOrKill kills what cannot fill completely. Balances are checked.
- `GET /v1/orders[/{hash}]`, `POST /v1/orders/remove` `{data: {ids}}` (1..100 ids),
  `GET /v1/orders/matches?signerAddress=` (the wallet's fills), `GET /v1/positions`, `GET /v1/account`.
Answers are `{success, data}`; errors `{success: false, message}`. Faucet: 10,000 USDT per wallet.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import orjson
from eth_account import Account
from eth_account.messages import encode_defunct
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import ctf_v1
from .ledger import Ledger, NotEnoughBalance
from .matching import Order, Rejected
from .universe import book

DOMAIN = {"name": "predict.fun CTF Exchange", "version": "1", "chain_id": 56}
EXCHANGES = {(False, False): "0x8BC070BEdAB741406F4B1Eb65A72bee27894B689",
             (True, False): "0x365fb81bd4A24D6303cd2F19c349dE6894D8d58A",
             (False, True): "0x6bEb5a40C032AFc305961162d8204CDA16DECFa5",
             (True, True): "0x8A289d458f5a134bA40015085A8F50Ffb681B41d"}
WEI = Decimal(10) ** 18
MIN_QTY = 10**16
MARKET_WINDOW_S = 300
JWT_TTL_S = 3600


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def ok(data: Any, cursor: Any = False) -> JSON:
    body: dict[str, Any] = {"success": True, "data": data}
    if cursor is not False:
        body["cursor"] = cursor
    return JSON(body)


def fail(status: int, message: str) -> JSON:
    return JSON({"success": False, "message": message}, status_code=status)


class Refused(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class PredictTrading:
    def __init__(self, world) -> None:
        self.world = world
        self.ledger = Ledger(Decimal(10_000), self._levels)
        self.secret = secrets.token_bytes(32)
        self.messages: set[str] = set()
        self.token_market: dict[str, tuple[int, int]] = {}  # onChainId -> (market id, outcome position)
        for mid, m in world.markets.items():
            for i, o in enumerate(sorted(m["outcomes"], key=lambda o: o["indexSet"])):
                self.token_market[o["onChainId"]] = (mid, i)
        self.rows: dict[str, dict[str, Any]] = {}  # order hash -> venue row
        self.by_id: dict[str, str] = {}  # venue id -> hash
        self._next_id = 1000

    def _levels(self, token: str):
        mid, pos = self.token_market[token]
        listing = self.world.listings[mid]
        bids, asks = book(listing.key, "predictfun", 0, listing.probs[0], listing.tick, listing.min_size)
        if pos == 0:
            return bids, asks
        d = 3 if listing.tick < 0.01 else 2
        return [(round(1 - p, d), s) for p, s in asks], [(round(1 - p, d), s) for p, s in bids]

    def yes_depth(self, mid: int):
        yes = sorted(self.world.markets[mid]["outcomes"], key=lambda o: o["indexSet"])[0]["onChainId"]
        return self.ledger.depth(yes)

    # --- auth -----------------------------------------------------------------------------------------

    def jwt_for(self, address: str) -> str:
        claims = base64.urlsafe_b64encode(orjson.dumps({"sub": address, "exp": int(time.time()) + JWT_TTL_S})).decode()
        sig = base64.urlsafe_b64encode(hmac.new(self.secret, claims.encode(), hashlib.sha256).digest()).decode()
        return f"sandbox.{claims}.{sig}"

    def wallet_of(self, request: Request) -> str:
        raw = request.headers.get("authorization") or ""
        parts = raw.removeprefix("Bearer ").split(".")
        if not raw.startswith("Bearer ") or len(parts) != 3:
            raise Refused(401, "Unauthorized: a Bearer JWT is required")
        expected = base64.urlsafe_b64encode(hmac.new(self.secret, parts[1].encode(), hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, parts[2]):
            raise Refused(401, "Unauthorized: invalid JWT")
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1]))
        if claims["exp"] < time.time():
            raise Refused(401, "Unauthorized: JWT expired")
        return claims["sub"]

    # --- orders ---------------------------------------------------------------------------------------

    def place(self, wallet: str, data: dict[str, Any]) -> dict[str, Any]:
        try:
            order, strategy = data["order"], data["strategy"]
            price_per_share = int(data["pricePerShare"])
        except (KeyError, TypeError, ValueError):
            raise Refused(400, "Invalid body: data.order, data.strategy and data.pricePerShare are required") from None
        token = str(order.get("tokenId"))
        if token not in self.token_market:
            raise Refused(400, "Invalid tokenId")
        mid, pos = self.token_market[token]
        market = self.world.markets[mid]
        if market["tradingStatus"] != "OPEN":
            raise Refused(400, "Market is not open for trading")
        exchange = EXCHANGES[(bool(market["isNegRisk"]), bool(market["isYieldBearing"]))]
        try:
            digest = ctf_v1.order_hash(order, **DOMAIN, exchange=exchange)
            signer = ctf_v1.recover(order, str(order.get("signature") or ""), **DOMAIN, exchange=exchange)
        except (ctf_v1.BadSignature, KeyError, TypeError, ValueError):
            raise Refused(400, "Invalid order signature") from None
        if digest != str(order.get("hash", "")).lower():
            raise Refused(400, "Invalid order hash")
        if not (signer == order["signer"] == order["maker"]) or int(order["signatureType"]) != 0:
            raise Refused(400, "Invalid order signature: signer must be the maker")
        if signer.lower() != wallet.lower():
            raise Refused(403, "The order maker is not the authenticated wallet")
        if int(order["feeRateBps"]) != market["feeRateBps"]:
            raise Refused(400, f"Invalid feeRateBps: the market's is {market['feeRateBps']}")
        if digest in self.rows:
            raise Refused(400, "Order already exists")
        side = "buy" if int(order["side"]) == 0 else "sell"
        maker, taker = int(order["makerAmount"]), int(order["takerAmount"])
        shares, cash = (taker, maker) if side == "buy" else (maker, taker)
        if shares < MIN_QTY or cash <= 0:
            raise Refused(400, "Invalid amounts: quantity below 0.01 shares")
        expiration, now = int(order["expiration"]), time.time()
        if expiration <= now:
            raise Refused(400, "Invalid expiration: must be in the future")
        if strategy == "LIMIT":
            price = Decimal(price_per_share) / WEI
            if price != price.quantize(Decimal(1).scaleb(-market["decimalPrecision"])):
                raise Refused(400, f"Invalid price: at most {market['decimalPrecision']} decimals")
            if cash != price_per_share * shares // 10**18:
                raise Refused(400, "Invalid amounts: maker/taker do not match pricePerShare")
            tif = "GTC"
        elif strategy == "MARKET":
            if expiration > now + MARKET_WINDOW_S + 5:
                raise Refused(400, "Invalid expiration: market orders expire within five minutes")
            price = Decimal(cash) / Decimal(shares)  # the worst price the signature allows
            tif = "FOK" if data.get("isFillOrKill") else "IOC"
        else:
            raise Refused(400, "strategy must be LIMIT or MARKET")
        self._next_id += 1
        venue_id = str(self._next_id)
        o = Order(digest, wallet.lower(), token, side, price, Decimal(shares) / WEI, tif=tif,  # type: ignore[arg-type]
                  expires_at=float(expiration), post_only=bool(data.get("isPostOnly")))
        row = {"id": venue_id, "marketId": mid, "currency": "USDT", "amount": str(shares), "amountFilled": "0",
               "isNegRisk": market["isNegRisk"], "isYieldBearing": market["isYieldBearing"], "strategy": strategy,
               "status": "OPEN", "order": dict(order), "createdAt": _iso(o.created_at)}
        try:
            self.ledger.place(o)
        except NotEnoughBalance:
            raise Refused(400, "Insufficient collateral balance") from None
        except Rejected as exc:
            raise Refused(400, exc.reason) from None
        self.rows[digest] = row
        self.by_id[venue_id] = digest
        return {"code": "OK", "orderId": venue_id, "orderHash": digest}

    def row(self, digest: str) -> dict[str, Any]:
        row = self.rows[digest]
        o = self.ledger.engine.orders[digest]
        row["amountFilled"] = str(int(o.filled * WEI))
        row["status"] = {"open": "OPEN", "filled": "FILLED", "cancelled": "CANCELLED", "expired": "EXPIRED",
                         "rejected": "INVALIDATED"}[o.status]
        return row


def routes(t: PredictTrading, denied) -> list[Route]:
    """The trading endpoints; `denied(request)` is the market-data app's x-api-key check."""

    def guarded(fn):
        async def handler(request: Request) -> Response:
            if (err := denied(request)) is not None:
                return err
            try:
                return await fn(request)
            except Refused as exc:
                return fail(exc.status, exc.message)
        return handler

    async def auth_message(request: Request) -> Response:
        message = f"Sign in to predict.fun (sandbox). Nonce: {secrets.token_hex(8)}"
        t.messages.add(message)
        return ok({"message": message})

    async def login(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
            signer, message, signature = body["signer"], body["message"], body["signature"]
        except (ValueError, KeyError, TypeError):
            raise Refused(400, "signer, message and signature are required") from None
        if message not in t.messages:
            raise Refused(401, "Unknown or used auth message")
        try:
            recovered = Account.recover_message(encode_defunct(text=message), signature=signature)
        except Exception:
            raise Refused(401, "Invalid signature") from None
        if recovered.lower() != str(signer).lower():
            raise Refused(401, "Invalid signature")
        t.messages.discard(message)
        t.ledger.wallet(recovered.lower())
        return ok({"token": t.jwt_for(recovered)})

    async def create(request: Request) -> Response:
        wallet = t.wallet_of(request)
        try:
            data = orjson.loads(await request.body())["data"]
        except (ValueError, KeyError, TypeError):
            raise Refused(400, "Invalid body") from None
        with t.ledger.lock:
            return ok(t.place(wallet, data))

    async def get_one(request: Request) -> Response:
        wallet = t.wallet_of(request)
        digest = request.path_params["hash"].lower()
        with t.ledger.lock:
            if digest not in t.rows or t.ledger.engine.orders[digest].owner != wallet.lower():
                raise Refused(404, "Order not found")
            return ok(t.row(digest))

    async def list_mine(request: Request) -> Response:
        wallet = t.wallet_of(request).lower()
        q = request.query_params
        with t.ledger.lock:
            t.ledger.engine.expire()
            rows = [t.row(h) for h, o in ((h, t.ledger.engine.orders[h]) for h in t.rows) if o.owner == wallet]
        if q.get("status"):
            rows = [r for r in rows if r["status"] == q["status"]]
        if q.get("marketId"):
            rows = [r for r in rows if str(r["marketId"]) == q["marketId"]]
        rows.sort(key=lambda r: -int(r["id"]))
        return ok(rows, None)

    async def remove(request: Request) -> Response:
        wallet = t.wallet_of(request).lower()
        try:
            ids = [str(i) for i in orjson.loads(await request.body())["data"]["ids"]]
        except (ValueError, KeyError, TypeError):
            raise Refused(400, "Invalid body: data.ids is required") from None
        if not 1 <= len(ids) <= 100:
            raise Refused(400, "ids must hold 1 to 100 order ids")
        removed, noop = [], []
        with t.ledger.lock:
            for vid in ids:
                digest = t.by_id.get(vid)
                try:
                    if digest is None:
                        raise KeyError(vid)
                    o = t.ledger.cancel(digest, wallet)
                    (removed if o.status == "cancelled" else noop).append(vid)
                except KeyError:
                    noop.append(vid)
        return ok({"removed": removed, "noop": noop})

    async def positions(request: Request) -> Response:
        wallet = t.wallet_of(request).lower()
        w = t.ledger.wallet(wallet)
        rows = []
        with t.ledger.lock:
            for token in set(w.shares) | set(w.locked_shares):
                held = w.held(token)
                if held <= 0:
                    continue
                mid, pos = t.token_market[token]
                market = t.world.markets[mid]
                outcome = sorted(market["outcomes"], key=lambda o: o["indexSet"])[pos]
                p = t.world.listings[mid].probs[0]
                price = Decimal(str(p if pos == 0 else 1 - p))
                rows.append({"id": f"{mid}-{token[:8]}", "market": market, "outcome": outcome,
                             "amount": str(int(held * WEI)), "valueUsd": f"{held * price:.6f}",
                             "averageBuyPriceUsd": f"{(w.cost.get(token, Decimal(0)) / held):.6f}"})
        return ok(rows, None)

    async def account(request: Request) -> Response:
        wallet = t.wallet_of(request)
        w = t.ledger.wallet(wallet.lower())
        return ok({"name": None, "address": wallet, "imageUrl": None, "referral": None,
                   "sandboxUsdtBalance": str(int(w.cash * WEI))})

    return [Route("/v1/auth/message", guarded(auth_message)), Route("/v1/auth", guarded(login), methods=["POST"]),
            Route("/v1/orders", guarded(create), methods=["POST"]), Route("/v1/orders", guarded(list_mine)),
            Route("/v1/orders/remove", guarded(remove), methods=["POST"]),
            Route("/v1/positions", guarded(positions)), Route("/v1/account", guarded(account)),
            Route("/v1/orders/{hash:str}", guarded(get_one))]


def user_matches(t: PredictTrading, address: str, market_id: str | None) -> list[dict[str, Any]]:
    """Order match events in which `address` traded, newest first, in the public tape's shape."""
    me = address.lower()
    out = []
    for f in reversed(t.ledger.fills_for(me)):
        mid, pos = t.token_market[f.instrument]
        if market_id and str(mid) != market_id:
            continue
        market = t.world.markets[mid]
        outcome = sorted(market["outcomes"], key=lambda o: o["indexSet"])[pos]

        def leg(order_id: str, owner: str) -> dict[str, Any]:
            o = t.ledger.engine.orders[order_id]
            return {"quoteType": "Bid" if o.side == "buy" else "Ask", "amount": str(int(f.size * WEI)),
                    "price": str(int(f.price * WEI)), "outcome": outcome,
                    "signer": t.rows.get(order_id, {}).get("order", {}).get("signer", owner),
                    "orderHash": order_id if order_id in t.rows else None}

        out.append({"market": market, "taker": leg(f.taker_order, f.taker_owner), "amountFilled": str(int(f.size * WEI)),
                    "priceExecuted": str(int(f.price * WEI)), "makers": [leg(f.maker_order, f.maker_owner)],
                    "transactionHash": "0x" + hashlib.sha256(f.id.encode()).hexdigest(), "executedAt": _iso(f.ts)})
    return out
