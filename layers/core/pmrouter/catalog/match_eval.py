"""Scores the cross-venue matcher on the real-listing benchmark in `tests/fixtures/matching/`.

The fixtures hold markets captured from the venues' public listings (each with its `_source`), normalised
through the same `parse_market` the adapters use, plus hand labels: true pairs (a trader can hedge one with
the other) and hard negatives (same words, different question). Shared by the unit test and
`bench/matching_quality.py`, so both print the same figures.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..exchanges.base import VenueMarket
from ..exchanges.kalshi import schemas as kalshi_schemas
from ..exchanges.polymarket import schemas as polymarket_schemas
from .matching import MatchResult, match_markets

FIXTURES = Path(__file__).resolve().parents[4] / "tests" / "fixtures" / "matching"


def load_markets(path: Path = FIXTURES) -> list[VenueMarket]:
    raw = json.loads((path / "markets.json").read_text())
    out = []
    for rec in raw["kalshi"]:
        market = dict(rec["raw"])
        market.setdefault("ticker", rec.get("key"))
        out.append(kalshi_schemas.parse_market(market, rec.get("event")))
    for rec in raw["polymarket"]:
        market = dict(rec["raw"])
        market.setdefault("id", market["slug"])  # page captures show the slug, which Gamma also accepts as an id
        out.append(polymarket_schemas.parse_market(market))
    return out


def load_labels(path: Path = FIXTURES) -> dict:
    return json.loads((path / "labels.json").read_text())


@dataclass
class Report:
    markets: int
    true_pairs: int
    predicted: int
    correct: int
    high: int
    high_correct: int
    hard_negatives: int
    hard_negative_matches: list[tuple[str, str, str]]  # (a, b, tier)
    false_positives: list[tuple[str, str, str]]  # unlabelled wrong links (a, b, tier)
    missed: list[tuple[str, str]]
    per_category: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.true_pairs if self.true_pairs else 1.0

    @property
    def high_precision(self) -> float:
        return self.high_correct / self.high if self.high else 1.0

    def lines(self) -> list[str]:
        out = [f"real-listing benchmark: {self.markets} markets, {self.true_pairs} true pairs, "
               f"{self.hard_negatives} hard negatives",
               f"overall: predicted {self.predicted}, precision {self.precision:.3f}, recall {self.recall:.3f}, "
               f"HIGH {self.high} at precision {self.high_precision:.3f}, hard negatives matched "
               f"{len(self.hard_negative_matches)}",
               f"{'category':<18} {'true':>5} {'found':>6} {'recall':>7} {'wrong':>6} {'precision':>10} {'hardneg':>8} {'hn_hit':>7} {'HIGH':>5}"]
        for cat, c in sorted(self.per_category.items()):
            found, wrong = c["found"], c["wrong"]
            rec = found / c["true"] if c["true"] else float("nan")
            prec = found / (found + wrong) if found + wrong else float("nan")
            out.append(f"{cat:<18} {c['true']:>5} {found:>6} {rec:>7.3f} {wrong:>6} {prec:>10.3f} {c['hard']:>8} {c['hard_hit']:>7} {c['high']:>5}")
        for a, b, tier in self.hard_negative_matches:
            out.append(f"  hard negative matched ({tier}): {a} ~ {b}")
        for a, b, tier in self.false_positives:
            out.append(f"  false positive ({tier}): {a} ~ {b}")
        for a, b in self.missed:
            out.append(f"  missed: {a} ~ {b}")
        return out


def evaluate(markets: list[VenueMarket] | None = None, labels: dict | None = None,
             result: MatchResult | None = None) -> Report:
    markets = markets if markets is not None else load_markets()
    labels = labels if labels is not None else load_labels()
    result = result if result is not None else match_markets(markets)
    tier: dict[frozenset[str], str] = {}
    for a, links in result.markets.items():
        for link in links:
            tier[frozenset((a, link["parsec_id"]))] = link["confidence_tier"]
    truth = {frozenset((p["kalshi"], p["polymarket"])): p["category"] for p in labels["true_pairs"]}
    hard = {frozenset((p["kalshi"], p["polymarket"])): p["category"] for p in labels["hard_negatives"]}
    category_of: dict[str, str] = {}
    for pairs in (truth, hard):
        for pair, cat in pairs.items():
            for pid in pair:
                category_of.setdefault(pid, cat)
    per: dict[str, dict[str, int]] = defaultdict(lambda: {"true": 0, "found": 0, "wrong": 0, "hard": 0, "hard_hit": 0, "high": 0})
    for pair, cat in truth.items():
        per[cat]["true"] += 1
    for pair, cat in hard.items():
        per[cat]["hard"] += 1
    correct = high = high_correct = 0
    hn_hits, fps = [], []
    for pair, t in sorted(tier.items(), key=lambda kv: sorted(kv[0])):
        a, b = sorted(pair)
        cat = truth.get(pair) or hard.get(pair) or category_of.get(a) or category_of.get(b) or "unlabelled"
        if t == "HIGH":
            high += 1
            per[cat]["high"] += 1
        if pair in truth:
            correct += 1
            high_correct += t == "HIGH"
            per[cat]["found"] += 1
            continue
        per[cat]["wrong"] += 1
        if pair in hard:
            per[cat]["hard_hit"] += 1
            hn_hits.append((a, b, t))
        else:
            fps.append((a, b, t))
    missed = [tuple(sorted(p)) for p in truth if p not in tier]
    return Report(len(markets), len(truth), len(tier), correct, high, high_correct, len(hard), hn_hits, fps,
                  sorted(missed), dict(per))
