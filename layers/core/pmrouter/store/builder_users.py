"""End users of a builder: account items in the accounts table with `builder_id`, listed through
the `by-builder` index. A user's customer id is derived from (builder, external_id), so creating
the same user twice lands on the same item: one conditional PutItem makes creation idempotent."""
from __future__ import annotations

import base64
import json
import random
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeSerializer
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


class PoolExhausted(Exception):
    """The builder's pool cannot hold the requested QPS; `left` is what it can still give."""

    def __init__(self, left: int):
        super().__init__(left)
        self.left = left


class UserChanged(Exception):
    """The user record changed under us (deactivated or re-limited concurrently)."""


_ser = TypeSerializer()


def _av(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in values.items()}


def _pool_update(builder_id: str, delta: int, pool: int) -> dict[str, Any]:
    """The builder account's `qps_allocated` counter moved by `delta`, conditionally: a grant only
    while the counter leaves room for it. DynamoDB conditions cannot add, so the room is computed
    here (`pool - delta`) and compared with the stored counter."""
    update: dict[str, Any] = {"TableName": _table().name, "Key": _av({"customer_id": builder_id}),
                              "UpdateExpression": "SET qps_allocated = qps_allocated + :d",
                              "ExpressionAttributeValues": _av({":d": delta})}
    if delta > 0:
        update["ConditionExpression"] = "qps_allocated <= :room"
        update["ExpressionAttributeValues"].update(_av({":room": pool - delta}))
    else:
        update["ConditionExpression"] = "attribute_exists(qps_allocated)"
    return update


def allocated(builder_id: str) -> int:
    """The builder's allocated QPS: the counter on its account item, started from the sum over its
    active users the first time it is needed (builders from before the counter existed)."""
    item = _table().get_item(Key={"customer_id": builder_id}, ConsistentRead=True).get("Item") or {}
    if "qps_allocated" in item:
        return int(item["qps_allocated"])
    total = sum(int(u.get("qps_limit") or 0) for u in all_users(builder_id) if u.get("status") == "active")
    try:
        _table().update_item(Key={"customer_id": builder_id}, UpdateExpression="SET qps_allocated = :t",
                             ConditionExpression="attribute_exists(customer_id) AND attribute_not_exists(qps_allocated)",
                             ExpressionAttributeValues={":t": total})
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return allocated(builder_id) if get(builder_id) else total  # someone else started it first
    return total


ATTEMPTS = 5


def _backoff(attempt: int) -> None:
    """Jittered pause before retrying a transaction that lost to another on the same builder item."""
    time.sleep(random.uniform(0, 0.02 * (attempt + 1)))


def _transact(items: list[dict[str, Any]]) -> list[str | None]:
    """Run a transaction; on cancellation, the failure code of each item (None where it passed)."""
    try:
        dynamo.client("dynamodb").transact_write_items(TransactItems=items)
        return []
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = exc.response.get("CancellationReasons") or []
        codes = [r.get("Code") if r.get("Code") not in (None, "None") else None for r in reasons]
        if not any(codes):  # no reason given: treat as contention, which the caller may retry
            codes = ["TransactionConflict"] * len(items)
        return codes


def create(builder_id: str, external_id: str, qps_limit: int, email: str | None,
           pool: int = DEFAULT_POOL) -> tuple[dict, bool]:
    """(item, created). Idempotent on external_id: an existing user comes back unchanged. The user
    is written and its QPS taken from the builder's pool in one transaction, so concurrent creates
    never over-allocate the pool. Raises PoolExhausted."""
    item: dict[str, Any] = {
        "customer_id": user_id(builder_id, external_id), "builder_id": builder_id, "external_id": external_id,
        "account_type": "end_user", "tier": "free", "status": "active", "qps_limit": qps_limit,
        "created_at": datetime.now(timezone.utc).isoformat(),
    }
    if email:
        item["email"] = email
    for attempt in range(ATTEMPTS):
        existing = get(item["customer_id"])
        if existing is not None:
            return existing, False
        allocated(builder_id)
        codes = _transact([
            {"Put": {"TableName": _table().name, "Item": _av(item),
                     "ConditionExpression": "attribute_not_exists(customer_id)"}},
            {"Update": _pool_update(builder_id, qps_limit, pool)},
        ])
        if not codes:
            return item, True
        if codes[0] == "ConditionalCheckFailed":
            continue  # created concurrently: the next turn returns it
        if codes[1] == "ConditionalCheckFailed":
            raise PoolExhausted(max(0, pool - allocated(builder_id)))
        _backoff(attempt)  # another transaction on the builder's counter: try again shortly
    raise UserChanged(item["customer_id"])


def get(customer_id: str) -> dict | None:
    return _table().get_item(Key={"customer_id": customer_id}, ConsistentRead=True).get("Item")


def list_page(builder_id: str, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    kwargs: dict[str, Any] = {"IndexName": "by-builder", "KeyConditionExpression": Key("builder_id").eq(builder_id),
                              "Limit": limit}
    if cursor:
        kwargs["ExclusiveStartKey"] = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    try:
        resp = _table().query(**kwargs)
    except ClientError as exc:  # a start key this index never issued
        if exc.response["Error"]["Code"] != "ValidationException":
            raise
        raise ValueError("not a cursor of this index") from None
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


def set_qps(user: dict, qps_limit: int, pool: int) -> dict:
    """Change an active user's QPS, moving the difference in the builder's pool in the same
    transaction (conditional on the user's current limit, so two changes cannot both count from
    the same starting point). Raises PoolExhausted or UserChanged."""
    old = int(user.get("qps_limit") or 0)
    delta = qps_limit - old
    builder_id = str(user["builder_id"])
    allocated(builder_id)
    for attempt in range(ATTEMPTS):
        codes = _transact([
            {"Update": {"TableName": _table().name, "Key": _av({"customer_id": user["customer_id"]}),
                        "UpdateExpression": "SET qps_limit = :q",
                        "ConditionExpression": "#s = :active AND qps_limit = :old",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": _av({":q": qps_limit, ":active": "active", ":old": old})}},
            {"Update": _pool_update(builder_id, delta, pool)},
        ])
        if not codes:
            return {**user, "qps_limit": qps_limit}
        if codes[0] == "ConditionalCheckFailed":
            raise UserChanged(user["customer_id"])
        if codes[1] == "ConditionalCheckFailed":
            raise PoolExhausted(max(0, pool - allocated(builder_id)))
        _backoff(attempt)
    raise UserChanged(user["customer_id"])


def deactivate(user: dict) -> bool:
    """Mark an active user deactivated and give its QPS back to the pool, once: the transaction is
    conditional on the user still being active with the limit we return. False when it already was."""
    builder_id = str(user["builder_id"])
    allocated(builder_id)
    for attempt in range(ATTEMPTS):
        current = get(str(user["customer_id"]))
        if current is None or current.get("status") != "active":
            return False
        qps = int(current.get("qps_limit") or 0)
        codes = _transact([
            {"Update": {"TableName": _table().name, "Key": _av({"customer_id": current["customer_id"]}),
                        "UpdateExpression": "SET #s = :d, qps_limit = :z",
                        "ConditionExpression": "#s = :active AND qps_limit = :q",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": _av({":d": "deactivated", ":z": 0, ":active": "active",
                                                          ":q": qps})}},
            {"Update": _pool_update(builder_id, -qps, 0)},
        ])
        if not codes:
            return True
        _backoff(attempt)
    raise UserChanged(user["customer_id"])
