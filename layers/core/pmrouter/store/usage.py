"""The usage table: token buckets (`bucket#<key>`: tokens, ms, version `v`) and monthly counters
(`month#<customer>#<month start>`: used). The leasing arithmetic lives in usage/limits.py; this
module only reads and writes the items, every write conditional."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from ..settings import get_settings
from . import dynamo


def _table():
    return dynamo.table(get_settings().usage_table)


def _refused(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def get_bucket(bucket_id: str) -> dict[str, Any] | None:
    return _table().get_item(Key={"pk": bucket_id}, ConsistentRead=True).get("Item")


def write_bucket(bucket_id: str, tokens: Decimal, ms: int, seen: dict[str, Any] | None) -> bool:
    """Store the bucket's new state if it is still the `seen` one (None: the bucket did not exist).
    The optimistic lock is the version counter `v`; a bucket written before it existed is matched
    on its stamp. False when another writer came first."""
    table = _table()
    values = {":t": tokens, ":ms": ms}
    try:
        if seen is None:
            table.put_item(Item={"pk": bucket_id, "tokens": tokens, "ms": ms, "v": 1},
                           ConditionExpression="attribute_not_exists(pk)")
        elif "v" not in seen:
            table.update_item(Key={"pk": bucket_id}, UpdateExpression="SET tokens = :t, ms = :ms, v = :one",
                              ConditionExpression="attribute_not_exists(v) AND ms = :old",
                              ExpressionAttributeValues={**values, ":old": int(seen["ms"]), ":one": 1})
        else:
            version = int(seen["v"])
            table.update_item(Key={"pk": bucket_id}, UpdateExpression="SET tokens = :t, ms = :ms, v = :new",
                              ConditionExpression="v = :old",
                              ExpressionAttributeValues={**values, ":old": version, ":new": version + 1})
        return True
    except ClientError as exc:
        if not _refused(exc):
            raise
        return False


def _month_key(customer_id: str, month_start: int) -> str:
    return f"month#{customer_id}#{month_start}"


def add_to_month(customer_id: str, month_start: int, n: int, cap: int) -> int | None:
    """Add `n` requests to the month's counter and return the new count; None (nothing added) when
    the cap (0 = none) is already reached."""
    kwargs: dict[str, Any] = {"Key": {"pk": _month_key(customer_id, month_start)}, "UpdateExpression": "ADD used :n",
                              "ExpressionAttributeValues": {":n": n}, "ReturnValues": "UPDATED_NEW"}
    if cap:
        kwargs["ConditionExpression"] = "attribute_not_exists(used) OR used < :cap"
        kwargs["ExpressionAttributeValues"] = {":n": n, ":cap": cap}
    try:
        return int(_table().update_item(**kwargs)["Attributes"]["used"])
    except ClientError as exc:
        if not _refused(exc):
            raise
        return None


def month_count(customer_id: str, month_start: int) -> int:
    item = _table().get_item(Key={"pk": _month_key(customer_id, month_start)}).get("Item")
    return int(item["used"]) if item else 0
