"""The venue's `ExchangeAdapter` (fill in).

1. Set `capabilities` to what the venue really serves through pmrouter: each flag makes a route
   answer instead of 501 and must come with the hook it names (the table in
   `exchanges.base.Capabilities`; tests/unit/exchanges/test_adapter_contract.py checks the pairs).
2. Set `fee_model` (and override `fee_model_for` when the rate is per market), `order_types`, and
   `tick_at` when the tick varies with the price.
3. Implement `list_markets`, `fetch_market`, `get_orderbook`; the optional hooks default to
   "not supported".
4. `create(cfg=None)` is what `exchanges/registry.py` names; it reads `config.<Venue>Config.from_env()`.
"""
from __future__ import annotations

from ..base import Capabilities, ExchangeAdapter, FeeModel, OrderBook, VenueMarket, VenueOutcome
from . import config


class TemplateAdapter(ExchangeAdapter):
    id = config.EXCHANGE_ID
    name = config.NAME
    capabilities = Capabilities()
    fee_model = FeeModel(kind="none")

    def __init__(self, cfg: config.TemplateConfig):
        self.config = cfg

    async def list_markets(self) -> list[VenueMarket]:
        raise self.not_supported("market listings")

    async def fetch_market(self, key: str) -> VenueMarket:
        raise self.not_supported("markets")

    async def get_orderbook(self, market: VenueMarket, outcome: VenueOutcome, depth: int) -> OrderBook:
        raise self.not_supported("order books")


def create(cfg: config.TemplateConfig | None = None) -> TemplateAdapter:
    return TemplateAdapter(cfg or config.TemplateConfig.from_env())
