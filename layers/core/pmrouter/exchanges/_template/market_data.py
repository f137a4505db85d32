"""The venue's public REST endpoints (fill in): one small class holding a `VenueHttp`, one async
method per endpoint returning the raw JSON, paging loops included. Translation belongs in
schemas.py, decisions (which endpoint, which outcome) in adapter.py.
"""
from __future__ import annotations

from ..http import VenueHttp


class TemplateMarketData:
    def __init__(self, http: VenueHttp):
        self.http = http
