"""Our flat-struct EIP-712 equals eth-account's generic encoder: hashes and signatures, with and
without a verifying contract, for string, address, uint, bytes32 and bool fields."""
from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data

from pmrouter.exchanges import eip712
from pmrouter.exchanges.polymarket import auth, order_builder as ob

KEY = Account.from_key("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
FIELDS = [("who", "address"), ("note", "string"), ("amount", "uint256"), ("flag", "bool"), ("tag", "bytes32"),
          ("small", "uint8")]
MSG = {"who": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "note": "héllo", "amount": 2**200 + 7, "flag": True,
       "tag": "0x" + "ab" * 32, "small": 3}


def reference(domain: dict, domain_fields, name, fields, message):
    typed = {"primaryType": name,
             "types": {"EIP712Domain": [{"name": n, "type": t} for n, t in domain_fields],
                       name: [{"name": n, "type": t} for n, t in fields]},
             "domain": domain, "message": {**message, "tag": bytes.fromhex(message["tag"][2:])}
             if "tag" in message else message}
    encoded = encode_typed_data(full_message=typed)
    return _hash_eip191_message(encoded), Account.sign_message(encoded, KEY.key).signature


@pytest.mark.parametrize("contract", [None, "0xE111180000d2663C0091e4f400237545B87B996B"])
def test_hash_and_signature_equal_eth_account(contract):
    dfields = [("name", "string"), ("version", "string"), ("chainId", "uint256")]
    domain = {"name": "Test", "version": "1", "chainId": 137}
    if contract:
        dfields.append(("verifyingContract", "address"))
        domain["verifyingContract"] = contract
    want_hash, want_sig = reference(domain, dfields, "Thing", FIELDS, MSG)
    digest = eip712.digest(eip712.domain_separator("Test", "1", 137, contract), eip712.struct("Thing", FIELDS).hash(MSG))
    assert digest == bytes(want_hash)
    assert eip712.sign_digest(bytes(KEY.key), digest) == bytes(want_sig)
    assert Account._recover_hash(digest, signature=eip712.sign_digest(bytes(KEY.key), digest)) == KEY.address


def test_order_signature_recovers_and_matches_the_documented_struct():
    so = ob.sign_order(KEY, token_id="123", side=ob.SELL, maker_amount=10_000_000, taker_amount=5_600_000,
                       neg_risk=True, salt=42, timestamp_ms=1_700_000_000_000)
    td = ob.typed_data(so.exchange, 42, so.maker, so.signer, "123", 10_000_000, 5_600_000, ob.SELL, 0, 1_700_000_000_000)
    encoded = encode_typed_data(full_message=td)
    assert so.order_hash == "0x" + _hash_eip191_message(encoded).hex().removeprefix("0x")
    assert Account.recover_message(encoded, signature=so.signature) == KEY.address


def test_l1_header_signature_equals_eth_account():
    headers = auth.l1_headers(KEY, timestamp=1_700_000_000, nonce=3)
    encoded = encode_typed_data(full_message=auth.clob_auth_typed_data(KEY.address, 1_700_000_000, 3))
    assert headers["POLY_SIGNATURE"] == "0x" + Account.sign_message(encoded, KEY.key).signature.hex().removeprefix("0x")


@pytest.mark.parametrize("typ,value", [("address", "0x1234"), ("bytes32", "0x00"), ("int256", 1)])
def test_bad_values_are_refused(typ, value):
    with pytest.raises((ValueError, NotImplementedError)):
        eip712.struct("X", [("v", typ)]).hash({"v": value})
