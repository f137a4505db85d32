"""Placing one order: pmrouter end to end vs each venue's official client going direct, side by side
against the same sandbox venue, on every venue, in one run.

    .venv/bin/python bench/order_placement.py [--orders N] [--venues polymarket,limitless,...]

Per venue it prints:
- pmrouter total (HTTP in, validate, sign, claim record, venue call, update record, HTTP out) p50/p99;
- the official client placing the same order against the same simulator p50/p99 (py-clob-client-v2,
  limitless-sdk, opinion-clob-sdk; predict-sdk signs and the venue's documented REST call sends, as the
  SDK has no HTTP client; Kalshi's SDK predates its V2 order models, so Kalshi has pmrouter only);
- the ratio of the two medians;
- pmrouter's own compute: total minus the time spent waiting on the venue and on DynamoDB (both measured
  inside the process around each call), and the part of it inside the app (the response's
  Server-Timing minus the same two), the rest being HTTP parsing and sockets on both ends;
- DynamoDB round trips per order (counted on boto3's event hooks).
Resting orders far from the book are used so every order is a plain accepted GTC (LIMIT).
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


def _direct_polymarket(stack, m, book, price, size):
    from eth_account import Account
    from py_clob_client_v2 import ApiCreds, ClobClient, OrderArgs, OrderType, PartialCreateOrderOptions, Side

    pk = "0x" + bytes(Account.create().key).hex()
    creds = ClobClient(host=stack.urls["polymarket-clob"], chain_id=137, key=pk).create_or_derive_api_key()
    client = ClobClient(host=stack.urls["polymarket-clob"], chain_id=137, key=pk,
                        creds=ApiCreds(creds.api_key, creds.api_secret, creds.api_passphrase))
    args = OrderArgs(token_id=book["token_id"], price=price, size=size, side=Side.BUY)
    options = PartialCreateOrderOptions(tick_size=str(m.get("tick_size") or 0.01))
    return lambda: client.create_and_post_order(args, options=options, order_type=OrderType.GTC)


def _direct_limitless(stack, m, book, price, size):
    import asyncio

    from eth_account import Account
    from limitless_sdk.api.http_client import HttpClient
    from limitless_sdk.orders.client import OrderClient
    from limitless_sdk.types import OrderType, Side
    from limitless_sdk.types.api_tokens import HMACCredentials

    wallet = Account.create()
    token_id, secret = stack.apps["limitless"].state.world.trading.issue_token(wallet.address)
    loop = asyncio.new_event_loop()
    http = HttpClient(base_url=stack.urls["limitless"], hmac_credentials=HMACCredentials(token_id=token_id, secret=secret))
    client = OrderClient(http_client=http, wallet=wallet)
    token = stack.apps["limitless"].state.world.by_slug[m["exchange_market_id"]][1]["tokens"]["yes"]
    def place():
        loop.run_until_complete(client.create_order(token_id=token, side=Side.BUY, order_type=OrderType.GTC,
                                                    market_slug=m["exchange_market_id"], price=price, size=float(size)))
    place.close = lambda: loop.run_until_complete(http.close())  # type: ignore[attr-defined]
    return place


def _direct_opinion(stack, m, book, price, size):
    from eth_account import Account
    from opinion_clob_sdk import Client
    from opinion_clob_sdk.chain.py_order_utils.model.order import PlaceOrderDataInput
    from opinion_clob_sdk.chain.py_order_utils.model.order_type import LIMIT_ORDER
    from opinion_clob_sdk.chain.py_order_utils.model.sides import OrderSide

    wallet = Account.create()
    acct = stack.apps["opinion"].state.world.trading.issue_account(wallet.address)
    client = Client(host=stack.urls["opinion"], apikey=acct.apikey, chain_id=56, rpc_url="http://127.0.0.1:9",
                    private_key="0x" + bytes(wallet.key).hex(), multi_sig_addr=acct.safe)
    data = PlaceOrderDataInput(marketId=int(m["exchange_market_id"]), tokenId=book["token_id"], side=OrderSide.BUY,
                               orderType=LIMIT_ORDER, price=str(price), makerAmountInBaseToken=size)

    def place():
        res = client.place_order(data, check_approval=False)
        assert res.errno == 0, res.errmsg
    return place


def _direct_predictfun(stack, m, book, price, size):
    from eth_account import Account
    from eth_account.messages import encode_defunct
    from predict_sdk import BuildOrderInput, ChainId, LimitHelperInput, OrderBuilder, Side

    from shared.localstack.stack import SANDBOX_PREDICTFUN_KEY

    wallet = Account.create()
    base = stack.urls["predictfun"]
    http = httpx.Client(base_url=base, headers={"x-api-key": SANDBOX_PREDICTFUN_KEY}, timeout=30)
    message = http.get("/v1/auth/message").json()["data"]["message"]
    sig = Account.sign_message(encode_defunct(text=message), wallet.key).signature.hex()
    jwt = http.post("/v1/auth", json={"signer": wallet.address, "message": message,
                                      "signature": "0x" + sig.removeprefix("0x")}).json()["data"]["token"]
    market = stack.apps["predictfun"].state.world.markets[int(m["exchange_market_id"])]
    builder = OrderBuilder.make(ChainId.BNB_MAINNET, "0x" + bytes(wallet.key).hex())

    def place():
        amounts = builder.get_limit_order_amounts(LimitHelperInput(side=Side.BUY, price_per_share_wei=int(round(price * 1e18)),
                                                                   quantity_wei=int(size * 10**18)))
        order = builder.build_order("LIMIT", BuildOrderInput(side=Side.BUY, token_id=book["token_id"],
                                                             maker_amount=str(amounts.maker_amount),
                                                             taker_amount=str(amounts.taker_amount),
                                                             fee_rate_bps=market["feeRateBps"]))
        typed = builder.build_typed_data(order, is_neg_risk=market["isNegRisk"], is_yield_bearing=market["isYieldBearing"])
        signed = builder.sign_typed_data_order(typed)
        body = {"data": {"pricePerShare": str(amounts.price_per_share), "strategy": "LIMIT", "slippageBps": "0",
                         "order": {"hash": builder.build_typed_data_hash(typed), "salt": signed.salt, "maker": signed.maker,
                                   "signer": signed.signer, "taker": signed.taker, "tokenId": signed.token_id,
                                   "makerAmount": signed.maker_amount, "takerAmount": signed.taker_amount,
                                   "expiration": signed.expiration, "nonce": signed.nonce,
                                   "feeRateBps": signed.fee_rate_bps, "side": int(signed.side),
                                   "signatureType": int(signed.signature_type),
                                   "signature": "0x" + signed.signature.removeprefix("0x")}}}
        r = http.post("/v1/orders", json=body, headers={"Authorization": f"Bearer {jwt}"})
        assert r.status_code == 200, r.text
    return place


DIRECT = {"polymarket": ("py-clob-client-v2", _direct_polymarket), "kalshi": (None, None),
          "limitless": ("limitless-sdk", _direct_limitless), "opinion": ("opinion-clob-sdk", _direct_opinion),
          "predictfun": ("predict-sdk + REST", _direct_predictfun)}


def bench_venue(stack, api, meter, exchange: str, orders: int) -> dict:
    markets = api.get("/markets", params={"exchanges": exchange, "limit": 50}).json()["markets"]
    for m in markets:
        if m["market_type"] != "binary" or m["status"] != "active":
            continue
        book = api.get("/orderbook", params={"parsec_id": m["parsec_id"]}).json()
        if len(book["bids"]) >= 2:
            break
    tick = m.get("tick_size") or 0.01
    price = round(max(tick, book["bids"][-1][0] - 5 * tick), 4)
    size = max(m.get("min_order_size") or 1, 5)
    body = {"market_id": m["exchange_market_id"], "outcome": "yes", "side": "buy", "price": price, "size": size}
    label, make = DIRECT[exchange]
    direct = make(stack, m, book, price, size) if make else None
    router_ms, direct_ms, compute_ms, server_compute_ms, calls = [], [], [], [], []
    for i in range(orders + 10):
        meter.reset()
        t = time.perf_counter()
        r = api.post("/orders", params={"exchange": exchange}, json=body)
        total = time.perf_counter() - t
        assert r.status_code == 200, r.text
        d = 0.0
        if direct is not None:
            t = time.perf_counter()
            direct()
            d = time.perf_counter() - t
        if i >= 10:  # warm-up
            router_ms.append(total * 1000)
            direct_ms.append(d * 1000)
            compute_ms.append((total - meter.venue - meter.store) * 1000)
            server_ms = float(r.headers["server-timing"].split("dur=")[1])
            server_compute_ms.append(server_ms - (meter.venue + meter.store) * 1000)
            calls.append(meter.store_calls)
    if hasattr(direct, "close"):
        direct.close()  # type: ignore[union-attr]
    out = {"exchange": exchange, "direct_client": label,
           "pmrouter_p50_ms": round(pct(router_ms, 50), 2), "pmrouter_p99_ms": round(pct(router_ms, 99), 2),
           "router_compute_p50_ms": round(pct(compute_ms, 50), 2),
           "router_compute_in_app_p50_ms": round(pct(server_compute_ms, 50), 2),
           "store_round_trips_per_order": statistics.median(calls)}
    if direct is not None:
        out.update(direct_p50_ms=round(pct(direct_ms, 50), 2), direct_p99_ms=round(pct(direct_ms, 99), 2),
                   ratio_p50=round(pct(router_ms, 50) / pct(direct_ms, 50), 2))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=100)
    ap.add_argument("--venues", default=",".join(DIRECT))
    args = ap.parse_args()
    from machine import reference_ms  # type: ignore[import-not-found]

    from shared.localstack.stack import LocalStack

    stack = LocalStack(run_schedules=False).start()
    try:
        meter = Meter()
        meter.install()
        api = httpx.Client(base_url=stack.url + "/api/v1", headers={"X-API-Key": stack.api_key}, timeout=30)
        rows = [bench_venue(stack, api, meter, ex, args.orders) for ex in args.venues.split(",")]
        print(f"{'venue':11} {'pmrouter p50/p99 ms':>20} {'direct client':>19} {'direct p50/p99 ms':>18} "
              f"{'ratio':>6} {'compute':>8} {'in-app':>7} {'DDB/order':>9}")
        for o in rows:
            direct = f"{o['direct_p50_ms']:.2f}/{o['direct_p99_ms']:.2f}" if "direct_p50_ms" in o else "-"
            ratio = f"{o['ratio_p50']:.2f}" if "ratio_p50" in o else "-"
            print(f"{o['exchange']:11} {o['pmrouter_p50_ms']:>10.2f}/{o['pmrouter_p99_ms']:<9.2f} "
                  f"{o['direct_client'] or '-':>19} {direct:>18} {ratio:>6} {o['router_compute_p50_ms']:>8.2f} "
                  f"{o['router_compute_in_app_p50_ms']:>7.2f} {o['store_round_trips_per_order']:>9}")
        print("compute = total - venue - DynamoDB; in-app = Server-Timing - venue - DynamoDB (the rest is HTTP on "
              "both ends)")
        print(f"machine reference workload {reference_ms()} ms (bench/machine.py; lower is faster)")
        print(json.dumps({"venues": rows, "machine_reference_ms": reference_ms()}))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
