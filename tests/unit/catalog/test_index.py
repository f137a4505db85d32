"""CatalogIndex: ordering, search semantics (checked against a brute-force reference), lookups, events."""
from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone

import pytest

from pmrouter.catalog.index import CatalogIndex, Postings
from pmrouter.catalog.snapshot import FIELDS, market_to_row, row_to_market
from pmrouter.exchanges.base import VenueMarket, VenueOutcome

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
EXCHANGES = ["polymarket", "kalshi", "limitless", "opinion", "predictfun"]
WORDS = ["Bitcoin", "Ethereum", "Trump", "election", "Fed", "rate", "cut", "Lakers", "Celtics", "S&P", "500", "GPT-6",
         "inflation", "Japan", "$100k", "100,000", "above", "below", "Über", "recession", "will", "win"]


def mk(ex: str, mid: str, question: str, *, vol: float = 0.0, status: str = "active", desc: str | None = None,
       group: str = "", title: str = "", liq: float | None = None, end: datetime | None = None) -> VenueMarket:
    return VenueMarket(exchange=ex, exchange_market_id=mid, question=question,
                       outcomes=[VenueOutcome("Yes", "1", 0.5), VenueOutcome("No", "2", 0.5)], status=status,
                       market_type="binary", exchange_group_id=group, group_title=title, volume_total=vol,
                       liquidity=liq, description=desc, end_date=end)


def random_catalog(n: int, seed: int = 5) -> list[VenueMarket]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        q = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))) + "?"
        d = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 8))) or None
        ex = rng.choice(EXCHANGES)
        out.append(mk(ex, f"m{i}", q, vol=float(rng.choice([0, 5, 10, 10, 100, 1000, rng.randint(0, 10**6)])),
                      status=rng.choice(["active", "active", "closed", "resolved"]), desc=d,
                      group=f"g{rng.randint(0, n // 4)}" if rng.random() < 0.6 else "", title=f"Event {i % 7}",
                      liq=rng.choice([None, 0.0, 50.0, 5000.0]), end=T0 + timedelta(days=rng.randint(0, 60))))
    return out


def reference_search(markets, query=None, status=None, exchanges=None, min_volume=None, min_liquidity=None):
    """Brute force of the documented semantics."""
    words = re.findall(r"[^\W_]+", (query or "").lower())
    punct = [p for p in (query or "").lower().split() if any(not c.isalnum() for c in p)]
    out = []
    for m in markets:
        if status not in (None, "", "all") and m.status != status:
            continue
        if exchanges and m.exchange not in exchanges:
            continue
        if min_volume is not None and m.volume_total < min_volume:
            continue
        if min_liquidity is not None and (m.liquidity is None or m.liquidity < min_liquidity):
            continue
        if words:
            text = f"{m.question} {m.description or ''}".lower()
            have = set(re.findall(r"[^\W_]+", text))
            if not all(w in have for w in words[:-1]) or not any(h.startswith(words[-1]) for h in have):
                continue
            if not all(p in m.question.lower() or p in (m.description or "").lower() for p in punct):
                continue
        out.append(m)
    out.sort(key=lambda m: (-m.volume_total, m.parsec_id))
    return out


@pytest.fixture(scope="module")
def catalog():
    return random_catalog(1500)


@pytest.fixture(scope="module")
def index(catalog):
    return CatalogIndex(catalog)


def test_rank_order_is_volume_desc_then_parsec_id():
    ms = [mk("kalshi", "B", "b", vol=10), mk("kalshi", "A", "a", vol=10), mk("polymarket", "1", "c", vol=99),
          mk("opinion", "z", "d", vol=0)]
    page, total = CatalogIndex(ms).search()
    assert total == 4
    assert [m.parsec_id for m in page] == ["polymarket:1", "kalshi:A", "kalshi:B", "opinion:z"]


@pytest.mark.parametrize("query", ["bitcoin", "BITCOIN", "bit", "trump win", "will w", "fed rate cut", "s&p 500",
                                   "$100k", "100,000", "gpt-6", "gpt", "über", "japan infl", "nothing-here", "e",
                                   "celtics lakers", "win win", "  Trump  "])
def test_search_matches_reference(catalog, index, query):
    for status in (None, "active", "resolved"):
        expected = reference_search(catalog, query, status)
        page, total = index.search(query, status=status, limit=100)
        assert total == len(expected), (query, status)
        assert [m.parsec_id for m in page] == [m.parsec_id for m in expected[:100]]


def test_search_filters_and_paging_match_reference(catalog, index):
    rng = random.Random(11)
    for _ in range(120):
        query = rng.choice([None, "", "bitcoin", "trump", "rate c", "inflation japan", "s&p", "w"])
        status = rng.choice([None, "active", "closed", "all"])
        exchanges = rng.choice([None, ["kalshi"], ["polymarket", "opinion"], ["nope"]])
        min_volume = rng.choice([None, 0, 10, 1000, 500_000])
        min_liq = rng.choice([None, 0, 100])
        offset, limit = rng.choice([0, 0, 3, 50, 700]), rng.choice([1, 10, 100])
        expected = reference_search(catalog, query, status, exchanges, min_volume, min_liq)
        page, total = index.search(query, status=status, exchanges=exchanges, min_volume=min_volume,
                                   min_liquidity=min_liq, offset=offset, limit=limit)
        assert total == len(expected)
        assert [m.parsec_id for m in page] == [m.parsec_id for m in expected[offset:offset + limit]]


def test_search_on_description_and_case_insensitive():
    ms = [mk("kalshi", "K1", "Rain in NYC?", desc="Resolves per the National Weather Service", vol=5),
          mk("polymarket", "P1", "Weather WORLD record?", vol=7)]
    idx = CatalogIndex(ms)
    assert [m.parsec_id for m in idx.search("weather")[0]] == ["polymarket:P1", "kalshi:K1"]
    assert [m.parsec_id for m in idx.search("NATIONAL weather")[0]] == ["kalshi:K1"]
    assert idx.search("wea", status="active")[1] == 2
    assert idx.search("eather")[1] == 0  # words, not arbitrary infixes


def test_lookups(index, catalog):
    m = catalog[17]
    assert index.get(m.parsec_id) is m
    assert index.get_by_exchange_id(m.exchange.upper(), m.exchange_market_id) is m
    assert index.get("polymarket:does-not-exist") is None
    assert len(index) == len(catalog)
    assert sum(index.exchange_counts().values()) == len(catalog)


def test_duplicate_parsec_ids_keep_the_first():
    a, b = mk("kalshi", "X", "first", vol=1), mk("kalshi", "X", "second", vol=100)
    idx = CatalogIndex([a, b])
    assert len(idx) == 1 and idx.get("kalshi:X") is a


def test_events_grouping_sorting_and_filters():
    ms = [
        mk("polymarket", "1", "Will Chiefs win?", vol=100, group="sb", title="Super Bowl winner", end=T0 + timedelta(days=9)),
        mk("polymarket", "2", "Will Eagles win?", vol=50, group="sb", title="Super Bowl winner", end=T0 + timedelta(days=3)),
        mk("kalshi", "K", "Fed cut?", vol=120, group="FED-26", title="Fed decision", status="resolved"),
        mk("kalshi", "L", "Fed hike?", vol=1, group="FED-26", title="Fed decision", status="closed"),
        mk("limitless", "x", "No group here", vol=10**6),
    ]
    matched = {"polymarket:sb": [{"event_id": "kalshi:SB", "title": "t", "source": "text_v1",
                                  "exchanges": ["kalshi"], "confidence": 0.9, "confidence_tier": "HIGH"}]}
    idx = CatalogIndex(ms, event_matches=matched)
    events, total = idx.events()
    assert total == 2  # the ungrouped market is left out
    assert [e.event_id for e in events] == ["polymarket:sb", "kalshi:FED-26"]
    sb = events[0]
    assert (sb.title, sb.market_count, sb.total_volume, sb.exchanges, sb.status) == (
        "Super Bowl winner", 2, 150.0, ["polymarket"], "active")
    assert sb.close_time == T0 + timedelta(days=3)
    assert [m.exchange_market_id for m in sb.markets] == ["1", "2"]
    assert sb.matched_events[0]["event_id"] == "kalshi:SB"
    assert events[1].status == "closed"  # closed beats resolved
    assert idx.events(status="active")[1] == 1
    assert [e.event_id for e in idx.events(exchanges=["kalshi"])[0]] == ["kalshi:FED-26"]
    assert idx.events(min_volume=130)[1] == 1
    assert [e.event_id for e in idx.events(search="super b")[0]] == ["polymarket:sb"]
    assert idx.events(search="bowl super")[1] == 1
    assert idx.events(search="chiefs")[1] == 0  # event search is on the title
    assert idx.events(offset=1, limit=5)[0][0].event_id == "kalshi:FED-26"
    assert idx.event("ev:polymarket:sb").event_id == "polymarket:sb"
    assert idx.event("kalshi:FED-26").market_count == 2
    assert idx.event_by_group("Kalshi", "FED-26").title == "Fed decision"
    assert idx.event("kalshi:nope") is None
    assert idx.event_matches_for("ev:polymarket:sb")[0]["confidence_tier"] == "HIGH"


def test_from_rows_with_stored_word_index_equals_fresh_index(catalog, index):
    ranked = index.markets
    rows = [market_to_row(m) for m in ranked]
    restored = CatalogIndex.from_rows(list(FIELDS), rows, materialize=row_to_market,
                                      postings=Postings.from_export(index.export_search()))
    for query in (None, "bitcoin", "trump w", "s&p 500", "e"):
        a = index.search(query, status="active", min_volume=5, limit=40, offset=2)
        b = restored.search(query, status="active", min_volume=5, limit=40, offset=2)
        assert a[1] == b[1]
        assert a[0] == b[0]  # VenueMarket equality: the rows round-trip exactly
    assert [e.event_id for e in index.events()[0]] == [e.event_id for e in restored.events()[0]]
    assert restored.events()[0][0].close_time == index.events()[0][0].close_time


def test_from_rows_reorders_unsorted_rows_and_rebuilds_words():
    ms = [mk("kalshi", "a", "alpha", vol=1), mk("kalshi", "b", "beta", vol=5)]
    stale = CatalogIndex(ms[:1]).export_search()
    idx = CatalogIndex.from_rows(list(FIELDS), [market_to_row(m) for m in ms], materialize=row_to_market,
                                 postings=Postings.from_export(stale))
    assert [m.exchange_market_id for m in idx.search()[0]] == ["b", "a"]
    assert [m.exchange_market_id for m in idx.search("alpha")[0]] == ["a"]
