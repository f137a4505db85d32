"""The chain client's transaction journal (DynamoDB, `PMROUTER_CHAIN_TABLE`): one record per intent (for example
`escrow-pull:<order id>`), written with the signed transaction BEFORE it is broadcast, and one nonce
counter per sender.

Why this shape:
- The intent record's key makes a second transaction for the same intent impossible: whoever loses
  the conditional put reads the winner's record and follows that transaction instead.
- The record and the nonce it uses are claimed in one DynamoDB transaction (counter N -> N+1 only if
  it still reads N, record only if absent), so two concurrent runs never sign two transactions with
  one nonce, and a crash can never burn a nonce without leaving the signed bytes that use it.
- The signed bytes are kept, so after a crash between recording and broadcasting the next run sends
  exactly the same transaction (same hash): it is never lost and never sent twice.
Records that are not final carry `pending` (the sender), a sparse index the recovery sweep reads.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from . import dynamo

FINAL = frozenset({"mined", "reverted", "rejected", "dropped"})
_ser = TypeSerializer()


@dataclass(frozen=True)
class TxRecord:
    intent: str
    sender: str
    status: str  # signed -> sent -> mined | reverted | dropped; rejected (never broadcast)
    nonce: int | None = None
    tx_hash: str | None = None
    raw_tx: str | None = None
    to: str | None = None
    reason: str | None = None
    block: int | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "TxRecord":
        def opt_int(v: Any) -> int | None:
            return None if v is None else int(v)

        return cls(intent=item["tx_key"].removeprefix("intent#"), sender=item["sender"], status=item["status"],
                   nonce=opt_int(item.get("nonce")), tx_hash=item.get("tx_hash"), raw_tx=item.get("raw_tx"),
                   to=item.get("to"), reason=item.get("reason"), block=opt_int(item.get("block")))


# A rejected intent never reached the chain (its estimate reverted), so it may be tried again once the
# cause is gone (an allowance given, a balance topped up); anything else recorded is final or in flight.
_NEW_OR_REJECTED = "attribute_not_exists(tx_key) OR #s = :rejected"
_NEW_OR_REJECTED_LOW = {"ConditionExpression": _NEW_OR_REJECTED, "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":rejected": _ser.serialize("rejected")}}


class NonceTaken(Exception):
    """Another run claimed this nonce first: read the counter again."""


class IntentExists(Exception):
    """Another run (or an earlier one) already recorded this intent."""


def _table(name: str):
    return dynamo.table(name)


def _intent_key(intent: str) -> str:
    return f"intent#{intent}"


def _counter_key(chain_id: int, sender: str) -> str:
    return f"nonce#{chain_id}#{sender.lower()}"


def get(table: str, intent: str) -> TxRecord | None:
    item = _table(table).get_item(Key={"tx_key": _intent_key(intent)}, ConsistentRead=True).get("Item")
    return TxRecord.from_item(item) if item else None


def next_nonce(table: str, chain_id: int, sender: str) -> int | None:
    """The counter's next nonce, or None before this sender's first transaction."""
    item = _table(table).get_item(Key={"tx_key": _counter_key(chain_id, sender)}, ConsistentRead=True).get("Item")
    return None if item is None else int(item["next_nonce"])


def claim(table: str, chain_id: int, record: TxRecord, *, counter_was: int | None) -> None:
    """Record the signed transaction and advance the sender's counter past its nonce, atomically."""
    assert record.nonce is not None
    counter: dict[str, Any] = {
        "TableName": table, "Key": {"tx_key": _ser.serialize(_counter_key(chain_id, record.sender))},
        "UpdateExpression": "SET next_nonce = :next",
        "ExpressionAttributeValues": {":next": _ser.serialize(record.nonce + 1)},
    }
    if counter_was is None:
        counter["ConditionExpression"] = "attribute_not_exists(tx_key)"
    else:
        counter["ConditionExpression"] = "next_nonce = :was"
        counter["ExpressionAttributeValues"][":was"] = _ser.serialize(counter_was)
    item = {"tx_key": _intent_key(record.intent), "sender": record.sender, "status": record.status,
            "nonce": record.nonce, "tx_hash": record.tx_hash, "raw_tx": record.raw_tx, "to": record.to,
            "pending": record.sender, "recorded_at": int(time.time())}
    put = {"TableName": table, "Item": {k: _ser.serialize(v) for k, v in item.items() if v is not None},
           **_NEW_OR_REJECTED_LOW}
    try:
        dynamo.client("dynamodb").transact_write_items(TransactItems=[{"Update": counter}, {"Put": put}])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        # Which condition failed decides what the caller does; the intent record is the authority.
        if get(table, record.intent) is not None:
            raise IntentExists(record.intent) from None
        raise NonceTaken(record.intent) from None


def record_rejected(table: str, intent: str, sender: str, to: str, reason: str) -> TxRecord:
    """A call the chain refused before anything was broadcast (its gas estimate reverted). Recorded so
    the failure and its reason are on file; nothing was signed with a nonce, so a later attempt of the
    same intent may replace it."""
    item = {"tx_key": _intent_key(intent), "sender": sender, "status": "rejected", "to": to,
            "reason": reason[:500], "recorded_at": int(time.time())}
    try:
        _table(table).put_item(Item=item, ConditionExpression=_NEW_OR_REJECTED,
                               ExpressionAttributeNames={"#s": "status"},
                               ExpressionAttributeValues={":rejected": "rejected"})
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise IntentExists(intent) from None
        raise
    return TxRecord.from_item(item)


def mark(table: str, intent: str, status: str, *, reason: str | None = None, block: int | None = None) -> None:
    """Move a record forward. Final states drop the `pending` marker (out of the recovery index)."""
    names = {"#s": "status"}
    values: dict[str, Any] = {":s": status}
    sets = ["#s = :s"]
    if reason is not None:
        sets.append("reason = :r")
        values[":r"] = reason[:500]
    if block is not None:
        sets.append("#b = :b")  # `block` is a DynamoDB reserved word
        names["#b"] = "block"
        values[":b"] = block
    expr = "SET " + ", ".join(sets) + (" REMOVE pending" if status in FINAL else "")
    _table(table).update_item(Key={"tx_key": _intent_key(intent)}, UpdateExpression=expr,
                              ExpressionAttributeNames=names, ExpressionAttributeValues=values)


def pending(table: str, sender: str) -> list[TxRecord]:
    """This sender's transactions that are recorded but not known to be final, oldest nonce first."""
    items = []
    kwargs: dict[str, Any] = {"IndexName": "by-pending", "KeyConditionExpression": Key("pending").eq(sender)}
    while True:
        page = _table(table).query(**kwargs)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    records = [TxRecord.from_item(i) for i in items]
    return sorted(records, key=lambda r: r.nonce if r.nonce is not None else -1)
