"""Kalshi RSA-PSS signing: ours verifies the way the venue checks it, and the official SDK's
signatures and ours are interchangeable (same message, same padding)."""
from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from kalshi_python_sync.auth import KalshiAuth

from pmrouter.exchanges.kalshi import auth

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                        serialization.NoEncryption()).decode()
PUB = KEY.public_key()


def venue_verify(headers: dict, method: str, path: str) -> None:
    """What the venue does: the message is timestamp + METHOD + path without the query."""
    msg = (headers["KALSHI-ACCESS-TIMESTAMP"] + method + path.split("?")[0]).encode()
    PUB.verify(base64.b64decode(headers["KALSHI-ACCESS-SIGNATURE"]), msg,
               padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())


def test_our_signature_verifies_and_binds_method_path_and_time():
    h = auth.headers("kid", auth.load_private_key(PEM), "POST", "/trade-api/v2/portfolio/events/orders?x=1")
    assert h["KALSHI-ACCESS-KEY"] == "kid" and h["KALSHI-ACCESS-TIMESTAMP"].isdigit()
    venue_verify(h, "POST", "/trade-api/v2/portfolio/events/orders")
    for method, path in (("GET", "/trade-api/v2/portfolio/events/orders"), ("POST", "/trade-api/v2/portfolio/orders")):
        with pytest.raises(InvalidSignature):
            venue_verify(h, method, path)
    with pytest.raises(InvalidSignature):
        venue_verify({**h, "KALSHI-ACCESS-TIMESTAMP": str(int(h["KALSHI-ACCESS-TIMESTAMP"]) + 1)}, "POST",
                     "/trade-api/v2/portfolio/events/orders")


def test_same_message_as_the_official_sdk():
    official = KalshiAuth("kid", PEM).create_auth_headers("GET", "/trade-api/v2/portfolio/orders?limit=5")
    venue_verify(official, "GET", "/trade-api/v2/portfolio/orders")
    ts = official["KALSHI-ACCESS-TIMESTAMP"]
    assert auth.message(ts, "GET", "/trade-api/v2/portfolio/orders?limit=5") == \
        f"{ts}GET/trade-api/v2/portfolio/orders".encode()
    ours = auth.headers("kid", auth.load_private_key(PEM), "GET", "/trade-api/v2/portfolio/orders", now_ms=int(ts))
    assert ours["KALSHI-ACCESS-TIMESTAMP"] == ts and ours["KALSHI-ACCESS-SIGNATURE"] != official["KALSHI-ACCESS-SIGNATURE"]
    venue_verify(ours, "GET", "/trade-api/v2/portfolio/orders")  # randomized salt: equal by verification


def test_pem_errors_do_not_leak_the_key():
    with pytest.raises(ValueError) as exc:
        auth.load_private_key("-----BEGIN PRIVATE KEY-----\nsecretstuff\n-----END PRIVATE KEY-----")
    assert "secretstuff" not in str(exc.value) and "private_key" in str(exc.value)


def test_a_key_is_validated_once_per_instance_and_bad_pems_are_never_cached(monkeypatch):
    """Loading validates the RSA key (~40 ms): a second order with the same credentials reuses the
    validated key; a PEM that fails is refused every time."""
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import rsa as _rsa

    from pmrouter.exchanges.kalshi import auth as kauth

    pem = _rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption()).decode()
    real, calls = ser.load_pem_private_key, []
    monkeypatch.setattr(kauth.serialization, "load_pem_private_key",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    first, second = kauth.load_private_key(pem), kauth.load_private_key(pem)
    assert first is second and len(calls) == 1
    for _ in range(2):
        with pytest.raises(ValueError):
            kauth.load_private_key(pem.replace("MII", "XXX", 1))
    assert len(calls) == 3
