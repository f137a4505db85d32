"""/onboard and /ping: linking a venue account, and checking that the link works."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request

from ..api.auth import ActingCustomer, CurrentPrincipal
from ..api.errors import ApiError, NotSupported, ValidationFailed
from ..api.selectors import adapter_for
from ..auth import credentials as credstore
from ..contract.account import LinkedExchange, WalletResponse
from ..contract.trading import ExportKeyRequest, ExportKeyResponse, OnboardRequest, OnboardResponse, PingResult
from ..exchanges import errors as venue
from ..exchanges.base import Credentials
from ..exchanges.registry import all_adapters

router = APIRouter(tags=["account"])


def _self_credentials(exchange: str, req: OnboardRequest) -> Credentials:
    problems = []
    if req.wallet_type or req.eoa_address or req.chain_id:
        problems.append("wallet_type, eoa_address and chain_id apply to mode=managed only")
    if exchange == "kalshi":
        if not req.api_key_id:
            problems.append("api_key_id is required for Kalshi (the key id shown when you created the API key)")
        if not req.private_key:
            problems.append("private_key is required for Kalshi (the RSA private key, PEM)")
        if req.clob_api_key or req.clob_api_secret or req.clob_api_passphrase:
            problems.append("clob_api_key, clob_api_secret and clob_api_passphrase are Polymarket fields")
    elif exchange == "polymarket":
        clob = [req.clob_api_key, req.clob_api_secret, req.clob_api_passphrase]
        if any(clob) and not all(clob):
            problems.append("clob_api_key, clob_api_secret and clob_api_passphrase go together")
        if not any(clob) and not req.private_key:
            problems.append("Polymarket needs clob_api_key, clob_api_secret and clob_api_passphrase, "
                            "or private_key (from which they are derived)")
        if req.api_key_id:
            problems.append("api_key_id is a Kalshi field")
    if problems:
        raise ValidationFailed(problems)
    return Credentials(api_key_id=req.api_key_id, private_key=req.private_key, clob_api_key=req.clob_api_key,
                       clob_api_secret=req.clob_api_secret, clob_api_passphrase=req.clob_api_passphrase)


async def onboard_self(customer_id: str, req: OnboardRequest) -> OnboardResponse:
    adapter = adapter_for(req.exchange)
    if not adapter.capabilities.create_order:
        raise NotSupported(f"{adapter.name} is market-data only in pmrouter; nothing to onboard")
    creds = _self_credentials(adapter.id, req)
    from ..wallets.keys import refuse_replacing_managed

    await refuse_replacing_managed(customer_id, adapter.id)  # 409: a funded managed wallet's key stays
    try:
        session = adapter.open_session(creds)
        complete = await session.complete_credentials()
        await adapter.open_session(complete).balance()
    except ValueError as exc:
        raise ValidationFailed([f"credentials: {exc}"]) from None
    except venue.VenueAuthError as exc:
        raise ApiError(f"{adapter.name} rejected these credentials: {exc.message}", status=400,
                       code="authentication_failed") from None
    except venue.VenueError as exc:
        from ..api.errors import from_venue_error
        raise from_venue_error(exc) from None
    credstore.store(customer_id, adapter.id, complete, mode="self",
                    address=session.address)
    return OnboardResponse(exchange=adapter.id, mode="self", status="complete",
                           linked_exchanges=credstore.linked_exchanges(customer_id),
                           steps_completed=["exchange_linked", "credentials_validated", "credentials_stored"],
                           eoa_address=session.address)


@router.post("/onboard", response_model=OnboardResponse, response_model_exclude_none=True)
async def onboard(customer_id: ActingCustomer, body: Annotated[OnboardRequest, Body()]) -> OnboardResponse:
    exchange = body.exchange.strip().lower()
    if not adapter_for(exchange).capabilities.create_order:  # 404 for unknown venues
        trading = ", ".join(a.id for a in all_adapters() if a.capabilities.create_order)
        raise ValidationFailed([f"exchange must be a trading venue for onboarding ({trading}); got {body.exchange!r}"])
    if body.mode == "managed":
        from ..wallets.managed import onboard_managed

        return await onboard_managed(customer_id, body.model_copy(update={"exchange": exchange}))
    return await onboard_self(customer_id, body)


@router.get("/ping", response_model=list[PingResult])
async def ping(customer_id: ActingCustomer, exchange: Annotated[str | None, Query()] = None) -> list[PingResult]:
    adapters = [adapter_for(exchange)] if exchange else [a for a in all_adapters() if a.capabilities.create_order]
    out = []
    for adapter in adapters:
        if not adapter.capabilities.create_order:
            out.append(PingResult(exchange=adapter.id, has_credentials=False, authenticated=False,
                                  message=f"{adapter.name} is market-data only"))
            continue
        stored = credstore.load(customer_id, adapter.id)
        if stored is None:
            out.append(PingResult(exchange=adapter.id, has_credentials=False, authenticated=False,
                                  message="no stored credentials; POST /api/v1/onboard to link this exchange"))
            continue
        try:
            await adapter.open_session(stored.credentials).balance()
            out.append(PingResult(exchange=adapter.id, has_credentials=True, authenticated=True, message="ok"))
        except venue.VenueAuthError as exc:
            out.append(PingResult(exchange=adapter.id, has_credentials=True, authenticated=False,
                                  message=f"credentials rejected: {exc.message}"))
        except venue.VenueError as exc:
            out.append(PingResult(exchange=adapter.id, has_credentials=True, authenticated=False,
                                  message=f"{adapter.name} unavailable: {exc.message}"))
    return out




@router.get("/wallet", response_model=WalletResponse, response_model_exclude_none=True)
async def get_wallet(customer_id: ActingCustomer) -> WalletResponse:
    from ..wallets.managed import wallet_info

    wallets, linked = await wallet_info(customer_id)
    return WalletResponse(wallets=wallets, linked_exchanges=[LinkedExchange(**x) for x in linked],
                          wallet=wallets[0] if wallets else None)


@router.post("/wallet/export-key", response_model=ExportKeyResponse)
def export_key(customer_id: ActingCustomer, principal: CurrentPrincipal, request: Request,
               body: Annotated[ExportKeyRequest | None, Body()] = None) -> ExportKeyResponse:
    """The managed wallet's private key, to its owner only (impersonating builders included: the key
    belongs to the end user they act for). Rate limited per user and per builder, and audited with the
    calling key, the builder and the request id."""
    from ..wallets.keys import export_key as export

    return ExportKeyResponse(private_key=export(customer_id, (body or ExportKeyRequest()).wallet_type,
                                                principal=principal,
                                                request_id=getattr(request.state, "request_id", None)))
