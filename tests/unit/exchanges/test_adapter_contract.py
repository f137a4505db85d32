"""The adapter contract: every optional hook is declared on ExchangeAdapter with a "not supported" (501)
default, and a venue that sets a capability flag overrides the hook that flag names."""
from __future__ import annotations

import asyncio

import pytest

from pmrouter.api.errors import from_venue_error
from pmrouter.exchanges.base import Capabilities, ExchangeAdapter, FeeModel, VenueMarket, VenueOutcome
from pmrouter.exchanges.errors import VenueNotSupported
from pmrouter.exchanges.registry import EXCHANGE_IDS, get_adapter

# capability flag -> the ExchangeAdapter hooks a venue setting it must override
HOOKS = {
    "fetch_markets": ("list_markets", "fetch_market"),
    "fetch_orderbook": ("get_orderbook",),
    "fetch_price_history": ("get_price_history",),
    "fetch_trades": ("get_trades",),
    "fetch_user_activity": ("user_activity",),
    "create_order": ("open_session",),
}


class Bare(ExchangeAdapter):
    id, name = "bare", "Bare"
    capabilities = Capabilities(fetch_markets=True)
    fee_model = FeeModel(kind="linear", rate=0.02)

    async def list_markets(self):
        return []

    async def fetch_market(self, key):
        raise AssertionError("not called")

    async def get_orderbook(self, market, outcome, depth):
        raise AssertionError("not called")


MARKET = VenueMarket("bare", "m1", "Q?", [VenueOutcome("Yes"), VenueOutcome("No")], "active", "binary", tick_size=0.01)


@pytest.mark.parametrize("call", [
    lambda a: asyncio.run(a.user_activity("0x" + "0" * 40, 10)),
    lambda a: asyncio.run(a.get_trades(MARKET, MARKET.outcomes[0], None, None, 10, None)),
    lambda a: asyncio.run(a.get_price_history(MARKET, MARKET.outcomes[0], "1h", 0, 1)),
    lambda a: a.open_session(None),
    lambda a: a.require("fetch_fills", "fills"),
])
def test_optional_hooks_default_to_not_supported_which_is_a_501(call):
    with pytest.raises(VenueNotSupported) as caught:
        call(Bare())
    err = from_venue_error(caught.value)
    assert (err.status, err.code, err.retryable) == (501, "not_supported", False)
    assert err.headers == {"x-should-retry": "false"}  # the SDK must not resend
    assert caught.value.exchange == "bare" and "Bare does not support" in caught.value.message


def test_refinement_hooks_default_to_the_market_and_venue_facts():
    a = Bare()
    assert a.tick_at(MARKET, 0.5) == 0.01
    assert asyncio.run(a.fee_model_for(MARKET)) is Bare.fee_model
    a.require("fetch_markets", "markets")  # a set flag passes


@pytest.mark.parametrize("exchange", EXCHANGE_IDS)
def test_every_flag_a_venue_sets_has_its_hook_overridden(exchange):
    adapter = get_adapter(exchange)
    flags = adapter.capabilities.as_dict()
    for flag, hooks in HOOKS.items():
        for hook in hooks:
            overridden = getattr(type(adapter), hook) is not getattr(ExchangeAdapter, hook)
            if flags[flag]:
                assert overridden, f"{exchange} sets {flag} but does not implement {hook}"
    if not flags["fetch_user_activity"]:
        assert type(adapter).user_activity is ExchangeAdapter.user_activity, f"{exchange}: user_activity unreachable"
