"""The API keys table: one item per key hash (`key_hash`), a `by-customer` index. Only hashes are
stored (auth/apikeys.py makes them); this module only reads and writes the items."""
from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from ..errors import Conflict
from ..settings import get_settings
from . import dynamo


class KeyExists(Conflict):
    """A record for this hash is already there (revoked or not: a revoked key is never brought back)."""


def _table():
    return dynamo.table(get_settings().api_keys_table)


def put_new(item: dict[str, Any]) -> None:
    """Write a key record unless one with its hash exists (never overwrites someone else's key)."""
    try:
        _table().put_item(Item=item, ConditionExpression=Attr("key_hash").not_exists())
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        raise KeyExists("an API key with this hash is already stored") from None


def set_status(key_hash: str, status: str) -> None:
    _table().update_item(Key={"key_hash": key_hash}, UpdateExpression="SET #s = :r",
                         ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":r": status})


def get(key_hash: str) -> dict[str, Any] | None:
    return _table().get_item(Key={"key_hash": key_hash}).get("Item")


def for_customer(customer_id: str) -> list[dict[str, Any]]:
    """Every key record of a customer (the index holds keys only; each record is read in full)."""
    hashes = [i["key_hash"] for i in _table().query(
        IndexName="by-customer", KeyConditionExpression=Key("customer_id").eq(customer_id))["Items"]]
    return [item for h in hashes if (item := get(h)) is not None]
