from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from .common import WireModel
from .trading import OnboardRequest


class TokenBalance(WireModel):
    token: str
    balance: str
    raw_balance: str
    decimals: int
    contract_address: str | None = None


class WalletInfo(WireModel):
    eoa_address: str
    privy_wallet_id: str
    wallet_type: str
    safe_address: str | None = None
    chain_id: int | None = None
    created_at: datetime | None = None
    balances: list[TokenBalance] | None = None


class CreateUserRequest(WireModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    external_id: str = Field(min_length=1, max_length=256)
    email: str | None = None
    eoa_address: str | None = None
    qps_limit: int | None = Field(default=None, ge=1)


class UpdateUserRequest(WireModel):
    qps_limit: int | None = Field(default=None, ge=1)


class CreateUserResponse(WireModel):
    customer_id: str
    external_id: str
    api_key: str
    status: str
    linked_exchanges: list[str]
    fee_escrow_enabled: bool
    wallet: WalletInfo | None = None
    fee_bps: int | None = None
    affiliate_address: str | None = None


class BuilderUser(WireModel):
    customer_id: str
    external_id: str
    api_key: str
    tier: str
    linked_exchanges: list[str]
    fee_escrow_enabled: bool
    qps_limit: int | None = None
    created_at: datetime | None = None
    wallet: WalletInfo | None = None
    fee_bps: int | None = None
    affiliate_address: str | None = None


class UserList(WireModel):
    users: list[BuilderUser]
    count: int
    next_cursor: str | None = None


class PoolResponse(WireModel):
    qps_pool: int
    end_user_count: int
    total_allocated_qps: int


class BuilderOnboardResponse(WireModel):
    customer_id: str
    exchange: str
    mode: str
    status: str
    linked_exchanges: list[str]
    steps_completed: list[str]
    fee_escrow_enabled: bool
    eoa_address: str | None = None
    safe_address: str | None = None
    affiliate_address: str | None = None
    fee_bps: int | None = None
    wallet: WalletInfo | None = None


class BuilderOnboardRequest(OnboardRequest):
    customer_id: str


class EscrowConfigResponse(WireModel):
    fee_escrow_enabled: bool
    escrow_contract_address: str
    min_fee_usdc: str
    min_fee_bps: int
    treasury_address: str
    affiliate_fee_bps: int
    fee_bps: int | None = None
    affiliate_address: str | None = None
