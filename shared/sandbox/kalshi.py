"""Sandbox Kalshi (trade-api v2), mounted under /trade-api/v2 like the real host.

Market data in Kalshi's current representation: fixed-point dollar strings (`*_dollars`) and
fixed-point counts (`*_fp`); order books as bids only, one array per side, ascending (best last);
opaque cursors; errors `{"error": {code, message, details}}`. Legacy fields the official
kalshi-python SDK still requires are emitted alongside.
"""
from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse

from .universe import Listing, Universe, book, price_path, small_int, tape

PREFIX = "/trade-api/v2"
MAX_MARKETS = 1000
MAX_EVENTS = 200

_SERIES_WORDS = {"crypto": "KX", "economics": "KXCPI", "tech": "KXTECH", "politics": "KXPOL", "finance": "KXFIN",
                 "sports": "KXSPORT", "culture": "KXPOP"}


def d4(x: float | Decimal) -> str:
    return f"{Decimal(str(x)):.4f}"


def fp(x: float | Decimal) -> str:
    return f"{Decimal(str(x)):.2f}"


def iso(t: datetime | float) -> str:
    if not isinstance(t, datetime):
        t = datetime.fromtimestamp(t, tz=timezone.utc)
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": ""}}, status_code=status)


def _alnum(text: str, n: int) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())[:n] or "X"


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["o"])
    except Exception:
        raise ValueError("invalid cursor") from None


def paginate(rows: list, cursor: str | None, limit: int) -> tuple[list, str]:
    start = decode_cursor(cursor)
    page = rows[start:start + limit]
    nxt = encode_cursor(start + limit) if start + limit < len(rows) else ""
    return page, nxt


class KalshiWorld:
    """Tickers, events and market-data payloads built from the universe's Kalshi listings."""

    def __init__(self, universe: Universe):
        self.universe = universe
        self.markets: dict[str, dict[str, Any]] = {}
        self.listing: dict[str, Listing] = {}
        self.events: dict[str, dict[str, Any]] = {}
        for lst in universe.venue_listings("kalshi"):
            q = lst.question
            series, event_ticker, suffix = self._tickers(lst)
            ticker = f"{event_ticker}-{suffix}"
            while ticker in self.markets:
                ticker += "X"
            ev = self.events.get(event_ticker)
            if ev is None:
                title = getattr(q, "event_title", None) or lst.title
                if q.key.startswith("crypto-"):
                    title = f"{q.key.split('-')[1]} price on {q.end:%b %d, %Y}"
                ev = self.events[event_ticker] = {
                    "event_ticker": event_ticker, "series_ticker": series, "title": title, "sub_title": "",
                    "category": q.topic.capitalize(), "mutually_exclusive": bool(getattr(q, "event_key", None)),
                    "strike_date": iso(q.end), "markets": []}
            ev["markets"].append(ticker)
            self.listing[ticker] = lst
            self.markets[ticker] = self._market(ticker, event_ticker, lst)
        self.market_list = sorted(self.markets.values(), key=lambda m: m["ticker"])
        self.event_list = sorted(self.events.values(), key=lambda e: e["event_ticker"])

    @staticmethod
    def _tickers(lst: Listing) -> tuple[str, str, str]:
        q = lst.question
        date = f"{q.end:%y%b%d}".upper()
        if q.key.startswith("crypto-"):
            _, sym, strike, _ = q.key.split("-", 3)
            series = f"KX{sym}"
            return series, f"{series}-{date}", f"T{strike}"
        event_key = getattr(q, "event_key", None)
        if event_key:
            series = "KX" + _alnum(event_key, 8)
            return series, f"{series}-{date}", _alnum(getattr(q, "candidate", "") or q.key, 6)
        series = _SERIES_WORDS.get(q.topic, "KXMISC") + _alnum(q.key.split("-", 1)[-1], 6)
        return series, f"{series}-{date}", str(small_int(q.key, "kx", lo=10, hi=99))

    def _market(self, ticker: str, event_ticker: str, lst: Listing) -> dict[str, Any]:
        q = lst.question
        bids, asks = book(ticker, "kalshi", 0, lst.probs[0], lst.tick, lst.min_size)
        yes_bid = bids[0][0] if bids else 0.0
        yes_ask = asks[0][0] if asks else 1.0
        status = {"active": "active", "closed": "closed", "resolved": "finalized"}[q.status]
        last = round((yes_bid + yes_ask) / 2, 2)
        vol = round(lst.volume)  # contracts (each pays $1, so roughly dollars of exposure)
        return {
            "ticker": ticker, "event_ticker": event_ticker, "market_type": "binary",
            "title": lst.title, "subtitle": q.description, "yes_sub_title": getattr(q, "candidate", None) or "Yes",
            "no_sub_title": "No", "open_time": iso(min(q.end.timestamp() - 90 * 86400, self.universe.now.timestamp() - 30 * 86400)), "close_time": iso(q.end),
            "expiration_time": iso(q.end), "latest_expiration_time": iso(q.end), "status": status,
            "result": ("yes" if q.prob >= 0.5 else "no") if q.status == "resolved" else "",
            "yes_bid_dollars": d4(yes_bid), "yes_ask_dollars": d4(yes_ask),
            "no_bid_dollars": d4(1 - yes_ask), "no_ask_dollars": d4(1 - yes_bid),
            "last_price_dollars": d4(last), "previous_price_dollars": d4(last),
            "yes_bid_size_fp": fp(bids[0][1] if bids else 0), "yes_ask_size_fp": fp(asks[0][1] if asks else 0),
            "volume_fp": fp(vol), "volume_24h_fp": fp(vol // 40), "open_interest_fp": fp(vol // 3),
            "liquidity_dollars": d4(sum(p * s for p, s in bids + asks)),
            "notional_value_dollars": "1.0000",
            "price_level_structure": "linear_cent",
            "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}],
            "fractional_trading_enabled": False,
            "rules_primary": q.description, "rules_secondary": "",
            "can_close_early": True, "settlement_timer_seconds": 3600,
            # Legacy fields the official kalshi-python SDK models still require.
            "yes_bid": int(round(yes_bid * 100)), "yes_ask": int(round(yes_ask * 100)),
            "no_bid": int(round((1 - yes_ask) * 100)), "no_ask": int(round((1 - yes_bid) * 100)),
            "last_price": int(round(last * 100)), "volume": int(vol), "volume_24h": int(vol // 40),
            "open_interest": int(vol // 3), "liquidity": int(sum(p * s for p, s in bids + asks) * 100),
            "tick_size": 1, "response_price_units": "usd_cent", "category": q.topic, "risk_limit_cents": 0,
        }

    @lru_cache(maxsize=8192)
    def levels(self, ticker: str) -> tuple[list[list[str]], list[list[str]]]:
        """(yes bids, no bids) ascending, best last: the venue's own ordering."""
        lst = self.listing[ticker]
        bids, asks = book(ticker, "kalshi", 0, lst.probs[0], lst.tick, lst.min_size)
        # Whole contracts: the sandbox's Kalshi markets do not enable fractional trading.
        yes = [[d4(p), fp(max(1, round(s)))] for p, s in sorted(bids)]
        no = [[d4(1 - p), fp(max(1, round(s)))] for p, s in sorted(asks, reverse=True)]
        return yes, no

    @lru_cache(maxsize=4096)
    def trades(self, ticker: str) -> list[dict[str, Any]]:
        lst = self.listing[ticker]
        out = []
        for t in tape(ticker, "kalshi", lst.probs, self.universe.now, lst.tick):
            yes_price = t.price if t.outcome_index == 0 else 1 - t.price
            taker_yes = (t.outcome_index == 0) == (t.taker_side == "buy")
            out.append({"trade_id": t.trade_id, "ticker": ticker, "count_fp": fp(round(t.size)),
                        "yes_price_dollars": d4(yes_price), "no_price_dollars": d4(1 - yes_price),
                        "taker_outcome_side": "yes" if taker_yes else "no",
                        "taker_book_side": "bid" if taker_yes else "ask",
                        "created_time": iso(t.ts), "_ts": t.ts, "is_block_trade": False,
                        "count": int(round(t.size)), "yes_price": int(round(yes_price * 100)),
                        "no_price": int(round((1 - yes_price) * 100)), "taker_side": "yes" if taker_yes else "no"})
        return out

    def candles(self, ticker: str, start: int, end: int, period: int) -> list[dict[str, Any]]:
        lst = self.listing[ticker]
        points = price_path(ticker, "kalshi", 0, lst.probs[0], self.universe.now)
        width = period * 60
        buckets: dict[int, list[float]] = {}
        for t, p in points:
            b = t - t % width
            buckets.setdefault(b, []).append(p)
        out = []
        for b in sorted(buckets):
            end_ts = b + width
            if end_ts < start or end_ts > end + width:
                continue
            ps = buckets[b]
            o, h, lo, c = ps[0], max(ps), min(ps), ps[-1]
            block = {"open_dollars": d4(round(o, 2)), "high_dollars": d4(round(h, 2)), "low_dollars": d4(round(lo, 2)),
                     "close_dollars": d4(round(c, 2))}
            spread = {k: d4(max(0.01, float(v) - 0.01)) for k, v in block.items()}
            out.append({"end_period_ts": end_ts, "price": {**block, "mean_dollars": block["close_dollars"],
                                                            "previous_dollars": block["open_dollars"]},
                        "yes_bid": spread, "yes_ask": {k: d4(min(0.99, float(v) + 0.01)) for k, v in block.items()},
                        "volume_fp": fp(small_int(ticker, b, lo=0, hi=400)), "open_interest_fp": fp(1000)})
        return out


def market_data_router(world: KalshiWorld) -> APIRouter:
    r = APIRouter()

    @r.get("/exchange/status")
    def exchange_status():
        return {"exchange_active": True, "trading_active": True}

    @r.get("/markets")
    def markets(limit: int = Query(100), cursor: str | None = None, status: str | None = None,
                event_ticker: str | None = None, tickers: str | None = None, series_ticker: str | None = None):
        if not 1 <= limit <= MAX_MARKETS:
            return error(400, "invalid_parameters", f"limit must be between 1 and {MAX_MARKETS}")
        rows = world.market_list
        if status:
            wanted = {"open": {"active"}, "closed": {"closed"}, "settled": {"finalized"},
                      "unopened": {"initialized"}, "paused": {"inactive"}}.get(status)
            if wanted is None:
                return error(400, "invalid_parameters", f"invalid status {status!r}")
            rows = [m for m in rows if m["status"] in wanted]
        if event_ticker:
            rows = [m for m in rows if m["event_ticker"] in event_ticker.split(",")]
        if series_ticker:
            rows = [m for m in rows if world.events[m["event_ticker"]]["series_ticker"] == series_ticker]
        if tickers:
            rows = [m for m in rows if m["ticker"] in tickers.split(",")]
        try:
            page, nxt = paginate(rows, cursor, limit)
        except ValueError:
            return error(400, "invalid_parameters", "invalid cursor")
        return {"markets": page, "cursor": nxt}

    @r.get("/markets/trades")
    def trades(ticker: str | None = None, min_ts: int | None = None, max_ts: int | None = None,
               limit: int = Query(100), cursor: str | None = None):
        if not 1 <= limit <= 1000:
            return error(400, "invalid_parameters", "limit must be between 1 and 1000")
        if ticker and ticker not in world.markets:
            return error(404, "not_found", "market not found")
        rows = world.trades(ticker) if ticker else []
        rows = [t for t in rows if (min_ts is None or t["_ts"] >= min_ts) and (max_ts is None or t["_ts"] <= max_ts)]
        try:
            page, nxt = paginate(rows, cursor, limit)
        except ValueError:
            return error(400, "invalid_parameters", "invalid cursor")
        return {"trades": [{k: v for k, v in t.items() if not k.startswith("_")} for t in page], "cursor": nxt}

    @r.get("/markets/{ticker}")
    def market(ticker: str):
        m = world.markets.get(ticker)
        return {"market": m} if m else error(404, "not_found", "market not found")

    @r.get("/markets/{ticker}/orderbook")
    def orderbook(ticker: str, depth: int = Query(0)):
        if ticker not in world.markets:
            return error(404, "not_found", "market not found")
        live = world.portfolio.depth(ticker) if getattr(world, "portfolio", None) else None
        yes, no = live if live is not None else world.levels(ticker)
        if depth > 0:
            yes, no = yes[-depth:], no[-depth:]
        return {"orderbook_fp": {"yes_dollars": yes, "no_dollars": no},
                "orderbook": {"yes_dollars": yes, "no_dollars": no}}

    @r.get("/events")
    def events(limit: int = Query(100), cursor: str | None = None, with_nested_markets: bool = False):
        if not 1 <= limit <= MAX_EVENTS:
            return error(400, "invalid_parameters", f"limit must be between 1 and {MAX_EVENTS}")
        try:
            page, nxt = paginate(world.event_list, cursor, limit)
        except ValueError:
            return error(400, "invalid_parameters", "invalid cursor")
        out = []
        for e in page:
            row = {k: v for k, v in e.items() if k != "markets"}
            if with_nested_markets:
                row["markets"] = [world.markets[t] for t in e["markets"]]
            out.append(row)
        return {"events": out, "cursor": nxt}

    @r.get("/events/{event_ticker}")
    def event(event_ticker: str):
        e = world.events.get(event_ticker)
        if e is None:
            return error(404, "not_found", "event not found")
        return {"event": {k: v for k, v in e.items() if k != "markets"},
                "markets": [world.markets[t] for t in e["markets"]]}

    @r.get("/series/{series_ticker}/markets/{ticker}/candlesticks")
    def candlesticks(series_ticker: str, ticker: str, start_ts: int, end_ts: int, period_interval: int):
        m = world.markets.get(ticker)
        if m is None or world.events[m["event_ticker"]]["series_ticker"] != series_ticker:
            return error(404, "not_found", "market not found")
        if period_interval not in (1, 60, 1440):
            return error(400, "invalid_parameters", "period_interval must be 1, 60 or 1440")
        if end_ts < start_ts:
            return error(400, "invalid_parameters", "end_ts must be after start_ts")
        return {"ticker": ticker, "candlesticks": world.candles(ticker, start_ts, end_ts, period_interval)}

    return r


def create_app(universe: Universe):
    from .faults import with_faults
    from .kalshi_portfolio import install

    world = KalshiWorld(universe)
    app = FastAPI(title="sandbox kalshi", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.world = world
    app.include_router(market_data_router(world), prefix=PREFIX)
    install(app, world, PREFIX)

    @app.exception_handler(404)
    async def _not_found(_: Request, __: Exception) -> JSONResponse:
        return error(404, "not_found", "not found")

    @app.exception_handler(405)
    async def _method(_: Request, __: Exception) -> JSONResponse:
        return error(405, "method_not_allowed", "method not allowed")

    return with_faults(app, lambda status: {"error": {"code": "service_unavailable" if status >= 500 else
                                                      "too_many_requests", "message": "sandbox fault", "details": ""}}
                       if status != 429 else {"error": "too many requests"})
