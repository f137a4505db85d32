"""Sandbox Polymarket CLOB trading, checking what the venue checks.

- L1 (`POST /auth/api-key`, `GET /auth/derive-api-key`): the `ClobAuth` EIP-712 signature (domain
  ClobAuthDomain/1/137, no verifyingContract) must recover to POLY_ADDRESS, timestamp within 5 min.
  Credentials are derived deterministically from (address, nonce), so create and derive agree.
- L2 (everything private): POLY_API_KEY known and bound to POLY_ADDRESS, passphrase matching, HMAC-SHA256
  of `timestamp + METHOD + path + body` under the url-safe-base64 secret, timestamp within 5 min.
- `POST /order`: `owner` is the caller's API key; the V2 order's EIP-712 signature (domain
  "Polymarket CTF Exchange"/2/137, the exchange or neg-risk exchange of the token's market) recovers
  to `signer`; for signature type 0 `maker == signer`; known token of an open market; implied price
  on the tick grid inside [tick, 1 - tick]; size at least the market minimum; GTD expiration at least
  60 s ahead; FOK fills completely or is killed; FAK fills what it can; postOnly rests or is refused;
  collateral and share balances are checked ("not enough balance / allowance").
Errors are `{"error": "<message>"}` with the venue's statuses. Sandbox faucet: an address gets 10,000
pUSD (6 decimals) the first time it authenticates.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from typing import Any

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .matching import MatchingEngine, Order, Rejected

EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
FAUCET = 10_000 * 10**6
SKEW_S = 300
MM = "market-maker"
UNIT = Decimal(10**6)
CLOB_AUTH_MSG = "This message attests that I control the given wallet"
ORDER_FIELDS = [("salt", "uint256"), ("maker", "address"), ("signer", "address"), ("tokenId", "uint256"),
                ("makerAmount", "uint256"), ("takerAmount", "uint256"), ("side", "uint8"),
                ("signatureType", "uint8"), ("timestamp", "uint256"), ("metadata", "bytes32"), ("builder", "bytes32")]


class ClobError(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


@dataclass
class Wallet:
    address: str
    collateral: int = FAUCET  # 6-dp units, free
    locked: int = 0
    shares: dict[str, int] = field(default_factory=dict)  # token -> 6-dp units, free
    locked_shares: dict[str, int] = field(default_factory=dict)
    cost: dict[str, int] = field(default_factory=dict)  # token -> 6-dp USDC paid for held shares


class ClobTrading:
    def __init__(self, world) -> None:
        self.world = world
        self.engine = MatchingEngine()
        self.lock = self.engine.lock
        self.keys: dict[str, tuple[str, str, str]] = {}  # api key -> (address, secret, passphrase)
        self.wallets: dict[str, Wallet] = {}
        self.trades: list[dict[str, Any]] = []
        self._seeded: set[str] = set()
        self.order_info: dict[str, dict[str, Any]] = {}

    # --- accounts ---------------------------------------------------------------------------------

    def wallet(self, address: str) -> Wallet:
        key = address.lower()
        w = self.wallets.get(key)
        if w is None:
            w = self.wallets[key] = Wallet(address)
        return w

    def fund(self, address: str, usdc: float) -> None:
        with self.lock:
            self.wallet(address).collateral += int(usdc * 10**6)

    @staticmethod
    def derive(address: str, nonce: int) -> tuple[str, str, str]:
        seed = hashlib.sha256(f"sandbox-clob|{address.lower()}|{nonce}".encode()).digest()
        api_key = str(uuid.UUID(bytes=seed[:16]))
        secret = base64.urlsafe_b64encode(hashlib.sha256(seed + b"secret").digest()).decode()
        passphrase = hashlib.sha256(seed + b"pass").hexdigest()[:32]
        return api_key, secret, passphrase

    def seed(self, token: str) -> None:
        if token in self._seeded:
            return
        bids, asks = self.world.levels(token)
        self.engine.seed(token, MM, [(Decimal(str(p)), Decimal(str(s))) for p, s in bids],
                         [(Decimal(str(p)), Decimal(str(s))) for p, s in asks], id_prefix="mm")
        self._seeded.add(token)

    def depth(self, token: str):
        if token not in self._seeded:
            return None
        with self.lock:
            book = self.engine.book(token)
            return ([(float(p), float(q)) for p, q in book.depth("buy")],
                    [(float(p), float(q)) for p, q in book.depth("sell")])


def _typed_order(order: dict[str, Any], exchange: str) -> dict:
    return {
        "primaryType": "Order",
        "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                   {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
                  "Order": [{"name": n, "type": t} for n, t in ORDER_FIELDS]},
        "domain": {"name": "Polymarket CTF Exchange", "version": "2", "chainId": 137, "verifyingContract": exchange},
        "message": {
            "salt": int(order["salt"]), "maker": order["maker"], "signer": order["signer"],
            "tokenId": int(order["tokenId"]), "makerAmount": int(order["makerAmount"]),
            "takerAmount": int(order["takerAmount"]), "side": 0 if order["side"] == "BUY" else 1,
            "signatureType": int(order["signatureType"]), "timestamp": int(order["timestamp"]),
            "metadata": bytes.fromhex(order["metadata"][2:]), "builder": bytes.fromhex(order["builder"][2:]),
        },
    }


def trading_router(t: ClobTrading) -> APIRouter:
    r = APIRouter()
    world = t.world

    def l1(request: Request) -> tuple[str, int]:
        h = request.headers
        address, sig, ts, nonce = h.get("POLY_ADDRESS"), h.get("POLY_SIGNATURE"), h.get("POLY_TIMESTAMP"), h.get("POLY_NONCE", "0")
        if not (address and sig and ts and ts.isdigit() and nonce.isdigit()):
            raise ClobError(401, "Invalid L1 Request headers")
        if abs(int(ts) - time.time()) > SKEW_S:
            raise ClobError(401, "Invalid L1 Request headers")
        typed = {"primaryType": "ClobAuth",
                 "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                            {"name": "chainId", "type": "uint256"}],
                           "ClobAuth": [{"name": "address", "type": "address"}, {"name": "timestamp", "type": "string"},
                                        {"name": "nonce", "type": "uint256"}, {"name": "message", "type": "string"}]},
                 "domain": {"name": "ClobAuthDomain", "version": "1", "chainId": 137},
                 "message": {"address": address, "timestamp": ts, "nonce": int(nonce), "message": CLOB_AUTH_MSG}}
        try:
            signer = Account.recover_message(encode_typed_data(full_message=typed), signature=sig)
        except Exception:
            raise ClobError(401, "Invalid L1 Request headers") from None
        if signer.lower() != address.lower():
            raise ClobError(401, "Invalid L1 Request headers")
        return signer, int(nonce)

    async def l2(request: Request) -> tuple[str, Wallet, bytes]:
        h = request.headers
        body = await request.body()
        key, sig, ts, address, passphrase = (h.get("POLY_API_KEY"), h.get("POLY_SIGNATURE"), h.get("POLY_TIMESTAMP"),
                                             h.get("POLY_ADDRESS"), h.get("POLY_PASSPHRASE"))
        known = t.keys.get(key or "")
        if not known or not sig or not ts or not ts.isdigit() or not address:
            raise ClobError(401, "Unauthorized/Invalid api key")
        owner_address, secret, expected_pass = known
        if owner_address.lower() != address.lower() or not hmac.compare_digest(expected_pass, passphrase or ""):
            raise ClobError(401, "Unauthorized/Invalid api key")
        if abs(int(ts) - time.time()) > SKEW_S:
            raise ClobError(401, "Unauthorized/Invalid api key")
        message = f"{ts}{request.method}{request.url.path}" + (body.decode().replace("'", '"') if body else "")
        digest = base64.urlsafe_b64encode(hmac.new(base64.urlsafe_b64decode(secret), message.encode(),
                                                   hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(digest, sig):
            raise ClobError(401, "Unauthorized/Invalid api key")
        return key, t.wallet(owner_address), body  # type: ignore[return-value]

    def creds_for(address: str, nonce: int) -> dict[str, str]:
        api_key, secret, passphrase = ClobTrading.derive(address, nonce)
        with t.lock:
            t.keys[api_key] = (address, secret, passphrase)
            t.wallet(address)
        return {"apiKey": api_key, "secret": secret, "passphrase": passphrase}

    @r.post("/auth/api-key")
    def create_key(request: Request):
        return creds_for(*l1(request))

    @r.get("/auth/derive-api-key")
    def derive_key(request: Request):
        return creds_for(*l1(request))

    def open_order_json(o: Order) -> dict[str, Any]:
        info = t.order_info.get(o.id, {})
        status = {"open": "LIVE", "filled": "MATCHED", "cancelled": "CANCELED", "expired": "CANCELED",
                  "rejected": "CANCELED"}[o.status]
        return {"id": o.id, "status": status, "owner": info.get("owner", ""), "maker_address": info.get("maker", ""),
                "market": info.get("market", ""), "asset_id": o.instrument, "side": o.side.upper(),
                "original_size": f"{o.size:f}", "size_matched": f"{o.filled:f}", "price": f"{o.price:f}",
                "outcome": info.get("outcome", ""), "expiration": str(int(o.expires_at or 0)),
                "order_type": info.get("order_type", "GTC"), "associate_trades": info.get("trades", []),
                "created_at": int(o.created_at)}

    def settle(taker: Order, fills, wallet: Wallet, owner_key: str) -> int:
        """Move money and shares for `fills`; returns the taker's collateral released from its lock."""
        taker_unlocked = 0
        for f in fills:
            maker = t.engine.orders[f.maker_order]
            qty = int((f.size * UNIT).to_integral_value(ROUND_DOWN))
            usdc = int((f.size * f.price * UNIT).to_integral_value(ROUND_DOWN))
            trade_id = str(uuid.uuid4())
            for order, w in ((taker, wallet), (maker, t.wallets.get(t.order_info.get(maker.id, {}).get("maker", "").lower()))):
                if w is None:
                    continue  # the market maker
                if order.side == "buy":
                    limit_cost = int((f.size * order.price * UNIT).to_integral_value(ROUND_DOWN))
                    if order is taker:
                        taker_unlocked += limit_cost
                    w.locked -= limit_cost
                    w.collateral += limit_cost - usdc  # price improvement comes back
                    w.shares[order.instrument] = w.shares.get(order.instrument, 0) + qty
                    w.cost[order.instrument] = w.cost.get(order.instrument, 0) + usdc
                else:
                    w.locked_shares[order.instrument] = w.locked_shares.get(order.instrument, 0) - qty
                    w.collateral += usdc
                    held = w.shares.get(order.instrument, 0) + w.locked_shares.get(order.instrument, 0) + qty
                    if held:
                        w.cost[order.instrument] = w.cost.get(order.instrument, 0) * (held - qty) // held
            for order in (taker, maker):
                t.order_info.setdefault(order.id, {}).setdefault("trades", []).append(trade_id)
            m, i = world.tokens[taker.instrument]
            t.trades.append({
                "id": trade_id, "taker_order_id": taker.id, "market": m["conditionId"], "asset_id": taker.instrument,
                "side": taker.side.upper(), "size": f"{f.size:f}", "fee_rate_bps": "0", "price": f"{f.price:f}",
                "status": "CONFIRMED", "match_time": str(int(f.ts)), "last_update": str(int(f.ts)),
                "outcome": world.listing[m["id"]].outcomes[i], "owner": owner_key, "maker_address": wallet.address,
                "transaction_hash": "0x" + hashlib.sha256(trade_id.encode()).hexdigest(), "bucket_index": 0,
                "type": "TRADE",
                "maker_orders": [{"order_id": maker.id, "owner": t.order_info.get(maker.id, {}).get("owner", MM),
                                  "maker_address": t.order_info.get(maker.id, {}).get("maker", MM),
                                  "matched_amount": f"{f.size:f}", "price": f"{f.price:f}", "fee_rate_bps": "0",
                                  "asset_id": maker.instrument, "outcome": world.listing[m["id"]].outcomes[i],
                                  "side": maker.side.upper()}],
            })
        return taker_unlocked

    @r.post("/order")
    async def post_order(request: Request):
        api_key, wallet, raw = await l2(request)
        try:
            body = json.loads(raw)
            order, owner, order_type = body["order"], body["owner"], body.get("orderType", "GTC")
            post_only = bool(body.get("postOnly", False))
        except (ValueError, KeyError, TypeError):
            raise ClobError(400, "Invalid order payload") from None
        if owner != api_key:
            raise ClobError(400, "the order owner has to be the owner of the API KEY")
        if order_type not in ("GTC", "GTD", "FOK", "FAK"):
            raise ClobError(400, f"invalid order type {order_type}")
        for k in ("timestamp", "metadata", "builder"):
            if k not in order:
                raise ClobError(400, "order_version_mismatch: expected a V2 order")
        token = str(order.get("tokenId"))
        if token not in world.tokens:
            raise ClobError(400, "Invalid token id")
        m, _ = world.tokens[token]
        if not m["active"] or m["closed"]:
            raise ClobError(400, "market is closed")
        exchange = NEG_RISK_EXCHANGE_V2 if m["negRisk"] else EXCHANGE_V2
        try:
            signer = Account.recover_message(encode_typed_data(full_message=_typed_order(order, exchange)),
                                             signature=order["signature"])
        except Exception:
            raise ClobError(400, "invalid order signature") from None
        if signer.lower() != str(order["signer"]).lower():
            raise ClobError(400, "invalid order signature")
        if int(order["signatureType"]) not in (0, 1, 2, 3):
            raise ClobError(400, "invalid signature type")
        if int(order["signatureType"]) == 0 and str(order["maker"]).lower() != signer.lower():
            raise ClobError(400, "maker must be the signer for EOA orders")
        if str(order["maker"]).lower() != wallet.address.lower() and int(order["signatureType"]) == 0:
            raise ClobError(400, "the order maker is not the API key's address")
        side = "buy" if order["side"] == "BUY" else "sell"
        maker_amt, taker_amt = int(order["makerAmount"]), int(order["takerAmount"])
        if maker_amt <= 0 or taker_amt <= 0:
            raise ClobError(400, "invalid amounts")
        shares, usdc = (taker_amt, maker_amt) if side == "buy" else (maker_amt, taker_amt)
        lst = world.listing[m["id"]]
        tick = Decimal(str(lst.tick))
        price = Decimal(usdc) / Decimal(shares)
        snapped = (price / tick).quantize(Decimal(1)) * tick
        if order_type in ("GTC", "GTD") and abs(price - snapped) > Decimal("0.0000001"):
            raise ClobError(400, f"order price {price:.6f} is not on the tick size {lst.tick}")
        if order_type in ("FOK", "FAK"):
            # Market orders carry a price bound that need not sit on the grid: snap to the nearest
            # tick only within float dust, otherwise toward the signer's side (never above a BUY's
            # signed price, never below a SELL's).
            nearest = (price / tick).quantize(Decimal(1)) * tick
            if abs(price - nearest) <= price * Decimal("0.000001"):
                snapped = nearest
            else:
                snapped = (price / tick).to_integral_value(ROUND_FLOOR if side == "buy" else ROUND_CEILING) * tick
        if not tick <= snapped <= 1 - tick:
            raise ClobError(400, f"order price must be between {tick} and {1 - tick}")
        size = Decimal(shares) / UNIT
        if size < Decimal(str(lst.min_size)):
            raise ClobError(400, f"Size ({size}) lower than the minimum: {lst.min_size}")
        expires = None
        if order_type == "GTD":
            expiration = int(order.get("expiration") or 0)
            if expiration < time.time() + 60:
                raise ClobError(400, "invalid expiration: must be at least 60 seconds in the future")
            expires = float(expiration)
        with t.lock:
            t.seed(token)
            if side == "buy":
                # A BUY never locks (or spends) more than the USDC it signed.
                need = min(maker_amt, int((size * snapped * UNIT).to_integral_value(ROUND_CEILING)))
                if wallet.collateral < need:
                    raise ClobError(400, "not enough balance / allowance")
            else:
                need = shares
                if wallet.shares.get(token, 0) < need:
                    raise ClobError(400, "not enough balance / allowance")
            # The order id is the EIP-712 hash of the signed order.
            order_id = "0x" + _hash_eip191_message(encode_typed_data(full_message=_typed_order(order, exchange))).hex().removeprefix("0x")
            if order_id in t.engine.orders:
                raise ClobError(400, "order already exists")
            o = Order(order_id, api_key, token, side, snapped, size,
                      tif={"GTC": "GTC", "GTD": "GTD", "FOK": "FOK", "FAK": "IOC"}[order_type],
                      expires_at=expires, post_only=post_only)
            t.order_info[order_id] = {"owner": api_key, "maker": wallet.address, "market": m["conditionId"],
                                      "outcome": lst.outcomes[world.tokens[token][1]], "order_type": order_type}
            if side == "buy":
                wallet.collateral -= need
                wallet.locked += need
            else:
                wallet.shares[token] -= need
                wallet.locked_shares[token] = wallet.locked_shares.get(token, 0) + need
            try:
                fills = t.engine.submit(o)
            except Rejected as exc:
                if side == "buy":
                    wallet.collateral += need
                    wallet.locked -= need
                else:
                    wallet.shares[token] += need
                    wallet.locked_shares[token] -= need
                del t.order_info[order_id]
                if order_type == "FOK":
                    return {"success": False, "errorMsg": "order couldn't be fully filled. FOK orders are fully filled or killed.",
                            "orderID": order_id, "status": "unmatched", "makingAmount": "0", "takingAmount": "0",
                            "transactionsHashes": [], "tradeIDs": []}
                raise ClobError(400, f"invalid post-only order: {exc.reason}") from None
            unlocked = settle(o, fills, wallet, api_key)
            if o.status != "open":  # what did not rest is released
                left = o.remaining
                if side == "buy":
                    back = need - unlocked
                    wallet.locked -= back
                    wallet.collateral += back
                else:
                    back = int((left * UNIT).to_integral_value(ROUND_DOWN))
                    wallet.locked_shares[token] -= back
                    wallet.shares[token] = wallet.shares.get(token, 0) + back
        matched = o.filled
        cost = sum((f.size * f.price for f in fills), Decimal(0))
        making, taking = (cost, matched) if side == "buy" else (matched, cost)
        trade_ids = t.order_info.get(order_id, {}).get("trades", [])
        status = "matched" if matched > 0 else ("live" if o.status == "open" else "unmatched")
        return {"success": True, "errorMsg": "", "orderID": order_id, "status": status,
                "makingAmount": f"{making.normalize():f}" if making else "0",
                "takingAmount": f"{taking.normalize():f}" if taking else "0",
                "transactionsHashes": ["0x" + hashlib.sha256(tid.encode()).hexdigest() for tid in trade_ids],
                "tradeIDs": trade_ids}

    def _cancel(ids: list[str], api_key: str, wallet: Wallet) -> dict[str, Any]:
        canceled, not_canceled = [], {}
        with t.lock:
            for oid in ids:
                o = t.engine.orders.get(oid)
                if o is None or o.owner != api_key:
                    not_canceled[oid] = "Order not found or already canceled"
                    continue
                if o.status != "open":
                    not_canceled[oid] = "Order not found or already canceled"
                    continue
                t.engine.cancel(oid, api_key)
                if o.side == "buy":
                    back = int((o.remaining * o.price * UNIT).to_integral_value(ROUND_DOWN))
                    wallet.locked -= back
                    wallet.collateral += back
                else:
                    back = int((o.remaining * UNIT).to_integral_value(ROUND_DOWN))
                    wallet.locked_shares[o.instrument] -= back
                    wallet.shares[o.instrument] = wallet.shares.get(o.instrument, 0) + back
                canceled.append(oid)
        return {"canceled": canceled, "not_canceled": not_canceled}

    @r.delete("/order")
    async def cancel_order(request: Request):
        api_key, wallet, raw = await l2(request)
        try:
            oid = json.loads(raw)["orderID"]
        except (ValueError, KeyError, TypeError):
            raise ClobError(400, "Invalid payload: orderID is required") from None
        return _cancel([oid], api_key, wallet)

    @r.delete("/orders")
    async def cancel_orders(request: Request):
        api_key, wallet, raw = await l2(request)
        ids = json.loads(raw or b"[]")
        return _cancel(list(dict.fromkeys(ids)), api_key, wallet)

    @r.get("/data/order/{order_id}")
    async def get_order(order_id: str, request: Request):
        api_key, _, _ = await l2(request)
        t.engine.expire()
        o = t.engine.orders.get(order_id)
        if o is None or o.owner != api_key:
            raise ClobError(404, "order not found")
        return open_order_json(o)

    @r.get("/data/orders")
    async def open_orders(request: Request):
        api_key, _, _ = await l2(request)
        q = request.query_params
        if q.get("next_cursor") == "LTE=":
            return {"data": [], "next_cursor": "LTE=", "limit": 500, "count": 0}
        rows = [open_order_json(o) for o in t.engine.open_orders(api_key)
                if (not q.get("market") or t.order_info.get(o.id, {}).get("market") == q["market"])
                and (not q.get("asset_id") or o.instrument == q["asset_id"]) and (not q.get("id") or o.id == q["id"])]
        return {"data": rows, "next_cursor": "LTE=", "limit": 500, "count": len(rows)}

    @r.get("/data/trades")
    async def trades(request: Request):
        api_key, wallet, _ = await l2(request)
        q = request.query_params
        if q.get("next_cursor") == "LTE=":
            return {"data": [], "next_cursor": "LTE=", "limit": 500, "count": 0}
        me = wallet.address.lower()
        rows = []
        for tr in reversed(t.trades):
            if q.get("market") and tr["market"] != q["market"]:
                continue
            if tr["owner"] == api_key:
                rows.append({**tr, "trader_side": "TAKER"})
            elif any(mo["maker_address"].lower() == me for mo in tr["maker_orders"]):
                rows.append({**tr, "trader_side": "MAKER"})
        return {"data": rows, "next_cursor": "LTE=", "limit": 500, "count": len(rows)}

    def _balance(wallet: Wallet, asset_type: str, token_id: str | None) -> dict[str, Any]:
        if asset_type == "CONDITIONAL":
            bal = wallet.shares.get(token_id or "", 0)
        else:
            bal = wallet.collateral
        return {"balance": str(bal), "allowances": {EXCHANGE_V2: str(2**256 - 1), NEG_RISK_EXCHANGE_V2: str(2**256 - 1)}}

    @r.get("/balance-allowance")
    async def balance(request: Request):
        _, wallet, _ = await l2(request)
        q = request.query_params
        return _balance(wallet, (q.get("asset_type") or "COLLATERAL").upper(), q.get("token_id"))

    @r.get("/balance-allowance/update")
    async def balance_update(request: Request):
        _, wallet, _ = await l2(request)
        q = request.query_params
        return _balance(wallet, (q.get("asset_type") or "COLLATERAL").upper(), q.get("token_id"))

    @r.post("/v1/heartbeats")
    async def heartbeat(request: Request):
        await l2(request)
        return {"heartbeat_id": str(uuid.uuid4())}

    return r


def positions_rows(t: ClobTrading, user: str) -> list[dict[str, Any]]:
    w = t.wallets.get(user.lower())
    if w is None:
        return []
    out = []
    for token in set(w.shares) | set(w.locked_shares):
        units = w.shares.get(token, 0) + w.locked_shares.get(token, 0)
        if units <= 0:
            continue
        m, i = t.world.tokens[token]
        lst = t.world.listing[m["id"]]
        size = units / 10**6
        avg = (w.cost.get(token, 0) / 10**6) / size if size else 0
        out.append({"proxyWallet": w.address, "asset": token, "conditionId": m["conditionId"], "size": size,
                    "avgPrice": round(avg, 6), "initialValue": round(avg * size, 6),
                    "currentValue": round(lst.probs[i] * size, 6), "cashPnl": 0, "curPrice": round(lst.probs[i], 4),
                    "redeemable": False, "mergeable": False, "title": m["question"], "outcome": lst.outcomes[i],
                    "outcomeIndex": i})
    return out


def install(app, world) -> ClobTrading:
    # One venue per world: every CLOB app built on the same world (the three Polymarket hosts of a
    # stack, or several apps in one test process) shares the same books, accounts and trades.
    trading = getattr(world, "trading", None) or ClobTrading(world)
    world.trading = trading
    app.include_router(trading_router(trading))

    @app.exception_handler(ClobError)
    async def _err(_: Request, exc: ClobError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    return trading

