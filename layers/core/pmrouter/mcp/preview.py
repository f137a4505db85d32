"""`preview_order`: everything `POST /orders` would check, and what the order would do against the
live book, without sending anything. The order rules are the order path's own (`trading.rules`,
`escrow.authorization`); the facts they need (market, book, credentials, balance, escrow terms)
come from the caller's API, so the stdio and hosted servers preview identically."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from .api import Api, Reply

BALANCE_READERS = {
    # Polymarket CLOB /balance-allowance: pUSD in base units (6 decimals).
    "polymarket": lambda raw: int(raw["balance"]) / 1e6,
    # Kalshi /portfolio/balance: cents (and a dollar string on newer responses).
    "kalshi": lambda raw: float(raw["balance_dollars"]) if "balance_dollars" in raw else int(raw["balance"]) / 100,
    # Opinion /openapi/user/balance: per quote token, amounts already in token units.
    "opinion": lambda raw: sum(float(b["availableBalance"]) for b in raw["balances"]),
}
# Limitless and Predict.fun publish no REST cash balance (the collateral sits in the wallet on chain).


def _problems(exc: Exception) -> list[str]:
    return list(getattr(exc, "problems", None) or [str(exc)])  # InvalidInput names each problem


def _err(reply: Reply, what: str) -> str:
    body = reply.body if isinstance(reply.body, dict) else {}
    return f"{what}: {body.get('error') or reply.status} ({body.get('code', 'error')})"


def pick_outcome(names: list[str], selector: Any) -> str | None:
    """The order path's outcome selector (`exchanges.base.resolve_outcome`): a label (any case) or an
    index. None when it names none (an order must name its outcome)."""
    from ..exchanges.base import resolve_outcome

    if selector is None:
        return None
    market = SimpleNamespace(outcomes=[SimpleNamespace(name=n) for n in names], market_type="categorical",
                             parsec_id="")
    try:
        return resolve_outcome(market, str(selector)).name  # type: ignore[arg-type]
    except ValueError:
        return None


def walk_limit(levels: list[Any], side: str, price: float, size: float) -> tuple[float, float | None]:
    """How much of `size` the book fills at once at `price` or better, and at what average price."""
    filled = cost = 0.0
    for level in levels:
        p, q = (level["price"], level["size"]) if isinstance(level, dict) else (level[0], level[1])
        if (side == "buy" and p > price + 1e-12) or (side == "sell" and p < price - 1e-12):
            break
        take = min(q, size - filled)
        filled += take
        cost += take * p
        if filled >= size - 1e-12:
            break
    return filled, (cost / filled if filled else None)


async def preview(api: Api, args: dict[str, Any]) -> dict[str, Any]:
    from ..trading import rules

    problems: list[str] = []
    warnings: list[str] = []
    exchange = (args.get("exchange") or "").strip().lower()
    market_id, side = args.get("market_id"), args.get("side")
    price, size = args.get("price"), args.get("size")
    out: dict[str, Any] = {"valid": False, "sent": False, "problems": problems, "warnings": warnings}
    if not exchange:
        problems.append("exchange is required (polymarket or kalshi)")
        return out
    if side not in ("buy", "sell"):
        problems.append(f"side must be buy or sell; got {side!r}")

    # Order type and expiration: the order path's own parser, then what this venue takes.
    order_type = None
    params = args.get("params") or {}
    try:
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            raise ValueError("params must be an object of strings, e.g. {\"order_type\": \"gtc\"}")
        parsed = rules.parse_params(params)
        order_type = parsed.order_type
        out["order_type"], out["expiration"] = parsed.order_type, parsed.expiration
    except Exception as exc:
        problems += _problems(exc)

    exchanges = await api.get("/exchanges")
    caps = {e["id"]: e["has"] for e in exchanges.body} if exchanges.ok else {}
    if exchanges.ok and exchange not in caps:
        problems.append(f"exchange {exchange!r} is not known (one of: {', '.join(caps)})")
        return out
    if exchanges.ok and not caps[exchange].get("create_order"):
        problems.append(f"{exchange} is market-data only in pmrouter; orders are not supported")
        return out
    if order_type is not None:
        try:
            from ..exchanges.registry import get_adapter

            rules.require_order_type(get_adapter(exchange), order_type)
        except Exception as exc:
            problems += _problems(exc)

    parsec_id = f"{exchange}:{market_id}"
    market_r, ping_r = await asyncio.gather(api.get("/markets", parsec_id=parsec_id), api.get("/ping", exchange=exchange))
    markets = (market_r.body or {}).get("markets") if market_r.ok else None
    if not markets:
        problems.append(_err(market_r, f"market {parsec_id}") if not market_r.ok else f"market {parsec_id} not found")
        return out
    market = markets[0]
    out["market"] = {k: market.get(k) for k in ("parsec_id", "question", "status", "tick_size", "min_order_size",
                                                 "best_bid", "best_ask", "outcomes")}
    if market.get("status") not in (None, "active"):
        problems.append(f"market {parsec_id} is {market.get('status')}, not active")
    names = [o["name"] for o in market.get("outcomes", [])]
    outcome = pick_outcome(names, args.get("outcome"))
    if outcome is None:
        problems.append(f"outcome {args.get('outcome')!r} is not one of {', '.join(names)} (or its index)")
        return out

    book_r = await api.get("/orderbook", parsec_id=parsec_id, outcome=outcome, limit=100)
    book = book_r.body if book_r.ok else {}
    if not book_r.ok:
        warnings.append(_err(book_r, "live book unavailable"))
    tick = book.get("tick_size") or market.get("tick_size")
    min_size = book.get("min_order_size") or market.get("min_order_size")
    try:  # the order path's tick and size rules, at the tick the venue quotes now
        rules.check_price_and_size(None, SimpleNamespace(tick_size=tick, min_order_size=min_size),
                                   price, size)
    except Exception as exc:
        problems += _problems(exc)

    ping = (ping_r.body or [{}])[0] if ping_r.ok and ping_r.body else {}
    if not ping.get("authenticated"):
        problems.append(f"no working {exchange} credentials for this key ({ping.get('message') or _err(ping_r, 'ping')}); "
                        "onboard with parsec.account.onboard")

    if isinstance(price, (int, float)) and isinstance(size, (int, float)) and side in ("buy", "sell") and size > 0:
        out["pricing"] = await _pricing(api, parsec_id, outcome, side, float(price), float(size), book)
        if ping.get("authenticated"):
            await _funds(api, exchange, market_id, outcome, side, float(price), float(size), out, problems, warnings)
    if args.get("fee_auth") is not None or args.get("payer_address") or args.get("signer_address"):
        out["fee_escrow"] = await _escrow(api, exchange, args, problems)
    out["valid"] = not problems
    return out


async def _pricing(api: Api, parsec_id: str, outcome: str, side: str, price: float, size: float,
                   book: dict[str, Any]) -> dict[str, Any]:
    opposite = book.get("asks" if side == "buy" else "bids") or []
    fills_now, avg = walk_limit(opposite, side, price, size)
    est = await api.get("/execution-price", parsec_id=parsec_id, outcome=outcome, side=side, amount=size)
    best = lambda levels: (levels[0]["price"] if isinstance(levels[0], dict) else levels[0][0]) if levels else None  # noqa: E731
    return {"best_bid": best(book.get("bids") or []), "best_ask": best(book.get("asks") or []),
            "marketable": fills_now > 0, "fills_now": fills_now, "avg_fill_price": avg,
            "rests": max(0.0, size - fills_now), "notional": round(price * size, 10),
            "market_order_estimate": est.body}


async def _funds(api: Api, exchange: str, market_id: str, outcome: str, side: str, price: float, size: float,
                 out: dict[str, Any], problems: list[str], warnings: list[str]) -> None:
    if side == "buy":
        bal = await api.get("/balance", exchange=exchange)
        reader = BALANCE_READERS.get(exchange)
        try:
            available = reader(bal.body["raw"]) if bal.ok and reader else None
        except (KeyError, TypeError, ValueError):
            available = None
        fee = ((out.get("pricing") or {}).get("market_order_estimate") or {}).get("fee_estimate") or 0.0
        required = round(price * size + float(fee), 6)
        out["balance"] = {"available": available, "required": required, "fee_estimate": fee}
        if available is None and reader is None and bal.ok:
            warnings.append(f"{exchange} publishes no cash balance through its API: funds not checked")
        elif available is None:
            warnings.append(_err(bal, "balance could not be read") if not bal.ok else "balance could not be read")
        elif available + 1e-9 < required:
            problems.append(f"insufficient funds: {available:g} available, {required:g} required")
        return
    pos = await api.get("/positions", exchange=exchange, market_id=market_id)
    held = sum(p["size"] for p in (pos.body if pos.ok else []) if p.get("outcome", "").lower() == outcome.lower())
    out["position"] = {"held": held, "required": size}
    if not pos.ok:
        warnings.append(_err(pos, "positions could not be read"))
    elif held + 1e-9 < size:
        problems.append(f"insufficient position: {held:g} {outcome} held, {size:g} to sell")


async def _escrow(api: Api, exchange: str, args: dict[str, Any], problems: list[str]) -> dict[str, Any] | None:
    """The builder's fee authorization, checked by the order path's own verifier against the terms
    this deployment publishes (GET /builder/escrow/config)."""
    from ..contract.trading import FeeAuthorization
    from ..escrow import authorization
    from ..escrow.config import EscrowConfig

    if args.get("fee_auth") is None:
        problems.append("payer_address and signer_address go with fee_auth")
        return None
    if exchange != "polymarket":
        problems.append("fee_auth: fee escrow is Polymarket only")
        return None
    terms = await api.get("/builder/escrow/config")
    if not terms.ok:
        problems.append(_err(terms, "fee escrow"))
        return None
    t = terms.body
    if not t.get("fee_escrow_enabled"):
        problems.append("fee_auth: fee escrow is not available on this deployment (no chain or contract)")
        return {"terms": t}
    cfg = EscrowConfig(contract=t["escrow_contract_address"], treasury=t["treasury_address"],
                       min_fee_usdc=int(t["min_fee_usdc"]), min_fee_bps=int(t["min_fee_bps"]))
    try:
        auth = FeeAuthorization.model_validate(args["fee_auth"])
        fee = authorization.verify(cfg, auth, args.get("payer_address"), float(args["price"]), float(args["size"]),
                                   cap_bps=t.get("fee_bps"))
    except Exception as exc:
        problems += _problems(exc)
        return {"terms": t}
    if not (args.get("affiliate") or t.get("affiliate_address")):
        problems.append("affiliate: no affiliate address is configured for this builder; pass affiliate")
    return {"terms": t, "fee_base_units": fee,
            "minimum_base_units": authorization.minimum_fee(cfg, float(args["price"]), float(args["size"]))}
