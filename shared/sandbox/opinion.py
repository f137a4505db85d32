"""Sandbox Opinion: the Open API market-data endpoints (`/openapi/...`) over the sandbox universe.

Wire rules it keeps (see exchange-protocols.md §4, §7.4):
- every call needs the static `apikey` header; a missing or unknown key is an error envelope;
- every answer is `{errno, errmsg, result}`; errors are HTTP 200 with `errno != 0` (what the SDK
  checks); lists are `result.list` + `result.total` with `page`/`limit` (limit at most 20);
- market ids are integers, token ids uint256 decimal strings; prices and sizes are decimal strings;
- books are per token, bids descending and asks ascending, timestamp in ms;
- price history is `{history: [{t (s), p}]}`.
Listings sharing an `event_key` form one categorical market whose children are binary markets; a
head-to-head listing is a categorical market with one child per side.

Independent of pmrouter on purpose: it must not import it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .universe import Listing, Universe, book, dec_token, hex32, price_path, small_int

VENUE = "opinion"
TICK = 0.001
MAX_LIMIT = 20
USDT = "0x55d398326f99059fF775485246999027B3197955"
CTF_EXCHANGE = "0x5F45344126D6488025B0b84A3A8189F2487a7246"
QUOTE_TOKENS = [{"id": 1, "quoteTokenName": "USDT", "quoteTokenAddress": USDT, "ctfExchangeAddress": CTF_EXCHANGE,
                 "decimal": 18, "symbol": "USDT", "chainId": "56", "createdAt": 1735689600}]

ERR_PARAM = 10400
ERR_AUTH = 10401
ERR_NOT_FOUND = 10404

STATUS = {"active": (2, "Activated"), "resolved": (4, "Resolved"), "closed": (3, "Resolving")}
# The SDK documents 1m|1h|1d|1w|max, but only 1h and 1d are confirmed honoured by the live venue:
# the sandbox serves exactly those, so an adapter asking for more fails here as it would there.
HISTORY_STEP = {"1h": 3600, "1d": 86400}


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def ok(result: Any) -> JSON:
    return JSON({"errno": 0, "errmsg": "", "result": result})


def fail(errno: int, errmsg: str) -> JSON:
    return JSON({"errno": errno, "errmsg": errmsg, "result": None})


def _fmt(x: float, dp: int = 3) -> str:
    return f"{x:.{dp}f}"


@dataclass
class Token:
    key: str  # listing key (universe question key)
    index: int  # outcome index used for universe.book / price_path of the YES side
    prob: float  # YES probability of this binary market
    is_yes: bool
    condition_id: str
    tick: float
    min_size: float
    end: Any


class OpinionWorld:
    def __init__(self, universe: Universe):
        self.universe = universe
        self.rows: list[dict[str, Any]] = []  # top-level list rows, in listing order
        self.binary: dict[int, dict[str, Any]] = {}  # binary markets and categorical children
        self.categorical: dict[int, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self._books: dict[str, tuple[list[dict[str, str]], list[dict[str, str]]]] = {}
        self._history: dict[str, list[tuple[int, float]]] = {}
        self._build()

    # --- catalog ----------------------------------------------------------------------------------

    def _binary(self, market_id: int, title: str, listing: Listing, prob: float, index: int,
                token_parts: tuple[Any, ...], volume: float) -> dict[str, Any]:
        q = listing.question
        code, label = STATUS.get(q.status, STATUS["closed"])
        yes_token = dec_token(listing.key, VENUE, *token_parts, "yes")
        no_token = dec_token(listing.key, VENUE, *token_parts, "no")
        condition = hex32(listing.key, VENUE, *token_parts, "condition")
        for tok, is_yes in ((yes_token, True), (no_token, False)):
            self.tokens[tok] = Token(listing.key, index, prob, is_yes, condition, listing.tick, listing.min_size, q.end)
        end_s = int(q.end.timestamp())
        now_s = int(self.universe.now.timestamp())
        created = min(now_s - 86400 * small_int(listing.key, VENUE, "age", lo=5, hi=120), end_s - 7 * 86400)
        result_token = ""
        if q.status == "resolved":
            result_token = yes_token if prob >= 0.5 else no_token
        return {
            "marketId": market_id,
            "marketTitle": title,
            "status": code,
            "statusEnum": label,
            "marketType": 0,
            "yesLabel": "Yes",
            "noLabel": "No",
            "rules": q.description,
            "yesTokenId": yes_token,
            "noTokenId": no_token,
            "conditionId": condition,
            "resultTokenId": result_token,
            "volume": _fmt(volume, 2),
            "volume24h": _fmt(volume * small_int(listing.key, VENUE, "v24", lo=5, hi=80) / 1000, 2),
            "volume7d": _fmt(volume * small_int(listing.key, VENUE, "v7", lo=80, hi=300) / 1000, 2),
            "quoteToken": USDT,
            "chainId": "56",
            "questionId": hex32(listing.key, VENUE, *token_parts, "question"),
            "createdAt": created,
            "cutoffAt": end_s,
            "resolvedAt": end_s + 3600 if q.status == "resolved" else 0,
            "thumbnailUrl": f"https://static.opinion.trade/sandbox/{listing.key}.png",
        }

    def _parent(self, market_id: int, title: str, rules: str, children: list[dict[str, Any]],
                end_s: int) -> dict[str, Any]:
        codes = {c["status"] for c in children}
        code, label = (2, "Activated") if 2 in codes else ((4, "Resolved") if codes == {4} else (3, "Resolving"))
        volume = sum(float(c["volume"]) for c in children)
        return {
            "marketId": market_id,
            "marketTitle": title,
            "status": code,
            "statusEnum": label,
            "marketType": 1,
            "childMarkets": children,
            "yesLabel": "",
            "noLabel": "",
            "rules": rules,
            "yesTokenId": "",
            "noTokenId": "",
            "conditionId": "",
            "resultTokenId": "",
            "volume": _fmt(volume, 2),
            "volume24h": _fmt(sum(float(c["volume24h"]) for c in children), 2),
            "volume7d": _fmt(sum(float(c["volume7d"]) for c in children), 2),
            "quoteToken": USDT,
            "chainId": "56",
            "questionId": "",
            "createdAt": min(c["createdAt"] for c in children),
            "cutoffAt": end_s,
            "resolvedAt": 0,
            "thumbnailUrl": "",
        }

    def _build(self) -> None:
        events: dict[str, dict[str, Any]] = {}
        for listing in self.universe.venue_listings(VENUE):
            q = listing.question
            if listing.categorical:
                parent_id = small_int(listing.key, "op")
                children = []
                for i, side in enumerate(listing.outcomes):
                    child = self._binary(small_int(listing.key, "op", side), side, listing, listing.probs[i], i,
                                         (side,), listing.volume * listing.probs[i])
                    children.append(child)
                    self.binary[child["marketId"]] = child
                parent = self._parent(parent_id, listing.title, q.description, children, int(q.end.timestamp()))
                self.rows.append(parent)
                self.categorical[parent_id] = parent
            elif listing.event_key:
                child = self._binary(small_int(listing.key, "op"), q.candidate or listing.title, listing,
                                     listing.probs[0], 0, (), listing.volume)
                self.binary[child["marketId"]] = child
                parent = events.get(listing.event_key)
                if parent is None:
                    parent_id = small_int(listing.event_key, "op-event")
                    parent = self._parent(parent_id, q.event_title or listing.event_key,
                                          f"{q.event_title} Resolves to the option that happens.", [child],
                                          int(q.end.timestamp()))
                    events[listing.event_key] = parent
                    self.rows.append(parent)
                    self.categorical[parent_id] = parent
                else:
                    parent["childMarkets"].append(child)
                    refreshed = self._parent(parent["marketId"], parent["marketTitle"], parent["rules"],
                                             parent["childMarkets"], parent["cutoffAt"])
                    parent.update(refreshed)
            else:
                row = self._binary(small_int(listing.key, "op"), listing.title, listing, listing.probs[0], 0, (),
                                   listing.volume)
                self.rows.append(row)
                self.binary[row["marketId"]] = row

    # --- books and history ------------------------------------------------------------------------

    def book(self, token_id: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        cached = self._books.get(token_id)
        if cached is not None:
            return cached
        tok = self.tokens[token_id]
        bids, asks = book(tok.key, VENUE, tok.index, tok.prob, tok.tick, tok.min_size)
        if not tok.is_yes:
            # One CLOB per condition: a NO bid at q is a YES ask at 1 - q, and vice versa.
            bids, asks = [(1 - p, s) for p, s in asks], [(1 - p, s) for p, s in bids]
        rendered = ([{"price": _fmt(p), "size": _fmt(s, 2)} for p, s in bids],
                    [{"price": _fmt(p), "size": _fmt(s, 2)} for p, s in asks])
        self._books[token_id] = rendered
        return rendered

    def history(self, token_id: str) -> list[tuple[int, float]]:
        cached = self._history.get(token_id)
        if cached is not None:
            return cached
        tok = self.tokens[token_id]
        path = price_path(tok.key, VENUE, tok.index, tok.prob, self.universe.now)
        if not tok.is_yes:
            path = [(t, round(1 - p, 4)) for t, p in path]
        self._history[token_id] = path
        return path


def _int_param(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return int(raw)  # ValueError handled by the caller


def create_app(universe: Universe, api_key: str | None = None) -> Starlette:
    """The Opinion simulator. With `api_key` set only that key is accepted; without it any
    non-empty `apikey` header passes (the header itself is always required)."""
    from .opinion_trading import OpinionTrading, routes as trading_routes

    world = OpinionWorld(universe)
    trading = world.trading = OpinionTrading(world, QUOTE_TOKENS)

    def denied(request: Request) -> JSON | None:
        key = request.headers.get("apikey")  # pmrouter's platform key, or a trading account's own
        if not key or (api_key is not None and key != api_key and key not in trading.accounts):
            return fail(ERR_AUTH, "invalid apikey: unauthorized")
        return None

    async def markets(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        try:
            page = _int_param(request, "page", 1)
            limit = _int_param(request, "limit", 10)
            market_type = _int_param(request, "marketType", 0)
        except ValueError:
            return fail(ERR_PARAM, "page, limit and marketType must be integers")
        if page is None or page < 1:
            return fail(ERR_PARAM, "page must be >= 1")
        if limit is None or not 1 <= limit <= MAX_LIMIT:
            return fail(ERR_PARAM, f"limit must be between 1 and {MAX_LIMIT}")
        if market_type not in (0, 1, 2):
            return fail(ERR_PARAM, "marketType must be 0, 1 or 2")
        status = request.query_params.get("status")
        if status not in (None, "", "activated", "resolved"):
            return fail(ERR_PARAM, "status must be activated or resolved")
        chain = request.query_params.get("chainId")
        rows = world.rows if chain in (None, "", "56") else []
        if market_type != 2:
            rows = [r for r in rows if r["marketType"] == market_type]
        if status == "activated":
            rows = [r for r in rows if r["status"] == 2]
        elif status == "resolved":
            rows = [r for r in rows if r["status"] == 4]
        lo = (page - 1) * limit
        return ok({"total": len(rows), "list": rows[lo:lo + limit]})

    def _market_id(request: Request) -> int | None:
        raw = request.path_params["market_id"]
        return int(raw) if raw.isdigit() else None

    async def market(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        mid = _market_id(request)
        if mid is None:
            return fail(ERR_PARAM, "marketId must be an integer")
        row = world.binary.get(mid)
        if row is None:
            return fail(ERR_NOT_FOUND, f"market {mid} not found")
        return ok({"data": row})

    async def categorical(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        mid = _market_id(request)
        if mid is None:
            return fail(ERR_PARAM, "marketId must be an integer")
        row = world.categorical.get(mid)
        if row is None:
            return fail(ERR_NOT_FOUND, f"categorical market {mid} not found")
        return ok({"data": row})

    def _token(request: Request) -> tuple[str | None, JSON | None]:
        token = request.query_params.get("token_id") or ""
        if not token:
            return None, fail(ERR_PARAM, "token_id is required")
        if token not in world.tokens:
            return None, fail(ERR_NOT_FOUND, f"token {token} not found")
        return token, None

    async def orderbook(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        token, err = _token(request)
        if err is not None:
            return err
        bids, asks = trading.depth(token) or world.book(token)  # the matching engine's once it traded
        return ok({"market": world.tokens[token].condition_id, "tokenId": token,
                   "timestamp": int(time.time() * 1000), "bids": bids, "asks": asks})

    async def latest_price(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        token, err = _token(request)
        if err is not None:
            return err
        t, p = world.history(token)[-1]
        return ok({"tokenId": token, "price": _fmt(p, 4), "side": "BUY", "size": "10.00", "timestamp": t * 1000})

    async def price_history(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        token, err = _token(request)
        if err is not None:
            return err
        interval = request.query_params.get("interval") or "1d"
        if interval not in HISTORY_STEP:
            return fail(ERR_PARAM, "interval must be one of 1h, 1d")
        try:
            start = _int_param(request, "start_at")
            end = _int_param(request, "end_at")
        except ValueError:
            return fail(ERR_PARAM, "start_at and end_at must be Unix seconds")
        points = world.history(token)
        points = [(t, p) for t, p in points if (start is None or t >= start) and (end is None or t <= end)]
        step = HISTORY_STEP[interval]
        if step:
            last: dict[int, tuple[int, float]] = {}
            for t, p in points:
                last[t - t % step] = (t, p)
            points = [last[k] for k in sorted(last)]
        return ok({"history": [{"t": t, "p": _fmt(p, 4)} for t, p in points]})

    async def quote_tokens(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        return ok({"total": len(QUOTE_TOKENS), "list": QUOTE_TOKENS})

    routes = [
        Route("/openapi/market", markets),
        Route("/openapi/market/categorical/{market_id}", categorical),
        Route("/openapi/market/{market_id}", market),
        Route("/openapi/token/orderbook", orderbook),
        Route("/openapi/token/latest-price", latest_price),
        Route("/openapi/token/price-history", price_history),
        Route("/openapi/quoteToken", quote_tokens),
        *trading_routes(trading),
    ]
    from .faults import with_faults

    app = Starlette(routes=routes)
    app.state.world = world
    return with_faults(app, lambda status: {"errno": status, "errmsg": "sandbox fault", "result": None})
