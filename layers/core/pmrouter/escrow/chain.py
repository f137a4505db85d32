"""The escrow contract, behind an interface. `ContractEscrowChain` sends the operator's settlement
transactions to ParsecFeeEscrow (contracts/ParsecFeeEscrow.sol) through the journaled chain client, so
each pull and each settlement is sent at most once and found again after a crash; the contract itself
refuses a second pull or settlement of one order id.

Which implementation runs is configuration, never a default: the contract when a chain and an escrow
contract are configured; `SandboxEscrowChain` (a DynamoDB ledger that moves no money) only when
`PMROUTER_SANDBOX_CHAIN=1` says so (the test stack); otherwise `ChainNotConfigured`, which the API
answers with 503 and which records nothing."""
from __future__ import annotations

import hashlib
from typing import Protocol

from ..chain.config import sandbox_selected
from ..chain.errors import ChainNotConfigured, TransactionFailed
from ..store import escrow as store


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


# feeRecords(orderId).status in the contract
_NONE, _HELD, _DISTRIBUTED, _REFUNDED = 0, 1, 2, 3


class ContractEscrowChain:
    def __init__(self) -> None:
        from ..chain import artifacts
        from ..chain.client import ChainClient
        from ..chain.config import require

        self.cfg = require()
        if not self.cfg.escrow_contract:
            raise ChainNotConfigured("no escrow contract is configured (PMROUTER_ESCROW_CONTRACT)")
        self.abi = artifacts.abi("ParsecFeeEscrow")
        self.client = ChainClient(self.cfg)
        self.contract = self.client.contract(self.cfg.escrow_contract, self.abi)

    def _intent(self, action: str, escrow_id: str) -> str:
        # The contract's address is part of the intent: a redeployed escrow starts a fresh history.
        return f"escrow-{action}:{self.cfg.escrow_contract.lower()}:{escrow_id.lower()}"

    def _status(self, escrow_id: str) -> int:
        return self.client.rpc(lambda: self.contract.functions.feeRecords(_bytes32(escrow_id)).call()[2])

    def _send(self, action: str, escrow_id: str, fn: str, args: list) -> str:
        from ..chain.keys import settlement_account

        data = self.contract.encode_abi(fn, args)
        return self.client.send(self._intent(action, escrow_id), settlement_account(), self.cfg.escrow_contract,
                                data, abi=self.abi).tx_hash

    def pull_fee(self, escrow_id: str, payer: str, amount: int, deadline: int, signature: str) -> str:
        from eth_utils import to_checksum_address

        try:
            return self._send("pull", escrow_id, "pullFee", [_bytes32(escrow_id), to_checksum_address(payer), amount,
                                                            deadline, bytes.fromhex(signature.removeprefix("0x"))])
        except TransactionFailed as exc:
            if exc.reason.startswith("AlreadyPulled"):
                raise AlreadyDone(f"pull already on chain for {escrow_id}") from None
            raise

    def distribute(self, escrow_id: str, affiliate: str, affiliate_amount: int, treasury_amount: int,
                   refund_amount: int) -> str:
        from eth_utils import to_checksum_address

        try:
            if affiliate_amount == 0 and treasury_amount == 0:  # nothing earned: the contract's full refund
                return self._send("settle", escrow_id, "refund", [_bytes32(escrow_id)])
            return self._send("settle", escrow_id, "distribute",
                              [_bytes32(escrow_id), to_checksum_address(affiliate), affiliate_amount, treasury_amount,
                               refund_amount])
        except TransactionFailed as exc:
            if exc.reason.startswith("NotHeld") and self.settled(escrow_id):
                raise AlreadyDone(f"settlement already on chain for {escrow_id}") from None
            raise

    def settled(self, escrow_id: str) -> bool:
        return self._status(escrow_id) in (_DISTRIBUTED, _REFUNDED)

    def pulled(self, escrow_id: str) -> bool:
        """A pull signed and journaled before a crash is finished first: the journal is authoritative, so
        the answer never says "not pulled" about a fee whose transaction is still to go out."""
        try:
            self.client.follow(self._intent("pull", escrow_id), self.abi)
        except TransactionFailed:
            pass  # recorded as failed: the chain status below says not pulled
        return self._status(escrow_id) != _NONE


def _bytes32(escrow_id: str) -> bytes:
    return bytes.fromhex(escrow_id.removeprefix("0x"))


class SandboxEscrowChain:
    """A ledger that moves no money: for test stacks that explicitly ask for it."""

    def _record(self, escrow_id: str, action: str, fields: dict) -> str:
        tx = "0x" + hashlib.sha256(f"{escrow_id}|{action}".encode()).hexdigest()
        if not store.put_new({"escrow_id": f"chain#{action}#{escrow_id}", "tx": tx, **fields}):
            raise AlreadyDone(f"{action} already recorded for {escrow_id}")
        return tx

    def pull_fee(self, escrow_id: str, payer: str, amount: int, deadline: int, signature: str) -> str:
        return self._record(escrow_id, "pull", {"payer": payer, "amount": amount})

    def distribute(self, escrow_id: str, affiliate: str, affiliate_amount: int, treasury_amount: int,
                   refund_amount: int) -> str:
        return self._record(escrow_id, "distribute", {"affiliate": affiliate, "affiliate_amount": affiliate_amount,
                                                      "treasury_amount": treasury_amount,
                                                      "refund_amount": refund_amount})

    def settled(self, escrow_id: str) -> bool:
        return store.get(f"chain#distribute#{escrow_id}", consistent=False) is not None

    def pulled(self, escrow_id: str) -> bool:
        return store.get(f"chain#pull#{escrow_id}") is not None

    def calls(self, escrow_id: str) -> list[str]:
        return [a for a in ("pull", "distribute") if store.get(f"chain#{a}#{escrow_id}", consistent=False) is not None]


def available() -> bool:
    """Whether fee escrow can run here: the explicit sandbox, or a chain with an escrow contract."""
    if sandbox_selected():
        return True
    from ..chain.config import configured

    cfg = configured()
    return bool(cfg and cfg.escrow_contract)


def require_available() -> None:
    """Refuse fee escrow up front (503) where no chain or contract is configured: before anything is
    verified, recorded or sent."""
    if not available():
        raise ChainNotConfigured("fee escrow needs a chain (PMROUTER_CHAIN_RPC_URL) and an escrow contract "
                                 "(PMROUTER_ESCROW_CONTRACT)")


def chain() -> EscrowChain:
    if sandbox_selected():
        return SandboxEscrowChain()
    return ContractEscrowChain()
