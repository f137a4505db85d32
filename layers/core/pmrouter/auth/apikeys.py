"""API keys: `pk_live_` + 32 random url-safe characters, shown once, stored only as
HMAC-SHA256(pepper, key). The pepper is a platform secret, so a leaked table alone cannot be
brute-forced offline. Lookups are by hash (a GetItem) and the hash is compared in constant time."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from ..cache import TtlCache
from ..settings import get_settings
from ..store import api_keys as keystore
from .platform_secrets import platform_secret

KEY_PREFIX = "pk_live_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved from the API key on every request."""

    customer_id: str
    account_type: str  # trader | builder
    tier: str  # free | pro | scale
    key_id: str  # first characters of the key, safe to log
    key_hash: str = ""  # the stored hash: identifies the key's rate-limit bucket


def key_shape_problem(key: str) -> str | None:
    """Why the API would never accept `key`, or None. One rule shared by authentication and by
    `make run`, which refuses a PMROUTER_DEV_API_KEY that could only ever get a 401."""
    if not key.startswith(KEY_PREFIX):
        return f"an API key must start with {KEY_PREFIX!r}"
    if len(key) > 128:
        return "an API key is at most 128 characters"
    if len(key) < len(KEY_PREFIX) + 16:
        return f"an API key needs at least 16 characters after {KEY_PREFIX!r}"
    return None


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


def end_user_key(customer_id: str) -> str:
    """A builder's end user's API key, derived from the customer id under the platform pepper: the
    builder API returns it on every call (as the contract requires) while only its hash is stored."""
    digest = hmac.new(platform_secret("api_key_pepper").encode(), f"end-user|{customer_id}".encode(),
                      hashlib.sha256).digest()
    return KEY_PREFIX + base64.urlsafe_b64encode(digest).decode()[:32]


def hash_key(key: str, pepper: str | None = None) -> str:
    pepper = pepper if pepper is not None else platform_secret("api_key_pepper")
    return hmac.new(pepper.encode(), key.encode(), hashlib.sha256).hexdigest()


def key_id(key: str) -> str:
    return key[: len(KEY_PREFIX) + 6]


def store_key(key: str, customer_id: str, account_type: str, tier: str, *, builder_id: str | None = None) -> str:
    """Record a key for a customer. Conditional so a (vanishingly unlikely) hash collision never
    overwrites someone else's key (raises store.api_keys.KeyExists)."""
    digest = hash_key(key)
    keystore.put_new({
        "key_hash": digest,
        "key_id": key_id(key),
        "customer_id": customer_id,
        "account_type": account_type,
        "tier": tier,
        "status": "active",
        "created_at": datetime.now(timezone.utc).isoformat(),
        **({"builder_id": builder_id} if builder_id else {}),
    })
    return digest


def revoke_key(key_hash: str) -> None:
    keystore.set_status(key_hash, "revoked")


# Verified keys, per process: one DynamoDB read per key per TTL instead of one per request.
# Revocation therefore takes effect within the TTL (30 s by default).
_cache: TtlCache[str, Principal | None] = TtlCache(30.0, 10_000)


def authenticate(key: str | None) -> Principal | None:
    """The principal for a presented key, or None when it is missing, unknown or revoked."""
    if not key or key_shape_problem(key):
        return None
    digest = hash_key(key)
    hit, principal = _cache.lookup(digest)
    if hit:
        return principal
    item = keystore.get(digest)
    principal = None
    if item and item.get("status") == "active" and hmac.compare_digest(str(item["key_hash"]), digest):
        principal = Principal(str(item["customer_id"]), str(item.get("account_type", "trader")),
                              str(item.get("tier", "free")), str(item.get("key_id", "")), digest)
    # Unknown keys are cached briefly too, so a flood of bad keys does not become a flood of reads.
    _cache.put(digest, principal, get_settings().api_key_cache_seconds if principal else 5.0)
    return principal


def clear_cache() -> None:
    _cache.clear()
