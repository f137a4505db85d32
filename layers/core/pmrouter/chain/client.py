"""Sending transactions exactly once: estimate, sign (EIP-1559), journal, broadcast, wait for the
receipt. See `journal` for why the record is written before the broadcast and how a crash is found
again. Reads (balances, views) go straight to the node."""
from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from eth_account.signers.local import LocalAccount

from ..store import chain_journal as journal
from ..store.chain_journal import IntentExists, NonceTaken, TxRecord
from .config import ChainConfig
from .errors import ChainUnavailable, TransactionFailed, TransactionPending

log = logging.getLogger("pmrouter.chain")

# Test hook: called with the record right after it is journaled and before the broadcast, so a test can
# stop the process exactly there (the crash the journal exists for). Never set outside tests.
after_record: Callable[[TxRecord], None] | None = None


@dataclass(frozen=True)
class TxResult:
    intent: str
    tx_hash: str
    nonce: int
    status: str  # mined | reverted
    block: int | None
    gas_used: int | None


def _web3(url: str):
    from web3 import HTTPProvider, Web3  # heavy: imported only where a chain is configured

    return Web3(HTTPProvider(url, request_kwargs={"timeout": 15}))


_w3_lock = threading.Lock()


@functools.lru_cache(maxsize=4)
def web3_for(url: str):
    with _w3_lock:
        return _web3(url)


class ChainClient:
    def __init__(self, cfg: ChainConfig):
        self.cfg = cfg
        self.w3 = web3_for(cfg.rpc_url)

    # --- reads ------------------------------------------------------------------------------------

    def contract(self, address: str, abi: list[dict[str, Any]]):
        return self.w3.eth.contract(address=self.w3.to_checksum_address(address), abi=abi)

    def native_balance(self, address: str) -> int:
        return self.rpc(lambda: self.w3.eth.get_balance(self.w3.to_checksum_address(address)))

    def rpc(self, fn: Callable[[], Any]) -> Any:
        import requests

        try:
            return fn()
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ChainUnavailable(f"chain RPC unreachable: {type(exc).__name__}") from None

    # --- writes -----------------------------------------------------------------------------------

    def send(self, intent: str, account: LocalAccount, to: str, data: str, *, gas: int | None = None,
             abi: list[dict[str, Any]] | None = None) -> TxResult:
        """Send the call `data` to `to` from `account`, once per `intent`, whoever else tries the same
        intent at the same time and however often it is retried. Returns the mined result, raises
        TransactionFailed (recorded with its reason) or TransactionPending (a later call resumes it)."""
        table = self.cfg.table
        existing = journal.get(table, intent)
        if existing is not None and existing.status != "rejected":  # a refusal may be tried again
            return self._follow(existing, abi)
        # Earlier transactions of this key go first: the estimate below must see the state they make.
        self.recover(account.address)
        to = self.w3.to_checksum_address(to)
        tx: dict[str, Any] = {"from": account.address, "to": to, "data": data, "value": 0,
                              "chainId": self.cfg.chain_id, "type": 2}
        if gas is None:
            try:
                gas = self.rpc(lambda: self.w3.eth.estimate_gas(tx)) * 12 // 10 + 10_000
            except ChainUnavailable:
                raise
            except Exception as exc:  # the call would revert: record the refusal, broadcast nothing
                reason = revert_reason(exc, abi)
                try:
                    journal.record_rejected(table, intent, account.address, to, reason)
                except IntentExists:
                    return self._follow(journal.get(table, intent), abi)
                raise TransactionFailed(intent, reason) from None
        tx["gas"] = gas
        tx.update(self._fees())
        record = self._claim(intent, account, tx)
        if after_record is not None:
            after_record(record)
        return self._follow(record, abi)

    def recover(self, sender: str) -> None:
        """Push this sender's journaled but unfinished transactions out first, oldest nonce first: one
        left unsent by a crash would hold every later nonce in the node's queue. Each is followed to its
        end; a failure of one is already recorded and does not stop the others."""
        for record in journal.pending(self.cfg.table, sender):
            try:
                self._follow(record, None)
            except (TransactionFailed, TransactionPending):
                continue

    def follow(self, intent: str, abi: list[dict[str, Any]] | None = None) -> TxResult | None:
        """Finish a journaled intent if there is one (None when nothing was ever recorded for it)."""
        record = journal.get(self.cfg.table, intent)
        return None if record is None else self._follow(record, abi)

    def _fees(self) -> dict[str, int]:
        """EIP-1559: the node's priority fee, and room for the base fee to double before inclusion."""
        block = self.rpc(lambda: self.w3.eth.get_block("latest"))
        priority = self.rpc(lambda: self.w3.eth.max_priority_fee)
        base = int(block.get("baseFeePerGas") or 0)
        return {"maxPriorityFeePerGas": priority, "maxFeePerGas": 2 * base + priority}

    def _claim(self, intent: str, account: LocalAccount, tx: dict[str, Any]) -> TxRecord:
        table, sender = self.cfg.table, account.address
        for _ in range(20):
            counter = journal.next_nonce(table, self.cfg.chain_id, sender)
            # The node's count covers transactions sent with this key outside pmrouter.
            on_chain = self.rpc(lambda: self.w3.eth.get_transaction_count(sender, "pending"))
            nonce = max(counter or 0, on_chain)
            signed = account.sign_transaction({**tx, "nonce": nonce})
            record = TxRecord(intent=intent, sender=sender, status="signed", nonce=nonce,
                              tx_hash="0x" + bytes(signed.hash).hex(), raw_tx="0x" + bytes(signed.raw_transaction).hex(),
                              to=tx["to"])
            try:
                journal.claim(table, self.cfg.chain_id, record, counter_was=counter)
                return record
            except NonceTaken:
                continue  # a concurrent run took this nonce: read the counter again
            except IntentExists:
                return journal.get(table, intent)
        raise ChainUnavailable("could not claim a nonce after 20 attempts")

    def _follow(self, record: TxRecord, abi: list[dict[str, Any]] | None) -> TxResult:
        """Take a journaled transaction to its end: broadcast it if the node does not know it (the
        same signed bytes, so the same hash), then wait for its receipt."""
        if record.status == "rejected":
            raise TransactionFailed(record.intent, record.reason or "rejected")
        if record.status in ("reverted", "dropped"):
            raise TransactionFailed(record.intent, record.reason or record.status, record.tx_hash)
        assert record.tx_hash and record.raw_tx and record.nonce is not None
        receipt = self._receipt(record.tx_hash)
        if receipt is None and record.status != "mined":
            self._broadcast(record)
            receipt = self._wait(record)
        if receipt is None:
            raise TransactionPending(record.intent, record.tx_hash)
        return self._settle(record, receipt, abi)

    def _broadcast(self, record: TxRecord) -> None:
        try:
            self.rpc(lambda: self.w3.eth.send_raw_transaction(record.raw_tx))
        except ChainUnavailable:
            raise
        except Exception as exc:  # "already known" (resent) or "nonce too low" (mined, or replaced)
            text = str(exc).lower()
            if "nonce too low" in text or "nonce is too low" in text:
                if self._receipt(record.tx_hash) is None:  # the nonce went to another transaction
                    journal.mark(self.cfg.table, record.intent, "dropped",
                                 reason="nonce used by another transaction")
                    raise TransactionFailed(record.intent, "nonce used by another transaction",
                                            record.tx_hash) from None
                return
            if "already known" not in text and "already imported" not in text:
                log.warning("broadcast of %s failed: %s", record.intent, text[:200])
                raise ChainUnavailable(f"broadcast failed: {text[:200]}") from None
        if record.status == "signed":
            journal.mark(self.cfg.table, record.intent, "sent")

    def _receipt(self, tx_hash: str) -> dict[str, Any] | None:
        from web3.exceptions import TransactionNotFound

        try:
            return self.rpc(lambda: self.w3.eth.get_transaction_receipt(tx_hash))
        except TransactionNotFound:
            return None

    def _wait(self, record: TxRecord) -> dict[str, Any] | None:
        deadline = time.monotonic() + self.cfg.confirm_seconds
        delay = 0.02
        while True:
            receipt = self._receipt(record.tx_hash)
            if receipt is not None or time.monotonic() > deadline:
                return receipt
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _settle(self, record: TxRecord, receipt: dict[str, Any], abi: list[dict[str, Any]] | None) -> TxResult:
        block = int(receipt["blockNumber"])
        if int(receipt["status"]) == 1:
            if record.status != "mined":
                journal.mark(self.cfg.table, record.intent, "mined", block=block)
            return TxResult(record.intent, record.tx_hash, record.nonce, "mined", block, int(receipt["gasUsed"]))
        reason = self._replay_reason(record, block, abi)
        journal.mark(self.cfg.table, record.intent, "reverted", reason=reason, block=block)
        raise TransactionFailed(record.intent, reason, record.tx_hash)

    def _replay_reason(self, record: TxRecord, block: int, abi: list[dict[str, Any]] | None) -> str:
        """A receipt says only "reverted": run the same call against the state before its block to
        read why."""
        tx = self.w3.eth.get_transaction(record.tx_hash)
        try:
            self.w3.eth.call({"from": tx["from"], "to": tx["to"], "data": tx["input"], "gas": tx["gas"]}, block - 1)
        except Exception as exc:
            return revert_reason(exc, abi)
        return "reverted (out of gas or state changed within the block)"


def revert_reason(exc: Exception, abi: list[dict[str, Any]] | None) -> str:
    """`Error(string)` text or the contract's custom error name (decoded with its ABI), else the
    node's message."""
    data = getattr(exc, "data", None)
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(data, str) and data.startswith("0x") and len(data) >= 10 and abi:
        from eth_abi import decode
        from eth_utils import keccak

        for item in abi:
            if item.get("type") != "error":
                continue
            types = [i["type"] for i in item.get("inputs", [])]
            signature = f"{item['name']}({','.join(types)})"
            if "0x" + keccak(text=signature)[:4].hex() == data[:10]:
                try:
                    args = decode(types, bytes.fromhex(data[10:]))
                except Exception:
                    return item["name"]
                shown = ", ".join("0x" + a.hex() if isinstance(a, bytes) else str(a) for a in args)
                return f"{item['name']}({shown})"
    return str(message)[:300]
