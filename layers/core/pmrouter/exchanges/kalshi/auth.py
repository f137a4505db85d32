"""Kalshi request signing: RSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt) over
`timestamp_ms + METHOD + path`, where path is the URL path from the host (it includes
/trade-api/v2) without the query string. Signatures are randomized, so they are checked by
verifying, never by comparing bytes."""
from __future__ import annotations

import base64
import hashlib
import time
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ...cache import TtlCache

PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)

# Loading a PEM validates the RSA key (about 40 ms of the CPU on every order otherwise). A validated key
# is kept for a few minutes under the digest of its PEM, so each key is checked once per instance and
# the table never holds the PEM text itself.
_loaded: TtlCache[str, rsa.RSAPrivateKey] = TtlCache(300.0, 1000)


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    raw = pem.encode() if isinstance(pem, str) else pem
    digest = hashlib.sha256(raw).hexdigest() if isinstance(raw, bytes) else ""
    cached = _loaded.get(digest) if digest else None
    if cached is not None:
        return cached
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("private_key must be the Kalshi RSA private key in PEM format") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("private_key must be an RSA key (PEM)")
    _loaded.put(digest, key)
    return key


def message(timestamp_ms: str, method: str, path: str) -> bytes:
    return f"{timestamp_ms}{method.upper()}{urlsplit(path).path}".encode()


def sign(key: rsa.RSAPrivateKey, timestamp_ms: str, method: str, path: str) -> str:
    return base64.b64encode(key.sign(message(timestamp_ms, method, path), PSS, hashes.SHA256())).decode()


def headers(key_id: str, key: rsa.RSAPrivateKey, method: str, path: str, now_ms: int | None = None) -> dict[str, str]:
    ts = str(now_ms if now_ms is not None else int(time.time() * 1000))
    return {"KALSHI-ACCESS-KEY": key_id, "KALSHI-ACCESS-TIMESTAMP": ts,
            "KALSHI-ACCESS-SIGNATURE": sign(key, ts, method, path)}
