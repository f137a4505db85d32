"""End users of a builder: account items in the accounts table with `builder_id`, listed through
the `by-builder` index. A user's customer id is derived from (builder, external_id), so creating
the same user twice lands on the same item: one conditional PutItem makes creation idempotent."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timezone
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from ..settings import get_settings
from . import dynamo

_NAMESPACE = uuid.UUID("6f1c7f0e-9a55-4a5e-9a2f-1f0d3e6c2b11")
DEFAULT_QPS = 5
DEFAULT_POOL = 500


def _table():
    return dynamo.table(get_settings().accounts_table)


def user_id(builder_id: str, external_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{builder_id}|{external_id}"))


def create(builder_id: str, external_id: str, qps_limit: int, email: str | None) -> tuple[dict, bool]:
    """(item, created). Idempotent on external_id: an existing user comes back unchanged."""
    item: dict[str, Any] = {
        "customer_id": user_id(builder_id, external_id), "builder_id": builder_id, "external_id": external_id,
        "account_type": "end_user", "tier": "free", "status": "active", "qps_limit": qps_limit,
        "created_at": datetime.now(timezone.utc).isoformat(),
    }
    if email:
        item["email"] = email
    try:
        _table().put_item(Item=item, ConditionExpression=Attr("customer_id").not_exists())
        return item, True
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    existing = get(item["customer_id"])
    assert existing is not None
    return existing, False


def get(customer_id: str) -> dict | None:
    return _table().get_item(Key={"customer_id": customer_id}, ConsistentRead=True).get("Item")


def list_page(builder_id: str, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    kwargs: dict[str, Any] = {"IndexName": "by-builder", "KeyConditionExpression": Key("builder_id").eq(builder_id),
                              "Limit": limit}
    if cursor:
        kwargs["ExclusiveStartKey"] = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    resp = _table().query(**kwargs)
    last = resp.get("LastEvaluatedKey")
    nxt = base64.urlsafe_b64encode(json.dumps(last, default=str).encode()).decode().rstrip("=") if last else None
    return resp.get("Items", []), nxt


def all_users(builder_id: str) -> list[dict]:
    out, cursor = [], None
    while True:
        page, cursor = list_page(builder_id, 500, cursor)
        out.extend(page)
        if not cursor:
            return out


def set_qps(customer_id: str, qps_limit: int) -> dict:
    resp = _table().update_item(Key={"customer_id": customer_id}, UpdateExpression="SET qps_limit = :q",
                                ConditionExpression=Attr("status").eq("active"),
                                ExpressionAttributeValues={":q": qps_limit}, ReturnValues="ALL_NEW")
    return resp["Attributes"]


def deactivate(customer_id: str) -> None:
    _table().update_item(Key={"customer_id": customer_id}, UpdateExpression="SET #s = :d, qps_limit = :z",
                         ExpressionAttributeNames={"#s": "status"},
                         ExpressionAttributeValues={":d": "deactivated", ":z": 0})
