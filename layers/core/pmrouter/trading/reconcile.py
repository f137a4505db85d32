"""Fill reconciliation: the scheduled `reconcile_fills` function.

For every order whose final state we do not know (the sparse `to-reconcile` index: pending sends,
resting orders), ask the venue with the customer's stored credentials and move the record forward.
A pending order the venue has never heard of, older than `NOT_FOUND_GRACE_S`, never reached it:
it is marked rejected. Fills are written once each (conditional put keyed by the venue's fill id),
and a per-account checkpoint records how far fills have been read.

Orders placed with per-request credentials are not in the index (we hold no credentials for them);
they are brought up to date whenever their owner reads them with credentials again.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from ..auth import credentials as credstore
from ..exchanges import errors as venue
from ..exchanges.base import TradingSession, VenueFill
from ..exchanges.registry import get_adapter
from ..settings import get_settings
from ..store import dynamo
from ..store import orders as store

log = logging.getLogger("pmrouter.reconcile")

NOT_FOUND_GRACE_S = 120.0


def _fills_table():
    return dynamo.table(get_settings().fills_table)


def record_fill(customer_id: str, exchange: str, fill: VenueFill) -> bool:
    """Store a fill once. Returns False when it was already stored."""
    item: dict[str, Any] = {
        "account": f"{customer_id}#{exchange}", "fill_key": f"{fill.created_at.isoformat()}#{fill.fill_id}",
        "fill_id": fill.fill_id, "order_id": fill.order_id, "market_id": fill.market_id, "outcome": fill.outcome,
        "side": fill.side, "price": Decimal(repr(fill.price)), "size": Decimal(repr(fill.size)),
        "fee": Decimal(repr(fill.fee)), "is_taker": fill.is_taker, "created_at": fill.created_at.isoformat(),
    }
    try:
        _fills_table().put_item(Item=item, ConditionExpression=Attr("fill_key").not_exists())
        return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise


def _checkpoint(customer_id: str, exchange: str, last: datetime) -> None:
    _fills_table().put_item(Item={"account": f"checkpoint#{customer_id}", "fill_key": exchange,
                                  "last_fill_at": last.isoformat(), "updated_at": datetime.now(timezone.utc).isoformat()})


async def _reconcile_order(session: TradingSession, rec: store.OrderRecord) -> str:
    try:
        market = await get_adapter(rec.exchange).get_market(rec.market_id)
        if rec.venue_order_id:
            try:
                live = await session.get_order(rec.venue_order_id)
            except venue.MarketNotFound:
                live = await session.find_order(rec.client_order_id, market)
        else:
            live = await session.find_order(rec.client_order_id, market)
    except venue.VenueError as exc:
        log.warning("reconcile: %s %s unreadable: %s", rec.exchange, rec.order_uid, type(exc).__name__)
        return "error"
    if live is None:
        age = time.time() - datetime.fromisoformat(rec.created_at).timestamp()
        if rec.status == "pending" and age > NOT_FOUND_GRACE_S and session.lost_orders_findable:
            store.update_state(rec, status="rejected",
                               error={"status": 503, "error": "the order never reached the venue", "code":
                                      "service_unavailable", "retryable": True})
            return "rejected"
        return "unknown"
    store.update_state(rec, status=live.status, filled=Decimal(repr(live.filled)), venue_order_id=live.id)
    return live.status


async def reconcile_once(limit: int = 200) -> dict[str, Any]:
    started = time.perf_counter()
    records = store.to_reconcile(limit=limit)
    by_account: dict[tuple[str, str], list[store.OrderRecord]] = {}
    for rec in records:
        by_account.setdefault((rec.customer_id, rec.exchange), []).append(rec)
    outcome: dict[str, int] = {}
    fills_new = 0
    for (customer_id, exchange), recs in by_account.items():
        stored = credstore.load(customer_id, exchange)
        if stored is None:
            outcome["no_credentials"] = outcome.get("no_credentials", 0) + len(recs)
            continue
        session = get_adapter(exchange).open_session(stored.credentials)
        results = await asyncio.gather(*(_reconcile_order(session, r) for r in recs))
        for r in results:
            outcome[r] = outcome.get(r, 0) + 1
        try:
            fills = await session.fills(market_id=None, limit=500)
        except venue.VenueError:
            continue
        for f in fills:
            fills_new += record_fill(customer_id, exchange, f)
        if fills:
            _checkpoint(customer_id, exchange, max(f.created_at for f in fills))
    return {"orders_checked": len(records), "outcomes": outcome, "fills_recorded": fills_new,
            "seconds": round(time.perf_counter() - started, 3)}


def run_reconcile() -> dict[str, Any]:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(reconcile_once())
    finally:
        loop.close()
