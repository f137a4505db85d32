"""The escrow table: one item per fee authorization (`escrow_id`, indexes `by-order` and `by-state`),
plus the sandbox ledgers' rows (`chain#<action>#<escrow_id>`, `relay#<tx>`) when a test stack asks for
them. Every state change is conditional; the escrow's rules live in escrow/service.py."""
from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from ..settings import get_settings
from . import dynamo


class Moved(Exception):
    """Another writer changed the escrow first (conditional write refused)."""


def _table():
    return dynamo.table(get_settings().escrow_table)


def _refused(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def move(escrow_id: str, to: str, *, expect: dict[str, Any], values: dict[str, Any] | None = None) -> None:
    """One conditional state change: `expect` holds attribute values that must still be current
    (raises Moved when one is not)."""
    names = {"#s": "status", "#st": "state"}
    vals: dict[str, Any] = {":to": to}
    sets = ["#s = :to", "#st = :to"]
    for i, (k, v) in enumerate((values or {}).items()):
        sets.append(f"{k} = :v{i}")
        vals[f":v{i}"] = v
    conds = []
    for i, (k, v) in enumerate(expect.items()):
        attr = "#st" if k == "state" else k
        conds.append(f"{attr} = :e{i}")
        vals[f":e{i}"] = v
    try:
        _table().update_item(Key={"escrow_id": escrow_id}, UpdateExpression="SET " + ", ".join(sets),
                             ConditionExpression=" AND ".join(conds), ExpressionAttributeNames=names,
                             ExpressionAttributeValues=vals)
    except ClientError as exc:
        if _refused(exc):
            raise Moved(escrow_id) from None
        raise


def put_new(item: dict[str, Any]) -> bool:
    """Write the item unless its `escrow_id` exists; False when it does."""
    return dynamo.conditional(_table().put_item, Item=item, ConditionExpression=Attr("escrow_id").not_exists())


def put(item: dict[str, Any]) -> None:
    _table().put_item(Item=item)


def set_attribute(escrow_id: str, name: str, value: Any) -> None:
    _table().update_item(Key={"escrow_id": escrow_id}, UpdateExpression=f"SET {name} = :t",
                         ExpressionAttributeValues={":t": value})


def get(escrow_id: str, *, consistent: bool = True) -> dict[str, Any] | None:
    return _table().get_item(Key={"escrow_id": escrow_id}, ConsistentRead=consistent).get("Item")


def by_order(order_uid: str) -> list[dict[str, Any]]:
    return _table().query(IndexName="by-order", KeyConditionExpression=Key("order_uid").eq(order_uid)).get("Items", [])


def in_state(state: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"IndexName": "by-state", "KeyConditionExpression": Key("state").eq(state)}
    while True:
        page = _table().query(**kwargs)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
