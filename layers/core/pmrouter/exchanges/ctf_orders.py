"""EIP-712 orders for CTF exchanges: the signing mechanics every token venue here shares.

Polymarket (CLOB V2) signs an 11-field struct; Limitless, Opinion and Predict.fun sign the 12-field
struct of the original Polymarket CTF Exchange (salt ... signatureType), each under its own domain
name and its own verifying contract. Only the domain, the struct and the wire body differ per
venue; the typed-data assembly, the signature (eth-account) and the order hash live here once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data

ZERO_ADDRESS = "0x" + "00" * 20
BUY, SELL = 0, 1
DOMAIN_FIELDS = (("name", "string"), ("version", "string"), ("chainId", "uint256"), ("verifyingContract", "address"))
# The 12-field struct of the CTF Exchange v1 (Limitless, Opinion, Predict.fun).
V1_ORDER_FIELDS = (("salt", "uint256"), ("maker", "address"), ("signer", "address"), ("taker", "address"),
                   ("tokenId", "uint256"), ("makerAmount", "uint256"), ("takerAmount", "uint256"),
                   ("expiration", "uint256"), ("nonce", "uint256"), ("feeRateBps", "uint256"), ("side", "uint8"),
                   ("signatureType", "uint8"))
# signatureType values of the CTF exchanges
EOA, POLY_PROXY, POLY_GNOSIS_SAFE = 0, 1, 2


def typed_data(name: str, version: str, chain_id: int, exchange: str, fields: Sequence[tuple[str, str]],
               message: dict[str, Any]) -> dict[str, Any]:
    return {
        "primaryType": "Order",
        "types": {"EIP712Domain": [{"name": n, "type": t} for n, t in DOMAIN_FIELDS],
                  "Order": [{"name": n, "type": t} for n, t in fields]},
        "domain": {"name": name, "version": version, "chainId": chain_id, "verifyingContract": exchange},
        "message": message,
    }


def sign(account, td: dict[str, Any]) -> tuple[str, str]:
    """(signature, order hash), both 0x-prefixed lowercase hex."""
    encoded = encode_typed_data(full_message=td)
    signed = Account.sign_message(encoded, account.key)
    digest = _hash_eip191_message(encoded).hex().removeprefix("0x")
    return "0x" + signed.signature.hex().removeprefix("0x"), "0x" + digest


@dataclass(frozen=True)
class Domain:
    """One venue exchange contract's EIP-712 domain."""

    name: str
    version: str
    chain_id: int
    exchange: str


@dataclass(frozen=True)
class V1Order:
    """The unsigned 12-field order. Amounts are integers in the venue's base units."""

    salt: int
    maker: str
    signer: str
    token_id: str
    maker_amount: int
    taker_amount: int
    side: int
    fee_rate_bps: int = 0
    expiration: int = 0
    nonce: int = 0
    signature_type: int = EOA
    taker: str = ZERO_ADDRESS

    def message(self) -> dict[str, Any]:
        return {"salt": self.salt, "maker": self.maker, "signer": self.signer, "taker": self.taker,
                "tokenId": int(self.token_id), "makerAmount": self.maker_amount, "takerAmount": self.taker_amount,
                "expiration": self.expiration, "nonce": self.nonce, "feeRateBps": self.fee_rate_bps,
                "side": self.side, "signatureType": self.signature_type}

    def typed_data(self, domain: Domain) -> dict[str, Any]:
        return typed_data(domain.name, domain.version, domain.chain_id, domain.exchange, V1_ORDER_FIELDS,
                          self.message())


@dataclass(frozen=True)
class SignedV1Order:
    order: V1Order
    domain: Domain
    signature: str
    order_hash: str


def sign_v1(account, order: V1Order, domain: Domain) -> SignedV1Order:
    signature, digest = sign(account, order.typed_data(domain))
    return SignedV1Order(order, domain, signature, digest)


def account_from_key(private_key: str | None, venue: str):
    """The eth-account signer of a venue session; ValueError (a 400 naming the field) otherwise."""
    if not private_key:
        raise ValueError(f"private_key is required for {venue} (the 0x wallet key that signs orders)")
    try:
        return Account.from_key(private_key)
    except (ValueError, TypeError):
        raise ValueError("private_key must be a 0x-prefixed 32-byte hex Ethereum key") from None


def checksum(address: str) -> str:
    """EIP-55 form of an address (the venues' SDKs sign checksummed addresses)."""
    from eth_utils import to_checksum_address

    return to_checksum_address(address)
