"""Cross-venue matching quality on the real-listing benchmark (tests/fixtures/matching/), and its sync cost.

    .venv/bin/python bench/matching_quality.py                  # quality figures
    .venv/bin/python bench/matching_quality.py --speed 100000   # + CPU time over a synthetic catalog

Prints precision, recall, HIGH-tier precision and hard-negative matches per category, every wrong or
missed link, and the time the matcher takes on the benchmark. With `--speed N` it also times
`match_markets` over the N-market synthetic catalog of bench/catalog_search.py, interleaving the current
matcher with `text_v1` (the matcher as first committed, read from git) in one process, so both see the same
machine load; CPU time of the process is the steadier measure on a shared machine. Figures only: nothing
here asserts (the quality thresholds live in tests/unit/catalog/test_matching_real.py).
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]

from pmrouter.catalog.match_eval import evaluate, load_labels, load_markets  # noqa: E402
from pmrouter.catalog.matching import SOURCE, match_markets  # noqa: E402

V1_COMMIT = "ff45d07"  # the commit that introduced the catalog and its first matcher (text_v1)
MATCHING_PATH = "layers/core/pmrouter/catalog/matching.py"


def _load_v1():
    """text_v1 as committed, loaded as a sibling module so its relative imports resolve; None without git."""
    try:
        src = subprocess.run(["git", "show", f"{V1_COMMIT}:{MATCHING_PATH}"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    spec = importlib.util.spec_from_loader("pmrouter.catalog._matching_v1", loader=None)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "pmrouter.catalog"
    sys.modules[spec.name] = mod
    exec(compile(src, f"{V1_COMMIT}:{MATCHING_PATH}", "exec"), mod.__dict__)
    return mod


def speed(n: int, rounds: int) -> None:
    from bench.catalog_search import synthetic_catalog

    markets = synthetic_catalog(n)
    contenders = [(SOURCE, match_markets)]
    v1 = _load_v1()
    if v1 is not None:
        contenders.insert(0, ("text_v1", v1.match_markets))
    else:
        print("text_v1 not available (no git history): timing the current matcher only")
    print(f"matching {n:,} synthetic markets, {rounds} rounds, methods interleaved in one process")
    for r in range(rounds):
        for name, fn in contenders:
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            res = fn(markets)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(f"  round {r + 1} {name:<8} CPU {cpu:6.1f} s  wall {wall:6.1f} s  "
                  f"links {sum(map(len, res.markets.values())):,}  pairs scored {res.pairs_scored:,}")
            del res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--speed", type=int, default=0, help="also time matching over N synthetic markets")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    markets, labels = load_markets(), load_labels()
    t = time.perf_counter()
    result = match_markets(markets)
    took = (time.perf_counter() - t) * 1000
    print(f"matcher {SOURCE}: {took:.1f} ms for {len(markets)} markets")
    for line in evaluate(markets, labels, result).lines():
        print(line)
    if args.speed:
        speed(args.speed, args.rounds)


if __name__ == "__main__":
    main()
