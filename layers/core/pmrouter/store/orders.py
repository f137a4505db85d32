"""Order records: written before an order is sent, so nothing the venue may have accepted is ever
unknown to us. The same item is the idempotency record: its key is derived from the caller's
`Idempotency-Key`, and claiming it is one conditional PutItem.

Item: pk `customer_id`, sk `order_uid`. Sparse GSI `to-reconcile` (`recon`="open", `updated_at`)
holds every order whose final state we do not know yet; GSI `by-venue-order` finds an order by the
venue's id.
"""
from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from ..settings import get_settings
from . import dynamo

FINAL = frozenset({"filled", "cancelled", "rejected"})


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def order_uid(customer_id: str, exchange: str, idempotency_key: str | None) -> str:
    """Deterministic from the idempotency key (so a retry lands on the same item), else random."""
    if idempotency_key:
        digest = hashlib.sha256(f"{customer_id}|{exchange}|{idempotency_key}".encode()).hexdigest()
        return "i" + digest[:31]
    return "r" + uuid.uuid4().hex[:31]


def fingerprint(parts: dict[str, Any]) -> str:
    text = "|".join(f"{k}={parts[k]}" for k in sorted(parts))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class OrderRecord:
    customer_id: str
    order_uid: str
    exchange: str
    market_id: str
    outcome: str
    side: str
    price: Decimal
    size: Decimal
    order_type: str
    client_order_id: str
    fingerprint: str
    cred_mode: str  # stored | managed | per_request
    status: str = "pending"
    filled: Decimal = Decimal(0)
    venue_order_id: str | None = None
    expiration: int | None = None
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    error: dict | None = None  # the API error returned when the venue refused (replayed to retries)
    builder_id: str | None = None

    def to_item(self) -> dict[str, Any]:
        item = {k: v for k, v in self.__dict__.items() if v is not None}
        if self.venue_order_id:
            item["venue_key"] = f"{self.exchange}#{self.venue_order_id}"
        if self.status not in FINAL and self.cred_mode != "per_request":
            item["recon"] = "open"
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "OrderRecord":
        known = {k: item[k] for k in cls.__dataclass_fields__ if k in item}
        rec = cls(**known)
        rec.price, rec.size, rec.filled = Decimal(str(rec.price)), Decimal(str(rec.size)), Decimal(str(rec.filled))
        if rec.expiration is not None:
            rec.expiration = int(rec.expiration)
        return rec


class AlreadyClaimed(Exception):
    def __init__(self, existing: OrderRecord):
        super().__init__(existing.order_uid)
        self.existing = existing


def _table():
    return dynamo.table(get_settings().orders_table)


def claim(record: OrderRecord) -> None:
    """Record the order before it is sent. Raises AlreadyClaimed (with the first record) when the
    same idempotency key was used before: the caller then returns that first result."""
    try:
        _table().put_item(Item=record.to_item(), ConditionExpression=Attr("order_uid").not_exists(),
                          ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        old = exc.response.get("Item")
        existing = OrderRecord.from_item(_plain(old)) if old else get(record.customer_id, record.order_uid)
        assert existing is not None
        raise AlreadyClaimed(existing) from None


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """ReturnValuesOnConditionCheckFailure gives low-level attribute values; turn them into Python."""
    from boto3.dynamodb.types import TypeDeserializer

    if item and all(isinstance(v, dict) and len(v) == 1 for v in item.values()):
        d = TypeDeserializer()
        return {k: d.deserialize(v) for k, v in item.items()}
    return item


def get(customer_id: str, uid: str) -> OrderRecord | None:
    item = _table().get_item(Key={"customer_id": customer_id, "order_uid": uid}, ConsistentRead=True).get("Item")
    return OrderRecord.from_item(item) if item else None


def find_by_venue_id(customer_id: str, exchange: str, venue_order_id: str) -> OrderRecord | None:
    resp = _table().query(IndexName="by-venue-order", KeyConditionExpression=Key("venue_key").eq(f"{exchange}#{venue_order_id}"))
    for item in resp.get("Items", []):
        if item.get("customer_id") == customer_id:
            return OrderRecord.from_item(item)
    return None


def update_state(record: OrderRecord, *, status: str, filled: Decimal | None = None,
                 venue_order_id: str | None = None, error: dict | None = None) -> OrderRecord:
    """Move an order forward. Conditional: a final state is never overwritten, so a late or
    replayed update cannot resurrect a cancelled or filled order. The venue id is written only when
    it is new (Polymarket's is the order hash, already in the claim): rewriting an index key costs
    an index write."""
    record.status = status
    if filled is not None:
        record.filled = filled
    if venue_order_id == record.venue_order_id:
        venue_order_id = None
    elif venue_order_id:
        record.venue_order_id = venue_order_id
    if error is not None:
        record.error = error
    record.updated_at = _now()
    names = {"#s": "status"}
    values: dict[str, Any] = {":s": status, ":u": record.updated_at, ":final": list(FINAL)}
    sets = ["#s = :s", "updated_at = :u"]
    removes = []
    if filled is not None:
        sets.append("filled = :f")
        values[":f"] = record.filled
    if venue_order_id:
        sets += ["venue_order_id = :v", "venue_key = :vk"]
        values[":v"] = venue_order_id
        values[":vk"] = f"{record.exchange}#{venue_order_id}"
    if error is not None:
        sets.append("#e = :e")
        names["#e"] = "error"
        values[":e"] = error
    if status in FINAL or record.cred_mode == "per_request":
        removes.append("recon")
    expr = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    cond = "attribute_exists(order_uid) AND NOT #s IN (" + ", ".join(f":fin{i}" for i in range(len(FINAL))) + ")"
    for i, f in enumerate(sorted(FINAL)):
        values[f":fin{i}"] = f
    del values[":final"]
    try:
        _table().update_item(Key={"customer_id": record.customer_id, "order_uid": record.order_uid},
                             UpdateExpression=expr, ConditionExpression=cond, ExpressionAttributeNames=names,
                             ExpressionAttributeValues=values)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        current = get(record.customer_id, record.order_uid)
        if current is not None:
            return current
    return record


def list_for(customer_id: str, exchange: str, *, limit: int = 500, page_size: int = 200) -> list[OrderRecord]:
    """Up to `limit` of the customer's orders on one venue. DynamoDB applies `Limit` before the
    filter, so pages are followed until enough rows pass it (orders on other venues would
    otherwise crowd these out)."""
    out: list[OrderRecord] = []
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("customer_id").eq(customer_id),
                              "FilterExpression": Attr("exchange").eq(exchange), "ScanIndexForward": False,
                              "Limit": page_size}
    while len(out) < limit:
        resp = _table().query(**kwargs)
        out.extend(OrderRecord.from_item(i) for i in resp.get("Items", []))
        if "LastEvaluatedKey" not in resp:
            break
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return out[:limit]


def to_reconcile(limit: int = 200, older_than_s: float = 0.0) -> list[OrderRecord]:
    """Orders whose final state is unknown, least recently updated first."""
    cutoff = datetime.fromtimestamp(time.time() - older_than_s, tz=timezone.utc).isoformat(timespec="milliseconds")
    resp = _table().query(IndexName="to-reconcile", KeyConditionExpression=Key("recon").eq("open") & Key("updated_at").lte(cutoff),
                          Limit=limit)
    return [OrderRecord.from_item(i) for i in resp.get("Items", [])]


def reconcile_queue(max_items: int = 20_000) -> tuple[list[OrderRecord], bool]:
    """The whole `to-reconcile` index, page by page, up to `max_items` (least recently updated
    first), and whether it was cut there. The reconciler reads all of it so that it can give every
    customer a share of each run instead of taking the oldest few hundred orders."""
    out: list[OrderRecord] = []
    kwargs: dict[str, Any] = {"IndexName": "to-reconcile", "KeyConditionExpression": Key("recon").eq("open")}
    while True:
        resp = _table().query(**kwargs)
        out.extend(OrderRecord.from_item(i) for i in resp.get("Items", []))
        if "LastEvaluatedKey" not in resp:
            return out[:max_items], len(out) > max_items
        if len(out) >= max_items:
            return out[:max_items], True
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def park(record: OrderRecord, reason: str) -> bool:
    """Take an order nobody can check (no credentials, the user deactivated) out of the
    reconciliation queue, recording why and when. Its status stays what we last knew; an owner who
    reads it with credentials again brings it up to date. False when it had already left."""
    return dynamo.conditional(_table().update_item,
                              Key={"customer_id": record.customer_id, "order_uid": record.order_uid},
                              UpdateExpression="SET recon_parked = :r, recon_parked_at = :t REMOVE recon",
                              ConditionExpression="attribute_exists(recon)",
                              ExpressionAttributeValues={":r": reason, ":t": _now()})


def release(record: OrderRecord) -> None:
    """Forget a claim whose order certainly never reached the venue (connection refused, the
    venue's own 503), so that a retry with the same Idempotency-Key may try again."""
    dynamo.conditional(_table().delete_item, Key={"customer_id": record.customer_id, "order_uid": record.order_uid},
                       ConditionExpression=Attr("status").eq("pending"))
