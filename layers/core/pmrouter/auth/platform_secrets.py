"""Platform secrets (API-key pepper, venue API keys, escrow operator key) live in one Secrets Manager
secret holding a JSON object. Read once per process; never logged."""
from __future__ import annotations

import json
import threading

from ..settings import get_settings
from .. import aws

_lock = threading.Lock()
_cache: dict[str, str] | None = None


class PlatformSecretMissing(RuntimeError):
    pass


def platform_secrets() -> dict[str, str]:
    global _cache
    if _cache is None:
        with _lock:
            if _cache is None:
                resp = aws.client("secretsmanager").get_secret_value(SecretId=get_settings().platform_secret_id)
                _cache = json.loads(resp["SecretString"])
    return _cache


def platform_secret(name: str) -> str:
    value = platform_secrets().get(name)
    if not value:
        raise PlatformSecretMissing(f"platform secret {name!r} is not configured")
    return value


def reset() -> None:
    global _cache
    _cache = None
