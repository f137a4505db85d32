"""Catalog benchmark: index query latency over a synthetic 100k-market catalog, and snapshot load time.

    .venv/bin/python bench/catalog_search.py [--markets 100000] [--queries 3000] [--moto] [--match]

Prints p50/p99 of `CatalogIndex.search` / `.events` for a mix of realistic queries, the time to
encode/decode the snapshot chunks and to build the index (the cold-load path without the network),
optionally the same load through DynamoDB (moto, in process: `--moto`) and the cross-venue matching
time at sync (`--match`). A script, not a test: it prints figures and asserts nothing.
"""
from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]

from pmrouter.catalog.index import CatalogIndex  # noqa: E402
from pmrouter.catalog.index import Postings  # noqa: E402
from pmrouter.catalog.snapshot import decode_chunks, encode_chunks, row_to_market  # noqa: E402
from pmrouter.exchanges.base import VenueMarket, VenueOutcome  # noqa: E402

EXCHANGES = ["polymarket", "kalshi", "limitless", "opinion", "predictfun"]
COINS = [("Bitcoin", "BTC"), ("Ethereum", "ETH"), ("Solana", "SOL"), ("XRP", "XRP"), ("Dogecoin", "DOGE")]
PEOPLE = ["Trump", "Vance", "Newsom", "Harris", "Musk", "Altman", "Powell", "Starmer", "Macron", "Milei", "Modi",
          "Zelensky", "Putin", "Xi", "Carney", "Meloni", "Lula", "Sheinbaum", "Erdogan", "Netanyahu"]
TEAMS = ["Lakers", "Celtics", "Warriors", "Knicks", "Chiefs", "Eagles", "Yankees", "Dodgers", "Arsenal", "Liverpool",
         "Bucks", "Heat", "Packers", "Bears", "Suns", "Mavericks", "Nuggets", "Thunder", "Bills", "Ravens"]
TOPICS = ["recession", "shutdown", "ceasefire", "tariffs", "rate cut", "inflation", "unemployment", "GDP growth",
          "IPO", "ETF approval", "election", "impeachment", "indictment", "merger", "launch", "default"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
FILLER = ("This market will resolve to Yes if the event described in the title occurs by the stated date according "
          "to official sources and reporting by major outlets. Otherwise it resolves to No. In case of ambiguity "
          "the resolution source listed below prevails; clarifications may be posted by the market operator.").split()


def _question(rng: random.Random, end: datetime) -> tuple[str, str]:
    kind = rng.random()
    date = f"{MONTHS[end.month - 1]} {end.day}, {end.year}"
    if kind < 0.35:
        name, sym = rng.choice(COINS)
        strike = rng.choice([1, 2, 3, 5, 10, 50, 100, 150, 200, 1000, 3000, 5000, 90_000, 100_000, 120_000, 150_000])
        return f"Will {name} be above ${strike:,} on {date}?", f"{name} ({sym}/USD) reference price above ${strike:,}."
    if kind < 0.6:
        who = rng.choice(PEOPLE)
        what = rng.choice(["say the word 'tariff'", "visit China", "meet with Putin", "resign", "post on X",
                           "announce a run", "be indicted", "win the primary", "sign the bill", "leave office"])
        return f"Will {who} {what} by {date}?", f"Resolves Yes if {who} does so before the deadline."
    if kind < 0.8:
        a, b = rng.sample(TEAMS, 2)
        return f"{a} vs. {b} on {date}", f"Winner of the game between the {a} and the {b}."
    topic = rng.choice(TOPICS)
    country = rng.choice(["US", "UK", "Germany", "Japan", "Brazil", "Canada", "France", "India", "China", "Mexico"])
    return f"Will {country} see {topic} before {date}?", f"Resolves per official {country} sources on {topic}."


def synthetic_catalog(n: int, seed: int = 1) -> list[VenueMarket]:
    rng = random.Random(seed)
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    out: list[VenueMarket] = []
    gid = 0
    while len(out) < n:
        end = (now + timedelta(days=rng.randint(1, 500))).replace(hour=23, minute=59, second=0, microsecond=0)
        q, desc = _question(rng, end)
        desc = desc + " " + " ".join(rng.sample(FILLER, rng.randint(20, len(FILLER))))
        venues = rng.sample(EXCHANGES, rng.choice([1, 1, 1, 2, 2, 3]))
        vol = round(10 ** rng.uniform(1, 7.5), 2)
        status = rng.choices(["active", "closed", "resolved"], [0.7, 0.1, 0.2])[0]
        gid += 1
        for v in venues:
            if len(out) >= n:
                break
            mid = f"{v[:2]}{len(out):07d}"
            p = round(rng.random(), 3)
            cat = " vs. " in q
            outcomes = ([VenueOutcome(q.split(" vs. ")[0], str(rng.getrandbits(250)), p),
                         VenueOutcome(q.split(" vs. ")[1].split(" on ")[0], str(rng.getrandbits(250)), 1 - p)] if cat
                        else [VenueOutcome("Yes", None if v == "kalshi" else str(rng.getrandbits(250)), p),
                              VenueOutcome("No", None if v == "kalshi" else str(rng.getrandbits(250)), round(1 - p, 3))])
            out.append(VenueMarket(
                exchange=v, exchange_market_id=mid, question=q, outcomes=outcomes, status=status,
                market_type="categorical" if cat else "binary",
                exchange_group_id=f"g{gid}" if v in ("polymarket", "kalshi") else "", group_title=q,
                volume_total=round(vol * rng.uniform(0.05, 1.0), 2), volume_24h=round(vol * 0.01, 2),
                liquidity=round(10 ** rng.uniform(2, 5), 2), best_bid=max(0.0, p - 0.01), best_ask=min(1.0, p + 0.01),
                last_price=p, tick_size=0.01, min_order_size=5.0, slug=q.lower()[:40].replace(" ", "-"),
                url=f"https://example.com/{v}/{mid}", description=desc, created_at=now - timedelta(days=30),
                updated_at=now, end_date=end, extra={"neg_risk": False, "fee_bps": 0}))
    return out


QUERIES = ["bitcoin", "trump", "bitcoin 100,000", "will", "ethereum above", "lakers", "recession", "fed", "b",
           "tr", "solana 200", "putin", "china tariff", "rate cut", "celtics vs", "musk x", "xyz-not-there",
           "inflation japan", "dogecoin", "election"]


def _orjson() -> bool:
    from pmrouter.catalog import snapshot
    return snapshot._orjson is not None


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--markets", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=3000)
    ap.add_argument("--moto", action="store_true", help="also load the snapshot through DynamoDB (moto)")
    ap.add_argument("--match", action="store_true", help="also time cross-venue matching (sync-time cost)")
    args = ap.parse_args()

    t = time.perf_counter()
    markets = synthetic_catalog(args.markets)
    print(f"generated {len(markets):,} markets in {time.perf_counter() - t:.2f}s")

    matches: dict = {}
    events: dict = {}
    if args.match:
        from pmrouter.catalog.matching import match_markets
        t = time.perf_counter()
        res = match_markets(markets)
        matches, events = res.markets, res.events
        print(f"matching: {time.perf_counter() - t:.2f}s, {sum(map(len, matches.values())):,} links, "
              f"{res.pairs_scored:,} pairs scored, {sum(map(len, events.values())):,} event links")

    t = time.perf_counter()
    chunks = encode_chunks(markets, matches, events)
    enc = time.perf_counter() - t
    size = sum(len(b) for _, b in chunks)
    print(f"encode (sync side, includes building the word index): {enc:.2f}s -> {len(chunks)} chunks, "
          f"{size / 1e6:.1f} MB compressed, largest {max(len(b) for _, b in chunks) / 1e3:.0f} KB, "
          f"word index {sum(len(b) for k, b in chunks if k == 'i') / 1e6:.1f} MB")
    del markets

    gc.collect()
    gc.disable()  # as SnapshotStore.load_index does
    t = time.perf_counter()
    raw = decode_chunks("bench", chunks)
    dec = time.perf_counter() - t
    t = time.perf_counter()
    index = CatalogIndex.from_rows(raw.fields, raw.rows, materialize=lambda r: row_to_market(r, raw.fields),
                                   postings=Postings.from_export(raw.search_blob), matches=raw.matches,
                                   event_matches=raw.event_matches)
    build = time.perf_counter() - t
    gc.enable()
    gc.freeze()
    print(f"cold load without network: inflate+decode {dec:.2f}s + index {build:.2f}s = {dec + build:.2f}s "
          f"(json decoder: {'orjson' if _orjson() else 'stdlib json'})")

    rng = random.Random(3)
    lat: dict[str, list[float]] = {}
    all_lat: list[float] = []
    for i in range(args.queries):
        kind = i % 6
        if kind == 0:
            label, call = "no query, status=active", lambda: index.search(status="active", limit=100)
        elif kind == 1:
            q = rng.choice(QUERIES)
            label, call = "text query, status=active", lambda q=q: index.search(q, status="active", limit=100)
        elif kind == 2:
            q = rng.choice(QUERIES)
            exs = rng.sample(EXCHANGES, 2)
            label, call = "text + exchanges + min_volume", lambda q=q, exs=exs: index.search(
                q, status="active", exchanges=exs, min_volume=1000, limit=100)
        elif kind == 3:
            off = rng.randrange(0, 50_000)
            label, call = "deep offset, status=any", lambda off=off: index.search(None, offset=off, limit=100)
        elif kind == 4:
            label, call = "min_liquidity + exchange", lambda: index.search(
                None, status="active", exchanges=["kalshi"], min_liquidity=rng.choice([100.0, 1000.0, 10000.0]))
        else:
            q = rng.choice(["", "bitcoin", "trump", "lakers"])
            label, call = "events", lambda q=q: index.events(q or None, status="active", limit=50)
        t = time.perf_counter()
        call()
        dt = (time.perf_counter() - t) * 1000
        lat.setdefault(label, []).append(dt)
        all_lat.append(dt)
    print(f"\nquery latency over {len(index):,} markets ({args.queries} queries):")
    for label, xs in lat.items():
        print(f"  {label:32s} p50 {pct(xs, 0.5):7.2f} ms   p99 {pct(xs, 0.99):7.2f} ms")
    print(f"  {'ALL':32s} p50 {pct(all_lat, 0.5):7.2f} ms   p99 {pct(all_lat, 0.99):7.2f} ms")
    print("  per query text (status=active):")
    for q in QUERIES:
        xs = []
        for _ in range(20):
            t = time.perf_counter()
            page, total = index.search(q, status="active", limit=100)
            xs.append((time.perf_counter() - t) * 1000)
        print(f"    {q!r:22s} total {total:6d}  median {statistics.median(xs):6.2f} ms")

    if args.moto:
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        from moto import mock_aws

        from pmrouter.store.catalog_snapshots import SnapshotStore
        from pmrouter.store import dynamo
        with mock_aws():
            dynamo.reset()
            dynamo.client("dynamodb").create_table(
                TableName="bench-catalog", BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                      {"AttributeName": "sk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
            store = SnapshotStore("bench-catalog")
            t = time.perf_counter()
            store.write(synthetic_catalog(args.markets), matches, events)
            print(f"\nmoto: snapshot write {time.perf_counter() - t:.2f}s")
            t = time.perf_counter()
            idx = store.load_index()
            print(f"moto: load_index {time.perf_counter() - t:.2f}s for {len(idx):,} markets "
                  f"(in-process moto serialises the parallel reads)")
            dynamo.reset()


if __name__ == "__main__":
    main()
    from machine import reference_ms  # type: ignore[import-not-found]

    print(f"machine reference workload {reference_ms()} ms (bench/machine.py; lower is faster)")
