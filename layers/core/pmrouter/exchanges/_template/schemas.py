"""The venue's wire format to pmrouter's types (fill in). Pure functions, no I/O, so that the unit
tests feed them recorded payloads: `parse_market(raw) -> VenueMarket`, `parse_orderbook(raw, depth)
-> OrderBook` (both sides best-first, prices 0..1 of the requested outcome, sizes in contracts),
`parse_trade(raw) -> PublicTrade`, `error_message(body, fallback) -> str` for `VenueHttp`.

Timestamps go through `exchanges.parsing` (one parser for ISO strings, seconds and milliseconds),
never a parser of the venue's own.
"""
from __future__ import annotations
