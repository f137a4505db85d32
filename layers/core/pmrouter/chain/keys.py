"""The operator's settlement key: the only key the escrow contract obeys. It lives in the platform
secret (Secrets Manager, encrypted with the stack's KMS key) under `chain_settlement_key`, like every
other platform secret, and is held in memory only as an eth-account signer."""
from __future__ import annotations

import functools

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ..auth.platform_secrets import PlatformSecretMissing, platform_secret
from .errors import ChainNotConfigured

SECRET_NAME = "chain_settlement_key"


@functools.lru_cache(maxsize=4)
def _account(key: str) -> LocalAccount:
    return Account.from_key(key)


def settlement_account() -> LocalAccount:
    try:
        return _account(platform_secret(SECRET_NAME))
    except PlatformSecretMissing:
        raise ChainNotConfigured(f"the platform secret has no {SECRET_NAME}") from None
