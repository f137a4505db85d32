"""The escrow contract, behind an interface. `SandboxEscrowChain` keeps a ledger in DynamoDB that,
like the contract's `feeRecords(orderId)`, refuses a second pull or a second settlement of the same
escrow, so a duplicate call is an error rather than a double payment. A deployment that settles on
Polygon implements the same three calls against the contract through a relayer."""
from __future__ import annotations

import hashlib
from typing import Protocol

from botocore.exceptions import ClientError

from ..settings import get_settings
from ..store import dynamo


class AlreadyDone(Exception):
    """The chain already recorded this action for this escrow."""


class EscrowChain(Protocol):
    def pull_fee(self, escrow_id: str, payer: str, amount: int, deadline: int, signature: str) -> str: ...

    def distribute(self, escrow_id: str, affiliate: str, affiliate_amount: int, treasury_amount: int,
                   refund_amount: int) -> str: ...

    def settled(self, escrow_id: str) -> bool: ...

    def pulled(self, escrow_id: str) -> bool:
        """Whether the fee of this escrow was pulled (after a crash, the store may not know)."""
        ...


class SandboxEscrowChain:
    def _table(self):
        return dynamo.table(get_settings().escrow_table)

    def _record(self, escrow_id: str, action: str, fields: dict) -> str:
        tx = "0x" + hashlib.sha256(f"{escrow_id}|{action}".encode()).hexdigest()
        try:
            self._table().put_item(Item={"escrow_id": f"chain#{action}#{escrow_id}", "tx": tx, **fields},
                                   ConditionExpression="attribute_not_exists(escrow_id)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise AlreadyDone(f"{action} already recorded for {escrow_id}") from None
            raise
        return tx

    def pull_fee(self, escrow_id: str, payer: str, amount: int, deadline: int, signature: str) -> str:
        return self._record(escrow_id, "pull", {"payer": payer, "amount": amount})

    def distribute(self, escrow_id: str, affiliate: str, affiliate_amount: int, treasury_amount: int,
                   refund_amount: int) -> str:
        return self._record(escrow_id, "distribute", {"affiliate": affiliate, "affiliate_amount": affiliate_amount,
                                                      "treasury_amount": treasury_amount,
                                                      "refund_amount": refund_amount})

    def settled(self, escrow_id: str) -> bool:
        return "Item" in self._table().get_item(Key={"escrow_id": f"chain#distribute#{escrow_id}"})

    def pulled(self, escrow_id: str) -> bool:
        return "Item" in self._table().get_item(Key={"escrow_id": f"chain#pull#{escrow_id}"}, ConsistentRead=True)

    def calls(self, escrow_id: str) -> list[str]:
        return [a for a in ("pull", "distribute") if "Item" in self._table().get_item(
            Key={"escrow_id": f"chain#{a}#{escrow_id}"})]


def chain() -> EscrowChain:
    return SandboxEscrowChain()
