"""The venues pmrouter knows, in the contract's order. Adapter modules import lazily so that a
function pays only for the venues it touches at cold start."""
from __future__ import annotations

import importlib
from typing import Callable

from .base import ExchangeAdapter

# exchange id -> "module:factory"; the factory reads the venue's own config (exchanges/<venue>/config.py).
_FACTORIES: dict[str, str] = {
    "polymarket": "pmrouter.exchanges.polymarket.adapter:create",
    "kalshi": "pmrouter.exchanges.kalshi.adapter:create",
    "limitless": "pmrouter.exchanges.limitless.adapter:create",
    "opinion": "pmrouter.exchanges.opinion.adapter:create",
    "predictfun": "pmrouter.exchanges.predictfun.adapter:create",
}

EXCHANGE_IDS: tuple[str, ...] = tuple(_FACTORIES)

_instances: dict[str, ExchangeAdapter] = {}


class UnknownExchange(KeyError):
    def __init__(self, exchange: str):
        super().__init__(exchange)
        self.exchange = exchange


def _factory(exchange: str) -> Callable[[], ExchangeAdapter]:
    module, _, attr = _FACTORIES[exchange].partition(":")
    return getattr(importlib.import_module(module), attr)


def get_adapter(exchange: str) -> ExchangeAdapter:
    key = (exchange or "").strip().lower()
    if key not in _FACTORIES:
        raise UnknownExchange(exchange)
    adapter = _instances.get(key)
    if adapter is None:
        adapter = _factory(key)()
        _instances[key] = adapter
    return adapter


def all_adapters() -> list[ExchangeAdapter]:
    return [get_adapter(x) for x in EXCHANGE_IDS]


def reset() -> None:
    """Drop cached adapters (tests change venue URLs between stacks)."""
    _instances.clear()
