"""Stored credentials are sealed; per-request credentials parse strictly and never echo values."""
from __future__ import annotations

import base64
import json

import boto3
import pytest

from pmrouter.auth import credentials as creds
from pmrouter.exchanges.base import Credentials

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"


@pytest.fixture()
def kms(tables, monkeypatch):
    key = boto3.client("kms").create_key()["KeyMetadata"]["KeyId"]
    monkeypatch.setenv("PMROUTER_KMS_KEY_ID", key)
    creds.clear_cache()
    yield key
    creds.clear_cache()


def test_stored_credentials_round_trip_and_are_sealed(kms, tables):
    c = Credentials(api_key_id="key-123", private_key=PEM)
    creds.store("cust-1", "kalshi", c, mode="self")
    raw = boto3.resource("dynamodb").Table(tables["PMROUTER_CREDENTIALS_TABLE"]).scan()["Items"]
    assert len(raw) == 1
    text = repr(raw[0])
    assert "BEGIN PRIVATE KEY" not in text and "key-123" not in text
    creds.clear_cache()
    assert creds.load("cust-1", "kalshi").credentials == c
    assert creds.load("cust-2", "kalshi") is None
    assert creds.linked_exchanges("cust-1") == ["kalshi"]
    creds.deactivate("cust-1", "kalshi")
    assert creds.load("cust-1", "kalshi") is None


def test_header_parsing_and_errors_never_echo_values():
    header = base64.b64encode(json.dumps({"private_key": "0xdeadbeef", "clob_api_key": "k"}).encode()).decode()
    parsed = creds.parse_header(header)
    assert parsed.private_key == "0xdeadbeef" and "deadbeef" not in repr(parsed)
    for bad in ("%%%not-base64", base64.b64encode(b"[1,2]").decode(),
                base64.b64encode(json.dumps({"private_key": "0xsecret", "nope": "0xsecret"}).encode()).decode(),
                base64.b64encode(json.dumps({"private_key": 5}).encode()).decode()):
        with pytest.raises(creds.BadCredentials) as exc:
            creds.parse_header(bad)
        assert "secret" not in str(exc.value)
