"""The credentials table: one item per customer and exchange (`customer_id`, `exchange`), holding
metadata in the clear and the vault's sealed blob (auth/credentials.py seals and opens it); retired
records (`<exchange>#retired#<time>`) and audit rows (`audit#<time>#<id>`) share the customer's
partition. This module only reads and writes items; nothing here deletes one."""
from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from ..settings import get_settings
from . import dynamo


def _table():
    return dynamo.table(get_settings().credentials_table)


def _key(customer_id: str, exchange: str) -> dict[str, str]:
    return {"customer_id": customer_id, "exchange": exchange}


def get(customer_id: str, exchange: str, *, consistent: bool = False, fields: str | None = None) -> dict | None:
    """The record, or only `fields` (a projection expression) of it."""
    kwargs: dict[str, Any] = {"Key": _key(customer_id, exchange), "ConsistentRead": consistent}
    if fields:
        kwargs["ProjectionExpression"] = fields
    return _table().get_item(**kwargs).get("Item")


def put(item: dict[str, Any]) -> None:
    _table().put_item(Item=item)


def put_new(item: dict[str, Any]) -> None:
    """Write a record that must not exist yet (a retired copy is never overwritten)."""
    _table().put_item(Item=item, ConditionExpression=Attr("customer_id").not_exists())


def set_status(customer_id: str, exchange: str, status: str, at: str) -> None:
    _table().update_item(Key=_key(customer_id, exchange), UpdateExpression="SET #s = :d, deactivated_at = :t",
                         ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":d": status, ":t": at})


def set_exported(customer_id: str, exchange: str, at: str) -> None:
    """Only on a record that holds a sealed key."""
    _table().update_item(Key=_key(customer_id, exchange), UpdateExpression="SET exported_at = :t",
                         ConditionExpression="attribute_exists(ct)", ExpressionAttributeValues={":t": at})


def for_customer(customer_id: str, *, prefix: str | None = None, consistent: bool = False) -> list[dict[str, Any]]:
    """The customer's records (those whose exchange starts with `prefix`, when given)."""
    cond = Key("customer_id").eq(customer_id)
    if prefix is not None:
        cond = cond & Key("exchange").begins_with(prefix)
    return _table().query(KeyConditionExpression=cond, ConsistentRead=consistent).get("Items", [])
