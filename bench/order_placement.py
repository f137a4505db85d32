"""Placing one order: pmrouter end to end vs the official py-clob-client-v2 going direct, side by
side against the same sandbox Polymarket, in one run.

    .venv/bin/python bench/order_placement.py [--orders N]

Prints, per order:
- pmrouter total (HTTP in, validate, sign, claim record, venue call, update record, HTTP out) p50/p99;
- py-clob-client-v2 `create_and_post_order` p50/p99 for the same order against the same simulator;
- the ratio of the two medians;
- pmrouter's own compute: total minus the time spent waiting on the venue and on DynamoDB (both measured
  inside the process around each call), and the part of it inside the app (the response's
  Server-Timing minus the same two), the rest being HTTP parsing and sockets on both ends;
- DynamoDB round trips per order (counted on boto3's event hooks).
Resting orders far from the book are used so every order is a plain accepted GTC.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class Meter:
    """Wall time spent inside venue HTTP calls and DynamoDB calls, and the number of DynamoDB calls."""

    def __init__(self) -> None:
        self.venue = 0.0
        self.store = 0.0
        self.store_calls = 0
        self._t: dict[int, float] = {}

    def install(self) -> None:
        from pmrouter.exchanges import http as venue_http
        from pmrouter.store import dynamo

        original = venue_http.VenueHttp.request
        meter = self

        async def timed(self_, *a, **kw):
            t = time.perf_counter()
            try:
                return await original(self_, *a, **kw)
            finally:
                meter.venue += time.perf_counter() - t

        venue_http.VenueHttp.request = timed  # type: ignore[method-assign]
        for client in (dynamo.client("dynamodb"), dynamo.resource("dynamodb").meta.client):
            client.meta.events.register("before-call.dynamodb.*", self._before)
            client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, **kw):
        self._t[id(kw.get("context"))] = time.perf_counter()
        self.store_calls += 1

    def _after(self, **kw):
        start = self._t.pop(id(kw.get("context")), None)
        if start is not None:
            self.store += time.perf_counter() - start

    def reset(self) -> None:
        self.venue = self.store = 0.0
        self.store_calls = 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=200)
    args = ap.parse_args()
    from eth_account import Account
    from py_clob_client_v2 import ApiCreds, ClobClient, OrderArgs, OrderType, PartialCreateOrderOptions, Side

    from machine import reference_ms  # type: ignore[import-not-found]

    from shared.localstack.stack import LocalStack

    stack = LocalStack(run_schedules=False).start()
    try:
        meter = Meter()
        meter.install()
        api = httpx.Client(base_url=stack.url + "/api/v1", headers={"X-API-Key": stack.api_key}, timeout=30)
        markets = api.get("/markets", params={"exchanges": "polymarket", "limit": 50}).json()["markets"]
        m = next(x for x in markets if x["market_type"] == "binary" and x["status"] == "active")
        book = api.get("/orderbook", params={"parsec_id": m["parsec_id"]}).json()
        tick = m["tick_size"]
        price = round(max(tick, book["bids"][-1][0] - 5 * tick), 4)
        size = max(m["min_order_size"], 5)
        body = {"market_id": m["exchange_market_id"], "outcome": "yes", "side": "buy", "price": price, "size": size}

        # The official client, direct to the same simulator, with its own account.
        pk = "0x" + bytes(Account.create().key).hex()
        direct = ClobClient(host=stack.urls["polymarket-clob"], chain_id=137, key=pk)
        creds = direct.create_or_derive_api_key()
        direct = ClobClient(host=stack.urls["polymarket-clob"], chain_id=137, key=pk,
                            creds=ApiCreds(creds.api_key, creds.api_secret, creds.api_passphrase))
        token = book["token_id"]

        router_ms, direct_ms, compute_ms, server_compute_ms, calls = [], [], [], [], []
        for i in range(args.orders + 10):
            meter.reset()
            t = time.perf_counter()
            r = api.post("/orders", params={"exchange": "polymarket"}, json=body)
            total = time.perf_counter() - t
            assert r.status_code == 200, r.text
            t = time.perf_counter()
            direct.create_and_post_order(OrderArgs(token_id=token, price=price, size=size, side=Side.BUY),
                                         options=PartialCreateOrderOptions(tick_size=str(tick)),
                                         order_type=OrderType.GTC)
            d = time.perf_counter() - t
            if i >= 10:  # warm-up
                router_ms.append(total * 1000)
                direct_ms.append(d * 1000)
                compute_ms.append((total - meter.venue - meter.store) * 1000)
                server_ms = float(r.headers["server-timing"].split("dur=")[1])
                server_compute_ms.append(server_ms - (meter.venue + meter.store) * 1000)
                calls.append(meter.store_calls)
        out = {
            "pmrouter_p50_ms": round(pct(router_ms, 50), 2), "pmrouter_p99_ms": round(pct(router_ms, 99), 2),
            "direct_p50_ms": round(pct(direct_ms, 50), 2), "direct_p99_ms": round(pct(direct_ms, 99), 2),
            "ratio_p50": round(pct(router_ms, 50) / pct(direct_ms, 50), 2),
            "router_compute_p50_ms": round(pct(compute_ms, 50), 2),
            "router_compute_in_app_p50_ms": round(pct(server_compute_ms, 50), 2),
            "store_round_trips_per_order": statistics.median(calls),
            "machine_reference_ms": reference_ms(),
        }
        print(f"pmrouter POST /orders      p50 {out['pmrouter_p50_ms']:6.2f} ms  p99 {out['pmrouter_p99_ms']:6.2f} ms")
        print(f"py-clob-client-v2 direct   p50 {out['direct_p50_ms']:6.2f} ms  p99 {out['direct_p99_ms']:6.2f} ms")
        print(f"ratio (pmrouter / direct)  {out['ratio_p50']:.2f}")
        print(f"router compute p50         {out['router_compute_p50_ms']:.2f} ms (total - venue - DynamoDB)")
        print(f"  of which inside the app  {out['router_compute_in_app_p50_ms']:.2f} ms (Server-Timing - venue - DynamoDB;"
              " the rest is HTTP on both ends)")
        print(f"DynamoDB round trips/order {out['store_round_trips_per_order']}")
        print(f"machine reference workload {out['machine_reference_ms']} ms (bench/machine.py; lower is faster)")
        print(json.dumps(out))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
