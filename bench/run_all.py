"""Latency and throughput through the local stack (HTTP in, auth, catalog or venue, HTTP out).

    make bench            # or: .venv/bin/python bench/run_all.py [--requests N] [--no-100k]

Prints p50/p99 latency (sequential, keep-alive) and requests per second (8 concurrent clients) for
`/markets?search=`, `/orderbook` and `/execution-price`; then replaces the catalog with a synthetic
100,000-market snapshot and measures `/markets?search=` against it; then the cold-start import time
of every function. Figures only: nothing here asserts.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def measure(client: httpx.Client, paths: list[str], n: int) -> dict[str, float]:
    for p in paths[:20]:  # warm caches and connections
        client.get(p)
    lat = []
    for i in range(n):
        t = time.perf_counter()
        r = client.get(paths[i % len(paths)])
        lat.append((time.perf_counter() - t) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{paths[i % len(paths)]} -> {r.status_code} {r.text[:200]}")
    return {"p50_ms": round(pct(lat, 50), 2), "p99_ms": round(pct(lat, 99), 2)}


def throughput(base: str, headers: dict, paths: list[str], seconds: float = 3.0, workers: int = 8) -> float:
    """Successful (200) responses per second; anything else aborts the run."""
    count = [0] * workers
    stop = time.perf_counter() + seconds

    def run(k: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            i = k
            while time.perf_counter() < stop:
                r = c.get(paths[i % len(paths)])
                if r.status_code != 200:
                    raise SystemExit(f"throughput run got {r.status_code}: {r.text[:200]}")
                count[k] += 1
                i += workers

    threads = [threading.Thread(target=run, args=(k,)) for k in range(workers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return round(sum(count) / (time.perf_counter() - t0), 1)


def bench_endpoints(base: str, key: str, n: int) -> dict:
    headers = {"X-API-Key": key}
    out = {}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
        markets = c.get("/api/v1/markets", params={"limit": 100}).json()["markets"]
        binary = [m for m in markets if m["market_type"] == "binary"][:20]
        words = ["bitcoin", "inflation", "win", "fed", "will", "nvidia", "super bowl", "eth", "election", "gta"]
        cases = {
            "/markets?search=": [f"/api/v1/markets?search={w}&limit=20" for w in words],
            "/orderbook": [f"/api/v1/orderbook?parsec_id={m['parsec_id']}&limit=20" for m in binary],
            "/execution-price": [f"/api/v1/execution-price?parsec_id={m['parsec_id']}&side=buy&amount=250" for m in binary],
        }
        for name, paths in cases.items():
            stats = measure(c, paths, n)
            stats["rps_8_clients"] = throughput(base, headers, paths)
            out[name] = stats
            print(f"{name:<22} p50 {stats['p50_ms']:6.2f} ms   p99 {stats['p99_ms']:6.2f} ms   "
                  f"{stats['rps_8_clients']:7.1f} req/s", flush=True)
    return out


def bench_100k(base: str, key: str, n: int) -> dict:
    from pmrouter.catalog import loader
    from pmrouter.store.catalog_snapshots import SnapshotStore

    sys.path.insert(0, str(ROOT / "bench"))
    from catalog_search import synthetic_catalog  # type: ignore[import-not-found]

    t0 = time.perf_counter()
    markets = synthetic_catalog(100_000)
    store = SnapshotStore()
    store.write(markets, {}, expected_version=(store.read_meta() or {}).get("version"))
    loader.reset()
    written = time.perf_counter() - t0
    headers = {"X-API-Key": key}
    words = ["bitcoin", "election", "will", "rate", "champion", "above", "ceasefire", "price", "launch", "cup"]
    paths = [f"/api/v1/markets?search={w}&limit=20" for w in words]
    with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
        t1 = time.perf_counter()
        c.get(paths[0])  # first request loads the 100k snapshot
        load = time.perf_counter() - t1
        stats = measure(c, paths, n)
    stats["rps_8_clients"] = throughput(base, headers, paths)
    stats["snapshot_write_s"] = round(written, 1)
    stats["first_request_load_s"] = round(load, 2)
    print(f"{'/markets?search= 100k':<22} p50 {stats['p50_ms']:6.2f} ms   p99 {stats['p99_ms']:6.2f} ms   "
          f"{stats['rps_8_clients']:7.1f} req/s   (snapshot write {written:.1f} s, first load {load:.2f} s)", flush=True)
    return stats


def main() -> None:
    from machine import reference_ms  # type: ignore[import-not-found]

    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--no-100k", action="store_true")
    args = ap.parse_args()
    from shared.localstack.stack import LocalStack

    stack = LocalStack(run_schedules=False).start()
    results: dict = {}
    try:
        from pmrouter.auth.apikeys import new_api_key, store_key
        from pmrouter.store.accounts import create_account

        # The router's capacity, not a customer tier's: an operator key with the internal tier.
        account = create_account("trader", "internal", name="bench")
        key = new_api_key()
        store_key(key, account["customer_id"], "trader", "internal")
        print(f"local stack at {stack.url}", flush=True)
        results["endpoints"] = bench_endpoints(stack.url, key, args.requests)
        if not args.no_100k:
            results["search_100k"] = bench_100k(stack.url, key, args.requests)
    finally:
        stack.stop()
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "cold_start.py"), "5"], capture_output=True, text=True)
    print(out.stdout.strip())
    results["cold_start_ms"] = json.loads(out.stdout.strip().splitlines()[-1])
    results["machine_reference_ms"] = reference_ms()
    print(f"machine reference workload {results['machine_reference_ms']} ms (bench/machine.py; lower is faster)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
