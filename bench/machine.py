"""A yardstick printed beside every figure: the time of a fixed pure-Python workload on this
machine (median of 7). Figures from two machines (or two moments of a noisy shared one) compare
only in proportion to it."""
from __future__ import annotations

import statistics
import time


def _workload() -> int:
    d: dict[str, int] = {}
    for i in range(200_000):
        d[f"k{i % 5000}"] = d.get(f"k{i % 5000}", 0) + i
    return sum(d.values()) + sum(range(2_000_000))


def reference_ms(runs: int = 7) -> float:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        _workload()
        samples.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(samples), 1)


if __name__ == "__main__":
    print(f"machine reference workload: {reference_ms()} ms (lower is faster)")
