"""Escrow records: one per fee authorization (its `order_id` is the key, so an id is never reused),
created with the order, settled exactly once.

States: held (fee pulled, order live) -> settling (claimed by one settle run) -> settled. A cancel
records `refund_requested`; the settlement refunds whatever share of the order did not fill.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from ..settings import get_settings
from ..store import dynamo
from ..store import orders as order_store
from .chain import AlreadyDone, chain

log = logging.getLogger("pmrouter.escrow")


def _table():
    return dynamo.table(get_settings().escrow_table)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def hold(escrow_id: str, *, customer_id: str, builder_id: str, order_uid: str, payer: str, fee: int, deadline: int,
         signature: str, affiliate: str, affiliate_bps: int) -> None:
    """Record the escrow (refusing a reused id), then pull the fee: before the order is sent."""
    try:
        _table().put_item(Item={
            "escrow_id": escrow_id, "status": "held", "customer_id": customer_id, "builder_id": builder_id,
            "order_uid": order_uid, "payer": payer, "fee": fee, "affiliate": affiliate, "affiliate_bps": affiliate_bps,
            "created_at": _now(), "state": "held"}, ConditionExpression=Attr("escrow_id").not_exists())
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            from ..api.errors import ValidationFailed  # lazily: the settle_fees function never needs FastAPI

            raise ValidationFailed(["fee_auth.order_id was already used; sign a new authorization"]) from None
        raise
    tx = chain().pull_fee(escrow_id, payer, fee, deadline, signature)
    _table().update_item(Key={"escrow_id": escrow_id}, UpdateExpression="SET pull_tx = :t",
                         ExpressionAttributeValues={":t": tx})


def request_refund(order_uid: str) -> None:
    for item in _by_order(order_uid):
        _table().update_item(Key={"escrow_id": item["escrow_id"]}, UpdateExpression="SET refund_requested = :t",
                             ExpressionAttributeValues={":t": _now()})


def _by_order(order_uid: str) -> list[dict]:
    return _table().query(IndexName="by-order", KeyConditionExpression=Key("order_uid").eq(order_uid)).get("Items", [])


def get(escrow_id: str) -> dict | None:
    return _table().get_item(Key={"escrow_id": escrow_id}, ConsistentRead=True).get("Item")


def held() -> list[dict]:
    return _table().query(IndexName="by-state", KeyConditionExpression=Key("state").eq("held")).get("Items", [])


def shares(fee: int, filled_fraction: Decimal, affiliate_bps: int) -> tuple[int, int, int]:
    """(affiliate, treasury, refund) in base units; they always add up to the fee."""
    used = int(Decimal(fee) * min(Decimal(1), max(Decimal(0), filled_fraction)))
    affiliate = used * affiliate_bps // 10_000
    return affiliate, used - affiliate, fee - used


def settle_once() -> dict[str, Any]:
    """Settle every held escrow whose order is final. Safe to run concurrently and to rerun."""
    done, skipped = 0, 0
    for item in held():
        record = order_store.get(item["customer_id"], item["order_uid"])
        if record is None:
            continue
        if record.status not in order_store.FINAL and "refund_requested" not in item:
            skipped += 1
            continue
        if record.status not in order_store.FINAL:
            skipped += 1  # refund asked but the cancel not yet recorded: next run
            continue
        try:  # claim: only one run moves held -> settling
            _table().update_item(Key={"escrow_id": item["escrow_id"]}, UpdateExpression="SET #s = :s, #st = :st",
                                 ConditionExpression="#st = :held",
                                 ExpressionAttributeNames={"#s": "status", "#st": "state"},
                                 ExpressionAttributeValues={":s": "settling", ":st": "settling", ":held": "held"})
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                continue
            raise
        fraction = (record.filled / record.size) if record.size else Decimal(0)
        affiliate, treasury, refund = shares(int(item["fee"]), fraction, int(item["affiliate_bps"]))
        c = chain()
        tx = None
        if not c.settled(item["escrow_id"]):
            try:
                tx = c.distribute(item["escrow_id"], item["affiliate"], affiliate, treasury, refund)
            except AlreadyDone:
                tx = None
        _table().update_item(
            Key={"escrow_id": item["escrow_id"]},
            UpdateExpression="SET #s = :s, #st = :st, affiliate_amount = :a, treasury_amount = :t, "
                             "refund_amount = :r, settled_at = :at" + (", settle_tx = :tx" if tx else ""),
            ExpressionAttributeNames={"#s": "status", "#st": "state"},
            ExpressionAttributeValues={":s": "settled", ":st": "settled", ":a": affiliate, ":t": treasury,
                                       ":r": refund, ":at": _now(), **({":tx": tx} if tx else {})})
        done += 1
    return {"settled": done, "waiting": skipped}
