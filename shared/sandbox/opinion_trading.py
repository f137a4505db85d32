"""Sandbox Opinion trading, checking what the venue documents (docs.opinion.trade Open API;
opinion-clob-sdk 0.7.0 as the client it must accept unchanged).

- Auth: the account's static `apikey` header. Accounts are issued by the sandbox (`issue_account`):
  an apikey bound to an EOA and its Safe ("multiSignAddress"), standing in for the venue's sign-up.
- `POST /openapi/order`: tradingMethod 1 (MARKET) or 2 (LIMIT); `sign == signature`; the EIP-712
  signature ("OPINION CTF Exchange"/1/56, verifyingContract = the `ctfExchangeAddress` of the
  body's `currencyAddress`) recovers `signer`, the apikey's EOA; `maker` is its Safe and
  signatureType 2; `topicId` is the market of `tokenId`; LIMIT: price in [0.001, 0.999] and the
  amounts' ratio equals the price exactly; MARKET: takerAmount 0 and price "0". Balances checked.
- `GET /openapi/order[/{orderId}]`, `POST /openapi/order/cancel`, `GET /openapi/trade`,
  `GET /openapi/positions`, `GET /openapi/user/balance`.
Answers `{errno, errmsg, result}`; errors are HTTP 200 with errno != 0. Faucet: 10,000 of each quote
token per account.
"""
from __future__ import annotations

import hashlib
import itertools
import secrets
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import orjson
from eth_account import Account
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import ctf_v1
from .ledger import Ledger, NotEnoughBalance
from .matching import Order, Rejected

DOMAIN = {"name": "OPINION CTF Exchange", "version": "1", "chain_id": 56}
TICK = Decimal("0.001")
ERR_PARAM, ERR_AUTH, ERR_NOT_FOUND, ERR_BALANCE = 10400, 10401, 10404, 10402


class Refused(Exception):
    def __init__(self, errno: int, message: str):
        self.errno, self.message = errno, message


@dataclass(frozen=True)
class OpinionAccount:
    apikey: str
    eoa: str
    safe: str


class OpinionTrading:
    def __init__(self, world, quote_tokens: list[dict[str, Any]]) -> None:
        self.world = world
        self.quotes = {q["quoteTokenAddress"].lower(): q for q in quote_tokens}
        self.ledger = Ledger(Decimal(10_000), self._levels)
        self.accounts: dict[str, OpinionAccount] = {}
        self.token_market: dict[str, tuple[int, int]] = {}  # token -> (market id, 1 yes | 2 no)
        for mid, m in world.binary.items():
            self.token_market[m["yesTokenId"]] = (mid, 1)
            self.token_market[m["noTokenId"]] = (mid, 2)
        self.info: dict[str, dict[str, Any]] = {}  # order id -> wire facts
        self._ids = itertools.count(7_000_001)

    def issue_account(self, eoa: str) -> OpinionAccount:
        safe = Account.from_key(hashlib.sha256(f"sandbox-safe|{eoa.lower()}".encode()).digest()).address
        acct = OpinionAccount("op_" + secrets.token_hex(16), eoa, safe)
        self.accounts[acct.apikey] = acct
        self.ledger.wallet(safe.lower())
        return acct

    def _levels(self, token: str):
        bids, asks = self.world.book(token)
        return ([(float(b["price"]), float(b["size"])) for b in bids], [(float(a["price"]), float(a["size"])) for a in asks])

    def depth(self, token: str):
        live = self.ledger.depth(token)
        if live is None:
            return None
        fmt = lambda rows: [{"price": f"{p:.3f}", "size": f"{s:.2f}"} for p, s in rows]  # noqa: E731
        return fmt(live[0]), fmt(live[1])

    # --- orders ---------------------------------------------------------------------------------------

    def place(self, acct: OpinionAccount, body: dict[str, Any]) -> dict[str, Any]:
        try:
            method, token, topic = int(body["tradingMethod"]), str(body["tokenId"]), int(body["topicId"])
            quote = self.quotes[str(body["currencyAddress"]).lower()]
            maker_amt, taker_amt, price_text = int(body["makerAmount"]), int(body["takerAmount"]), str(body["price"])
        except (KeyError, TypeError, ValueError):
            raise Refused(ERR_PARAM, "invalid order parameters") from None
        if method not in (1, 2):
            raise Refused(ERR_PARAM, "tradingMethod must be 1 (market) or 2 (limit)")
        if body.get("sign") != body.get("signature"):
            raise Refused(ERR_PARAM, "sign and signature differ")
        if self.token_market.get(token, (None,))[0] != topic:
            raise Refused(ERR_PARAM, "tokenId does not belong to topicId")
        market = self.world.binary[topic]
        if market["status"] != 2 or market["quoteToken"].lower() != quote["quoteTokenAddress"].lower():
            raise Refused(ERR_PARAM, "market is not open or uses another quote token")
        try:
            signer = ctf_v1.recover(body, str(body["signature"]), **DOMAIN, exchange=quote["ctfExchangeAddress"])
        except ctf_v1.BadSignature:
            raise Refused(ERR_PARAM, "invalid signature") from None
        if signer != body["signer"] or signer.lower() != acct.eoa.lower():
            raise Refused(ERR_AUTH, "signer is not the apikey's wallet")
        if str(body["maker"]).lower() != acct.safe.lower() or str(body["signatureType"]) != "2":
            raise Refused(ERR_PARAM, "maker must be the account's Safe with signatureType 2")
        side = "buy" if str(body["side"]) == "0" else "sell"
        scale = Decimal(10) ** int(quote["decimal"])
        if method == 2:
            price = Decimal(price_text)
            if not TICK <= price <= 1 - TICK:
                raise Refused(ERR_PARAM, "price must be within [0.001, 0.999]")
            ratio = Fraction(maker_amt, taker_amt) if side == "buy" else Fraction(taker_amt, maker_amt)
            if ratio != Fraction(price_text):
                raise Refused(ERR_PARAM, "makerAmount/takerAmount does not equal price")
            shares = Decimal(taker_amt if side == "buy" else maker_amt) / scale
            tif = "GTC"
        else:
            if taker_amt != 0 or price_text != "0":
                raise Refused(ERR_PARAM, "market orders carry takerAmount 0 and price 0")
            if side == "buy":
                shares, price = self.ledger.market_buy_size(token, Decimal(maker_amt) / scale)
            else:
                shares, price = Decimal(maker_amt) / scale, TICK
            tif = "IOC"
        order_id = str(next(self._ids))
        o = Order(order_id, acct.safe.lower(), token, side, price or TICK, shares, tif=tif)  # type: ignore[arg-type]
        self.info[order_id] = {"method": method, "price": price_text, "topic": topic, "quote": quote}
        try:
            if shares <= 0:
                raise Rejected("no liquidity for this market order")
            self.ledger.place(o)
        except NotEnoughBalance:
            del self.info[order_id]
            raise Refused(ERR_BALANCE, "insufficient balance") from None
        except Rejected as exc:
            del self.info[order_id]
            raise Refused(ERR_PARAM, exc.reason) from None
        return {"orderData": {"orderId": order_id, "status": self.row(order_id)["status"], "topicId": topic,
                              "price": price_text, "side": 1 if side == "buy" else 2, "tradingMethod": method,
                              "createdAt": int(o.created_at)}}

    def row(self, order_id: str) -> dict[str, Any]:
        o = self.ledger.engine.orders[order_id]
        info = self.info[order_id]
        mid, outcome_side = self.token_market[o.instrument]
        status = {"open": 1, "filled": 2, "cancelled": 3, "expired": 4, "rejected": 5}[o.status]
        fills = [f for f in self.ledger.fills if order_id in (f.taker_order, f.maker_order)]
        return {"orderId": order_id, "status": status, "statusEnum": ["", "Pending", "Finished", "Canceled", "Expired",
                                                                       "Failed"][status],
                "marketId": mid, "marketTitle": self.world.binary[mid]["marketTitle"], "side": 1 if o.side == "buy" else 2,
                "sideEnum": "Buy" if o.side == "buy" else "Sell", "outcomeSide": outcome_side,
                "outcome": "Yes" if outcome_side == 1 else "No", "price": info["price"],
                "orderShares": f"{o.size:f}", "filledShares": f"{o.filled:f}",
                "orderAmount": f"{o.size * o.price:f}", "filledAmount": f"{sum(f.size * f.price for f in fills):f}",
                "tradingMethod": info["method"], "createdAt": int(o.created_at), "expiresAt": 0,
                "quoteToken": info["quote"]["quoteTokenAddress"],
                "trades": [self.trade(f, order_id) for f in fills]}

    def trade(self, f, order_id: str) -> dict[str, Any]:
        o = self.ledger.engine.orders[order_id]
        mid, outcome_side = self.token_market[f.instrument]
        return {"tradeNo": f"{f.id}-{order_id}", "orderNo": order_id, "txHash": "0x" + hashlib.sha256(f.id.encode()).hexdigest(),
                "marketId": mid, "side": "Buy" if o.side == "buy" else "Sell", "outcomeSide": outcome_side,
                "outcome": "Yes" if outcome_side == 1 else "No", "price": f"{f.price:f}", "shares": f"{f.size:f}",
                "amount": f"{f.size * f.price:f}", "feeFormatted": "0", "status": 2, "createdAt": int(f.ts),
                "chainId": "56"}


def _ok(result: Any) -> Response:
    return Response(orjson.dumps({"errno": 0, "errmsg": "", "result": result}), media_type="application/json")


def _fail(errno: int, message: str) -> Response:
    return Response(orjson.dumps({"errno": errno, "errmsg": message, "result": None}), media_type="application/json")


def routes(t: OpinionTrading) -> list[Route]:
    def handler(fn):
        async def run(request: Request) -> Response:
            acct = t.accounts.get(request.headers.get("apikey") or "")
            if acct is None:
                return _fail(ERR_AUTH, "invalid apikey: unauthorized")
            try:
                with t.ledger.lock:
                    return _ok(await fn(request, acct))
            except Refused as exc:
                return _fail(exc.errno, exc.message)
        return run

    async def place(request: Request, acct: OpinionAccount):
        try:
            body = orjson.loads(await request.body())
        except ValueError:
            raise Refused(ERR_PARAM, "invalid JSON body") from None
        return t.place(acct, body)

    def mine(acct: OpinionAccount) -> list[str]:
        return [oid for oid in t.info if t.ledger.engine.orders[oid].owner == acct.safe.lower()]

    async def one(request: Request, acct: OpinionAccount):
        oid = request.path_params["order_id"]
        if oid not in t.info or oid not in mine(acct):
            raise Refused(ERR_NOT_FOUND, f"order {oid} not found")
        return {"orderData": t.row(oid)}

    def _page(request: Request, rows: list[Any]) -> dict[str, Any]:
        q = request.query_params
        limit, page = int(q.get("limit") or 10), int(q.get("page") or 1)
        if not 1 <= limit <= 20 or page < 1:
            raise Refused(ERR_PARAM, "limit must be 1..20 and page >= 1")
        return {"total": len(rows), "list": rows[(page - 1) * limit: page * limit]}

    async def orders(request: Request, acct: OpinionAccount):
        q = request.query_params
        t.ledger.engine.expire()
        rows = [t.row(oid) for oid in reversed(mine(acct))]
        if q.get("marketId"):
            rows = [r for r in rows if str(r["marketId"]) == q["marketId"]]
        if q.get("status"):
            wanted = {int(s) for s in q["status"].split(",") if s.strip().isdigit()}
            rows = [r for r in rows if r["status"] in wanted]
        return _page(request, rows)

    async def cancel(request: Request, acct: OpinionAccount):
        try:
            oid = str(orjson.loads(await request.body())["orderId"])
        except (ValueError, KeyError, TypeError):
            raise Refused(ERR_PARAM, "orderId is required") from None
        try:
            o = t.ledger.cancel(oid, acct.safe.lower())
        except KeyError:
            raise Refused(ERR_NOT_FOUND, f"order {oid} not found") from None
        if o.status != "cancelled":
            raise Refused(ERR_PARAM, "order is not pending")
        return {}

    async def trades(request: Request, acct: OpinionAccount):
        rows = []
        for f in reversed(t.ledger.fills_for(acct.safe.lower())):
            for oid in (f.taker_order, f.maker_order):
                if oid in t.info and t.ledger.engine.orders[oid].owner == acct.safe.lower():
                    rows.append(t.trade(f, oid))
        q = request.query_params
        if q.get("marketId"):
            rows = [r for r in rows if str(r["marketId"]) == q["marketId"]]
        return _page(request, rows)

    async def positions(request: Request, acct: OpinionAccount):
        w = t.ledger.wallet(acct.safe.lower())
        rows = []
        for token in sorted(set(w.shares) | set(w.locked_shares)):
            held = w.held(token)
            if held <= 0:
                continue
            mid, outcome_side = t.token_market[token]
            tok = t.world.tokens[token]
            p = Decimal(str(tok.prob if tok.is_yes else 1 - tok.prob))
            rows.append({"marketId": mid, "marketTitle": t.world.binary[mid]["marketTitle"], "tokenId": token,
                         "outcomeSide": outcome_side, "outcome": "Yes" if outcome_side == 1 else "No",
                         "sharesOwned": f"{held:f}", "sharesFrozen": f"{w.locked_shares.get(token, Decimal(0)):f}",
                         "avgEntryPrice": f"{w.cost.get(token, Decimal(0)) / held:.6f}",
                         "currentValueInQuoteToken": f"{held * p:.6f}", "quoteToken": t.world.binary[mid]["quoteToken"]})
        q = request.query_params
        if q.get("marketId"):
            rows = [r for r in rows if str(r["marketId"]) == q["marketId"]]
        return _page(request, rows)

    async def balance(request: Request, acct: OpinionAccount):
        w = t.ledger.wallet(acct.safe.lower())
        return {"walletAddress": acct.eoa, "multiSignAddress": acct.safe, "chainId": "56",
                "balances": [{"quoteToken": q["quoteTokenAddress"], "tokenDecimals": q["decimal"],
                              "totalBalance": f"{w.cash + w.locked:f}", "availableBalance": f"{w.cash:f}",
                              "frozenBalance": f"{w.locked:f}"} for q in t.quotes.values()]}

    return [Route("/openapi/order", handler(place), methods=["POST"]), Route("/openapi/order", handler(orders)),
            Route("/openapi/order/cancel", handler(cancel), methods=["POST"]),
            Route("/openapi/order/{order_id}", handler(one)), Route("/openapi/trade", handler(trades)),
            Route("/openapi/positions", handler(positions)), Route("/openapi/user/balance", handler(balance))]

