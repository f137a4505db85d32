"""The package a new venue starts from: copy `_template/` to `exchanges/<venue>/`, fill in each module
as its docstring says, then add one line to `exchanges/registry.py`. Never registered itself (the
leading underscore keeps it out of `EXCHANGE_IDS`); `tests/unit/exchanges/test_venue_packages.py`
imports it and checks that every registered venue keeps the same module shape.

Modules, in the order a venue is usually written:
  config.py       facts and limits of the venue (ids, chain, page sizes, fee rate), each with its source
  schemas.py      pure functions from the venue's payloads to `exchanges.base` types (no I/O)
  market_data.py  the public REST calls, one method per endpoint, returning the venue's raw JSON
  adapter.py      the `ExchangeAdapter`: capability flags, the hooks those flags name, `create()`
  trading.py      the `TradingSession` (signing, orders, fills, positions, balance), imported lazily
  stream.py       `create_feed()` for the /ws pump, or None to fall back to polling
Add `auth.py` (request signing) or `order_builder.py` (typed-data orders) beside them when the venue
needs them.
"""
