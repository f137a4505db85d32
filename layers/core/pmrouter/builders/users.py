"""Builder end users: create (idempotent on external_id), list, read, change QPS, deactivate for good."""
from __future__ import annotations

from datetime import datetime

from botocore.exceptions import ClientError

from ..api.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from ..api.selectors import identifier
from ..auth import apikeys
from ..auth import credentials as credstore
from ..auth.apikeys import Principal
from ..contract.builder import BuilderUser, CreateUserRequest, CreateUserResponse, PoolResponse, UserList
from ..store import accounts, builder_users

EVM_ADDRESS_LEN = 42


def require_builder(principal: Principal) -> None:
    if principal.account_type != "builder":
        raise Forbidden("this endpoint requires a builder account")


def owned_user(principal: Principal, customer_id: str) -> dict:
    require_builder(principal)
    user = builder_users.get(identifier(customer_id, "customer_id"))
    if user is None or user.get("builder_id") != principal.customer_id:
        raise NotFound(f"user {customer_id} not found", code="not_found")
    return user


def pool_size(builder_id: str) -> int:
    account = accounts.get_account(builder_id) or {}
    return int(account.get("qps_pool", builder_users.DEFAULT_POOL))


def _allocated(builder_id: str, exclude: str | None = None) -> tuple[int, int]:
    users = [u for u in builder_users.all_users(builder_id) if u.get("status") == "active"]
    return sum(int(u.get("qps_limit") or 0) for u in users if u["customer_id"] != exclude), len(users)


def _check_pool(builder_id: str, wanted: int, exclude: str | None = None) -> None:
    pool = pool_size(builder_id)
    _within_pool(wanted, pool)
    used, _ = _allocated(builder_id, exclude)
    if used + wanted > pool:
        raise BadRequest(f"qps_limit {wanted} exceeds the builder's QPS pool: {pool - used} of {pool} left")


def _within_pool(wanted: int, pool: int) -> None:
    """No single user can hold more than the whole pool (this also keeps absurd numbers, which the
    store could not even hold, out of every write)."""
    if wanted > pool:
        raise ValidationFailed([f"qps_limit must be at most the builder's QPS pool ({pool}), got {str(wanted)[:20]}"])


def _created(item: dict) -> datetime | None:
    try:
        return datetime.fromisoformat(item["created_at"])
    except (KeyError, ValueError):
        return None


def to_user(item: dict) -> BuilderUser:
    return BuilderUser(customer_id=item["customer_id"], external_id=item["external_id"],
                       api_key=apikeys.end_user_key(item["customer_id"]), tier=str(item.get("tier", "free")),
                       linked_exchanges=credstore.linked_exchanges(item["customer_id"]) if item.get("status") == "active" else [],
                       fee_escrow_enabled=False, qps_limit=int(item.get("qps_limit") or 0) or None,
                       created_at=_created(item))


def create(principal: Principal, req: CreateUserRequest) -> tuple[CreateUserResponse, bool]:
    require_builder(principal)
    if req.eoa_address is not None and not (req.eoa_address.startswith("0x") and len(req.eoa_address) == EVM_ADDRESS_LEN):
        raise ValidationFailed([f"eoa_address must be a 0x-prefixed 20-byte address, got {req.eoa_address[:50]!r}"])
    qps = req.qps_limit or builder_users.DEFAULT_QPS
    _within_pool(qps, pool_size(principal.customer_id))
    existing = builder_users.get(builder_users.user_id(principal.customer_id, req.external_id))
    if existing is None:
        _check_pool(principal.customer_id, qps)
    item, created = builder_users.create(principal.customer_id, req.external_id, qps, req.email)
    if created:
        apikeys.store_key(apikeys.end_user_key(item["customer_id"]), item["customer_id"], "end_user", "free",
                          builder_id=principal.customer_id)
    user = to_user(item)
    status = "complete" if item.get("status") == "active" else str(item.get("status"))
    return CreateUserResponse(customer_id=user.customer_id, external_id=user.external_id, api_key=user.api_key,
                              status=status, linked_exchanges=user.linked_exchanges, fee_escrow_enabled=False), created


def list_users(principal: Principal, limit: int, cursor: str | None) -> UserList:
    require_builder(principal)
    try:
        items, nxt = builder_users.list_page(principal.customer_id, limit, cursor)
    except (ValueError, TypeError, ClientError):
        raise ValidationFailed(["cursor: not a cursor this endpoint issued"]) from None
    users = [to_user(i) for i in items]
    return UserList(users=users, count=len(users), next_cursor=nxt)


def update(principal: Principal, customer_id: str, qps_limit: int | None) -> BuilderUser:
    user = owned_user(principal, customer_id)
    if user.get("status") != "active":
        raise BadRequest(f"user {customer_id} is deactivated")
    if qps_limit is not None:
        _check_pool(principal.customer_id, qps_limit, exclude=customer_id)
        user = builder_users.set_qps(customer_id, qps_limit)
    return to_user(user)


def deactivate(principal: Principal, customer_id: str) -> None:
    """For good: the user's key stops working, stored credentials are destroyed."""
    user = owned_user(principal, customer_id)
    if user.get("status") == "deactivated":
        return
    builder_users.deactivate(customer_id)
    apikeys.revoke_key(apikeys.hash_key(apikeys.end_user_key(customer_id)))
    for exchange in credstore.linked_exchanges(customer_id):
        credstore.deactivate(customer_id, exchange)
    apikeys.clear_cache()


def pool(principal: Principal) -> PoolResponse:
    require_builder(principal)
    used, count = _allocated(principal.customer_id)
    return PoolResponse(qps_pool=pool_size(principal.customer_id), end_user_count=count, total_allocated_qps=used)

