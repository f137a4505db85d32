"""EIP-712 hashing and signing for flat structs (orders, auth messages): every field a static type
(uintN, address, bytes32, bool) or a string. Type hashes and domain separators are computed once;
a struct hash is one keccak over 32-byte words; signing goes straight to libsecp256k1.

eth-account's generic encoder re-derives the type graph and re-validates every field on each
call, which costs more than the rest of an order's own work. The results are the same bytes:
tests pin this module to eth-account and to the venues' official clients.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from coincurve import PrivateKey
from eth_utils import keccak

Field = tuple[str, str]  # (name, solidity type)


def _word(solidity_type: str, value: Any) -> bytes:
    if solidity_type.startswith("uint"):
        return int(value).to_bytes(32, "big")
    if solidity_type == "address":
        raw = bytes.fromhex(str(value)[2:]) if isinstance(value, str) else bytes(value)
        if len(raw) != 20:
            raise ValueError(f"not an address: {value!r}")
        return raw.rjust(32, b"\0")
    if solidity_type == "bytes32":
        raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
        if len(raw) != 32:
            raise ValueError("bytes32 value must be 32 bytes")
        return raw
    if solidity_type == "string":
        return keccak(str(value).encode())
    if solidity_type == "bool":
        return int(bool(value)).to_bytes(32, "big")
    raise NotImplementedError(f"EIP-712 type {solidity_type} is not a flat type")


@dataclass(frozen=True)
class Struct:
    name: str
    fields: tuple[Field, ...]

    @functools.cached_property
    def type_hash(self) -> bytes:
        return keccak(f"{self.name}({','.join(f'{t} {n}' for n, t in self.fields)})".encode())

    def hash(self, values: Mapping[str, Any]) -> bytes:
        return keccak(self.type_hash + b"".join(_word(t, values[n]) for n, t in self.fields))


def struct(name: str, fields: Sequence[Field]) -> Struct:
    return Struct(name, tuple(fields))


@functools.lru_cache(maxsize=64)
def domain_separator(name: str, version: str, chain_id: int, verifying_contract: str | None = None) -> bytes:
    fields: list[Field] = [("name", "string"), ("version", "string"), ("chainId", "uint256")]
    values: dict[str, Any] = {"name": name, "version": version, "chainId": chain_id}
    if verifying_contract is not None:
        fields.append(("verifyingContract", "address"))
        values["verifyingContract"] = verifying_contract
    return struct("EIP712Domain", fields).hash(values)


def digest(domain: bytes, struct_hash: bytes) -> bytes:
    """The hash that is signed (and, for orders, the order's id)."""
    return keccak(b"\x19\x01" + domain + struct_hash)


def sign_digest(private_key: bytes, message_hash: bytes) -> bytes:
    """65-byte Ethereum signature r || s || v with v in {27, 28} (RFC 6979 nonces, low s: the same
    bytes eth-account produces)."""
    sig = PrivateKey(private_key).sign_recoverable(message_hash, hasher=None)
    return sig[:64] + bytes([sig[64] + 27])
