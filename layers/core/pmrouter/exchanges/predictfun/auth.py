"""Predict.fun authentication (dev.predict.fun "How to authenticate your API requests").

Every call carries `x-api-key`. Personal endpoints also need `Authorization: Bearer <JWT>`: the JWT
comes from `GET /v1/auth/message` (a dynamic message), signed with EIP-191 personal_sign by the
order-maker wallet, and posted to `POST /v1/auth` as `{signer, message, signature}`.
"""
from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_defunct


def sign_login(account, message: str) -> dict[str, str]:
    signed = Account.sign_message(encode_defunct(text=message), account.key)
    return {"signer": account.address, "message": message,
            "signature": "0x" + signed.signature.hex().removeprefix("0x")}


def headers(api_key: str | None, jwt: str | None = None) -> dict[str, str]:
    out = {"x-api-key": api_key} if api_key else {}
    if jwt:
        out["Authorization"] = f"Bearer {jwt}"
    return out
