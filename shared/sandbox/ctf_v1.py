"""The sandbox venues' side of the 12-field CTF Exchange v1 order (Limitless, Opinion, Predict.fun):
the typed data a venue recovers the signer from, and its hash. Written from the venues' contracts
and docs, independently of pmrouter (the sandbox never imports it)."""
from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data

FIELDS = [("salt", "uint256"), ("maker", "address"), ("signer", "address"), ("taker", "address"),
          ("tokenId", "uint256"), ("makerAmount", "uint256"), ("takerAmount", "uint256"), ("expiration", "uint256"),
          ("nonce", "uint256"), ("feeRateBps", "uint256"), ("side", "uint8"), ("signatureType", "uint8")]
ADDRESSES = ("maker", "signer", "taker")


class BadSignature(ValueError):
    pass


def typed(order: dict[str, Any], name: str, version: str, chain_id: int, exchange: str) -> dict[str, Any]:
    """`order` as it travels (numbers or decimal strings, side 0/1 or BUY/SELL)."""
    msg: dict[str, Any] = {}
    for field, kind in FIELDS:
        value = order[field]
        if field == "side" and isinstance(value, str) and not value.isdigit():
            value = 0 if value.upper() == "BUY" else 1
        msg[field] = value if field in ADDRESSES else int(value)
    return {"primaryType": "Order",
            "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                       {"name": "chainId", "type": "uint256"},
                                       {"name": "verifyingContract", "type": "address"}],
                      "Order": [{"name": n, "type": t} for n, t in FIELDS]},
            "domain": {"name": name, "version": version, "chainId": chain_id, "verifyingContract": exchange},
            "message": msg}


def recover(order: dict[str, Any], signature: str, **domain: Any) -> str:
    try:
        sig = signature if signature.startswith("0x") else "0x" + signature
        return Account.recover_message(encode_typed_data(full_message=typed(order, **domain)), signature=sig)
    except Exception:
        raise BadSignature("invalid signature") from None


def order_hash(order: dict[str, Any], **domain: Any) -> str:
    return "0x" + _hash_eip191_message(encode_typed_data(full_message=typed(order, **domain))).hex().removeprefix("0x")
