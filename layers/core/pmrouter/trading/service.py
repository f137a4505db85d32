"""The order lifecycle, exactly once.

1. Validate (400/501) and resolve the caller's credentials (stored or per-request).
2. Build and sign the order (the venue id is known now where the venue derives it from the order).
3. Claim the order record: one conditional PutItem that is also the idempotency record.
4. Send once. Never resent here: a failure that may have reached the venue leaves the record
   `pending` for reconciliation, and the caller is told so (200 with status `pending`).
5. Record the venue's answer (one UpdateItem).

Store round trips per order: credentials (cached after the first), claim, update.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Literal

from ..errors import (Forbidden, InsufficientFunds, InvalidInput, NotFound, NotSupported, PmrouterError, Refused,
                      Unavailable, from_venue)
from ..auth import credentials as credstore
from ..contract.trading import CreateOrderRequest, Order
from ..exchanges import errors as venue
from ..auth.apikeys import Principal
from ..exchanges.base import (Credentials, ExchangeAdapter, OrderIntent, TradingSession, VenueMarket, VenueOrder,
                              VenueOutcome, resolve_outcome)
from ..store import orders as store
from ..store.dynamo import is_transient
from .rules import check_price_and_size, parse_params, require_order_type

log = logging.getLogger("pmrouter.trading")

PENDING_ID_PREFIX = "pmr_"
REPLAY_WAIT_S = 5.0


class CredentialsRequired(Forbidden):
    code = "credentials_required"


@dataclass(frozen=True)
class Session:
    session: TradingSession
    mode: Literal["stored", "managed", "per_request"]


def require_trading(adapter: ExchangeAdapter, what: str = "trading", flag: str = "create_order") -> None:
    """501 unless the venue trades and has the capability `flag` that this operation reads."""
    if not adapter.capabilities.create_order:
        raise NotSupported(f"{adapter.name} is market-data only in pmrouter; {what} is not supported")
    adapter.require(flag, what)


def open_session(adapter: ExchangeAdapter, customer_id: str, header: str | None,
                 body: Credentials | None) -> Session:
    """Per-request credentials win (body, then header); else the customer's stored ones."""
    creds: Credentials | None = body
    if creds is None and header:
        try:
            creds = credstore.parse_header(header)
        except credstore.BadCredentials as exc:
            raise InvalidInput([str(exc)]) from None
    if creds is not None:
        return Session(_session(adapter, creds), "per_request")
    stored = credstore.load(customer_id, adapter.id)
    if stored is None:
        raise CredentialsRequired(
            f"no {adapter.name} credentials: onboard with POST /api/v1/onboard, or pass X-Exchange-Credentials")
    return Session(_session(adapter, stored.credentials), "managed" if stored.mode == "managed" else "stored")


def _session(adapter: ExchangeAdapter, creds: Credentials) -> TradingSession:
    try:
        return adapter.open_session(creds)
    except NotImplementedError:
        raise NotSupported(f"{adapter.name} does not trade through pmrouter") from None
    except ValueError as exc:  # adapters reject incomplete credentials with a message naming the field
        raise InvalidInput([f"credentials: {exc}"]) from None


def _iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def order_from_record(rec: store.OrderRecord) -> Order:
    return Order(
        id=rec.venue_order_id or PENDING_ID_PREFIX + rec.order_uid,
        market_id=rec.market_id, outcome=rec.outcome, side=rec.side,  # type: ignore[arg-type]
        price=float(rec.price), size=float(rec.size), filled=float(rec.filled), status=rec.status,  # type: ignore[arg-type]
        created_at=_iso(rec.created_at) or datetime.now(timezone.utc), updated_at=_iso(rec.updated_at),
    )


def order_from_venue(o: VenueOrder, rec: store.OrderRecord | None = None) -> Order:
    """The venue's state of an order, in the terms the caller placed it when pmrouter placed it (a
    Kalshi "buy No at 0.40" reads back from the venue as an ask at 0.60 in YES terms)."""
    outcome, side, price, created = o.outcome, o.side, o.price, o.created_at
    if rec is not None:  # also one creation time, the one POST /orders answered with
        outcome, side, price = rec.outcome, rec.side, float(rec.price)
        created = _iso(rec.created_at) or created
    return Order(id=o.id, market_id=o.market_id, outcome=outcome, side=side, price=price, size=o.size,  # type: ignore[arg-type]
                 filled=o.filled, status=o.status, created_at=created, updated_at=o.updated_at)


def records_by_venue_id(customer_id: str, exchange: str) -> dict[str, store.OrderRecord]:
    return {r.venue_order_id: r for r in store.list_for(customer_id, exchange) if r.venue_order_id}


def _order_failure(exc: venue.VenueError) -> PmrouterError:
    if isinstance(exc, venue.InsufficientFunds):
        err: PmrouterError = InsufficientFunds(f"{exc.exchange}: insufficient funds ({exc.message})")
    else:
        err = from_venue(exc)
    # Order failures are never auto-retried by the SDK: a resend is the caller's decision.
    err.final = True
    return err


# A refusal recorded with an order, by its code (the class decides the status at the API's edge).
_RECORDED = {"insufficient_funds": InsufficientFunds, "not_supported": NotSupported, "market_not_found": NotFound,
             "authentication_failed": Forbidden, "service_unavailable": Unavailable}


def _recorded_failure(body: dict) -> PmrouterError:
    """The refusal stored with an order, raised again for a retry of the same order."""
    code = str(body.get("code", "bad_request"))
    err = _RECORDED.get(code, Refused)(str(body.get("error", "order rejected")))
    err.code, err.retryable, err.final = code, bool(body.get("retryable", False)), True
    return err


@dataclass(frozen=True)
class EscrowTerms:
    """A verified fee authorization, ready to hold with the order."""

    escrow_id: str
    payer: str
    fee: int
    deadline: int
    signature: str
    builder_id: str
    affiliate: str
    affiliate_bps: int


def fee_escrow_terms(req: CreateOrderRequest, exchange: str, principal: Principal) -> EscrowTerms | None:
    """Verify `fee_auth` before anything is recorded or sent (400/403 naming the problem)."""
    if req.fee_auth is None:
        if req.payer_address or req.signer_address:
            raise InvalidInput(["payer_address and signer_address go with fee_auth"])
        return None
    from ..escrow import authorization, config

    if principal.account_type != "builder":
        raise Forbidden("fee_auth (fee escrow) is for builder accounts")
    if exchange != "polymarket":
        raise InvalidInput(["fee_auth: fee escrow is Polymarket only"])
    from ..escrow.chain import require_available
    from ..store.accounts import get_account

    require_available()  # no chain configured: 503 before anything is verified, recorded or sent
    cfg = config.platform()
    account = get_account(principal.customer_id) or {}
    fee = authorization.verify(cfg, req.fee_auth, req.payer_address, float(req.price), float(req.size),
                               cap_bps=config.fee_cap_bps(account))
    order_id = authorization.canonical_order_id(req.fee_auth.order_id)
    assert order_id is not None  # verify() refused anything else
    affiliate = req.affiliate or account.get("affiliate_address")
    if not affiliate:
        raise InvalidInput(["affiliate: no affiliate address is configured for this builder; pass affiliate"])
    tier = str(account.get("builder_tier", "iron"))
    return EscrowTerms(order_id, req.fee_auth.payer, fee, req.fee_auth.deadline,
                       req.fee_auth.signature, principal.customer_id, affiliate, config.BUILDER_SHARE_BPS.get(tier, 1500))


def _as_sent(number: Decimal) -> str:
    """The fingerprint's text of a price or size: the float repr that records written before prices
    were decimals hold (the request edge made `number` from that repr, so this round-trips exactly)."""
    return repr(float(number))


def _customer_addresses(customer_id: str, sess: Session) -> set[str]:
    """The wallets the acting customer controls on Polymarket: the one they onboarded (managed, or
    their own EOA and its Safe/proxy funder) and the one this order is signed with."""
    from eth_account import Account

    found: set[str | None] = {sess.session.address}
    creds = [sess.session.credentials]
    stored = credstore.load(customer_id, "polymarket")
    if stored is not None:
        found.add(stored.address)
        creds.append(stored.credentials)
    for c in creds:
        if c is None:
            continue
        found.add(c.funder)
        if c.private_key:
            try:
                found.add(Account.from_key(c.private_key).address)
            except (ValueError, TypeError):
                pass
    return {a.lower() for a in found if a}


def check_payer(escrow: EscrowTerms, customer_id: str, sess: Session) -> None:
    """A fee authorization pays for an order of the customer who signed it, never a third party's."""
    if escrow.payer.lower() not in _customer_addresses(customer_id, sess):
        raise InvalidInput(["fee_auth.payer must be a wallet of the customer placing the order (their "
                                "managed wallet, or the EOA or Safe they onboarded)"])


def _release_quietly(record: store.OrderRecord, escrow: "EscrowTerms | None") -> None:
    """The order certainly never reached the venue: release its fee (refunded unless the caller's retry
    takes it back) and its claim (so that retry may run). Best effort: when the store is down too, the
    settlement refunds the fee and reconciliation closes the claim."""
    if escrow is not None:
        from ..escrow import service as escrow_service

        try:
            escrow_service.release(escrow.escrow_id)
        except Exception as exc:  # noqa: BLE001 - the caller gets the original error
            log.warning("order %s: fee escrow not released (%s); settlement will", record.order_uid,
                        type(exc).__name__)
    try:
        store.release(record)
    except Exception as exc:  # noqa: BLE001
        log.warning("order %s: claim not released (%s); reconciliation will", record.order_uid, type(exc).__name__)


def _pick_outcome(market: VenueMarket, name: str | None) -> VenueOutcome:
    try:
        return resolve_outcome(market, name)
    except ValueError as exc:
        raise InvalidInput([f"outcome: {exc}"]) from None


async def place_order(adapter: ExchangeAdapter, principal: Principal, customer_id: str, req: CreateOrderRequest,
                      *, idempotency_key: str | None, header_credentials: str | None) -> Order:
    """The whole order path from a parsed request: fee terms, market, outcome, rules, credentials,
    then the exactly-once send (steps 1 to 5 above)."""
    escrow = fee_escrow_terms(req, adapter.id, principal)
    require_trading(adapter)
    params = parse_params(req.params)
    require_order_type(adapter, params.order_type)
    body_creds = Credentials(**req.credentials.model_dump(exclude_none=True)) if req.credentials else None
    market = await adapter.get_market(req.market_id)
    outcome = _pick_outcome(market, req.outcome)
    check_price_and_size(adapter, market, req.price, req.size)
    sess = open_session(adapter, customer_id, header_credentials, body_creds)
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 255):
        raise InvalidInput(["Idempotency-Key must be 1 to 255 characters"])
    uid = store.order_uid(customer_id, adapter.id, idempotency_key)
    fp = store.fingerprint({"market": market.exchange_market_id, "outcome": outcome.name, "side": req.side,
                            "price": _as_sent(req.price), "size": _as_sent(req.size), "type": params.order_type,
                            "exp": params.expiration})
    intent = OrderIntent(market, outcome, req.side, req.price, req.size, params.order_type, params.expiration, uid)
    record = store.OrderRecord(
        customer_id=customer_id, order_uid=uid, exchange=adapter.id, market_id=market.exchange_market_id,
        outcome=outcome.name, side=req.side, price=req.price, size=req.size,
        order_type=params.order_type, client_order_id=uid, fingerprint=fp, cred_mode=sess.mode,
        expiration=params.expiration)
    try:
        prepared = await sess.session.prepare_order(intent)
    except venue.VenueError as exc:
        raise _order_failure(exc) from None
    record.venue_order_id = prepared.order_id
    if escrow is not None:
        check_payer(escrow, customer_id, sess)
    try:
        store.claim(record)
    except store.AlreadyClaimed as dup:
        return await _replay(dup.existing, fp)
    if escrow is not None:
        from ..escrow import service as escrow_service

        try:  # the fee is pulled into escrow before the venue sees the order
            escrow_service.hold(escrow.escrow_id, customer_id=customer_id, builder_id=escrow.builder_id,
                                order_uid=uid, payer=escrow.payer, fee=escrow.fee, deadline=escrow.deadline,
                                signature=escrow.signature, affiliate=escrow.affiliate,
                                affiliate_bps=escrow.affiliate_bps)
        except Exception:
            # Not sent: the claim goes so that a retry can run; a fee the hold left pulled but not
            # recorded as held is found on the chain by the retry or by the settlement.
            _release_quietly(record, None)
            raise
    try:
        placed = await sess.session.submit_order(prepared)
    except (venue.VenueUnavailable, venue.VenueRateLimited) as exc:
        if getattr(exc, "ambiguous", False):
            # The venue may have the order. Keep it pending; reconciliation (or the next read) settles it.
            return order_from_record(record)
        # Certainly not processed (refused connection, the venue's own 503 or 429): release the fee and
        # forget the claim so that a retry with the same Idempotency-Key may try again.
        _release_quietly(record, escrow)
        raise _order_failure(exc) from None
    except PmrouterError:
        _release_quietly(record, escrow)  # refused by a check of ours before anything was sent
        raise
    except venue.VenueError as exc:
        err = _order_failure(exc)
        _record_answer(record, status="rejected",
                       error={"error": err.message, "code": err.code, "retryable": err.retryable})
        raise err from None
    rec = _record_answer(record, status=placed.status, filled=Decimal(repr(placed.filled)), venue_order_id=placed.id)
    from .. import observability

    observability.emit("OrdersPlaced", 1, exchange=adapter.id, order_type=params.order_type)
    out = order_from_venue(placed)
    out.created_at = _iso(rec.created_at) or out.created_at
    return out


def _record_answer(record: store.OrderRecord, **change) -> store.OrderRecord:
    """Write the venue's answer to the claimed record. The venue has already decided, so a store
    outage here must not turn its answer into an error: the claim stays pending (reconciliation
    settles it) and the caller still gets what the venue said."""
    try:
        return store.update_state(record, **change)
    except Exception as exc:
        if not is_transient(exc):
            raise
        log.warning("order %s: venue answered %s but the record update failed (%s); left to reconciliation",
                    record.order_uid, change.get("status"), type(exc).__name__)
        return record


async def _replay(existing: store.OrderRecord, fp: str) -> Order:
    """A retry or a concurrent duplicate: answer with the first request's result."""
    if existing.fingerprint != fp:
        raise Refused("Idempotency-Key was already used with different order parameters; use a new key")
    deadline = time.monotonic() + REPLAY_WAIT_S
    rec = existing
    while rec.status == "pending" and rec.error is None and time.monotonic() < deadline:
        fresh_age = time.time() - (_iso(rec.updated_at) or datetime.now(timezone.utc)).timestamp()
        if fresh_age > REPLAY_WAIT_S:
            break  # not in flight any more: an ambiguous send that reconciliation owns
        await asyncio.sleep(0.05)
        rec = store.get(rec.customer_id, rec.order_uid) or rec
    if rec.error:
        raise _recorded_failure(dict(rec.error))
    return order_from_record(rec)


async def _record_for(customer_id: str, exchange: str, order_id: str) -> store.OrderRecord | None:
    if order_id.startswith(PENDING_ID_PREFIX):
        return store.get(customer_id, order_id[len(PENDING_ID_PREFIX):])
    return store.find_by_venue_id(customer_id, exchange, order_id)


async def get_order(adapter: ExchangeAdapter, customer_id: str, order_id: str, header: str | None) -> Order:
    require_trading(adapter, "order lookup")
    rec = await _record_for(customer_id, adapter.id, order_id)
    sess = open_session(adapter, customer_id, header, None)
    try:
        if rec is not None and rec.venue_order_id is None:
            found = await sess.session.find_order(rec.client_order_id, await adapter.get_market(rec.market_id))
            if found is None:
                return order_from_record(rec)
            live = found
        else:
            live = await sess.session.get_order(rec.venue_order_id if rec else order_id)
    except venue.MarketNotFound:
        if rec is not None:
            return order_from_record(rec)
        raise NotFound(f"order {order_id} not found", code="order_not_found") from None
    except venue.VenueError as exc:
        raise from_venue(exc) from None
    if rec is not None:
        store.update_state(rec, status=live.status, filled=Decimal(repr(live.filled)), venue_order_id=live.id)
    return order_from_venue(live, rec)


async def cancel_order(adapter: ExchangeAdapter, customer_id: str, order_id: str, header: str | None) -> Order:
    require_trading(adapter, "cancelling")
    if not adapter.capabilities.cancel_order:
        raise NotSupported(f"{adapter.name} does not support cancelling orders")
    rec = await _record_for(customer_id, adapter.id, order_id)
    if rec is not None and rec.venue_order_id is None:
        raise Refused(f"order {order_id} is still pending at the venue; retry the cancel in a few seconds")
    sess = open_session(adapter, customer_id, header, None)
    try:
        cancelled = await sess.session.cancel_order(rec.venue_order_id if rec else order_id)
    except venue.MarketNotFound:
        raise NotFound(f"order {order_id} not found", code="order_not_found") from None
    except venue.VenueError as exc:
        raise _order_failure(exc) from None
    if rec is not None:
        store.update_state(rec, status=cancelled.status, filled=Decimal(repr(cancelled.filled)))
        from ..escrow import service as escrow_service

        escrow_service.request_refund(rec.order_uid)  # settle_fees refunds the unfilled share
    return order_from_venue(cancelled, rec)


def merge_history(rows: list[Order], customer_id: str, exchange: str, *, market_id: str | None, status: str,
                  start: int | None, end: int | None) -> list[Order]:
    """Add the orders pmrouter placed for this customer that the venue's listing does not return
    (venues without an order-history endpoint forget cancelled orders), newest first."""
    seen = {o.id for o in rows}
    extra = []
    for rec in store.list_for(customer_id, exchange):
        order = order_from_record(rec)
        if order.id in seen or (market_id and rec.market_id != market_id):
            continue
        if status == "closed" and rec.status not in store.FINAL:
            continue
        ts = order.created_at.timestamp()
        if (start is not None and ts < start) or (end is not None and ts > end):
            continue
        extra.append(order)
    merged = rows + extra
    merged.sort(key=lambda o: o.created_at, reverse=True)
    return merged
