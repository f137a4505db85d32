"""Exchange credentials: stored (sealed by the vault, one record per customer and exchange) or
per-request (from `X-Exchange-Credentials` or the body's `credentials`, used once, never written).

The stored item holds only non-secret metadata in the clear (mode, address, key id prefix); every
secret field is inside the sealed blob, opened with the customer and exchange as KMS context.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from ..exchanges.base import Credentials
from ..cache import TtlCache
from ..store import credentials as records
from . import vault

SECRET_FIELDS = ("api_key_id", "private_key", "clob_api_key", "clob_api_secret", "clob_api_passphrase")
PURPOSE = "exchange-credentials"


class BadCredentials(ValueError):
    """The caller's credential payload is malformed. The message never contains its values."""


def _context(customer_id: str, exchange: str) -> dict[str, str]:
    return {"customer_id": customer_id, "exchange": exchange, "purpose": PURPOSE}


def parse_header(value: str) -> Credentials:
    """`X-Exchange-Credentials`: base64 of a JSON RequestCredentials object."""
    try:
        raw = base64.b64decode(value.strip() + "=" * (-len(value.strip()) % 4), validate=False)
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCredentials("X-Exchange-Credentials must be base64 of a JSON object") from None
    return from_mapping(data, "X-Exchange-Credentials")


def from_mapping(data: Any, where: str = "credentials") -> Credentials:
    if not isinstance(data, Mapping):
        raise BadCredentials(f"{where} must be a JSON object")
    unknown = sorted(set(data) - set(SECRET_FIELDS) - {"funder", "signature_type"})
    if unknown:
        raise BadCredentials(f"{where} has unknown fields: {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for key in SECRET_FIELDS:
        v = data.get(key)
        if v is None or v == "":
            continue
        if not isinstance(v, str):
            raise BadCredentials(f"{where}.{key} must be a string")
        values[key] = v
    if "funder" in data and data["funder"]:
        values["funder"] = str(data["funder"])
    if "signature_type" in data and data["signature_type"] is not None:
        try:
            values["signature_type"] = int(data["signature_type"])
        except (TypeError, ValueError):
            raise BadCredentials(f"{where}.signature_type must be an integer") from None
    if not values:
        raise BadCredentials(f"{where} is empty")
    return Credentials(**values)


@dataclass(frozen=True)
class StoredCredentials:
    credentials: Credentials
    mode: str  # self | managed
    address: str | None


def store(customer_id: str, exchange: str, creds: Credentials, *, mode: str, address: str | None = None) -> None:
    """Write the customer's credentials for this exchange. A managed wallet's key already there is
    never overwritten: it is kept first as a retired record (pmrouter may hold its only copy)."""
    existing = records.get(customer_id, exchange, consistent=True)
    if existing and existing.get("mode") == "managed" and "ct" in existing:
        _retire(existing)
    sealed = vault.seal(creds.as_dict(), _context(customer_id, exchange))
    item: dict[str, Any] = {
        "customer_id": customer_id,
        "exchange": exchange,
        "mode": mode,
        "status": "active",
        "updated_at": datetime.now(timezone.utc).isoformat(),
        **sealed.to_item(),
    }
    if address:
        item["address"] = address
    records.put(item)
    _cache.pop((customer_id, exchange))


# Opened credentials kept in memory for a short time, so an order does not pay a KMS Decrypt and a
# DynamoDB read each time. Per process; dropped on store() and deactivate().
_cache: TtlCache[tuple[str, str], StoredCredentials | None] = TtlCache(60.0, 5000)


def load(customer_id: str, exchange: str) -> StoredCredentials | None:
    hit, value = _cache.lookup((customer_id, exchange))
    if hit:
        return value
    item = records.get(customer_id, exchange)
    value = None
    if item and item.get("status") == "active":
        secret = vault.open_sealed(vault.Sealed.from_item(item), _context(customer_id, exchange))
        value = StoredCredentials(Credentials(**secret), str(item.get("mode", "self")), item.get("address"))
    _cache.put((customer_id, exchange), value)
    return value


def updated_at(customer_id: str, exchange: str):
    item = records.get(customer_id, exchange, fields="updated_at")
    if not item:
        return None
    return datetime.fromisoformat(item["updated_at"])


def linked_exchanges(customer_id: str) -> list[str]:
    items = records.for_customer(customer_id)
    return sorted(i["exchange"] for i in items if i.get("status") == "active" and "#" not in i["exchange"])


def deactivate(customer_id: str, exchange: str) -> None:
    """Switch the credentials off for good: nothing loads them any more. The sealed blob stays (a
    managed wallet's key may control funds; the operator recovers it with `pmrouter wallet recover`)."""
    records.set_status(customer_id, exchange, "deactivated", datetime.now(timezone.utc).isoformat())
    _cache.pop((customer_id, exchange))


RETIRED = "#retired#"


def _retire(item: dict[str, Any]) -> None:
    """Keep a replaced record's secrets under `<exchange>#retired#<time>`, sealed again with that name
    as the KMS context (each record opens only under its own key)."""
    customer_id, exchange = item["customer_id"], item["exchange"]
    secret = vault.open_sealed(vault.Sealed.from_item(item), _context(customer_id, exchange))
    name = f"{exchange}{RETIRED}{datetime.now(timezone.utc).isoformat()}"
    kept = {k: v for k, v in item.items() if k in ("mode", "address", "updated_at", "exported_at")}
    records.put_new({**kept, "customer_id": customer_id, "exchange": name, "status": "retired",
                     "retired_at": datetime.now(timezone.utc).isoformat(),
                     **vault.seal(secret, _context(customer_id, name)).to_item()})


def mark_exported(customer_id: str, exchange: str) -> None:
    """The owner has a copy of this record's key (the wallet can be replaced without loss)."""
    records.set_exported(customer_id, exchange, datetime.now(timezone.utc).isoformat())


def exported(customer_id: str, exchange: str) -> bool:
    item = records.get(customer_id, exchange, consistent=True, fields="exported_at")
    return bool(item and item.get("exported_at"))


@dataclass(frozen=True)
class SealedWallet:
    record: str  # the record's sort key: the exchange, or <exchange>#retired#<time>
    status: str  # active | deactivated | retired
    mode: str
    address: str | None
    private_key: str


def wallet_keys(customer_id: str, exchange: str = "polymarket") -> list[SealedWallet]:
    """Every wallet key kept for the customer on this exchange, active, deactivated or retired (for
    the operator's recovery; the caller audits)."""
    items = records.for_customer(customer_id, prefix=exchange, consistent=True)
    out = []
    for item in items:
        name = item["exchange"]
        if "ct" not in item or (name != exchange and not name.startswith(exchange + RETIRED)):
            continue
        secret = vault.open_sealed(vault.Sealed.from_item(item), _context(customer_id, name))
        if secret.get("private_key"):
            out.append(SealedWallet(name, str(item.get("status", "")), str(item.get("mode", "")), item.get("address"),
                                    secret["private_key"]))
    return out


def audit_record(customer_id: str, event: str, fields: dict[str, Any]) -> None:
    """A durable audit row next to the customer's credentials (never a secret in `fields`)."""
    import uuid

    at = datetime.now(timezone.utc).isoformat()
    records.put({"customer_id": customer_id, "exchange": f"audit#{at}#{uuid.uuid4().hex[:8]}",
                 "event": event, "at": at, **fields})


def clear_cache() -> None:
    _cache.clear()
