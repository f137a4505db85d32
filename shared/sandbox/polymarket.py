"""Sandbox Polymarket: three hosts, as the venue has them.

- Gamma (`create_gamma_app`): `/markets` (offset paging, `closed`, `condition_ids`, `id`), `/markets/{id}`,
  `/markets/slug/{slug}`, `/events`, `/events/{id}`; outcomes, prices and token ids JSON-encoded
  inside the JSON.
- CLOB (`create_clob_app`): `/book` with every key the official clients read, bids ascending and
  asks descending (best last), strings throughout, `hash` as the clients compute it; `/books`,
  `/tick-size`, `/neg-risk`, `/midpoint`, `/price`, `/last-trade-price`, `/prices-history`,
  `/clob-markets/{cid}`, `/markets-by-token/{token}`, `/time`, `/ok`, `/version`.
- Data API (`create_data_app`): `/trades` (newest first, offset paging, max offset 10000).
Errors are `{"error": "<message>"}` with the venue's statuses.
"""
from __future__ import annotations

import hashlib
import json
import time
from functools import lru_cache
from typing import Any

from fastapi import Body, FastAPI, Query, Request
from fastapi.responses import JSONResponse

from .universe import Listing, Universe, book, dec_token, hex32, price_path, small_int, tape, tick_decimals

_worlds: dict[int, "PolymarketWorld"] = {}


def err(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def fmt(x: float, tick: float) -> str:
    return f"{x:.{tick_decimals(tick)}f}"


def world_for(universe: Universe) -> "PolymarketWorld":
    w = _worlds.get(id(universe))
    if w is None:
        w = _worlds[id(universe)] = PolymarketWorld(universe)
    return w


class PolymarketWorld:
    def __init__(self, universe: Universe):
        self.universe = universe
        self.markets: list[dict[str, Any]] = []
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_condition: dict[str, dict[str, Any]] = {}
        self.by_slug: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, tuple[dict[str, Any], int]] = {}
        self.listing: dict[str, Listing] = {}
        self.events: dict[str, dict[str, Any]] = {}
        for lst in universe.venue_listings("polymarket"):
            q = lst.question
            event_key = getattr(q, "event_key", None) or q.key
            ev_id = str(small_int(event_key, "pm-ev"))
            ev = self.events.get(ev_id)
            if ev is None:
                title = getattr(q, "event_title", None) or lst.title
                ev = self.events[ev_id] = {"id": ev_id, "ticker": event_key, "slug": event_key, "title": title,
                                           "description": q.description, "negRisk": lst.neg_risk,
                                           "endDate": q.end.isoformat().replace("+00:00", "Z"), "active": q.status == "active",
                                           "closed": q.status != "active", "volume": 0.0, "markets": []}
            mid = str(small_int(q.key, "pm-id"))
            cond = hex32(q.key, "cond")
            toks = [dec_token(q.key, "tok", i) for i in range(len(lst.outcomes))]
            resolved = q.status == "resolved"
            prices = [("1" if (i == 0) == (q.prob >= 0.5) else "0") if resolved else f"{p:.3f}"
                      for i, p in enumerate(lst.probs)]
            bids, asks = book(toks[0], "polymarket", 0, lst.probs[0], lst.tick, lst.min_size)
            m = {
                "id": mid, "question": lst.title, "conditionId": cond, "slug": f"{q.key}-{mid}",
                "description": q.description, "outcomes": json.dumps(list(lst.outcomes)),
                "outcomePrices": json.dumps(prices), "clobTokenIds": json.dumps(toks),
                "volume": f"{lst.volume:.4f}", "volumeNum": lst.volume, "volume24hr": round(lst.volume / 30, 2),
                "liquidity": f"{lst.volume * 0.05:.4f}", "liquidityNum": round(lst.volume * 0.05, 2),
                "bestBid": bids[0][0] if bids else None, "bestAsk": asks[0][0] if asks else None,
                "lastTradePrice": round(lst.probs[0], 2), "spread": round(asks[0][0] - bids[0][0], 4) if bids and asks else None,
                "endDate": q.end.isoformat().replace("+00:00", "Z"), "startDate": "2026-06-01T00:00:00Z",
                "createdAt": "2026-06-01T00:00:00Z", "updatedAt": "2026-11-01T00:00:00Z",
                "active": q.status == "active", "closed": q.status != "active", "archived": False,
                "acceptingOrders": q.status == "active", "enableOrderBook": True,
                "umaResolutionStatus": "resolved" if resolved else None,
                "negRisk": lst.neg_risk, "orderPriceMinTickSize": lst.tick, "orderMinSize": lst.min_size,
                "image": f"https://polymarket-upload.s3.amazonaws.com/{q.key}.png", "icon": None,
                "events": [{"id": ev_id, "slug": event_key, "title": ev["title"]}],
            }
            ev["markets"].append(mid)
            ev["volume"] += lst.volume
            self.markets.append(m)
            self.by_id[mid] = m
            self.by_condition[cond] = m
            self.by_slug[m["slug"]] = m
            self.listing[mid] = lst
            for i, t in enumerate(toks):
                self.tokens[t] = (m, i)
        self.markets.sort(key=lambda m: int(m["id"]))

    # --- CLOB views -------------------------------------------------------------------------------

    @lru_cache(maxsize=8192)
    def levels(self, token: str) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """(bids best-first, asks best-first) of one token; the other outcome's book mirrors it."""
        m, i = self.tokens[token]
        lst = self.listing[m["id"]]
        first = json.loads(m["clobTokenIds"])[0]
        bids, asks = book(first, "polymarket", 0, lst.probs[0], lst.tick, lst.min_size)
        if i == 0:
            return bids, asks
        t = lst.tick
        return ([(round(1 - p, tick_decimals(t)), s) for p, s in asks], [(round(1 - p, tick_decimals(t)), s) for p, s in bids])

    def book_payload(self, token: str, bids=None, asks=None) -> dict[str, Any]:
        m, i = self.tokens[token]
        lst = self.listing[m["id"]]
        live = self.trading.depth(token) if getattr(self, "trading", None) else None
        if bids is None:
            bids, asks = live if live is not None else self.levels(token)
        tick = lst.tick
        body = {
            "market": m["conditionId"], "asset_id": token, "timestamp": str(int(time.time() * 1000)), "hash": "",
            "bids": [{"price": fmt(p, tick), "size": f"{s:.2f}"} for p, s in sorted(bids)],
            "asks": [{"price": fmt(p, tick), "size": f"{s:.2f}"} for p, s in sorted(asks, reverse=True)],
            "min_order_size": f"{lst.min_size:g}", "tick_size": f"{tick:g}", "neg_risk": bool(m["negRisk"]),
            "last_trade_price": fmt(lst.probs[i], tick),
        }
        body["hash"] = hashlib.sha1(json.dumps(body, separators=(",", ":")).encode()).hexdigest()
        return body

    @lru_cache(maxsize=4096)
    def trades(self, mid: str) -> list[dict[str, Any]]:
        m = self.by_id[mid]
        lst = self.listing[mid]
        toks = json.loads(m["clobTokenIds"])
        out = []
        for t in tape(lst.key, "polymarket", lst.probs, self.universe.now, lst.tick):
            out.append({
                "proxyWallet": "0x" + hex32("wallet", t.trade_id)[2:42], "side": t.taker_side.upper(),
                "asset": toks[t.outcome_index], "conditionId": m["conditionId"], "size": t.size, "price": t.price,
                "timestamp": t.ts, "title": m["question"], "slug": m["slug"], "eventSlug": m["events"][0]["slug"],
                "outcome": lst.outcomes[t.outcome_index], "outcomeIndex": t.outcome_index,
                "transactionHash": hex32("tx", t.trade_id),
            })
        return out


def create_gamma_app(universe: Universe) -> FastAPI:
    w = world_for(universe)
    app = FastAPI(title="sandbox polymarket gamma", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/markets")
    def markets(limit: int = Query(20), offset: int = Query(0), closed: str | None = None,
                condition_ids: str | None = None, id: str | None = None, slug: str | None = None):
        if limit < 0 or offset < 0:
            return err(400, "invalid limit or offset")
        rows = w.markets
        if closed in ("true", "false"):
            rows = [m for m in rows if m["closed"] == (closed == "true")]
        if condition_ids:
            wanted = set(condition_ids.lower().split(","))
            rows = [m for m in rows if m["conditionId"].lower() in wanted]
        if id:
            rows = [m for m in rows if m["id"] in id.split(",")]
        if slug:
            rows = [m for m in rows if m["slug"] == slug]
        return rows[offset: offset + min(limit, 500)]

    @app.get("/markets/slug/{slug}")
    def market_by_slug(slug: str):
        m = w.by_slug.get(slug)
        return m if m else err(404, "market not found")

    @app.get("/markets/{market_id}")
    def market(market_id: str):
        m = w.by_id.get(market_id)
        return m if m else err(404, "market not found")

    @app.get("/events")
    def events(limit: int = Query(20), offset: int = Query(0)):
        rows = sorted(w.events.values(), key=lambda e: int(e["id"]))
        return [{**e, "markets": [w.by_id[i] for i in e["markets"]]} for e in rows[offset: offset + min(limit, 500)]]

    @app.get("/events/{event_id}")
    def event(event_id: str):
        e = w.events.get(event_id)
        return {**e, "markets": [w.by_id[i] for i in e["markets"]]} if e else err(404, "event not found")

    return app


def create_clob_app(universe: Universe):
    from .faults import with_faults
    from .polymarket_clob_trading import install

    w = world_for(universe)
    app = FastAPI(title="sandbox polymarket clob", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.world = w
    install(app, w)

    def token_or_404(token_id: str | None):
        if not token_id:
            return None, err(400, "Invalid token id")
        if token_id not in w.tokens:
            return None, err(404, "No orderbook exists for the requested token id")
        return w.tokens[token_id], None

    @app.get("/ok")
    def ok():
        return "OK"

    @app.get("/time")
    def server_time():
        return int(time.time())

    @app.get("/version")
    def version():
        return {"version": 2}

    @app.get("/book")
    def get_book(token_id: str | None = None):
        _, e = token_or_404(token_id)
        return e or w.book_payload(token_id)  # type: ignore[arg-type]

    @app.post("/books")
    def get_books(body: list[dict[str, Any]] = Body(...)):
        out = []
        for row in body:
            if row.get("token_id") in w.tokens:
                out.append(w.book_payload(row["token_id"]))
        return out

    @app.get("/tick-size")
    def tick_size(token_id: str | None = None):
        hit, e = token_or_404(token_id)
        return e or {"minimum_tick_size": w.listing[hit[0]["id"]].tick}

    @app.get("/neg-risk")
    def neg_risk(token_id: str | None = None):
        hit, e = token_or_404(token_id)
        return e or {"neg_risk": bool(hit[0]["negRisk"])}

    @app.get("/midpoint")
    def midpoint(token_id: str | None = None):
        _, e = token_or_404(token_id)
        if e:
            return e
        bids, asks = w.levels(token_id)  # type: ignore[arg-type]
        return {"mid": f"{(bids[0][0] + asks[0][0]) / 2:.4f}"}

    @app.get("/price")
    def price(token_id: str | None = None, side: str = "BUY"):
        _, e = token_or_404(token_id)
        if e:
            return e
        bids, asks = w.levels(token_id)  # type: ignore[arg-type]
        return {"price": f"{(asks[0][0] if side.upper() == 'BUY' else bids[0][0])}"}

    @app.get("/last-trade-price")
    def last_trade(token_id: str | None = None):
        hit, e = token_or_404(token_id)
        if e:
            return e
        m, i = hit
        return {"price": f"{w.listing[m['id']].probs[i]:.2f}", "side": "BUY"}

    @app.get("/prices-history")
    def prices_history(market: str | None = None, startTs: int | None = None, endTs: int | None = None,
                       fidelity: int = 1, interval: str | None = None):
        hit, e = token_or_404(market)
        if e:
            return e
        m, i = hit
        lst = w.listing[m["id"]]
        step = max(1, fidelity) * 60
        now = int(time.time())
        lo = startTs if startTs is not None else now - {"1h": 3600, "6h": 21600, "1d": 86400, "1w": 604800}.get(interval or "", 10**10)
        hi = endTs if endTs is not None else now
        pts, last = [], None
        for t, p in price_path(lst.key, "polymarket", i, lst.probs[i], w.universe.now):
            if lo <= t <= hi and (last is None or t - last >= step):
                pts.append({"t": t, "p": p})
                last = t
        return {"history": pts}

    @app.get("/clob-markets/{condition_id}")
    def clob_market(condition_id: str):
        m = w.by_condition.get(condition_id)
        if m is None:
            return err(404, "market not found")
        lst = w.listing[m["id"]]
        toks = json.loads(m["clobTokenIds"])
        fee = {"r": 0.0, "e": 1, "to": True} if lst.question.topic != "crypto" else {"r": 0.25, "e": 2, "to": True}
        return {"t": [{"t": t, "o": o} for t, o in zip(toks, lst.outcomes)], "mts": lst.tick, "mos": lst.min_size,
                "nr": bool(m["negRisk"]), "fd": fee, "c": condition_id}

    @app.get("/markets-by-token/{token_id}")
    def markets_by_token(token_id: str):
        hit, e = token_or_404(token_id)
        return e or {"condition_id": hit[0]["conditionId"]}

    @app.exception_handler(404)
    async def _nf(_: Request, __: Exception) -> JSONResponse:
        return err(404, "not found")

    return with_faults(app, lambda status: {"error": "Too Many Requests" if status == 429 else
                                            "Trading is currently disabled. Check status.polymarket.com"})


def create_data_app(universe: Universe) -> FastAPI:
    w = world_for(universe)
    app = FastAPI(title="sandbox polymarket data", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/trades")
    def trades(market: str | None = None, limit: int = Query(100), offset: int = Query(0)):
        if limit < 0 or limit > 10_000 or offset < 0 or offset > 10_000:
            return err(400, "limit must be 0..10000 and offset 0..10000")
        if market is None:
            return []
        m = w.by_condition.get(market)
        if m is None:
            return []
        return w.trades(m["id"])[offset: offset + limit]

    @app.get("/activity")
    def activity(user: str | None = None, limit: int = Query(100), offset: int = Query(0)):
        if not user:
            return err(400, "user is required")
        trading = getattr(w, "trading", None)
        if trading is None:
            return []
        rows = []
        for t in reversed(trading.trades):
            mine = t["maker_address"].lower() == user.lower() or any(
                mo["maker_address"].lower() == user.lower() for mo in t["maker_orders"])
            if mine:
                rows.append({"proxyWallet": user, "timestamp": int(t["match_time"]), "conditionId": t["market"],
                             "type": "TRADE", "size": float(t["size"]), "usdcSize": round(float(t["size"]) * float(t["price"]), 6),
                             "transactionHash": t["transaction_hash"], "price": float(t["price"]), "asset": t["asset_id"],
                             "side": t["side"], "outcome": t["outcome"]})
        return rows[offset: offset + min(limit, 500)]

    @app.get("/positions")
    def positions(user: str | None = None, market: str | None = None, sizeThreshold: float = 1.0,
                  limit: int = Query(100), offset: int = Query(0)):
        from .polymarket_clob_trading import positions_rows

        if not user:
            return err(400, "user is required")
        trading = getattr(w, "trading", None)
        rows = positions_rows(trading, user) if trading else []
        rows = [p for p in rows if (not market or p["conditionId"] == market) and p["size"] >= sizeThreshold]
        return rows[offset: offset + min(limit, 500)]

    return app
