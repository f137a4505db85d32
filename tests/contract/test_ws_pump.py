"""The deployed fan-out: two pump instances hand over while a client is subscribed. The client
(driven through the stream function, as API Gateway would) must see one continuous sequence from
each pump, nothing from the old one after the hand-over, and `resync_required` as the only sign
of it. Real parts: DynamoDB (moto), the sandbox venues' WebSockets, the Management API recorded."""
from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid

import pytest

from pmrouter.stream.messages import server_message


class _Management:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent: list[tuple[str, str, dict]] = []  # (sender, connection, frame)
        self.deleted: list[str] = []
        self.sender = threading.local()

    def post_to_connection(self, ConnectionId, Data):
        msg = json.loads(Data)
        server_message.validate_python(msg)
        with self.lock:
            self.sent.append((getattr(self.sender, "name", "stream"), ConnectionId, msg))

    def delete_connection(self, ConnectionId):
        self.deleted.append(ConnectionId)

    def frames(self, cid, sender=None):
        with self.lock:
            return [m for s, c, m in self.sent if c == cid and (sender is None or s == sender)]


def _start_pump(api, name: str, seconds: float):
    from pmrouter.stream import pump

    p = pump.Pump(api, holder=name)
    result = {}

    def run():
        api.sender.name = name
        # Every thread the pump posts from is named after it: its to_thread workers too.
        loop = asyncio.new_event_loop()
        from concurrent.futures import ThreadPoolExecutor

        loop.set_default_executor(ThreadPoolExecutor(4, initializer=lambda: setattr(api.sender, "name", name)))
        try:
            result["stopped"] = loop.run_until_complete(p.run(seconds))
        finally:
            loop.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return p, t, result


def _wait(pred, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hit = pred()
        if hit:
            return hit
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.fixture()
def fn(stack, monkeypatch):
    from pmrouter.store import stream_connections
    from pmrouter.stream import pump, serverless
    from shared.localstack.stack import load_function

    api = _Management()
    monkeypatch.setattr(serverless, "_management", lambda: api)
    monkeypatch.setattr(pump, "POLL_S", 0.1)
    monkeypatch.setattr(pump, "RENEW_S", 0.3)
    monkeypatch.setattr(pump, "HEARTBEAT_S", 0.5)
    monkeypatch.setattr(pump, "AUTH_TIMEOUT_S", 1.0)
    module = load_function("stream")

    def call(route, cid, body=None):
        return module.handler({"requestContext": {"routeKey": route, "connectionId": cid},
                               "body": json.dumps(body) if body is not None else None}, None)

    call.api = api
    yield call
    stream_connections.drop_lease()


def _seqs(frames):
    return [f["server_seq"] for f in frames if f["type"] in ("orderbook", "orderbook_delta")]


def test_pump_hand_over_is_one_resync_required(fn, stack, sdk):
    m = next(x for x in sdk.markets.list(exchanges=["kalshi"], limit=20).markets if x.market_type == "binary")
    api = fn.api
    a, ta, ra = _start_pump(api, "pump-a", 60)
    _wait(lambda: a.leader)
    cid = str(uuid.uuid4())
    fn("$connect", cid)
    fn("$default", cid, {"type": "auth", "api_key": stack.api_key})
    fn("$default", cid, {"type": "subscribe", "markets": [{"parsec_id": m.parsec_id, "depth": 10}]})
    snap = _wait(lambda: [f for f in api.frames(cid, "pump-a") if f["type"] == "orderbook"])[0]
    assert snap["server_seq"] == 1 and snap["feed_state"] == "healthy"
    assert [f["type"] for f in api.frames(cid, "stream")] == ["auth_ok"], "the pump alone sends book frames"
    price = sdk.orderbook.retrieve(parsec_id=m.parsec_id, limit=5).bids[0][0]
    order = sdk.orders.create(exchange="kalshi", market_id=m.exchange_market_id, outcome="yes", side="buy",
                              price=price, size=4)
    _wait(lambda: [f for f in api.frames(cid, "pump-a") if f["type"] == "orderbook_delta"])

    b, tb, rb = _start_pump(api, "pump-b", 60)
    _wait(lambda: b.leader)
    ta.join(10)
    assert ra["stopped"] == "lease taken over"
    from_a = api.frames(cid, "pump-a")
    required = _wait(lambda: [f for f in api.frames(cid, "pump-b") if f["type"] == "resync_required"])
    assert required[0]["parsec_id"] == m.parsec_id
    fn("$default", cid, {"type": "resync", "parsec_id": m.parsec_id, "outcome": "Yes"})
    snap_b = _wait(lambda: [f for f in api.frames(cid, "pump-b") if f["type"] == "orderbook"])[0]
    sdk.orders.cancel(order.id, exchange="kalshi")
    _wait(lambda: [f for f in api.frames(cid, "pump-b") if f["type"] == "orderbook_delta"])
    assert api.frames(cid, "pump-a") == from_a, "nothing from the old pump after the hand-over"
    for sender in ("pump-a", "pump-b"):
        s = _seqs(api.frames(cid, sender))
        assert s == list(range(s[0], s[0] + len(s))), f"{sender}: {s}"
    assert [f["type"] for f in api.frames(cid, "stream")] == ["auth_ok"], "the resync was not rate limited"
    rest = sdk.orderbook.retrieve(parsec_id=m.parsec_id, limit=10)
    book = {p: s for p, s in snap_b["bids"]}
    for f in api.frames(cid, "pump-b"):
        if f["type"] == "orderbook_delta":
            for c in f["changes"]:
                if c["side"] == "bid":
                    book.pop(c["price"], None) if c["size"] == 0 else book.__setitem__(c["price"], c["size"])
    assert sorted(book.items(), reverse=True) == [tuple(x) for x in rest.bids]
    assert _wait(lambda: [f for f in api.frames(cid, "pump-b") if f["type"] == "heartbeat"])
    silent = str(uuid.uuid4())  # connects and never authenticates: the leader closes it
    fn("$connect", silent)
    err = _wait(lambda: api.frames(silent))
    assert err[0]["type"] == "auth_error" and err[0]["code"] == 1002 and silent in api.deleted
    fn("$disconnect", cid)
    b.stop()
    tb.join(10)
    assert rb["stopped"] == "stopped"
