"""The one market-metadata cache every adapter shares: ids normalised per venue, bad ids refused
before any request, one venue call per market, found again under every alias."""
from __future__ import annotations

import asyncio
import importlib

import pytest

from pmrouter.exchanges.errors import MarketNotFound
from pmrouter.exchanges.kalshi.adapter import KalshiAdapter
from pmrouter.exchanges.opinion.adapter import OpinionAdapter
from pmrouter.exchanges.polymarket.adapter import PolymarketAdapter
from pmrouter.exchanges.predictfun.adapter import PredictFunAdapter
from pmrouter.exchanges.base import VenueMarket, VenueOutcome
from pmrouter.exchanges.kalshi.config import KalshiConfig
from pmrouter.exchanges.polymarket.config import PolymarketConfig
from pmrouter.exchanges.predictfun.config import PredictFunConfig


def _market(exchange: str, mid: str, condition: str | None = None) -> VenueMarket:
    return VenueMarket(exchange=exchange, exchange_market_id=mid, question="q?", status="active", market_type="binary",
                       outcomes=[VenueOutcome("Yes", "1"), VenueOutcome("No", "2")], condition_id=condition)


def _counting(adapter, market: VenueMarket):
    calls = []

    async def fetch(key):
        calls.append(key)
        return market

    adapter.fetch_market = fetch
    return calls


def test_polymarket_condition_ids_are_case_insensitive_and_aliases_hit_the_cache():
    a = PolymarketAdapter(PolymarketConfig.from_env())
    cid = "0x" + "ab" * 32
    calls = _counting(a, _market("polymarket", "572473", cid))
    m = asyncio.run(a.get_market("  0x" + "AB" * 32 + " "))
    assert calls == [cid] and m.exchange_market_id == "572473"
    assert asyncio.run(a.get_market("572473")) is m and asyncio.run(a.get_market(cid)) is m
    assert calls == [cid]  # one venue call for all three ids


def test_kalshi_tickers_are_upper_cased_once():
    a = KalshiAdapter(KalshiConfig.from_env())
    calls = _counting(a, _market("kalshi", "KXFED-26DEC-T4.25"))
    asyncio.run(a.get_market("kxfed-26dec-t4.25"))
    asyncio.run(a.get_market("KXFED-26DEC-T4.25"))
    assert calls == ["KXFED-26DEC-T4.25"]


@pytest.mark.parametrize("cls", [OpinionAdapter, PredictFunAdapter])
@pytest.mark.parametrize("bad", ["", "  ", "abc", "12x", "-5"])
def test_integer_id_venues_refuse_bad_ids_without_a_request(cls, bad):
    a = importlib.import_module(cls.__module__).create()  # the venue's own config from the environment
    calls = _counting(a, _market(cls.id, "1"))
    with pytest.raises(MarketNotFound):
        asyncio.run(a.get_market(bad))
    assert calls == []


def test_expired_metadata_is_fetched_again():
    a = PredictFunAdapter(PredictFunConfig.from_env())
    calls = _counting(a, _market("predictfun", "7"))
    asyncio.run(a.get_market("7"))
    a.market_cache.clear()
    asyncio.run(a.get_market("7"))
    assert calls == ["7", "7"]
