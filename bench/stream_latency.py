"""`/ws` latency: from the sandbox venue's matching engine changing a book to a client holding the
pmrouter delta, with N other subscriptions live in the same process.

The path measured is the whole streaming path of `make run`: engine listener -> sandbox Kalshi
WebSocket (venue wire format) -> pmrouter's Kalshi feed (seq check, signed-delta application) ->
hub (per-depth diff, fan-out to every subscriber of the book) -> `/ws` -> a client socket. The
load is `N` subscriptions spread over 100 connections and 20 books; the measured book is one of
them, so every change also fans out to its share of the load. Everything (venues, moto, API, the
clients) shares this machine's cores, as in the other benches.

Usage: .venv/bin/python bench/stream_latency.py [--samples 300] [--loads 0,1000,2000]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]

import websockets  # noqa: E402

from bench.machine import reference_ms  # noqa: E402

CONNECTIONS = 100
BOOKS = 20


def _probe_key() -> str:
    from pmrouter.auth.apikeys import new_api_key, store_key
    from pmrouter.store.accounts import create_account

    account = create_account("trader", "internal", name="stream-bench-probe")
    key = new_api_key()
    store_key(key, account["customer_id"], "trader", "internal")
    return key


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))]


async def _auth(url: str, key: str):
    ws = await websockets.connect(url, max_size=2**24)
    await ws.send(json.dumps({"type": "auth", "api_key": key}))
    assert json.loads(await ws.recv())["type"] == "auth_ok"
    return ws


async def _drain(ws, counter: list[int]) -> None:
    try:
        async for _ in ws:
            counter[0] += 1
    except websockets.ConnectionClosed:
        pass


async def run_load(stack, tickers: list[str], load: int, samples: int) -> dict:
    from shared.sandbox.matching import Order

    url = stack.url.replace("http://", "ws://") + "/ws"
    portfolio = stack.apps["kalshi"].state.world.portfolio
    measured = tickers[0]
    conns, drains, received = [], [], [0]
    per_conn = max(1, load // CONNECTIONS) if load else 0
    for c in range(CONNECTIONS if load else 0):
        ws = await _auth(url, stack.api_key)
        chosen = [tickers[(c + i) % BOOKS] for i in range(min(per_conn, BOOKS))]
        # one subscription per (book, outcome): Yes and No, to reach per_conn on 20 books
        markets = [{"parsec_id": f"kalshi:{t}", "outcome": o, "depth": 50}
                   for t in chosen for o in ("yes", "no")][:per_conn]
        await ws.send(json.dumps({"type": "subscribe", "markets": markets}))
        conns.append(ws)
    for ws in conns:
        drains.append(asyncio.create_task(_drain(ws, received)))
    live = 0
    deadline = time.monotonic() + 60
    while live < load and time.monotonic() < deadline:  # wait until every snapshot went out
        await asyncio.sleep(0.2)
        from pmrouter.stream.usage import usage

        live = usage.customer(stack.customer_id)["active_subscriptions"]

    probe = await _auth(url, _probe_key())  # its own account: the load may fill the demo's tier cap
    await probe.send(json.dumps({"type": "subscribe", "markets": [{"parsec_id": f"kalshi:{measured}", "depth": 50}]}))
    first = json.loads(await asyncio.wait_for(probe.recv(), 30))
    assert first["type"] == "orderbook", first
    book = portfolio.engine.book(measured)
    with portfolio.lock:
        portfolio.seed(measured)
        best_bid = book.bids[0].price if book.bids else Decimal("0.10")
    lat = []
    for i in range(samples):
        order = Order(f"bench-{load}-{i}", "bench-mm", measured, "buy", best_bid, Decimal(1))
        t0 = time.perf_counter()
        await asyncio.to_thread(portfolio.engine.submit, order) if i == 0 else portfolio.engine.submit(order)
        while True:
            msg = json.loads(await asyncio.wait_for(probe.recv(), 10))
            if msg["type"] == "orderbook_delta" and msg["changes"]:
                lat.append((time.perf_counter() - t0) * 1000)
                break
        portfolio.engine.cancel(order.id)
        while json.loads(await asyncio.wait_for(probe.recv(), 10))["type"] != "orderbook_delta":
            pass
    for ws in conns + [probe]:
        await ws.close()
    for t in drains:
        t.cancel()
    return {"load": live, "p50": statistics.median(lat), "p99": pct(lat, 0.99), "samples": len(lat),
            "frames_to_load": received[0]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--loads", default="0,1000,2000")
    args = ap.parse_args()
    from shared.localstack.stack import LocalStack

    stack = LocalStack(run_schedules=False).start()
    try:
        tickers = sorted(stack.apps["kalshi"].state.world.markets)[:BOOKS]
        print(f"machine reference workload: {reference_ms()} ms (lower is faster)")
        print("sandbox Kalshi engine change -> pmrouter /ws delta at a client (ms)")
        print(f"{'subscriptions':>14} {'p50':>8} {'p99':>8} {'samples':>8} {'frames to the load':>20}")
        for load in (int(x) for x in args.loads.split(",")):
            r = asyncio.run(run_load(stack, tickers, load, args.samples))
            print(f"{r['load']:>14} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['samples']:>8} {r['frames_to_load']:>20}")
        print("target: p50 < 5 ms with 1,000 subscriptions")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
