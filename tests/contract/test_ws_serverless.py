"""The deployed shape of `/ws`: the stream function behind an API Gateway WebSocket API, its
connection state in DynamoDB (moto, as everywhere), answers through the Management API (recorded
here: API Gateway itself is not emulated)."""
from __future__ import annotations

import json
import uuid

import pytest

from pmrouter.stream.messages import server_message


class _Management:
    def __init__(self):
        self.sent: dict[str, list[dict]] = {}
        self.deleted: list[str] = []

    def post_to_connection(self, ConnectionId, Data):
        msg = json.loads(Data)
        server_message.validate_python(msg)
        self.sent.setdefault(ConnectionId, []).append(msg)

    def delete_connection(self, ConnectionId):
        self.deleted.append(ConnectionId)


@pytest.fixture()
def fn(stack, monkeypatch):
    from pmrouter.stream import serverless
    from shared.localstack.stack import load_function

    api = _Management()
    monkeypatch.setattr(serverless, "_management", lambda: api)
    module = load_function("stream")

    def call(route, cid, body=None, headers=None):
        return module.handler({"requestContext": {"routeKey": route, "connectionId": cid},
                               "body": json.dumps(body) if body is not None else None, "headers": headers or {}}, None)

    call.api = api
    return call


def test_connect_auth_subscribe_resync_disconnect(fn, stack, sdk):
    m = next(x for x in sdk.markets.list(exchanges=["kalshi"], limit=20).markets if x.market_type == "binary")
    cid = str(uuid.uuid4())
    assert fn("$connect", cid)["statusCode"] == 200
    fn("$default", cid, {"type": "subscribe", "markets": [{"parsec_id": m.parsec_id}]})
    fn("$default", cid, {"type": "auth", "api_key": stack.api_key})
    fn("$default", cid, {"type": "subscribe", "markets": [{"parsec_id": m.parsec_id, "depth": 5},
                                                          {"parsec_id": "kalshi:NOPE"}]})
    fn("$default", cid, {"type": "resync", "parsec_id": m.parsec_id, "outcome": "yes"})
    sent = fn.api.sent[cid]
    assert [f["type"] for f in sent] == ["error", "auth_ok", "orderbook", "error", "orderbook"]
    assert sent[0]["code"] == 1001 and sent[3] == {**sent[3], "code": 2002, "parsec_id": "kalshi:NOPE"}
    rest = sdk.orderbook.retrieve(parsec_id=m.parsec_id, limit=5)
    assert sent[2]["bids"] == [list(x) for x in rest.bids] and sent[2]["server_seq"] == 1
    assert sent[4]["server_seq"] == 2 and sent[4]["feed_state"] == "disconnected"
    fn("$disconnect", cid)
    from pmrouter.stream.serverless import TableHub

    assert TableHub(cid).subscriptions_of(stack.customer_id) == 0


def test_auth_window_and_bad_key_close_the_connection(fn, monkeypatch):
    from pmrouter.stream import serverless

    cid = str(uuid.uuid4())
    fn("$connect", cid)
    fn("$default", cid, {"type": "auth", "api_key": "pk_live_wrong"})
    assert fn.api.sent[cid][-1]["code"] == 1002 and cid in fn.api.deleted
    late = str(uuid.uuid4())
    fn("$connect", late)
    monkeypatch.setattr(serverless, "AUTH_TIMEOUT_S", -1)
    fn("$default", late, {"type": "resync", "parsec_id": "kalshi:X"})
    assert fn.api.sent[late][-1]["type"] == "auth_error" and late in fn.api.deleted
