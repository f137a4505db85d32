"""The fills table: one item per own fill (`account` = <customer>#<exchange>, `fill_key` =
<created_at>#<fill id>), written once; plus the reconciliation rotation's cursor row
(`reconcile#rotation` / `cursor`). The reconciliation rules live in trading/reconcile.py."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr

from ..settings import get_settings
from . import dynamo

_CURSOR = {"account": "reconcile#rotation", "fill_key": "cursor"}


def _table():
    return dynamo.table(get_settings().fills_table)


def put_once(customer_id: str, exchange: str, *, fill_id: str, order_id: str, market_id: str, outcome: str,
             side: str, price: Decimal, size: Decimal, fee: Decimal, is_taker: bool, created_at: datetime) -> bool:
    """Store a fill unless it is stored already (False then)."""
    item: dict[str, Any] = {
        "account": f"{customer_id}#{exchange}", "fill_key": f"{created_at.isoformat()}#{fill_id}",
        "fill_id": fill_id, "order_id": order_id, "market_id": market_id, "outcome": outcome, "side": side,
        "price": price, "size": size, "fee": fee, "is_taker": is_taker, "created_at": created_at.isoformat(),
    }
    return dynamo.conditional(_table().put_item, Item=item, ConditionExpression=Attr("fill_key").not_exists())


def rotation_cursor() -> str:
    """The account key the last reconciliation run stopped after ("" when it went round)."""
    item = _table().get_item(Key=_CURSOR).get("Item")
    return str(item["after"]) if item else ""


def save_rotation_cursor(after: str, at: str) -> None:
    if after:
        _table().put_item(Item={**_CURSOR, "after": after, "updated_at": at})
    else:
        _table().delete_item(Key=_CURSOR)
