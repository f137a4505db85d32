"""The payer's EIP-712 `PullFee(bytes32 orderId, address payer, uint256 feeAmount, uint256 deadline)`
under the domain {name: ParsecFeeEscrow, version: 1, chainId: 137, verifyingContract: escrow}."""
from __future__ import annotations

import math
import re
import time

from eth_account import Account
from eth_account.messages import encode_typed_data

from ..errors import InvalidInput
from ..contract.trading import FeeAuthorization
from .config import EscrowConfig


# Exactly `0x` + 64 ASCII hex digits. `bytes.fromhex` would also take whitespace and short forms (which
# EIP-712 pads to the same bytes32), so one signature could name several textually different ids.
_ORDER_ID = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def canonical_order_id(value: str) -> str | None:
    """The order id as the bytes32 it signs, in lower case, or None when it is not exactly one."""
    return value.lower() if isinstance(value, str) and _ORDER_ID.fullmatch(value) else None


def max_fee(cfg: EscrowConfig, price: float, size: float, cap_bps: int) -> int:
    """The most an order may be charged: the builder's fee cap on its notional, never below the minimum."""
    return max(minimum_fee(cfg, price, size), math.ceil(price * size * cap_bps / 10_000 * 10**6))


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
           now: float | None = None, *, cap_bps: int | None = None) -> int:
    """The fee in base units, or a 400 naming what is wrong. `cap_bps` is the builder's fee cap."""
    problems = []
    order_id = canonical_order_id(auth.order_id)
    if order_id is None:
        problems.append("fee_auth.order_id must be exactly 0x followed by 64 hex digits (a bytes32)")
    if not (isinstance(auth.payer, str) and _ADDRESS.fullmatch(auth.payer)):
        problems.append("fee_auth.payer must be a 0x-prefixed address (40 hex digits)")
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
        raise InvalidInput(problems)
    minimum = minimum_fee(cfg, price, size)
    if fee < minimum:
        raise InvalidInput([f"fee_auth.fee_amount {fee} is below the minimum {minimum} for this order"])
    if cap_bps is not None and fee > (cap := max_fee(cfg, price, size, cap_bps)):
        raise InvalidInput([f"fee_auth.fee_amount {fee} is above the maximum {cap} for this order "
                            f"(fee cap {cap_bps} bps, or the minimum fee)"])
    assert order_id is not None
    try:
        signer = Account.recover_message(
            encode_typed_data(full_message=typed_data(cfg, order_id, _checksum(auth.payer), fee, auth.deadline)),
            signature=auth.signature)
    except Exception:
        raise InvalidInput(["fee_auth.signature is not a valid EIP-712 signature"]) from None
    if signer.lower() != auth.payer.lower():
        raise InvalidInput(["fee_auth.signature was not made by fee_auth.payer"])
    return fee
