"""The payer's EIP-712 `PullFee(bytes32 orderId, address payer, uint256 feeAmount, uint256 deadline)`
under the domain {name: ParsecFeeEscrow, version: 1, chainId: 137, verifyingContract: escrow}."""
from __future__ import annotations

import math
import time

from eth_account import Account
from eth_account.messages import encode_typed_data

from ..api.errors import ValidationFailed
from ..contract.trading import FeeAuthorization
from .config import EscrowConfig


def typed_data(cfg: EscrowConfig, order_id: str, payer: str, fee_amount: int, deadline: int) -> dict:
    return {
        "primaryType": "PullFee",
        "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                   {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
                  "PullFee": [{"name": "orderId", "type": "bytes32"}, {"name": "payer", "type": "address"},
                              {"name": "feeAmount", "type": "uint256"}, {"name": "deadline", "type": "uint256"}]},
        "domain": {"name": "ParsecFeeEscrow", "version": "1", "chainId": cfg.chain_id,
                   "verifyingContract": _checksum(cfg.contract)},
        "message": {"orderId": bytes.fromhex(order_id[2:]), "payer": payer, "feeAmount": fee_amount,
                    "deadline": deadline},
    }


def _checksum(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)


def minimum_fee(cfg: EscrowConfig, price: float, size: float) -> int:
    by_bps = math.ceil(price * size * cfg.min_fee_bps / 10_000 * 10**6)
    return max(cfg.min_fee_usdc, by_bps)


def verify(cfg: EscrowConfig, auth: FeeAuthorization, payer_address: str | None, price: float, size: float,
           now: float | None = None) -> int:
    """The fee in base units, or a 400 naming what is wrong."""
    problems = []
    if not (auth.order_id.startswith("0x") and len(auth.order_id) == 66):
        problems.append("fee_auth.order_id must be a 0x-prefixed bytes32 hex string")
    if not (auth.payer.startswith("0x") and len(auth.payer) == 42):
        problems.append("fee_auth.payer must be a 0x-prefixed address")
    if payer_address is None or payer_address.lower() != auth.payer.lower():
        problems.append("payer_address must equal fee_auth.payer")
    try:
        fee = int(auth.fee_amount)
        if fee <= 0:
            raise ValueError
    except ValueError:
        problems.append("fee_auth.fee_amount must be a positive integer of USDC base units")
        fee = 0
    if auth.deadline <= (time.time() if now is None else now):
        problems.append("fee_auth.deadline has passed")
    if problems:
        raise ValidationFailed(problems)
    minimum = minimum_fee(cfg, price, size)
    if fee < minimum:
        raise ValidationFailed([f"fee_auth.fee_amount {fee} is below the minimum {minimum} for this order"])
    try:
        signer = Account.recover_message(
            encode_typed_data(full_message=typed_data(cfg, auth.order_id, _checksum(auth.payer), fee, auth.deadline)),
            signature=auth.signature)
    except Exception:
        raise ValidationFailed(["fee_auth.signature is not a valid EIP-712 signature"]) from None
    if signer.lower() != auth.payer.lower():
        raise ValidationFailed(["fee_auth.signature was not made by fee_auth.payer"])
    return fee
