"""Customer accounts (traders and builders)."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

from boto3.dynamodb.conditions import Attr

from ..settings import get_settings
from . import dynamo

ACCOUNT_TYPES = ("trader", "builder")
TIERS = ("free", "pro", "scale", "internal")


def _table():
    return dynamo.table(get_settings().accounts_table)


def create_account(account_type: str, tier: str, *, customer_id: str | None = None, name: str = "") -> dict:
    if account_type not in ACCOUNT_TYPES:
        raise ValueError(f"account_type must be one of {ACCOUNT_TYPES}")
    if tier not in TIERS:
        raise ValueError(f"tier must be one of {TIERS}")
    item = {
        "customer_id": customer_id or str(uuid.uuid4()),
        "account_type": account_type,
        "tier": tier,
        "name": name,
        "status": "active",
        "created_at": datetime.now(timezone.utc).isoformat(),
    }
    _table().put_item(Item=item, ConditionExpression=Attr("customer_id").not_exists())
    return item


def get_account(customer_id: str) -> dict | None:
    return _table().get_item(Key={"customer_id": customer_id}).get("Item")


def set_qps_pool(customer_id: str, qps_pool: int) -> None:
    """A builder's QPS pool (the sum its end users' qps_limit may reach)."""
    _table().update_item(Key={"customer_id": customer_id}, UpdateExpression="SET qps_pool = :p",
                         ExpressionAttributeValues={":p": qps_pool})


def take_hourly_slot(customer_id: str, counter: str, limit: int) -> bool:
    """One use of an hourly allowance (`<counter>_hour`, `<counter>_count` on the account), by
    conditional updates so the limit holds across function instances. False when it is spent."""
    hour = int(time.time()) // 3600
    names = {"#h": f"{counter}_hour", "#c": f"{counter}_count"}
    attempts = (
        ("SET #c = #c + :one", "#h = :h AND #c < :max"),
        ("SET #h = :h, #c = :one", "attribute_not_exists(#h) OR #h <> :h"),
    )
    for update, condition in attempts:
        values = {":h": hour, ":one": 1, **({":max": limit} if ":max" in condition else {})}
        if _conditional_update(Key={"customer_id": customer_id}, UpdateExpression=update,
                               ConditionExpression=condition, ExpressionAttributeNames=names,
                               ExpressionAttributeValues=values):
            return True
    return False


def give_back_hourly_slot(customer_id: str, counter: str) -> None:
    """Return a use taken this hour (nothing when the hour has turned or nothing was taken)."""
    _conditional_update(
        Key={"customer_id": customer_id}, UpdateExpression="SET #c = #c - :one",
        ConditionExpression="#h = :h AND #c > :zero",
        ExpressionAttributeNames={"#h": f"{counter}_hour", "#c": f"{counter}_count"},
        ExpressionAttributeValues={":h": int(time.time()) // 3600, ":one": 1, ":zero": 0})


def _conditional_update(**kwargs) -> bool:
    """False when the condition did not hold; other failures raise."""
    return dynamo.conditional(_table().update_item, **kwargs)
