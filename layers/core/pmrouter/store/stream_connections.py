"""The stream table (`PMROUTER_STREAM_TABLE`) of the deployed `/ws`: what a connection remembers
between frames and what the pump reads. Rows (pk, sk):

- `conn#<id>` / `meta`: connected_ms, the customer and tier once authenticated, the control-message
  bucket; TTL two hours (API Gateway's longest connection).
- `conn#<id>` / `sub#<parsec_id>#<outcome>`: one subscription (depth, server_seq so far, owed_resync,
  resync_ms).
- `cust#<id>` / `subs`: how many subscriptions the customer holds across connections (conditional).
- `pump` / `lease`: which pump instance sends book frames (holder, generation, until_ms).

The rules (caps, hand-over, sessions) live in stream/; this module only reads and writes the rows."""
from __future__ import annotations

import os
import time
from decimal import Decimal
from typing import Any

from . import dynamo

TTL_S = 2 * 3600
LEASE_KEY = {"pk": "pump", "sk": "lease"}


def _table():
    return dynamo.table(os.environ["PMROUTER_STREAM_TABLE"])


def _conn(connection_id: str) -> str:
    return f"conn#{connection_id}"


def sub_sk(parsec_id: str, outcome: str) -> str:
    return f"sub#{parsec_id}#{outcome.lower()}"


# --- connections -----------------------------------------------------------------------------------

def open_connection(connection_id: str, *, builder_customer_id: str | None) -> None:
    now = time.time()
    item: dict[str, Any] = {"pk": _conn(connection_id), "sk": "meta", "connected_ms": int(now * 1000),
                            "expires_at": int(now) + TTL_S}
    if builder_customer_id:
        item["builder_customer_id"] = builder_customer_id
    _table().put_item(Item=item)


def connection_items(connection_id: str) -> list[dict[str, Any]]:
    """The connection's `meta` and `sub#...` rows."""
    return _table().query(KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": _conn(connection_id)})["Items"]


def save_meta(connection_id: str, *, tokens: Decimal, stamp: Decimal, who: dict[str, str] | None) -> None:
    """The control-message bucket, and (once authenticated) customer_id, principal, account_type, tier."""
    values: dict[str, Any] = {":t": tokens, ":s": stamp}
    expr = "SET tokens = :t, stamp = :s"
    for i, (name, value) in enumerate((who or {}).items()):
        values[f":w{i}"] = value
        expr += f", {name} = :w{i}"
    _table().update_item(Key={"pk": _conn(connection_id), "sk": "meta"}, UpdateExpression=expr,
                         ExpressionAttributeValues=values)


def close_connection(connection_id: str) -> None:
    _table().delete_item(Key={"pk": _conn(connection_id), "sk": "meta"})


def connection_rows() -> list[dict[str, Any]]:
    """Every connection's rows (`meta` and `sub#...`), read by the pump."""
    rows: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"FilterExpression": "begins_with(pk, :c)", "ExpressionAttributeValues": {":c": "conn#"},
                              "ConsistentRead": True}
    while True:
        page = _table().scan(**kwargs)
        rows += page["Items"]
        if "LastEvaluatedKey" not in page:
            return rows
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def update_row_if_present(pk: str, sk: str, expr: str, values: dict[str, Any] | None = None) -> bool:
    """An update of a row that may have gone away meanwhile (False then)."""
    kwargs: dict[str, Any] = {"Key": {"pk": pk, "sk": sk}, "UpdateExpression": expr,
                              "ConditionExpression": "attribute_exists(pk)"}
    if values:
        kwargs["ExpressionAttributeValues"] = values
    return dynamo.conditional(_table().update_item, **kwargs)


# --- subscriptions ---------------------------------------------------------------------------------

def customer_subscriptions(customer_id: str) -> int:
    item = _table().get_item(Key={"pk": f"cust#{customer_id}", "sk": "subs"}).get("Item") or {}
    return int(item.get("n", 0))


def count_subscription(customer_id: str, cap: int) -> bool:
    """One more subscription for the customer unless it holds `cap` already (False then)."""
    return dynamo.conditional(_table().update_item, Key={"pk": f"cust#{customer_id}", "sk": "subs"},
                        UpdateExpression="ADD n :one", ConditionExpression="attribute_not_exists(n) OR n < :cap",
                        ExpressionAttributeValues={":one": 1, ":cap": cap})


def put_subscription(connection_id: str, customer_id: str, *, parsec_id: str, exchange: str, market_id: str,
                     outcome: str, token_id: str, depth: int, seq: int) -> None:
    _table().put_item(Item={"pk": _conn(connection_id), "sk": sub_sk(parsec_id, outcome),
                            "book": f"{parsec_id}#{outcome.lower()}", "exchange": exchange, "market_id": market_id,
                            "outcome": outcome, "token_id": token_id, "customer_id": customer_id, "depth": depth,
                            "seq": seq, "expires_at": int(time.time()) + TTL_S})


def drop_subscription(connection_id: str, customer_id: str, parsec_id: str, outcome: str) -> None:
    _table().delete_item(Key={"pk": _conn(connection_id), "sk": sub_sk(parsec_id, outcome)})
    _table().update_item(Key={"pk": f"cust#{customer_id}", "sk": "subs"},
                         UpdateExpression="ADD n :m", ExpressionAttributeValues={":m": -1})


def ask_resync(connection_id: str, parsec_id: str, outcome: str) -> None:
    """The client asked for a resync that the pump answers (it owns the subscription's seq)."""
    _table().update_item(Key={"pk": _conn(connection_id), "sk": sub_sk(parsec_id, outcome)},
                         UpdateExpression="SET resync_ms = :t REMOVE owed_resync",
                         ExpressionAttributeValues={":t": int(time.time() * 1000)})


def resynced(connection_id: str, parsec_id: str, outcome: str, seq: int) -> None:
    _table().update_item(Key={"pk": _conn(connection_id), "sk": sub_sk(parsec_id, outcome)},
                         UpdateExpression="SET seq = :s REMOVE owed_resync", ExpressionAttributeValues={":s": seq})


# --- the pump's lease ------------------------------------------------------------------------------

def lease() -> dict[str, Any]:
    return _table().get_item(Key=LEASE_KEY, ConsistentRead=True).get("Item") or {}


def take_lease(holder: str, seen_generation: int, until_ms: int) -> bool:
    """The lease for `holder` at generation seen + 1, if nobody moved it since it was read."""
    return dynamo.conditional(_table().update_item, Key=LEASE_KEY,
                        UpdateExpression="SET holder = :me, generation = :g, until_ms = :u",
                        ConditionExpression="attribute_not_exists(generation) OR generation = :seen",
                        ExpressionAttributeValues={":me": holder, ":g": seen_generation + 1,
                                                   ":seen": seen_generation, ":u": until_ms})


def renew_lease(holder: str, generation: int, until_ms: int) -> bool:
    """False when `holder` no longer holds this generation of the lease."""
    return dynamo.conditional(_table().update_item, Key=LEASE_KEY, UpdateExpression="SET until_ms = :u",
                        ConditionExpression="holder = :me AND generation = :g",
                        ExpressionAttributeValues={":u": until_ms, ":me": holder, ":g": generation})


def drop_lease() -> None:
    _table().delete_item(Key=LEASE_KEY)
