"""Managed Polymarket wallets. The private key is generated here and exists at rest only inside the
customer's sealed credentials record (KMS data key per record, AES-GCM, bound to the customer);
orders are signed server-side with it. Export, replacement and recovery of the key: `wallets/keys.py`."""
from __future__ import annotations

from eth_account import Account

from ..errors import InvalidInput, NotSupported
from ..auth import credentials as credstore
from ..contract.builder import TokenBalance, WalletInfo
from ..contract.trading import OnboardRequest, OnboardResponse
from ..exchanges import errors as venue
from ..exchanges.base import Credentials
from ..exchanges.registry import get_adapter

POLYGON = 137
PUSD = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"


async def onboard_managed(customer_id: str, req: OnboardRequest) -> OnboardResponse:
    if req.exchange != "polymarket":
        raise InvalidInput(["mode=managed is Polymarket only; for Kalshi create an account at kalshi.com and "
                            "onboard with mode=self"])
    if req.private_key or req.api_key_id or req.clob_api_key or req.clob_api_secret or req.clob_api_passphrase:
        raise InvalidInput(["mode=managed creates the wallet: do not send private_key or API credentials"])
    wallet_type = (req.wallet_type or "eoa").lower()
    if wallet_type == "eoa" and req.eoa_address:
        raise InvalidInput(["eoa_address is only valid with wallet_type=safe"])
    if wallet_type == "safe":
        raise NotSupported("Safe wallets are not available yet; use wallet_type=eoa")
    if wallet_type != "eoa":
        raise InvalidInput([f"wallet_type must be eoa or safe, got {req.wallet_type!r}"])
    existing = credstore.load(customer_id, "polymarket")
    if existing is not None and existing.mode == "managed":
        return OnboardResponse(exchange="polymarket", mode="managed", status="already_linked",
                               linked_exchanges=credstore.linked_exchanges(customer_id), steps_completed=[],
                               eoa_address=existing.address)
    if existing is not None:
        raise InvalidInput(["this account already linked Polymarket with its own credentials (mode=self)"])
    account = Account.create()
    key = "0x" + bytes(account.key).hex()
    adapter = get_adapter("polymarket")
    # A venue's refusal propagates as a VenueError: the API turns it into the contract's error body.
    session = adapter.open_session(Credentials(private_key=key))
    complete = await session.complete_credentials()
    await adapter.open_session(complete).balance()
    credstore.store(customer_id, "polymarket", complete, mode="managed", address=account.address)
    return OnboardResponse(exchange="polymarket", mode="managed", status="complete",
                           linked_exchanges=credstore.linked_exchanges(customer_id),
                           steps_completed=["wallet_eoa_created", "exchange_linked", "credentials_validated",
                                            "credentials_stored"], eoa_address=account.address)


async def wallet_info(customer_id: str) -> tuple[list[WalletInfo], list[dict]]:
    linked = [{"exchange": ex, "has_credentials": True} for ex in credstore.linked_exchanges(customer_id)]
    stored = credstore.load(customer_id, "polymarket")
    if stored is None or stored.mode != "managed" or not stored.address:
        return [], linked
    balances = _chain_balances(stored.address)
    if balances is None:
        balances = await _venue_balances(stored)
    created = credstore.updated_at(customer_id, "polymarket")
    return [WalletInfo(eoa_address=stored.address, privy_wallet_id="", wallet_type="eoa", chain_id=POLYGON,
                       created_at=created, balances=balances)], linked


async def _venue_balances(stored) -> list[TokenBalance] | None:
    """Without a chain: the collateral balance the venue reports."""
    try:
        raw = await get_adapter("polymarket").open_session(stored.credentials).balance()
        units = int(raw.get("balance", 0))
    except (venue.VenueError, ValueError, TypeError):
        return None  # the wallet exists; its balance is best-effort
    return [TokenBalance(token="pUSD", balance=f"{units / 10**6:.2f}", raw_balance=str(units), decimals=6,
                         contract_address=PUSD)]


def _chain_balances(address: str) -> list[TokenBalance] | None:
    """Collateral and POL straight from the chain where one is configured (None: ask the venue)."""
    from ..chain.config import configured, sandbox_selected

    cfg = None if sandbox_selected() else configured()
    if cfg is None:
        return None
    from ..chain.balances import wallet_balances
    from ..chain.errors import ChainError

    try:
        return [TokenBalance(token=b.token, balance=f"{b.raw / 10**b.decimals:.{min(b.decimals, 6)}f}",
                             raw_balance=str(b.raw), decimals=b.decimals, contract_address=b.contract_address)
                for b in wallet_balances(cfg, address)]
    except ChainError:
        return None  # the wallet exists; its balance is best-effort
