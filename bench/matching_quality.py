"""Cross-venue matching quality on the real-listing benchmark (tests/fixtures/matching/).

    .venv/bin/python bench/matching_quality.py

Prints precision, recall, HIGH-tier precision and hard-negative matches per category, every wrong or
missed link, and the time the matcher takes on the benchmark. Figures only: nothing here asserts (the
thresholds live in tests/unit/catalog/test_matching_real.py).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]

from pmrouter.catalog.match_eval import evaluate, load_labels, load_markets  # noqa: E402
from pmrouter.catalog.matching import SOURCE, match_markets  # noqa: E402


def main() -> None:
    markets, labels = load_markets(), load_labels()
    t = time.perf_counter()
    result = match_markets(markets)
    took = (time.perf_counter() - t) * 1000
    print(f"matcher {SOURCE}: {took:.1f} ms for {len(markets)} markets")
    for line in evaluate(markets, labels, result).lines():
        print(line)


if __name__ == "__main__":
    main()
