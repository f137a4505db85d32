"""A managed wallet's key: exported to its owner (rate limited per customer and per builder, audited
with who asked), protected from being replaced while it may hold the only access to funds, and
recovered by the operator (audited). Nothing here deletes key material."""
from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone

from ..auth import credentials as credstore
from ..auth.apikeys import Principal
from ..exchanges import errors as venue
from ..exchanges.registry import get_adapter
from ..errors import Conflict, InvalidInput, NotFound, RateLimited
from ..store import accounts

audit = logging.getLogger("pmrouter.audit")
EXPORTS_PER_HOUR = int(os.environ.get("PMROUTER_EXPORTS_PER_HOUR", "3"))
# A builder can act for every one of its users (and holds their API keys), so the same allowance
# also holds for the builder across all of its users: a leaked builder key exports few wallets.
BUILDER_EXPORTS_PER_HOUR = int(os.environ.get("PMROUTER_BUILDER_EXPORTS_PER_HOUR", str(EXPORTS_PER_HOUR)))


def _limited(limit: int, who: str) -> RateLimited:
    return RateLimited(f"key export is limited to {limit} per hour{who}", retry_after=3600 - int(time.time()) % 3600)


def _builder_of(customer_id: str) -> str | None:
    from ..store import builder_users

    user = builder_users.get(customer_id)
    return str(user["builder_id"]) if user and user.get("builder_id") else None


def export_key(customer_id: str, wallet_type: str, *, principal: Principal, request_id: str | None) -> str:
    if wallet_type != "eoa":
        raise InvalidInput(["wallet_type must be eoa (Safe wallets are not available)"])
    stored = credstore.load(customer_id, "polymarket")
    if stored is None or stored.mode != "managed" or not stored.credentials.private_key:
        raise NotFound("no managed wallet: onboard with mode=managed first")
    builder_id = _builder_of(customer_id)
    if builder_id and not accounts.take_hourly_slot(builder_id, "user_export", BUILDER_EXPORTS_PER_HOUR):
        raise _limited(BUILDER_EXPORTS_PER_HOUR, " for a builder's users together")
    if not accounts.take_hourly_slot(customer_id, "export", EXPORTS_PER_HOUR):
        if builder_id:
            accounts.give_back_hourly_slot(builder_id, "user_export")
        raise _limited(EXPORTS_PER_HOUR, "")
    credstore.mark_exported(customer_id, "polymarket")
    audit.warning("wallet.export_key", extra={
        "event": "wallet.export_key", "customer_id": customer_id, "address": stored.address,
        "key_id": principal.key_id, "caller_id": principal.customer_id,
        "builder_id": builder_id, "impersonated": principal.customer_id != customer_id,
        "request_id": request_id, "at": datetime.now(timezone.utc).isoformat()})
    return stored.credentials.private_key


async def _holds_funds(stored: credstore.StoredCredentials) -> str | None:
    """What the managed wallet still holds ("" when provably nothing; None if it cannot be told)."""
    session = get_adapter("polymarket").open_session(stored.credentials)
    try:
        units = int((await session.balance()).get("balance", 0))
        positions = [p for p in await session.positions(market_id=None) if p.size]
        orders = await session.list_orders(market_id=None, status="open", start=None, end=None, limit=1)
    except (venue.VenueError, ValueError, TypeError):
        return None
    held = []
    if units:
        held.append(f"{units / 10**6:.2f} pUSD")
    if positions:
        held.append(f"{len(positions)} open position(s)")
    if orders:
        held.append("open orders")
    return ", ".join(held)


async def refuse_replacing_managed(customer_id: str, exchange: str) -> None:
    """Self-mode onboarding would put another key in place of a managed wallet's: only once the owner
    has exported the key, or the wallet provably holds nothing (the old key is kept either way)."""
    if exchange != "polymarket":
        return
    stored = credstore.load(customer_id, exchange)
    if stored is None or stored.mode != "managed" or credstore.exported(customer_id, exchange):
        return
    held = await _holds_funds(stored)
    if held == "":
        return
    what = f"holds {held}" if held else "may hold funds (its balance could not be read)"
    raise Conflict(f"this account's managed wallet on Polymarket ({stored.address}) {what}; onboarding with mode=self "
                   "would replace its key. Export the key first (POST /api/v1/wallet/export-key) or empty the "
                   "wallet, then onboard again")


def recover(customer_id: str, *, reason: str, operator: str) -> list[credstore.SealedWallet]:
    """Every wallet key kept for the customer (active, deactivated or replaced), for the operator to
    move the funds; audited in the log and next to the credentials, never with the key."""
    wallets = credstore.wallet_keys(customer_id, "polymarket")
    if not wallets:
        return []
    fields = {"customer_id": customer_id, "reason": reason, "operator": operator,
              "addresses": [w.address or "" for w in wallets], "at": datetime.now(timezone.utc).isoformat()}
    credstore.audit_record(customer_id, "wallet.recover", {k: v for k, v in fields.items() if k != "customer_id"})
    audit.warning("wallet.recover", extra={"event": "wallet.recover", **fields})
    return wallets
