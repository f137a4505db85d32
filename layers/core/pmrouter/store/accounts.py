"""Customer accounts (traders and builders)."""
from __future__ import annotations

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
