"""Polymarket CLOB authentication.

L1 (wallet): an EIP-712 `ClobAuth` signature under the domain {name: ClobAuthDomain, version: 1,
chainId: 137} (no verifyingContract), proving control of the EOA; used to create or derive API
credentials. L2 (API key): HMAC-SHA256 keyed by the url-safe-base64-decoded secret over
`timestamp + METHOD + path (no query) + body`, url-safe base64 with padding.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time

from eth_account import Account
from eth_account.messages import encode_typed_data

from . import config

CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"


def clob_auth_typed_data(address: str, timestamp: int, nonce: int) -> dict:
    return {
        "primaryType": "ClobAuth",
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}],
            "ClobAuth": [{"name": "address", "type": "address"}, {"name": "timestamp", "type": "string"},
                         {"name": "nonce", "type": "uint256"}, {"name": "message", "type": "string"}],
        },
        "domain": {"name": "ClobAuthDomain", "version": "1", "chainId": config.CHAIN_ID},
        "message": {"address": address, "timestamp": str(timestamp), "nonce": nonce, "message": CLOB_AUTH_MESSAGE},
    }


def l1_headers(account, timestamp: int | None = None, nonce: int = 0) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    signed = Account.sign_message(encode_typed_data(full_message=clob_auth_typed_data(account.address, ts, nonce)),
                                  account.key)
    return {"POLY_ADDRESS": account.address, "POLY_SIGNATURE": "0x" + signed.signature.hex().removeprefix("0x"),
            "POLY_TIMESTAMP": str(ts), "POLY_NONCE": str(nonce)}


def hmac_signature(secret: str, timestamp: int | str, method: str, path: str, body: str | None = None) -> str:
    message = f"{timestamp}{method}{path}"
    if body:
        message += body.replace("'", '"')
    digest = hmac.new(base64.urlsafe_b64decode(secret), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


def l2_headers(address: str, api_key: str, secret: str, passphrase: str, method: str, path: str,
               body: str | None = None, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {"POLY_ADDRESS": address, "POLY_SIGNATURE": hmac_signature(secret, ts, method, path, body),
            "POLY_TIMESTAMP": str(ts), "POLY_API_KEY": api_key, "POLY_PASSPHRASE": passphrase}
