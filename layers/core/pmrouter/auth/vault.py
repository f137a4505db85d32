"""Envelope encryption of user secrets (exchange credentials, managed-wallet keys).

Each record gets its own KMS data key (AES-256). The secret is sealed with AES-GCM under that key;
only the KMS-encrypted copy of the data key is stored beside the ciphertext. The encryption
context (customer, exchange, purpose) is bound twice: KMS refuses to decrypt the data key under a
different context, and the same context is the GCM associated data, so a ciphertext moved to
another customer's record cannot be opened there.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Mapping

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .. import aws

VERSION = 1


class VaultError(RuntimeError):
    """Decryption failed (wrong context, tampering, or key unavailable). Never carries secret data."""


def _context_bytes(context: Mapping[str, str]) -> bytes:
    return json.dumps(dict(sorted(context.items())), separators=(",", ":")).encode()


def kms_key_id() -> str:
    key = os.environ.get("PMROUTER_KMS_KEY_ID", "")
    if not key:
        raise VaultError("PMROUTER_KMS_KEY_ID is not configured")
    return key


@dataclass(frozen=True)
class Sealed:
    """What is stored: nothing here is secret without KMS."""

    ciphertext: bytes
    encrypted_data_key: bytes
    nonce: bytes
    key_id: str
    version: int = VERSION

    def to_item(self) -> dict[str, Any]:
        return {"ct": self.ciphertext, "edk": self.encrypted_data_key, "nonce": self.nonce, "kid": self.key_id,
                "v": self.version}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Sealed":
        def raw(v: Any) -> bytes:
            return bytes(v.value) if hasattr(v, "value") else bytes(v)

        return cls(raw(item["ct"]), raw(item["edk"]), raw(item["nonce"]), str(item["kid"]), int(item.get("v", 1)))


def seal(secret: Mapping[str, Any], context: Mapping[str, str], key_id: str | None = None) -> Sealed:
    kms = aws.client("kms")
    key_id = key_id or kms_key_id()
    dk = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=dict(context))
    plaintext_key = dk["Plaintext"]
    nonce = os.urandom(12)
    body = json.dumps(dict(secret), separators=(",", ":")).encode()
    ct = AESGCM(plaintext_key).encrypt(nonce, body, _context_bytes(context))
    del plaintext_key
    return Sealed(ct, dk["CiphertextBlob"], nonce, dk.get("KeyId", key_id))


def open_sealed(sealed: Sealed, context: Mapping[str, str]) -> dict[str, Any]:
    kms = aws.client("kms")
    try:
        plaintext_key = kms.decrypt(CiphertextBlob=sealed.encrypted_data_key, EncryptionContext=dict(context))["Plaintext"]
        body = AESGCM(plaintext_key).decrypt(sealed.nonce, sealed.ciphertext, _context_bytes(context))
    except Exception as exc:  # botocore InvalidCiphertextException, cryptography InvalidTag, ...
        raise VaultError(f"could not open sealed record ({type(exc).__name__})") from None
    return json.loads(body)
