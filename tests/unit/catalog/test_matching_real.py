"""Cross-venue matching on real listings (tests/fixtures/matching/): markets captured from Kalshi and
Polymarket public pages, labelled by hand. Prints precision, recall and hard-negative matches per category.

The labels are the ground truth a trader needs: a true pair settles the same way on both venues (same event,
threshold, date and source, both venues' rules quoted in labels.json); a hard negative reads alike but
settles differently (conference vs final, win vs qualify, $900B vs $1T, Forbes vs Bloomberg, ...).
"""
from __future__ import annotations

import json

import pytest

from pmrouter.catalog.match_eval import FIXTURES, evaluate, load_labels, load_markets
from pmrouter.catalog.match_rules import conflict, rules_facts
from pmrouter.catalog.matching import SOURCE, match_markets


@pytest.fixture(scope="module")
def report():
    rep = evaluate()
    print("\n" + "\n".join(rep.lines()))
    return rep


def test_fixtures_are_real_captures_with_sources():
    raw = json.loads((FIXTURES / "markets.json").read_text())
    assert {"kalshi", "polymarket"} <= set(raw)
    for venue, recs in raw.items():
        for rec in recs:
            assert rec["_source"]["url"].startswith("https://"), rec
            assert "sandbox" not in rec["_source"]["url"]
    labels = load_labels()
    ids = {m.parsec_id for m in load_markets()}
    for kind in ("true_pairs", "hard_negatives"):
        for p in labels[kind]:
            assert p["kalshi"] in ids and p["polymarket"] in ids, p
            assert p["rules"]["kalshi"] and p["rules"]["polymarket"]


def test_precision_recall_and_hard_negatives_on_real_listings(report):
    assert report.precision >= 0.95
    assert report.recall >= 0.8
    assert report.hard_negative_matches == []


MIN_HIGH_LINKS = 20  # NBA 2026 and NFL 2027 legs with decision dates and rules on both venues, the Fed hold


def test_high_links_are_hedgeable(report):
    assert report.high_precision == 1.0
    assert report.high >= MIN_HIGH_LINKS  # HIGH is reached on real listings, so its precision means something
    assert not [hn for hn in report.hard_negative_matches if hn[2] == "HIGH"]


def test_no_hard_negative_is_hedge_grade_even_without_the_hard_rules():
    """The HIGH verdict stands on its own: were a hard rule to let a hard negative through, the evidence a hedge
    needs (dates, comparator, names, stage words) would still keep it below HIGH."""
    from pmrouter.catalog.matching import _build_features, _hedgeable
    markets = load_markets()
    feats, _ = _build_features(markets)
    at = {m.parsec_id: i for i, m in enumerate(markets)}
    for p in load_labels()["hard_negatives"]:
        a, b = feats[at[p["kalshi"]]], feats[at[p["polymarket"]]]
        assert not _hedgeable(a, b, aligned=False) and not _hedgeable(a, b, aligned=True), p


def test_a_stage_word_only_one_side_uses_keeps_a_link_below_high():
    from pmrouter.catalog.matching import _STAGE, analyse
    for a, b in (("Will Denver win the 2026 Pro Basketball Western Conference?", "Will Denver win the 2026 NBA Finals?"),
                 ("Who will run for the Democratic nomination?", "Who will win the Democratic nomination?"),
                 ("Will Spain qualify for the World Cup?", "Will Spain win the World Cup?")):
        assert (set(analyse(a).tokens) ^ set(analyse(b).tokens)) & _STAGE, (a, b)


def test_links_name_the_method_version():
    res = match_markets(load_markets())
    assert res.markets and all(link["source"] == SOURCE == "text_v2" for ls in res.markets.values() for link in ls)


def test_kalshi_close_time_is_not_the_decision_date():
    """KXNBA-26-DEN closes 2028-06-29 (latest expiration) but is expected to expire 2026-06-30; without the
    expected expiration the close time only bounds the decision, and the pair is still found."""
    markets = load_markets()
    den = next(m for m in markets if m.exchange_market_id == "KXNBA-26-DEN")
    assert den.end_date.year == 2028 and den.extra["expected_expiration"].startswith("2026-06-30")
    pm = next(m for m in markets if m.exchange_market_id == "will-the-denver-nuggets-win-the-2026-nba-finals")
    assert {l["parsec_id"] for l in match_markets([den, pm]).markets.get(den.parsec_id, [])} == set()  # one leg alone: names differ
    links = match_markets(markets).markets[den.parsec_id]
    assert [l["parsec_id"] for l in links] == [pm.parsec_id]


@pytest.mark.parametrize("a,b,why", [
    # Kalshi KXMUSKWEALTH vs Polymarket elon-musk-trillionaire-before-2027 (rules verbatim)
    ("If Elon Musk has a net worth more than $900 billion dollars before Jan 1, 2027, then the market resolves to Yes.",
     "This market will resolve to \"Yes\" if Elon Musk's net worth, as listed on the Bloomberg Billionaires Index, reaches "
     "or exceeds $1 trillion at any point by December 31, 2026, 11:59 PM ET.", "threshold"),
    ("If Elon Musk has a net worth more than $1 trillion before Jan 1, 2027, then the market resolves to Yes.",
     "... net worth, as listed on the Bloomberg Billionaires Index, reaches or exceeds $1 trillion at any point ...", "strictness"),
    ("If the Bitcoin spot price according to the CF Bitcoin Real-Time Index is above $100000 ...",
     "... according to the Binance BTC/USDT 1 minute candle close is above $100,000 ...", "source"),
])
def test_rules_text_refuses_different_settlement(a, b, why):
    assert conflict(rules_facts(a), rules_facts(b)) == why


def test_rules_facts_read_the_primary_source_first():
    f = rules_facts("This market will resolve according to the name ranked #1 on the Bloomberg Billionaires Index on "
                    "December 31, 2026, 5:30 PM ET. The primary resolution source for this market will be the Bloomberg "
                    "Billionaires Index. If the data is not released, the Forbes Real-Time Billionaires List will be used.")
    assert f.source == "bloomberg"
    assert rules_facts("The resolution source for this market will be information from the NBA.").source == "nba"
    assert rules_facts("If Denver win the 2026 Pro Basketball Finals, then the market resolves to Yes.") == \
        rules_facts("")  # nothing stated, nothing to disagree with


def test_a_zero_change_is_no_change_and_cut_is_a_direction():
    from pmrouter.catalog.matching import analyse
    hold_k = analyse("Will the Federal Reserve Hike rates by 0bps at their October 2025 meeting?")
    hold_p = analyse("No change in Fed interest rates after October 2025 meeting?")
    assert hold_k.numbers == hold_p.numbers == {"0"} and not hold_k.direction and not hold_p.direction
    cut_k = analyse("Will the Federal Reserve Cut rates by 25bps at their October 2026 meeting?")
    cut_p = analyse("Fed decreases interest rates by 25 bps after October 2026 meeting?")
    assert cut_k.direction == cut_p.direction == {"below"} and cut_k.numbers == cut_p.numbers == {"25"}


def test_before_a_day_reads_as_by_the_day_before():
    from pmrouter.catalog.matching import _dates_agree, analyse
    kalshi = analyse("If Elon Musk has a net worth more than $1 trillion before Jan 1, 2027")
    poly = analyse("reaches or exceeds $1 trillion at any point by December 31, 2026, 11:59 PM ET")
    assert _dates_agree(kalshi.dates, poly.dates)
    assert analyse("Will Musk have a net worth more than 900 billion dollars before 2027?").years == {2026}


def test_series_codes_unpack_into_words_the_catalog_uses():
    from pmrouter.catalog.matching import _series_words
    assert _series_words("KXNBA", {"nba", "final"}) == ["nba"]
    assert _series_words("KXNBAWEST", {"nba", "west"}) == ["nba", "west"]
    assert _series_words("KXFED", {"nba"}) == []


def test_a_minus_sign_belongs_to_the_number():
    from pmrouter.catalog.matching import analyse
    assert analyse("Will CPI rise more than -0.1% in September 2025?").numbers == {"-0.1"}
    assert analyse("Will CPI rise more than 0.1% in September 2025?").numbers == {"0.1"}
    assert analyse("covid-19 cases between 10-20").numbers == {"19", "10", "20"}  # hyphens are not signs


def test_runs_for_and_wins_are_refused_even_when_decided_the_same_day():
    """The benchmark's run-for / win pairs are told apart by decision dates months apart; give both the same
    decision date and the stage words alone must still refuse the link."""
    import dataclasses
    markets = {m.parsec_id: m for m in load_markets()}
    runs = markets["kalshi:KX2028DRUN-28-KHAR"]
    wins = markets["polymarket:will-kamala-harris-win-the-2028-democratic-presidential-nomination"]
    assert wins.end_date is not None
    same_day = dataclasses.replace(runs, extra={**runs.extra, "expected_expiration": wins.end_date.isoformat()})
    assert match_markets([same_day, wins]).markets == {}
