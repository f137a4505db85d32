"""Builder end users: create (idempotent on external_id), list, read, change QPS, deactivate for good."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..auth import apikeys
from ..auth import credentials as credstore
from ..auth.apikeys import Principal
from ..cache import TtlCache
from ..exchanges import errors as venue
from ..contract.builder import BuilderUser, CreateUserRequest, CreateUserResponse, PoolResponse, UserList
from ..errors import Forbidden, InvalidInput, NotFound, Refused, Unavailable
from ..ids import identifier
from ..store import accounts, api_keys, builder_users

END_USER_TERMS_TTL_S = 5.0

EVM_ADDRESS_LEN = 42


def require_builder(principal: Principal) -> None:
    if principal.account_type != "builder":
        raise Forbidden("this endpoint requires a builder account")


def owned_user(principal: Principal, customer_id: str) -> dict:
    require_builder(principal)
    user = builder_users.get(identifier(customer_id, "customer_id"))
    if user is None or user.get("builder_id") != principal.customer_id:
        raise NotFound(f"user {customer_id} not found")
    return user


def acting_user(principal: Principal, customer_id: str, named: str = "X-Builder-Customer-Id") -> dict:
    """The end user a builder acts for (REST's `X-Builder-Customer-Id`, `/ws`'s `builder_customer_id`):
    only a builder, only one of its own active users."""
    if principal.account_type != "builder":
        raise Forbidden(f"{named} requires a builder account")
    user = builder_users.get(customer_id)
    if user is None or user.get("builder_id") != principal.customer_id:
        raise Forbidden(f"{named}: user not found or not owned by this builder")
    if user.get("status") != "active":
        raise Forbidden(f"{named}: this user is deactivated")
    return user


def pool_size(builder_id: str) -> int:
    account = accounts.get_account(builder_id) or {}
    return int(account.get("qps_pool", builder_users.DEFAULT_POOL))


def _pool_error(wanted: int, left: int, pool: int) -> Refused:
    return Refused(f"qps_limit {wanted} exceeds the builder's QPS pool: {left} of {pool} left")


@dataclass(frozen=True)
class EndUserTerms:
    """What an end user's own API key draws on: its builder's monthly quota and tier, at the
    user's own QPS."""

    builder_id: str
    qps_limit: int
    builder_tier: str
    pool: int


_terms: TtlCache[str, EndUserTerms] = TtlCache(END_USER_TERMS_TTL_S, 10_000)


def end_user_terms(customer_id: str) -> EndUserTerms | None:
    """None when the user is unknown or deactivated. Cached a few seconds: a QPS change or a
    deactivation elsewhere takes effect within that time (at once in the instance that made it)."""
    hit = _terms.get(customer_id)
    if hit is not None:
        return hit
    user = builder_users.get(customer_id)
    if user is None or user.get("status") != "active" or not user.get("builder_id"):
        return None
    builder = accounts.get_account(str(user["builder_id"])) or {}
    terms = EndUserTerms(str(user["builder_id"]), int(user.get("qps_limit") or 1), str(builder.get("tier", "free")),
                         int(builder.get("qps_pool", builder_users.DEFAULT_POOL)))
    _terms.put(customer_id, terms)
    return terms


def forget_end_user(customer_id: str) -> None:
    _terms.pop(customer_id)


def _within_pool(wanted: int, pool: int) -> None:
    """No single user can hold more than the whole pool (this also keeps absurd numbers, which the
    store could not even hold, out of every write)."""
    if wanted > pool:
        raise InvalidInput([f"qps_limit must be at most the builder's QPS pool ({pool}), got {str(wanted)[:20]}"])


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
        raise InvalidInput([f"eoa_address must be a 0x-prefixed 20-byte address, got {req.eoa_address[:50]!r}"])
    qps = req.qps_limit or builder_users.DEFAULT_QPS
    pool = pool_size(principal.customer_id)
    _within_pool(qps, pool)
    try:
        item, created = builder_users.create(principal.customer_id, req.external_id, qps, req.email, pool)
    except builder_users.PoolExhausted as exc:
        raise _pool_error(qps, exc.left, pool) from None
    except builder_users.UserChanged:
        raise Unavailable("the user changed concurrently; retry") from None
    if item.get("status") == "active":
        _ensure_key(item["customer_id"], principal.customer_id)
    user = to_user(item)
    status = "complete" if item.get("status") == "active" else str(item.get("status"))
    return CreateUserResponse(customer_id=user.customer_id, external_id=user.external_id, api_key=user.api_key,
                              status=status, linked_exchanges=user.linked_exchanges, fee_escrow_enabled=False), created


def _ensure_key(customer_id: str, builder_id: str) -> None:
    """Store the user's key hash unless it is there: a create that stopped between writing the user
    and storing its key is completed by the retry (a revoked key is never brought back: the write is
    conditional on no record at all)."""
    try:
        apikeys.store_key(apikeys.end_user_key(customer_id), customer_id, "end_user", "free", builder_id=builder_id)
    except api_keys.KeyExists:
        pass


def list_users(principal: Principal, limit: int, cursor: str | None) -> UserList:
    require_builder(principal)
    try:
        items, nxt = builder_users.list_page(principal.customer_id, limit, cursor)
    except (ValueError, TypeError):
        raise InvalidInput(["cursor: not a cursor this endpoint issued"]) from None
    users = [to_user(i) for i in items]
    return UserList(users=users, count=len(users), next_cursor=nxt)


def update(principal: Principal, customer_id: str, qps_limit: int | None) -> BuilderUser:
    user = owned_user(principal, customer_id)
    if user.get("status") != "active":
        raise Refused(f"user {customer_id} is deactivated")
    if qps_limit is not None:
        pool = pool_size(principal.customer_id)
        _within_pool(qps_limit, pool)
        try:
            user = builder_users.set_qps(user, qps_limit, pool)
            forget_end_user(customer_id)
        except builder_users.PoolExhausted as exc:
            raise _pool_error(qps_limit, exc.left + int(user.get("qps_limit") or 0), pool) from None
        except builder_users.UserChanged:
            raise Unavailable(f"user {customer_id} changed concurrently; retry") from None
    return to_user(user)


async def cancel_open_orders(customer_id: str) -> int:
    """Cancel every order the customer has open at any venue we hold credentials for, through the
    ordinary cancel path (order record and fee-escrow refund included). Returns how many."""
    from ..exchanges.registry import get_adapter
    from ..trading import service

    cancelled = 0
    for exchange in credstore.linked_exchanges(customer_id):
        stored = credstore.load(customer_id, exchange)
        adapter = get_adapter(exchange)
        if stored is None or not adapter.capabilities.cancel_order:
            continue
        try:
            open_orders = await adapter.open_session(stored.credentials).list_orders(
                market_id=None, status="open", start=None, end=None, limit=500)
        except venue.VenueError as exc:
            raise Unavailable(f"{exchange} could not list the user's open orders ({type(exc).__name__}); "
                              "nothing was deactivated, retry") from None
        for order in open_orders:
            await service.cancel_order(adapter, customer_id, order.id, None)
            cancelled += 1
    return cancelled


async def deactivate(principal: Principal, customer_id: str) -> None:
    """For good: open orders are cancelled at the venues first (a venue that cannot be reached
    makes this a retryable 503 with nothing changed), then the user's QPS returns to the pool,
    its key stops working and its stored credentials are deactivated."""
    user = owned_user(principal, customer_id)
    if user.get("status") == "active":
        await cancel_open_orders(customer_id)
        try:
            builder_users.deactivate(user)
        except builder_users.UserChanged:
            raise Unavailable(f"user {customer_id} changed concurrently; retry") from None
    # Every step from here is idempotent and runs again on a repeated DELETE, so a deactivation cut
    # off after the user's record changed is completed by the retry.
    apikeys.revoke_key(apikeys.hash_key(apikeys.end_user_key(customer_id)))
    for exchange in credstore.linked_exchanges(customer_id):
        credstore.deactivate(customer_id, exchange)
    apikeys.clear_cache()
    forget_end_user(customer_id)


def pool(principal: Principal) -> PoolResponse:
    require_builder(principal)
    count = sum(1 for u in builder_users.all_users(principal.customer_id) if u.get("status") == "active")
    return PoolResponse(qps_pool=pool_size(principal.customer_id), end_user_count=count,
                        total_allocated_qps=builder_users.allocated(principal.customer_id))
