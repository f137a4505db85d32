"""Sandbox Predict.fun: the `/v1` market-data endpoints over the sandbox universe.

Wire rules it keeps (exchange-protocols.md §5, §7.5; dev.predict.fun):
- `x-api-key` is required on every call (mainnet behaviour); a missing or unknown key is 401;
- answers are `{success, data}` (lists add `cursor`, null on the last page), errors
  `{success: false, message}` with a 4xx status; lists page with `first` + `after`;
- markets have integer ids, outcomes `[{name, indexSet, onChainId, status}]`, `feeRateBps`,
  `decimalPrecision` (2 -> 0.01 tick), `isNegRisk`, `isYieldBearing`, `categorySlug`;
- one order book per market, YES (indexSet 1) side, `[price, shares]` numbers, best first;
- order match events (`/v1/orders/matches`) newest first, with wei strings and ISO `executedAt`;
- `/v1/markets/{id}/timeseries?metric=chance&resolution=1m|5m|1h|1d&from&to`: the first outcome's
  chance in PERCENT sampled at that resolution, `{resolution, series: [{x: Unix s, y}]}`.
Listings sharing an `event_key` share a neg-risk category; every other listing has a category of
its own. A two-named-outcome listing is one market whose outcomes carry the names.

Independent of pmrouter on purpose: it must not import it.
"""
from __future__ import annotations

import base64
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .universe import Listing, Universe, book, dec_token, hex32, price_path, small_int, tape

VENUE = "predictfun"
MAX_FIRST = 100
DEFAULT_FIRST = 10
FEE_BPS = 200
WEI = Decimal(10) ** 18


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def ok(data: Any, cursor: str | None | bool = False) -> JSON:
    body: dict[str, Any] = {"success": True, "data": data}
    if cursor is not False:
        body["cursor"] = cursor
    return JSON(body)


def fail(status: int, message: str) -> JSON:
    return JSON({"success": False, "message": message}, status_code=status)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def wei(x: float) -> str:
    return str(int((Decimal(repr(x)) * WEI).to_integral_value()))


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        kind, _, num = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        return int(num) if kind == "offset" and int(num) >= 0 else None
    except (ValueError, UnicodeDecodeError):
        return None


def signer(*parts: Any) -> str:
    return "0x" + hex32(*parts)[2:42]


class PredictWorld:
    def __init__(self, universe: Universe):
        self.universe = universe
        self.listings: dict[int, Listing] = {}
        self.markets: dict[int, dict[str, Any]] = {}
        self.order: list[int] = []
        self.categories: dict[str, dict[str, Any]] = {}
        self.category_order: list[str] = []
        self._books: dict[int, dict[str, list[list[float]]]] = {}
        self._matches: dict[int, list[dict[str, Any]]] = {}
        self._all_matches: list[dict[str, Any]] | None = None
        self._build()

    def _market(self, listing: Listing) -> dict[str, Any]:
        q = listing.question
        mid = small_int(listing.key, "pf")
        slug = listing.event_key or listing.key
        outcomes = [{"name": name, "indexSet": i + 1, "onChainId": dec_token(listing.key, VENUE, i), "status": None}
                    for i, name in enumerate(listing.outcomes)]
        status, trading, resolution = "REGISTERED", "OPEN", None
        if q.status == "resolved":
            won = 0 if listing.probs[0] >= 0.5 else 1
            for i, o in enumerate(outcomes):
                o["status"] = "WON" if i == won else "LOST"
            status, trading, resolution = "RESOLVED", "CLOSED", dict(outcomes[won])
        elif q.status != "active":
            status, trading = "PRICE_PROPOSED", "CLOSED"
        created = min(self.universe.now - timedelta(days=small_int(listing.key, VENUE, "age", lo=5, hi=120)),
                      q.end - timedelta(days=7))
        candidate = getattr(q, "candidate", None)
        return {
            "id": mid,
            "imageUrl": f"https://static.predict.fun/sandbox/{listing.key}.png",
            "title": candidate or listing.title,
            "question": listing.title,
            "description": q.description,
            "status": status,
            "tradingStatus": trading,
            "isNegRisk": bool(listing.event_key),
            "isYieldBearing": small_int(listing.key, VENUE, "yb", lo=0, hi=2) == 1,
            "feeRateBps": FEE_BPS,
            "resolution": resolution,
            "oracleQuestionId": hex32(listing.key, VENUE, "oracle"),
            "conditionId": hex32(listing.key, VENUE, "condition"),
            "resolverAddress": signer(listing.key, VENUE, "resolver"),
            "outcomes": outcomes,
            "questionIndex": None,
            "spreadThreshold": 0.06,
            "shareThreshold": 100,
            "polymarketConditionIds": [],
            "kalshiMarketTicker": None,
            "categorySlug": slug,
            "createdAt": iso(created),
            "decimalPrecision": 3 if listing.tick < 0.01 else 2,
        }

    def _build(self) -> None:
        for listing in self.universe.venue_listings(VENUE):
            market = self._market(listing)
            mid = market["id"]
            self.listings[mid] = listing
            self.markets[mid] = market
            self.order.append(mid)
            q = listing.question
            slug = market["categorySlug"]
            cat = self.categories.get(slug)
            if cat is None:
                cat = {
                    "id": small_int(slug, VENUE, "category"),
                    "slug": slug,
                    "title": (q.event_title if listing.event_key else listing.title) or listing.title,
                    "description": q.description,
                    "imageUrl": market["imageUrl"],
                    "isNegRisk": market["isNegRisk"],
                    "isYieldBearing": market["isYieldBearing"],
                    "marketVariant": "DEFAULT",
                    "createdAt": market["createdAt"],
                    "publishedAt": market["createdAt"],
                    "markets": [],
                    "startsAt": market["createdAt"],
                    "endsAt": iso(q.end),
                    "status": "OPEN",
                    "tags": [{"id": str(small_int(q.topic, VENUE, "tag")), "name": q.topic.capitalize()}],
                }
                self.categories[slug] = cat
                self.category_order.append(slug)
            cat["markets"].append(market)
            if all(m["status"] == "RESOLVED" for m in cat["markets"]):
                cat["status"] = "RESOLVED"
            else:
                cat["status"] = "OPEN"

    def book(self, mid: int) -> dict[str, list[list[float]]]:
        cached = self._books.get(mid)
        if cached is None:
            listing = self.listings[mid]
            bids, asks = book(listing.key, VENUE, 0, listing.probs[0], listing.tick, listing.min_size)
            cached = {"bids": [[p, s] for p, s in bids], "asks": [[p, s] for p, s in asks]}
            self._books[mid] = cached
        return cached

    def chance(self, mid: int, step: int, start: int, end: int) -> list[dict[str, Any]]:
        """The first outcome's chance in percent, one sample per `step` seconds (hourly path held)."""
        listing = self.listings[mid]
        path = price_path(listing.key, VENUE, 0, listing.probs[0], self.universe.now)
        out: list[dict[str, Any]] = []
        for t, p in path:
            for x in range(t - t % step, t + 3600, step) if step < 3600 else (t,):
                if start <= x <= end and (step < 3600 or x % step == 0):
                    out.append({"x": x, "y": round(p * 100, 2)})
        return out

    def matches(self, mid: int) -> list[dict[str, Any]]:
        cached = self._matches.get(mid)
        if cached is not None:
            return cached
        listing = self.listings[mid]
        market = self.markets[mid]
        rows = []
        for tr in tape(listing.key, VENUE, listing.probs, self.universe.now, listing.tick):
            outcome = market["outcomes"][tr.outcome_index]
            buy = tr.taker_side == "buy"
            price, amount = wei(tr.price), wei(tr.size)
            rows.append({
                "market": market,
                "taker": {"quoteType": "Bid" if buy else "Ask", "amount": amount, "price": price,
                          "outcome": outcome, "signer": signer(tr.trade_id, "taker")},
                "amountFilled": amount,
                "priceExecuted": price,
                "makers": [{"quoteType": "Ask" if buy else "Bid", "amount": amount, "price": price,
                            "outcome": outcome, "signer": signer(tr.trade_id, "maker")}],
                "transactionHash": hex32(tr.trade_id, VENUE, "tx"),
                "executedAt": iso(datetime.fromtimestamp(tr.ts, tz=timezone.utc)),
                "_ts": tr.ts,
            })
        self._matches[mid] = rows
        return rows

    def all_matches(self) -> list[dict[str, Any]]:
        if self._all_matches is None:
            merged = [row for mid in self.order for row in self.matches(mid)]
            merged.sort(key=lambda r: -r["_ts"])
            self._all_matches = merged
        return self._all_matches


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def create_app(universe: Universe, api_key: str | None = None) -> Starlette:
    """The Predict.fun simulator. With `api_key` set only that key is accepted; without it any
    non-empty `x-api-key` passes (the header itself is always required, as on mainnet)."""
    from .predictfun_trading import PredictTrading, routes as trading_routes, user_matches

    world = PredictWorld(universe)
    trading = world.trading = PredictTrading(world)

    def denied(request: Request) -> JSON | None:
        key = request.headers.get("x-api-key")
        if not key or (api_key is not None and key != api_key):
            return fail(401, "Unauthorized: missing or invalid x-api-key")
        return None

    def paging(request: Request) -> tuple[int, int] | JSON:
        raw = request.query_params.get("first")
        try:
            first = int(raw) if raw not in (None, "") else DEFAULT_FIRST
        except ValueError:
            return fail(400, "Invalid query: first must be a number")
        if first < 1:
            return fail(400, "Invalid query: first must be positive")
        offset = decode_cursor(request.query_params.get("after"))
        if offset is None:
            return fail(400, "Invalid query: malformed cursor")
        return min(first, MAX_FIRST), offset

    def page(rows: list[Any], first: int, offset: int) -> tuple[list[Any], str | None]:
        chunk = rows[offset:offset + first]
        nxt = offset + len(chunk)
        return chunk, (encode_cursor(nxt) if chunk and nxt < len(rows) else None)

    def market_id(request: Request) -> int | JSON:
        raw = request.path_params["market_id"]
        if not raw.isdigit():
            return fail(400, f"Invalid id: expected a number, got {raw!r}")
        mid = int(raw)
        if mid not in world.markets:
            return fail(404, f"Market {mid} not found")
        return mid

    async def timeseries(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        mid = market_id(request)
        if isinstance(mid, JSON):
            return mid
        q = request.query_params
        steps = {"1m": 60, "5m": 300, "1h": 3600, "1d": 86400}
        if q.get("metric", "chance") != "chance" or q.get("resolution", "1h") not in steps:
            return fail(400, "Invalid query: metric must be chance, resolution one of 1m, 5m, 1h, 1d")
        now = int(time.time())
        try:
            start, end = int(q.get("from") or now - 7 * 86400), int(q.get("to") or now)
        except ValueError:
            return fail(400, "Invalid query: from and to are Unix seconds")
        resolution = q.get("resolution", "1h")
        return ok({"resolution": resolution, "series": world.chance(mid, steps[resolution], start, end)}, None)

    async def markets(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        paged = paging(request)
        if isinstance(paged, JSON):
            return paged
        chunk, cursor = page(world.order, *paged)
        return ok([world.markets[m] for m in chunk], cursor)

    async def market(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        mid = market_id(request)
        return mid if isinstance(mid, JSON) else ok(world.markets[mid])

    async def orderbook(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        mid = market_id(request)
        if isinstance(mid, JSON):
            return mid
        levels = world.book(mid)
        live = trading.yes_depth(mid)  # once orders traded here, the matching engine's book
        if live is not None:
            levels = {"bids": [[p, q] for p, q in live[0]], "asks": [[p, q] for p, q in live[1]]}
        return ok({"marketId": mid, "updateTimestampMs": int(time.time() * 1000),
                   "asks": levels["asks"], "bids": levels["bids"]})

    async def stats(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        mid = market_id(request)
        if isinstance(mid, JSON):
            return mid
        listing = world.listings[mid]
        levels = world.book(mid)
        depth = sum(p * s for p, s in levels["bids"]) + sum((1 - p) * s for p, s in levels["asks"])
        return ok({"totalLiquidityUsd": round(depth, 2), "volumeTotalUsd": listing.volume,
                   "volume24hUsd": round(listing.volume * small_int(listing.key, VENUE, "v24", lo=5, hi=80) / 1000, 2)})

    async def last_sale(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        mid = market_id(request)
        if isinstance(mid, JSON):
            return mid
        rows = world.matches(mid)
        if not rows:
            return ok(None)
        top = rows[0]
        return ok({"quoteType": top["taker"]["quoteType"], "outcome": top["taker"]["outcome"]["name"],
                   "priceInCurrency": top["priceExecuted"], "strategy": "LIMIT"})

    async def categories(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        paged = paging(request)
        if isinstance(paged, JSON):
            return paged
        status = request.query_params.get("status")
        slugs = world.category_order
        if status in ("OPEN", "RESOLVED"):
            slugs = [s for s in slugs if world.categories[s]["status"] == status]
        chunk, cursor = page(slugs, *paged)
        return ok([world.categories[s] for s in chunk], cursor)

    async def category(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        cat = world.categories.get(request.path_params["slug"])
        if cat is None:
            return fail(404, f"Category {request.path_params['slug']} not found")
        return ok(cat)

    async def matches(request: Request) -> Response:
        if (err := denied(request)) is not None:
            return err
        paged = paging(request)
        if isinstance(paged, JSON):
            return paged
        raw = request.query_params.get("marketId")
        if request.query_params.get("signerAddress"):  # a wallet's own fills
            rows = user_matches(trading, request.query_params["signerAddress"], raw)
        elif raw in (None, ""):
            rows = world.all_matches()
        elif not raw.isdigit():
            return fail(400, "Invalid query: marketId must be a number")
        else:
            rows = world.matches(int(raw)) if int(raw) in world.markets else []
        chunk, cursor = page(rows, *paged)
        return ok([_public(r) for r in chunk], cursor)

    routes = [
        Route("/v1/markets", markets),
        Route("/v1/markets/{market_id}", market),
        Route("/v1/markets/{market_id}/orderbook", orderbook),
        Route("/v1/markets/{market_id}/timeseries", timeseries),
        Route("/v1/markets/{market_id}/stats", stats),
        Route("/v1/markets/{market_id}/last-sale", last_sale),
        Route("/v1/categories", categories),
        Route("/v1/categories/{slug}", category),
        Route("/v1/orders/matches", matches),
        *trading_routes(trading, denied),
    ]
    from .faults import with_faults

    app = Starlette(routes=routes)
    app.state.world = world
    return with_faults(app, lambda status: {"success": False, "message": "sandbox fault"})
