"""Every venue package has the template's shape, so a new venue copies `exchanges/_template/` and
touches nothing else but the registry."""
from __future__ import annotations

import asyncio
import importlib
import pkgutil

import pytest

from pmrouter.exchanges import _template
from pmrouter.exchanges.errors import VenueNotSupported
from pmrouter.exchanges.registry import EXCHANGE_IDS
from pmrouter.settings import Settings

TEMPLATE_MODULES = {m.name for m in pkgutil.iter_modules(_template.__path__)}


def test_template_imports_and_is_never_registered():
    assert TEMPLATE_MODULES == {"adapter", "config", "market_data", "schemas", "stream", "trading"}
    for name in TEMPLATE_MODULES:
        importlib.import_module(f"pmrouter.exchanges._template.{name}")
    adapter = _template.adapter.create(Settings.from_env())
    assert adapter.id not in EXCHANGE_IDS
    with pytest.raises(VenueNotSupported):
        asyncio.run(adapter.list_markets())
    assert _template.stream.create_feed(None, adapter) is None


@pytest.mark.parametrize("exchange", EXCHANGE_IDS)
def test_every_venue_package_has_the_template_modules(exchange):
    package = importlib.import_module(f"pmrouter.exchanges.{exchange}")
    modules = {m.name for m in pkgutil.iter_modules(package.__path__)}
    assert TEMPLATE_MODULES <= modules, f"{exchange} lacks {sorted(TEMPLATE_MODULES - modules)}"
    adapter_module = importlib.import_module(f"pmrouter.exchanges.{exchange}.adapter")
    assert callable(adapter_module.create)
    assert importlib.import_module(f"pmrouter.exchanges.{exchange}.config").EXCHANGE_ID == exchange
    assert callable(importlib.import_module(f"pmrouter.exchanges.{exchange}.stream").create_feed)
