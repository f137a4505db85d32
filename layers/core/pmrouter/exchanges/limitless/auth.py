"""Limitless request authentication (developers/authentication; limitless-sdk api/hmac.py).

Scoped API tokens: `lmts-api-key` (the token id), `lmts-timestamp` (ISO-8601 UTC with milliseconds,
within 30 s of the venue's clock) and `lmts-signature` = standard base64 of HMAC-SHA256 under the
base64-decoded secret over `timestamp \\n METHOD \\n path?query \\n body` (body "" without one).
A token without a secret is a legacy `X-API-Key`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone
from urllib.parse import urlencode


def iso_timestamp(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def request_path(path: str, params: dict | None = None) -> str:
    """The path as signed and as sent: the query urlencoded the SDK's way (None values dropped)."""
    clean = {k: v for k, v in (params or {}).items() if v is not None}
    return f"{path}?{urlencode(clean, doseq=True)}" if clean else path


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str) -> str:
    message = f"{timestamp}\n{method.upper()}\n{path}\n{body}"
    digest = hmac.new(base64.b64decode(secret), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def headers(token_id: str, secret: str | None, method: str, path: str, body: str = "",
            timestamp: str | None = None) -> dict[str, str]:
    if not secret:
        return {"X-API-Key": token_id}
    ts = timestamp or iso_timestamp()
    return {"lmts-api-key": token_id, "lmts-timestamp": ts,
            "lmts-signature": hmac_signature(secret, ts, method, path, body)}
