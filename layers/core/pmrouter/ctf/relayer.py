"""Who submits a CTF call. `WalletSubmitter` signs with the customer's own Polygon key and sends it
through the chain (the wallet pays its gas in POL). A gasless relayer (Polymarket's, for proxy and Safe
wallets) would implement the same `submit`; none is wired yet, so a deployment without a chain answers
503. `SandboxRelayer` records the submission in DynamoDB and moves nothing: it is selected only when
`PMROUTER_SANDBOX_CHAIN=1` says so (the test stack)."""
from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Protocol

from ..chain.config import CONDITIONAL_TOKENS, NEG_RISK_ADAPTER, sandbox_selected
from ..store import escrow as escrow_store


class Relayer(Protocol):
    def submit(self, wallet: str, action: str, payload: dict[str, Any], *, private_key: str | None,
               request_id: str) -> dict[str, str]: ...


class SandboxRelayer:
    def submit(self, wallet: str, action: str, payload: dict[str, Any], *, private_key: str | None = None,
               request_id: str = "") -> dict[str, str]:
        body = json.dumps({"wallet": wallet.lower(), "action": action, **payload}, sort_keys=True)
        tx = "0x" + hashlib.sha256(f"{body}|{time.time_ns()}".encode()).hexdigest()
        target = NEG_RISK_ADAPTER if payload.get("neg_risk") else CONDITIONAL_TOKENS
        escrow_store.put({"escrow_id": f"relay#{tx}", "wallet": wallet, "action": action, "to": target,
                          "payload": body, "submitted_at": int(time.time())})
        return {"transaction_hash": tx, "status": "submitted"}


class WalletSubmitter:
    def submit(self, wallet: str, action: str, payload: dict[str, Any], *, private_key: str | None,
               request_id: str) -> dict[str, str]:
        from .operations import CtfCall, submit

        if not private_key:
            from ..chain.errors import ChainNotConfigured

            raise ChainNotConfigured("this wallet's key is not held by pmrouter and no relayer is configured")
        call = CtfCall(action=action, condition_id=payload["condition_id"], amount=payload.get("amount"),
                       neg_risk=bool(payload.get("neg_risk")), amounts=payload.get("amounts"))
        result = submit(private_key, call, request_id)
        return {"transaction_hash": result.tx_hash, "status": result.status}


def relayer() -> Relayer:
    if sandbox_selected():
        return SandboxRelayer()
    from ..chain.config import require

    require()  # no chain: ChainNotConfigured (503), never a pretend submission
    return WalletSubmitter()
