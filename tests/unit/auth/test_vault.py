"""Envelope encryption with real KMS semantics (moto): context binding and tamper detection."""
from __future__ import annotations

import os

import boto3
import pytest
from moto import mock_aws

from pmrouter.auth import vault
from pmrouter.store import dynamo


@pytest.fixture()
def kms_key(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        dynamo.reset()
        key = boto3.client("kms").create_key()["KeyMetadata"]["KeyId"]
        monkeypatch.setenv("PMROUTER_KMS_KEY_ID", key)
        yield key
    monkeypatch.undo()
    dynamo.reset()


CTX = {"customer_id": "c-1", "exchange": "kalshi", "purpose": "credentials"}
SECRET = {"api_key_id": "kid", "private_key": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"}


def test_round_trip_and_nothing_secret_is_stored(kms_key):
    sealed = vault.seal(SECRET, CTX)
    item = sealed.to_item()
    flat = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in item.values())
    assert b"BEGIN PRIVATE KEY" not in flat and b"kid" not in flat.replace(kms_key.encode(), b"")
    assert vault.open_sealed(vault.Sealed.from_item(item), CTX) == SECRET


def test_other_context_cannot_open(kms_key):
    sealed = vault.seal(SECRET, CTX)
    with pytest.raises(vault.VaultError):
        vault.open_sealed(sealed, {**CTX, "customer_id": "c-2"})


def test_tampered_ciphertext_is_rejected(kms_key):
    sealed = vault.seal(SECRET, CTX)
    bad = vault.Sealed(sealed.ciphertext[:-1] + bytes([sealed.ciphertext[-1] ^ 1]), sealed.encrypted_data_key,
                       sealed.nonce, sealed.key_id)
    with pytest.raises(vault.VaultError) as exc:
        vault.open_sealed(bad, CTX)
    assert "BEGIN" not in str(exc.value)


def test_each_record_has_its_own_data_key(kms_key):
    a, b = vault.seal(SECRET, CTX), vault.seal(SECRET, CTX)
    assert a.encrypted_data_key != b.encrypted_data_key and a.ciphertext != b.ciphertext
    assert os.environ["PMROUTER_KMS_KEY_ID"] == kms_key
