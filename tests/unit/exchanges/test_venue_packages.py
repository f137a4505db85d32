"""Every venue package has the template's shape, so a new venue copies `exchanges/_template/` and
touches nothing else but the registry."""
from __future__ import annotations

import asyncio
import dataclasses
import importlib
import pkgutil

import pytest

from pmrouter.exchanges import _template
from pmrouter.exchanges.errors import VenueNotSupported
from pmrouter.exchanges.registry import EXCHANGE_IDS
from pmrouter.settings import Settings

TEMPLATE_MODULES = {m.name for m in pkgutil.iter_modules(_template.__path__)}


def test_settings_name_no_venue():
    names = " ".join(f.name for f in dataclasses.fields(Settings))
    assert not any(exchange in names for exchange in EXCHANGE_IDS), names


def test_template_imports_and_is_never_registered():
    assert TEMPLATE_MODULES == {"adapter", "config", "market_data", "schemas", "stream", "trading"}
    for name in TEMPLATE_MODULES:
        importlib.import_module(f"pmrouter.exchanges._template.{name}")
    adapter = _template.adapter.create()
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
    config = importlib.import_module(f"pmrouter.exchanges.{exchange}.config")
    assert config.EXCHANGE_ID == exchange
    # The venue's URLs live in its own config class, read from its own variables (never in Settings).
    configs = [v for k, v in vars(config).items() if k.endswith("Config") and isinstance(v, type)]
    assert len(configs) == 1 and callable(configs[0].from_env), f"{exchange}/config.py needs one <Venue>Config"
    assert callable(importlib.import_module(f"pmrouter.exchanges.{exchange}.stream").create_feed)
