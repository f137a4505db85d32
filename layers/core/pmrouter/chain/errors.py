"""What the chain can answer, as pmrouter's own exceptions (the API edge turns them into status codes)."""
from __future__ import annotations


class ChainError(Exception):
    """Base of every chain failure."""


class ChainNotConfigured(ChainError):
    """No chain (and no explicitly chosen sandbox) is configured: the route cannot move money."""


class ChainUnavailable(ChainError):
    """The RPC node did not answer; nothing was decided, the caller may retry."""


class TransactionFailed(ChainError):
    """The chain refused the call: rejected before broadcast (estimate reverted) or mined and reverted.
    Always recorded in the journal with its reason before this is raised."""

    def __init__(self, intent: str, reason: str, tx_hash: str | None = None):
        super().__init__(f"{intent}: {reason}")
        self.intent, self.reason, self.tx_hash = intent, reason, tx_hash


class TransactionPending(ChainError):
    """Broadcast and journaled, but not mined within the wait: a later run finds it again."""

    def __init__(self, intent: str, tx_hash: str):
        super().__init__(f"{intent}: {tx_hash} not mined yet")
        self.intent, self.tx_hash = intent, tx_hash
