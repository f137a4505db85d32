"""Sandbox Limitless Exchange: the public market-data endpoints, in Limitless's own shapes.

`GET /markets/active` (1-based pages, `totalMarketsCount`), `GET /markets/{slug}`,
`GET /markets/{slug}/orderbook` (YES book; bids descending, asks ascending; sizes and `minSize` in
1e6 share units), `GET /markets/{slug}/historical-price` (a look-back window `interval`; points
`{timestamp: epoch-ms string, price: 0..1}` newest first), `GET /markets/{slug}/events` (the trade
tape, `{events, limit, page, totalPages, totalRows}`). Prices are 0..1 probabilities; `metadata.fee` is a flag;
`settings.minSize` is shares x 1e6 as a string. Errors are NestJS-style `{message, error, statusCode}`.
The shapes are pinned against tests/fixtures/venues/limitless by tests/integration/test_sandbox_shapes.py.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse

from .universe import Listing, Universe, book, dec_token, hex32, price_path, small_int, tape

MAX_LIMIT = 25
SCALE = 1_000_000
BASE_USDC = {"address": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "decimals": 6, "symbol": "USDC"}
VENUE = {"exchange": "0x05c748E2f4DcDe0ec9Fa8DDc40DE6b867f923fa5", "adapter": None}
NEG_RISK_VENUE = {"exchange": "0xe3E00BA3a9888d1DE4834269f62ac008b4BB5C47",
                  "adapter": "0x7A5EcC2C5F3fD4bD1b0aD5E7b01A3a4ff7f5dB6B"}
# historical-price windows (look-back from now, seconds); None = all history
WINDOWS = {"1h": 3600, "6h": 21600, "1d": 86400, "1w": 604800, "1m": 2592000, "all": None}
EVENTS_MAX_LIMIT = 100


def _slug(text: str, key: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")
    return f"{base}-{small_int(key, 'lim-slug', lo=1000, hi=9999)}"


def _err(status: int, message: str) -> JSONResponse:
    names = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests"}
    return JSONResponse({"message": message, "error": names.get(status, "Error"), "statusCode": status}, status)


class LimitlessWorld:
    def __init__(self, universe: Universe):
        self.universe = universe
        self.rows: list[dict[str, Any]] = []  # /markets/active rows (singles and groups)
        self.by_slug: dict[str, tuple[Listing, dict[str, Any]]] = {}
        groups: dict[str, dict[str, Any]] = {}
        for lst in universe.venue_listings("limitless"):
            if lst.categorical:
                # Limitless lists a game as a group of one market per side.
                g = self._group(lst.key, lst.title, lst)
                self.rows.append(g)
                for i, side in enumerate(lst.outcomes):
                    child = self._market(lst, f"{side} to win: {lst.title}", i, key=f"{lst.key}-{i}", neg_risk=True)
                    g["markets"].append(child)
                continue
            if lst.event_key:
                g = groups.get(lst.event_key)
                if g is None:
                    g = groups[lst.event_key] = self._group(lst.event_key, lst.question.event_title or lst.title, lst)
                    self.rows.append(g)
                g["markets"].append(self._market(lst, lst.title, 0, neg_risk=True))
                continue
            self.rows.append(self._market(lst, lst.title, 0))
        self.rows.sort(key=lambda r: -float(r.get("volumeFormatted") or 0))

    def _group(self, key: str, title: str, lst: Listing) -> dict[str, Any]:
        return {"id": small_int(key, "lim-g"), "slug": _slug(title, key), "title": title, "marketType": "group",
                "tradeType": "clob", "status": "FUNDED", "collateralToken": BASE_USDC, "categories": [lst.question.topic],
                "expirationTimestamp": int(lst.question.end.timestamp() * 1000), "markets": [],
                "negRiskMarketId": hex32(key, "lim-nr"), "venue": NEG_RISK_VENUE}

    def _market(self, lst: Listing, title: str, side: int, key: str | None = None, neg_risk: bool = False) -> dict[str, Any]:
        key = key or lst.key
        p_yes = lst.probs[side]
        q = lst.question
        status = {"active": "FUNDED", "resolved": "RESOLVED", "closed": "CLOSED"}.get(q.status, "FUNDED")
        row = {
            "id": small_int(key, "lim"),
            "slug": _slug(title, key),
            "title": title,
            "description": q.description,
            "collateralToken": BASE_USDC,
            "expirationDate": q.end.astimezone(timezone.utc).strftime("%b %d, %Y"),
            "expirationTimestamp": int(q.end.timestamp() * 1000),
            "createdAt": "2026-06-01T00:00:00.000Z",
            "updatedAt": "2026-11-01T00:00:00.000Z",
            "categories": [q.topic],
            "tags": [q.topic],
            "status": status,
            "expired": q.status != "active",
            "creator": {"name": "Limitless"},
            "tradeType": "clob",
            "marketType": "single",
            "priorityIndex": 0,
            "metadata": {"fee": True},
            "tokens": {"yes": dec_token(key, "lim-yes"), "no": dec_token(key, "lim-no")},
            "prices": [round(p_yes, 4), round(1 - p_yes, 4)],
            "volume": str(int(lst.volume * SCALE)),
            "volumeFormatted": f"{lst.volume:.2f}",
            "liquidity": str(int(lst.volume * 0.04 * SCALE)),
            "liquidityFormatted": f"{lst.volume * 0.04:.2f}",
            "conditionId": hex32(key, "lim-cond"),
            "settings": {"minSize": str(int(lst.min_size * SCALE)), "maxSpread": 0.05, "dailyReward": "0",
                         "rewardsEpoch": "0.016666666666666666", "c": "3"},
            "venue": NEG_RISK_VENUE if neg_risk else VENUE,
        }
        self.by_slug[row["slug"]] = (lst, row)
        row["_side"] = side
        return row

    @lru_cache(maxsize=4096)
    def orderbook(self, slug: str) -> dict[str, Any]:
        lst, row = self.by_slug[slug]
        side = row["_side"]
        bids, asks = book(row["slug"], "limitless", 0, lst.probs[side], lst.tick, lst.min_size)
        return {
            "bids": [{"price": p, "size": int(round(s * SCALE)), "side": "BUY"} for p, s in bids],
            "asks": [{"price": p, "size": int(round(s * SCALE)), "side": "SELL"} for p, s in asks],
            "tokenId": row["tokens"]["yes"],
            "adjustedMidpoint": round((bids[0][0] + asks[0][0]) / 2, 4) if bids and asks else None,
            "maxSpread": "0.05",
            "minSize": str(int(lst.min_size * SCALE)),
            "lastTradePrice": bids[0][0] if bids else None,
        }

    def history(self, slug: str, interval: str) -> dict[str, Any]:
        lst, row = self.by_slug[slug]
        points = price_path(row["slug"], "limitless", 0, lst.probs[row["_side"]], self.universe.now)
        now = int(self.universe.now.timestamp())
        back = WINDOWS[interval]
        kept = [(t, p) for t, p in points if back is None or t >= now - back]
        return {"title": row["title"],
                "prices": [{"timestamp": str(t * 1000), "price": p} for t, p in reversed(kept)]}

    @lru_cache(maxsize=1024)
    def events(self, slug: str) -> list[dict[str, Any]]:
        """The trade tape: price of the event's token (0..1), taker side 0 buy / 1 sell, amounts x 1e6."""
        lst, row = self.by_slug[slug]
        side = row["_side"]
        probs = (lst.probs[side], 1 - lst.probs[side])
        out = []
        for tr in tape(row["slug"], "limitless", probs, self.universe.now, lst.tick):
            token = row["tokens"]["yes" if tr.outcome_index == 0 else "no"]
            contracts, usd = int(round(tr.size * SCALE)), int(round(tr.size * tr.price * SCALE))
            buy = tr.taker_side == "buy"
            out.append({"createdAt": datetime.fromtimestamp(tr.ts, tz=timezone.utc).isoformat(timespec="milliseconds")
                        .replace("+00:00", "Z"),
                        "txHash": hex32(tr.trade_id, "lim-tx"), "side": 0 if buy else 1, "price": tr.price,
                        "matchedSize": str(contracts), "tokenId": token,
                        "takerAmount": str(usd), "makerAmount": str(usd),  # both the USDC value, as live
                        "title": ""})
        return out


def _public(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if not k.startswith("_")}
    if "markets" in out:
        out["markets"] = [_public(m) for m in out["markets"]]
    return out


def create_app(universe: Universe) -> FastAPI:
    world = LimitlessWorld(universe)
    app = FastAPI(title="sandbox limitless", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(KeyError)
    async def _missing(_: Request, exc: KeyError) -> JSONResponse:
        return _err(404, "Market not found")

    @app.get("/markets/active")
    def active(page: int = Query(1), limit: int = Query(10), sortBy: str | None = None):
        if page < 1 or limit < 1 or limit > MAX_LIMIT:
            return _err(400, f"limit must be between 1 and {MAX_LIMIT}, page >= 1")
        start = (page - 1) * limit
        rows = world.rows[start:start + limit]
        return {"data": [_public(r) for r in rows], "totalMarketsCount": len(world.rows)}

    @app.get("/markets/{slug}")
    def market(slug: str):
        for r in world.rows:
            if r["slug"] == slug:
                return _public(r)
        return _public(world.by_slug[slug][1])

    @app.get("/markets/{slug}/orderbook")
    def orderbook(slug: str):
        static = world.orderbook(slug)
        live = trading.yes_depth(slug)  # once orders traded here, the matching engine's book
        if live is None:
            return static
        return {**static, "bids": [{"price": p, "size": int(round(s * SCALE)), "side": "BUY"} for p, s in live[0]],
                "asks": [{"price": p, "size": int(round(s * SCALE)), "side": "SELL"} for p, s in live[1]]}

    @app.get("/markets/{slug}/historical-price")
    def historical(slug: str, interval: str = "all"):
        if interval not in WINDOWS:
            return _err(400, f"interval must be one of {', '.join(WINDOWS)}")
        return world.history(slug, interval)

    @app.get("/markets/{slug}/events")
    def events(slug: str, page: int = Query(1), limit: int = Query(10)):
        if page < 1 or limit < 1 or limit > EVENTS_MAX_LIMIT:
            return _err(400, f"limit must be between 1 and {EVENTS_MAX_LIMIT}, page >= 1")
        if not any(r["slug"] == slug for r in world.rows if r.get("marketType") == "group"):
            rows = world.events(slug)
        else:  # a group's feed carries every child market's trades
            group = next(r for r in world.rows if r["slug"] == slug)
            rows = sorted((e for child in group["markets"] for e in world.events(child["slug"])),
                          key=lambda e: e["createdAt"], reverse=True)
        return {"events": rows[(page - 1) * limit:page * limit], "limit": limit, "page": page,
                "totalPages": max(1, -(-len(rows) // limit)), "totalRows": len(rows)}

    from .limitless_trading import install

    trading = install(app, world)
    app.state.world = world
    from .faults import with_faults

    return with_faults(app, lambda status: {"message": "sandbox fault", "statusCode": status,
                                            "error": "Too Many Requests" if status == 429 else "Service Unavailable"})
