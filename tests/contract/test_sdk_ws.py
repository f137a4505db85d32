"""The official SDK's `client.ws()`, unchanged, against the local stack's `/ws`.

Every frame the server sends is also validated against pmrouter's strict message models, and the
SDK's own gap detection is watched: a `resync` the server did not ask for means `server_seq`
skipped. The books the SDK builds from snapshot + deltas are compared with REST `/orderbook`
after every step, on the venues that stream (Polymarket, Kalshi) and one that is polled.
"""
from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets

from pmrouter.stream.messages import server_message

DEPTH = 20


class Recorder:
    """Wraps one SDK ParsecWebSocket: keeps every frame, validates it, counts unsolicited resyncs."""

    def __init__(self, ws):
        self.ws = ws
        self.frames: list[dict] = []
        self.invalid: list[str] = []
        self.resyncs_sent: list[dict] = []
        self.asked: int = 0
        handle, send = ws._handle_server_message, ws._ws_send

        async def recording(msg):
            self.frames.append(msg)
            try:
                server_message.validate_python(msg)
            except Exception as exc:  # collected, asserted by every test
                self.invalid.append(f"{msg.get('type')}: {exc}")
            if msg.get("type") == "resync_required":
                self.asked += 1
            await handle(msg)

        def sending(msg):
            if msg.get("type") == "resync":
                self.resyncs_sent.append(msg)
            send(msg)

        ws._handle_server_message = recording
        ws._ws_send = sending

    def of(self, type_: str, **match) -> list[dict]:
        return [f for f in self.frames if f.get("type") == type_ and all(f.get(k) == v for k, v in match.items())]

    async def wait(self, pred, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hit = pred()
            if hit:
                return hit
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out; last frames: {[f.get('type') for f in self.frames[-8:]]}")

    def check(self) -> None:
        assert not self.invalid, self.invalid[:3]
        assert len(self.resyncs_sent) <= self.asked, "the SDK saw a server_seq gap"
        seqs: dict[str, list[int]] = {}
        for f in self.frames:
            if f.get("type") in ("orderbook", "orderbook_delta"):
                seqs.setdefault(f"{f['parsec_id']}:{f['outcome']}", []).append(f["server_seq"])
        for key, s in seqs.items():
            assert s == list(range(s[0], s[0] + len(s))), f"{key}: server_seq not consecutive: {s}"


def _market(sdk, exchange: str):
    return next(m for m in sdk.markets.list(exchanges=[exchange], limit=50).markets
                if m.market_type == "binary" and m.status == "active")


def _rest_book(sdk, parsec_id: str, outcome: str = "yes"):
    book = sdk.orderbook.retrieve(parsec_id=parsec_id, outcome=outcome, limit=DEPTH)
    return [tuple(x) for x in book.bids], [tuple(x) for x in book.asks]


def _ws_book(ws, parsec_id: str, outcome: str = "yes"):
    b = ws.get_book(parsec_id, outcome)
    return [(x["price"], x["size"]) for x in b["bids"]][:DEPTH], [(x["price"], x["size"]) for x in b["asks"]][:DEPTH]


async def _agree(rec: Recorder, sdk, parsec_id: str, outcome: str = "yes") -> None:
    """The SDK's streamed book converges on REST /orderbook (a delta may still be in flight)."""
    last = None
    for _ in range(100):
        rest = await asyncio.to_thread(_rest_book, sdk, parsec_id, outcome)
        last = (_ws_book(rec.ws, parsec_id, outcome), rest)
        if last[0] == rest:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"streamed book != REST book: {last}")


def _run(coro):
    return asyncio.run(coro)


async def _connect(sdk, parsec_id: str | None = None) -> Recorder:
    """An SDK client, connected; with `parsec_id`, subscribed at DEPTH and holding its snapshot."""
    ws = sdk.ws()
    rec = Recorder(ws)
    await ws.connect()
    if parsec_id is not None:
        ws.subscribe(parsec_id=parsec_id, depth=DEPTH)
        await rec.wait(lambda: rec.of("orderbook", parsec_id=parsec_id))
    return rec


@pytest.mark.parametrize("exchange", ["kalshi", "polymarket", "limitless", "opinion", "predictfun"])
def test_snapshot_equals_rest_orderbook(sdk, exchange):
    m = _market(sdk, exchange)

    async def go():
        rec = await _connect(sdk)
        try:
            rec.ws.subscribe(parsec_id=m.parsec_id, depth=DEPTH)
            snap = await rec.wait(lambda: rec.of("orderbook", parsec_id=m.parsec_id))
            assert snap[0]["server_seq"] >= 1 and snap[0]["outcome"] == "Yes"
            assert snap[0]["feed_state"] == "healthy"
            assert snap[0]["book_state"] == "fresh" and snap[0]["stale_after_ms"] > 0
            await _agree(rec, sdk, m.parsec_id)
            rec.check()
        finally:
            await rec.ws.close()

    _run(go())


def _free_price(sdk, parsec_id: str) -> float:
    """A bid price inside the top levels that does not cross: the best bid (the order joins it)."""
    bids, asks = _rest_book(sdk, parsec_id)
    return bids[0][0]


@pytest.mark.parametrize("exchange", ["kalshi", "polymarket", "limitless", "opinion", "predictfun"])
def test_resting_order_is_a_delta_and_its_cancel_removes_it(sdk, exchange):
    m = _market(sdk, exchange)

    async def go():
        rec = await _connect(sdk, m.parsec_id)
        try:
            price = _free_price(sdk, m.parsec_id)
            before = dict(_ws_book(rec.ws, m.parsec_id)[0])[price]
            n = len(rec.of("orderbook_delta", parsec_id=m.parsec_id))
            order = await asyncio.to_thread(sdk.orders.create, exchange=exchange, market_id=m.exchange_market_id,
                                            outcome="yes", side="buy", price=price, size=7)
            delta = await rec.wait(lambda: rec.of("orderbook_delta", parsec_id=m.parsec_id)[n:])
            assert {"side": "bid", "price": price, "size": pytest.approx(before + 7)} in delta[0]["changes"]
            await _agree(rec, sdk, m.parsec_id)
            n = len(rec.of("orderbook_delta", parsec_id=m.parsec_id))
            await asyncio.to_thread(sdk.orders.cancel, order.id, exchange=exchange)
            delta = await rec.wait(lambda: rec.of("orderbook_delta", parsec_id=m.parsec_id)[n:])
            assert {"side": "bid", "price": price, "size": pytest.approx(before)} in delta[0]["changes"]
            await _agree(rec, sdk, m.parsec_id)
            rec.check()
        finally:
            await rec.ws.close()

    _run(go())


@pytest.mark.parametrize("exchange,channel", [("kalshi", "kalshi_trade"), ("polymarket", "polymarket_last_trade_price")])
def test_crossing_order_arrives_as_trade_and_own_fill(sdk, exchange, channel):
    m = _market(sdk, exchange)

    async def go():
        rec = await _connect(sdk, m.parsec_id)
        try:
            ask = _rest_book(sdk, m.parsec_id)[1][0][0]
            order = await asyncio.to_thread(sdk.orders.create, exchange=exchange, market_id=m.exchange_market_id,
                                            outcome="yes", side="buy", price=ask, size=5)
            trade = await rec.wait(lambda: rec.of("activity", kind="trade", parsec_id=m.parsec_id))
            assert trade[0]["price"] == pytest.approx(ask) and trade[0]["size"] == 5
            assert trade[0]["source_channel"] == channel
            fill = await rec.wait(lambda: rec.of("activity", kind="fill", order_id=order.id))
            assert fill[0]["liquidity_role"] == "taker" and fill[0]["side"] == "buy"
            fills = await asyncio.to_thread(sdk.fills.list, exchange=exchange)
            assert fill[0]["fill_id"] in {f.fill_id for f in fills}, "the streamed fill is the one /fills shows"
            await _agree(rec, sdk, m.parsec_id)
            rec.check()
        finally:
            await rec.ws.close()

    _run(go())


def test_resync_sends_a_fresh_snapshot_continuing_the_sequence(sdk):
    m = _market(sdk, "polymarket")

    async def go():
        rec = await _connect(sdk)
        try:
            rec.ws.subscribe(parsec_id=m.parsec_id, depth=DEPTH)
            first = (await rec.wait(lambda: rec.of("orderbook", parsec_id=m.parsec_id)))[0]
            rec.ws._ws_send({"type": "resync", "parsec_id": m.parsec_id, "outcome": "yes"})
            snaps = await rec.wait(lambda: rec.of("orderbook", parsec_id=m.parsec_id)[1:])
            assert snaps[0]["server_seq"] == first["server_seq"] + 1
            assert snaps[0]["bids"] == first["bids"]
        finally:
            await rec.ws.close()

    _run(go())


def test_bad_api_key_is_auth_error_and_stops(stack):
    from parsec_api import ParsecAPI

    client = ParsecAPI(base_url=stack.url, api_key="pk_live_not-a-key", max_retries=0)

    async def go():
        ws = client.ws()
        errors = []

        @ws.on("error")
        async def on_error(err):
            errors.append(err)

        with pytest.raises(ConnectionError):
            await ws.connect()
        assert errors and errors[0].code == 1002

    _run(go())


def _raw(stack):
    return websockets.connect(stack.url.replace("http://", "ws://") + "/ws")


async def _recv(ws, kind: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())))
        server_message.validate_python(msg)
        if msg["type"] == kind:
            return msg


def test_auth_rules(stack):
    async def go():
        async with _raw(stack) as ws:
            await ws.send(json.dumps({"type": "subscribe", "markets": [{"parsec_id": "kalshi:X"}]}))
            assert (await _recv(ws, "error"))["code"] == 1001
            await ws.send(json.dumps({"type": "auth", "api_key": stack.api_key}))
            assert (await _recv(ws, "auth_ok"))["customer_id"] == stack.customer_id
            await ws.send(json.dumps({"type": "auth", "api_key": stack.api_key}))
            err = await _recv(ws, "error")
            assert err["code"] == 1001 and "already" in err["message"]

    _run(go())


def test_auth_window(stack, monkeypatch):
    from pmrouter.stream import asgi

    monkeypatch.setattr(asgi, "AUTH_TIMEOUT_S", 0.3)

    async def go():
        async with _raw(stack) as ws:
            err = await _recv(ws, "auth_error", timeout=5)
            assert err["code"] == 1002
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)

    _run(go())


def _key_of_tier(tier: str) -> str:
    from pmrouter.auth.apikeys import new_api_key, store_key
    from pmrouter.store.accounts import create_account

    account = create_account("trader", tier, name=f"ws-{tier}")
    key = new_api_key()
    store_key(key, account["customer_id"], "trader", tier)
    return key


def test_limits_errors_and_the_connection_stays_usable(stack, sdk):
    key = _key_of_tier("free")
    markets = [m.parsec_id for m in sdk.markets.list(exchanges=["kalshi"], limit=5).markets][:4]

    async def go():
        async with _raw(stack) as ws:
            await ws.send(json.dumps({"type": "auth", "api_key": key}))
            await _recv(ws, "auth_ok")
            await ws.send(json.dumps({"type": "subscribe", "markets": [
                {"parsec_id": "kalshi:NO-SUCH-TICKER", "outcome": None, "depth": None},
                {"parsec_id": "nowhere:1"},
                {"parsec_id": markets[0], "outcome": "maybe"},
                {"parsec_id": markets[0], "depth": 0}]}))
            codes = [(await _recv(ws, "error")) for _ in range(4)]
            assert [(e["code"], e.get("parsec_id")) for e in codes] == [
                (2002, "kalshi:NO-SUCH-TICKER"), (2001, "nowhere:1"), (2005, markets[0]), (2001, markets[0])]
            await asyncio.sleep(1.1)  # the control-message bucket refills
            await ws.send(json.dumps({"type": "subscribe", "markets": [
                {"parsec_id": p, "depth": 50} for p in markets]}))
            snaps = [await _recv(ws, "orderbook") for _ in range(3)]
            assert all(len(s["bids"]) <= 10 and len(s["asks"]) <= 10 for s in snaps), "free tier depth is 10"
            cap = await _recv(ws, "error")
            assert cap["code"] == 3002 and cap["parsec_id"] == markets[3] and "limit: 3, tier: free" in cap["message"]
            for _ in range(3):
                await ws.send(json.dumps({"type": "unsubscribe", "markets": [{"parsec_id": markets[3]}]}))
            limited = await _recv(ws, "error")
            assert limited["code"] == 3001

    _run(go())


def test_builder_streams_for_its_end_user(stack, sdk):
    user = sdk.builder.users.create(external_id=f"ws-user-{time.time_ns()}")

    async def go():
        async with _raw(stack) as ws:
            await ws.send(json.dumps({"type": "auth", "api_key": stack.api_key,
                                      "builder_customer_id": user.customer_id}))
            assert (await _recv(ws, "auth_ok"))["customer_id"] == user.customer_id
        async with _raw(stack) as ws:
            await ws.send(json.dumps({"type": "auth", "api_key": _key_of_tier("pro"),
                                      "builder_customer_id": user.customer_id}))
            err = await _recv(ws, "auth_error")
            assert err["code"] == 1002 and "builder" in err["message"]

    _run(go())


def test_end_user_key_streams_on_its_builders_tier_and_stops_when_deactivated(stack, sdk):
    """An end user's own key has no tier of its own (stored as free): on /ws, as on REST, it draws
    from its builder (here the demo builder, scale tier), and a deactivated user cannot stream."""
    user = sdk.builder.users.create(external_id=f"ws-own-key-{time.time_ns()}")
    markets = [m.parsec_id for m in sdk.markets.list(exchanges=["kalshi"], limit=5).markets][:4]

    async def go(expect_ok: bool):
        async with _raw(stack) as ws:
            await ws.send(json.dumps({"type": "auth", "api_key": user.api_key}))
            if not expect_ok:
                assert (await _recv(ws, "auth_error"))["code"] == 1002
                return
            assert (await _recv(ws, "auth_ok"))["customer_id"] == user.customer_id
            await ws.send(json.dumps({"type": "subscribe", "markets": [{"parsec_id": p, "depth": 50} for p in markets]}))
            snaps = [await _recv(ws, "orderbook") for _ in range(4)]  # a free key would be refused the 4th
            assert sorted(s["parsec_id"] for s in snaps) == sorted(markets)

    _run(go(True))
    sdk.builder.users.deactivate(user.customer_id)
    _run(go(False))


def test_ws_usage_reports_live_subscriptions(stack, sdk):
    from parsec_api import ParsecAPI

    key = _key_of_tier("pro")
    client = ParsecAPI(base_url=stack.url, api_key=key, _strict_response_validation=True, max_retries=0)
    markets = [m.parsec_id for m in sdk.markets.list(exchanges=["polymarket"], limit=2).markets]

    async def go():
        async with _raw(stack) as ws:
            await ws.send(json.dumps({"type": "auth", "api_key": key}))
            me = (await _recv(ws, "auth_ok"))["customer_id"]
            await ws.send(json.dumps({"type": "subscribe", "markets": [{"parsec_id": p} for p in markets]}))
            for _ in markets:
                await _recv(ws, "orderbook")
            live = await asyncio.to_thread(client.websocket.usage)
            assert live.customer.customer_id == me
            assert live.customer.active_connections == 1 and live.customer.active_subscriptions == 2
            assert live.totals.subscribe_requests_total == 1
            assert {t.parsec_id for t in live.top_markets} == set(markets)
            assert (await asyncio.to_thread(client.account.usage)).usage.ws_active_subscriptions == 2
        for _ in range(50):  # the server notices the close
            after = await asyncio.to_thread(client.websocket.usage)
            if after.customer.active_connections == 0:
                break
            await asyncio.sleep(0.05)
        assert after.customer.active_subscriptions == 0 and after.customer.connections_closed_total == 1
        assert after.customer.messages_sent_total >= 3 and after.customer.bytes_sent_total > 0

    _run(go())


def test_heartbeats_after_auth(stack, monkeypatch):
    monkeypatch.setenv("PMROUTER_STREAM_HEARTBEAT_SECONDS", "0.2")

    async def go():
        async with _raw(stack) as ws:
            await ws.send(json.dumps({"type": "auth", "api_key": stack.api_key}))
            await _recv(ws, "auth_ok")
            beat = await _recv(ws, "heartbeat", timeout=5)  # from auth on, not after the auth window
            assert abs(beat["ts_ms"] - time.time() * 1000) < 5000

    _run(go())


def test_user_channels_close_with_the_customers_last_connection(stack, sdk):
    from pmrouter.stream import asgi

    m = _market(sdk, "kalshi")

    async def go():
        first, second = await _connect(sdk, m.parsec_id), await _connect(sdk)
        feed = asgi.get_hub().feeds["kalshi"]
        assert stack.customer_id in feed.user_tasks
        await first.ws.close()
        await asyncio.sleep(0.3)
        assert stack.customer_id in feed.user_tasks, "another connection of the customer still streams"
        await second.ws.close()
        await first.wait(lambda: stack.customer_id not in feed.user_tasks)

    _run(go())
