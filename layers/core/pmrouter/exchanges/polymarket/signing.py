"""Polymarket CLOB V2 signing: the EIP-712 order, L1 (ClobAuth) headers and L2 (HMAC) headers.

Byte-for-byte with py-clob-client-v2 1.2.1 (tests/unit/exchanges/test_polymarket_signing.py):
- Order: domain {name "Polymarket CTF Exchange", version "2", chainId 137, verifyingContract =
  CTF Exchange V2, or the NegRisk CTF Exchange V2 for neg-risk markets}; the 11-field struct below.
  The order id the venue uses is the EIP-712 hash of the signed order.
- L1: domain {name "ClobAuthDomain", version "1", chainId 137} (no verifyingContract);
  ClobAuth(address, timestamp as a string of Unix seconds, nonce, fixed message).
- L2: urlsafe-base64 HMAC-SHA256 keyed with the urlsafe-base64-decoded secret over
  `timestamp + METHOD + path (no query string) + body text`.
Only eth-account and the standard library's hmac do the cryptography.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from . import config

ZERO_BYTES32 = "0x" + "00" * 32
ORDER_DOMAIN_NAME = "Polymarket CTF Exchange"
ORDER_DOMAIN_VERSION = "2"
CLOB_AUTH_DOMAIN = {"name": "ClobAuthDomain", "version": "1", "chainId": config.CHAIN_ID}
CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"

EIP712_DOMAIN = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
ORDER_STRUCT = [
    {"name": "salt", "type": "uint256"},
    {"name": "maker", "type": "address"},
    {"name": "signer", "type": "address"},
    {"name": "tokenId", "type": "uint256"},
    {"name": "makerAmount", "type": "uint256"},
    {"name": "takerAmount", "type": "uint256"},
    {"name": "side", "type": "uint8"},
    {"name": "signatureType", "type": "uint8"},
    {"name": "timestamp", "type": "uint256"},
    {"name": "metadata", "type": "bytes32"},
    {"name": "builder", "type": "bytes32"},
]
CLOB_AUTH_STRUCT = [
    {"name": "address", "type": "address"},
    {"name": "timestamp", "type": "string"},
    {"name": "nonce", "type": "uint256"},
    {"name": "message", "type": "string"},
]
SIDES = {"BUY": 0, "SELL": 1}


@dataclass(frozen=True)
class Order:
    """An unsigned V2 order, fields as they go on the wire (strings except salt/side/signatureType)."""

    salt: int
    maker: str
    signer: str
    token_id: str
    maker_amount: int
    taker_amount: int
    side: str  # "BUY" | "SELL"
    signature_type: int
    timestamp: int  # milliseconds
    expiration: int = 0  # sent in the JSON, not signed in V2
    metadata: str = ZERO_BYTES32
    builder: str = ZERO_BYTES32


def exchange_address(neg_risk: bool) -> str:
    return config.NEG_RISK_EXCHANGE_V2 if neg_risk else config.EXCHANGE_V2


def _b32(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x").zfill(64))


def order_typed_data(order: Order, neg_risk: bool, chain_id: int = config.CHAIN_ID) -> dict[str, Any]:
    return {
        "primaryType": "Order",
        "types": {"EIP712Domain": EIP712_DOMAIN, "Order": ORDER_STRUCT},
        "domain": {"name": ORDER_DOMAIN_NAME, "version": ORDER_DOMAIN_VERSION, "chainId": chain_id,
                   "verifyingContract": exchange_address(neg_risk)},
        "message": {
            "salt": int(order.salt), "maker": order.maker, "signer": order.signer, "tokenId": int(order.token_id),
            "makerAmount": int(order.maker_amount), "takerAmount": int(order.taker_amount),
            "side": SIDES[order.side], "signatureType": int(order.signature_type), "timestamp": int(order.timestamp),
            "metadata": _b32(order.metadata), "builder": _b32(order.builder),
        },
    }


def _hex(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def sign_order(order: Order, private_key: str, neg_risk: bool) -> tuple[str, str]:
    """(signature, order hash). EOA/proxy/Safe signatures (types 0-2) are plain EIP-712 ECDSA."""
    if order.signature_type not in (0, 1, 2):
        raise ValueError("signature_type must be 0 (EOA), 1 (POLY_PROXY) or 2 (POLY_GNOSIS_SAFE)")
    signed = Account.sign_message(encode_typed_data(full_message=order_typed_data(order, neg_risk)), private_key)
    return _hex(signed.signature), _hex(signed.message_hash)


def order_json(order: Order, signature: str) -> dict[str, Any]:
    """The `order` object of POST /order, keys in the official client's order."""
    return {
        "salt": int(order.salt),
        "maker": order.maker,
        "signer": order.signer,
        "tokenId": str(order.token_id),
        "makerAmount": str(order.maker_amount),
        "takerAmount": str(order.taker_amount),
        "side": order.side,
        "expiration": str(order.expiration),
        "signatureType": int(order.signature_type),
        "timestamp": str(order.timestamp),
        "metadata": order.metadata,
        "builder": order.builder,
        "signature": signature,
    }


def post_order_body(order: Order, signature: str, owner: str, order_type: str, *, post_only: bool = False,
                    defer_exec: bool = False) -> dict[str, Any]:
    return {"order": order_json(order, signature), "owner": owner, "orderType": order_type,
            "deferExec": defer_exec, "postOnly": post_only}


def serialize(body: Any) -> str:
    """The exact JSON text the official client sends (and signs)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


# --- L1 --------------------------------------------------------------------------------------------

def clob_auth_typed_data(address: str, timestamp: int, nonce: int = 0, chain_id: int = config.CHAIN_ID) -> dict:
    return {
        "primaryType": "ClobAuth",
        "types": {"EIP712Domain": EIP712_DOMAIN[:3], "ClobAuth": CLOB_AUTH_STRUCT},
        "domain": {**CLOB_AUTH_DOMAIN, "chainId": chain_id},
        "message": {"address": address, "timestamp": str(timestamp), "nonce": int(nonce), "message": CLOB_AUTH_MESSAGE},
    }


def clob_auth_signature(private_key: str, timestamp: int, nonce: int = 0) -> str:
    address = Account.from_key(private_key).address
    signed = Account.sign_message(encode_typed_data(full_message=clob_auth_typed_data(address, timestamp, nonce)),
                                  private_key)
    return _hex(signed.signature)


def l1_headers(private_key: str, timestamp: int, nonce: int = 0) -> dict[str, str]:
    return {
        "POLY_ADDRESS": Account.from_key(private_key).address,
        "POLY_SIGNATURE": clob_auth_signature(private_key, timestamp, nonce),
        "POLY_TIMESTAMP": str(timestamp),
        "POLY_NONCE": str(nonce),
    }


# --- L2 --------------------------------------------------------------------------------------------

def hmac_signature(secret: str, timestamp: int | str, method: str, path: str, body: str | None = None) -> str:
    message = f"{timestamp}{method}{path}"
    if body:
        message += body.replace("'", '"')  # as the official clients do before hashing
    digest = hmac.new(base64.urlsafe_b64decode(secret), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("utf-8")


def l2_headers(address: str, api_key: str, secret: str, passphrase: str, timestamp: int, method: str, path: str,
               body: str | None = None) -> dict[str, str]:
    return {
        "POLY_ADDRESS": address,
        "POLY_SIGNATURE": hmac_signature(secret, timestamp, method, path, body),
        "POLY_TIMESTAMP": str(timestamp),
        "POLY_API_KEY": api_key,
        "POLY_PASSPHRASE": passphrase,
    }
