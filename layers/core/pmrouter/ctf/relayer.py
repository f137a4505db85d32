"""The relayer behind the CTF routes. A deployment submits through Polymarket's relayer with the
platform's builder credentials; `SandboxRelayer` records each submission in DynamoDB (the escrow
table's ledger area) and answers with a transaction hash and status, as the relayer does."""
from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Protocol

from ..settings import get_settings
from ..store import dynamo

CONDITIONAL_TOKENS = "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045"
NEG_RISK_ADAPTER = "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296"


class Relayer(Protocol):
    def submit(self, wallet: str, action: str, payload: dict[str, Any]) -> dict[str, str]: ...


class SandboxRelayer:
    def submit(self, wallet: str, action: str, payload: dict[str, Any]) -> dict[str, str]:
        body = json.dumps({"wallet": wallet.lower(), "action": action, **payload}, sort_keys=True)
        tx = "0x" + hashlib.sha256(f"{body}|{time.time_ns()}".encode()).hexdigest()
        target = NEG_RISK_ADAPTER if payload.get("neg_risk") else CONDITIONAL_TOKENS
        dynamo.table(get_settings().escrow_table).put_item(
            Item={"escrow_id": f"relay#{tx}", "wallet": wallet, "action": action, "to": target, "payload": body,
                  "submitted_at": int(time.time())})
        return {"transaction_hash": tx, "status": "submitted"}


def relayer() -> Relayer:
    return SandboxRelayer()
