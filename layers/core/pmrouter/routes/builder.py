"""/builder/*: a builder's end users and QPS pool, and onboarding an end user to a venue."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from ..api.auth import CurrentPrincipal
from ..api.errors import ValidationFailed
from ..api.selectors import clamp_limit, identifier
from ..builders import users
from ..contract.builder import (
    BuilderOnboardRequest, BuilderOnboardResponse, BuilderUser, CreateUserRequest, CreateUserResponse, EscrowConfigResponse,
    PoolResponse, UpdateUserRequest, UserList,
)
from ..contract.trading import OnboardRequest
from .account import onboard_self

router = APIRouter(prefix="/builder", tags=["builder"])


@router.get("/pool", response_model=PoolResponse)
def get_pool(principal: CurrentPrincipal) -> PoolResponse:
    return users.pool(principal)


@router.post("/users", response_model=CreateUserResponse, status_code=201, response_model_exclude_none=True)
def create_user(principal: CurrentPrincipal, body: Annotated[CreateUserRequest, Body()], response: Response):
    out, created = users.create(principal, body)
    response.status_code = 201 if created else 200
    return out


@router.get("/users", response_model=UserList, response_model_exclude_none=True)
def list_users(principal: CurrentPrincipal, limit: Annotated[int | None, Query()] = None,
               cursor: Annotated[str | None, Query()] = None) -> UserList:
    return users.list_users(principal, clamp_limit(limit, default=50, maximum=100), cursor)


@router.get("/users/{customer_id}", response_model=BuilderUser, response_model_exclude_none=True)
def get_user(principal: CurrentPrincipal, customer_id: str) -> BuilderUser:
    return users.to_user(users.owned_user(principal, customer_id))


@router.patch("/users/{customer_id}", response_model=BuilderUser, response_model_exclude_none=True)
def update_user(principal: CurrentPrincipal, customer_id: str, body: Annotated[UpdateUserRequest, Body()]) -> BuilderUser:
    return users.update(principal, customer_id, body.qps_limit)


@router.delete("/users/{customer_id}", status_code=204)
async def deactivate_user(principal: CurrentPrincipal, customer_id: str) -> Response:
    await users.deactivate(principal, customer_id)
    return Response(status_code=204)




@router.post("/onboard", response_model=BuilderOnboardResponse, response_model_exclude_none=True)
async def onboard_user(principal: CurrentPrincipal, body: Annotated[BuilderOnboardRequest, Body()]):
    body.customer_id = identifier(body.customer_id, "customer_id")
    if not body.exchange.strip():
        raise ValidationFailed(["exchange is required and must not be empty "
                                "(polymarket, kalshi, limitless, opinion or predictfun)"])
    user = users.owned_user(principal, body.customer_id)
    if user.get("status") != "active":
        raise ValidationFailed([f"customer_id {body.customer_id} is deactivated"])
    req = OnboardRequest(**body.model_dump(exclude={"customer_id"}))
    if body.mode == "managed":
        from ..wallets.managed import onboard_managed

        done = await onboard_managed(body.customer_id, req.model_copy(update={"exchange": req.exchange.lower()}))
    else:
        done = await onboard_self(body.customer_id, req)
    return BuilderOnboardResponse(customer_id=body.customer_id, fee_escrow_enabled=False, **done.model_dump())




@router.get("/escrow/config", response_model=EscrowConfigResponse, response_model_exclude_none=True)
def escrow_config(principal: CurrentPrincipal) -> EscrowConfigResponse:
    from ..escrow import config
    from ..store.accounts import get_account

    users.require_builder(principal)
    from ..escrow.chain import available

    cfg = config.platform()
    account = get_account(principal.customer_id) or {}
    tier = str(account.get("builder_tier", "iron"))
    return EscrowConfigResponse(  # enabled only where a chain and a deployed contract settle the fees
        fee_escrow_enabled=available(), escrow_contract_address=cfg.contract, min_fee_usdc=str(cfg.min_fee_usdc),
        min_fee_bps=cfg.min_fee_bps, treasury_address=cfg.treasury,
        affiliate_fee_bps=config.BUILDER_SHARE_BPS.get(tier, 1500),
        fee_bps=int(account["fee_bps"]) if account.get("fee_bps") else config.MAX_FEE_BPS.get(tier),
        affiliate_address=account.get("affiliate_address"))
