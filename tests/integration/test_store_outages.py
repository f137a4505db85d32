"""DynamoDB throttled or unreachable: before the venue sees an order the caller gets a retryable 503
and the venue nothing; after the venue has answered the caller gets the venue's answer and the
record is settled by reconciliation. Never a 500, never an order lost or sent twice."""
from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from pmrouter.settings import get_settings
from pmrouter.store import orders as orders_store
from shared.localstack.stack import load_function

THROTTLED = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
                         "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutItem")


def _record(customer_id, order_id):
    table = boto3.resource("dynamodb").Table(get_settings().orders_table)
    items = table.query(IndexName="by-venue-order",
                        KeyConditionExpression=boto3.dynamodb.conditions.Key("venue_key").eq(order_id))["Items"]
    return [i for i in items if i["customer_id"] == customer_id]


@pytest.mark.parametrize("exchange,error", [("polymarket", THROTTLED), ("kalshi", EndpointConnectionError(endpoint_url="x")),
                                            ("limitless", THROTTLED), ("opinion", THROTTLED), ("predictfun", THROTTLED)])
def test_store_down_before_the_send_is_a_retryable_503_and_sends_nothing(api, resting, exchange, error, monkeypatch):
    m, body = resting.body(exchange, price_offset=8)
    before = resting.open_ids(exchange, m["exchange_market_id"])

    def claim(record):
        raise error

    monkeypatch.setattr(orders_store, "claim", claim)
    r = api.post("/orders", params={"exchange": exchange}, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 503, r.text
    assert r.json() == {"error": "pmrouter's storage is temporarily unavailable; retry shortly",
                        "code": "service_unavailable", "retryable": True}
    assert r.headers["retry-after"] == "1"
    monkeypatch.undo()
    assert resting.open_ids(exchange, m["exchange_market_id"]) == before


# Not Opinion: its order rows cannot identify an order whose answer was not recorded, so such an order
# stays pending (test_orders_exactly_once.test_opinion_lost_response_stays_pending_and_is_never_resent).
@pytest.mark.parametrize("exchange", ["polymarket", "kalshi", "limitless", "predictfun"])
def test_store_down_after_the_venue_answered_returns_the_answer_and_reconciles(api, stack, resting, exchange,
                                                                             monkeypatch):
    m, body = resting.body(exchange, price_offset=9)
    before = resting.open_ids(exchange, m["exchange_market_id"])
    failed = []

    def update_state(record, **change):
        failed.append(change["status"])
        raise THROTTLED

    monkeypatch.setattr(orders_store, "update_state", update_state)
    key = str(uuid.uuid4())
    r = api.post("/orders", params={"exchange": exchange}, json=body, headers={"Idempotency-Key": key})
    monkeypatch.undo()
    assert r.status_code == 200, r.text
    order = r.json()
    assert order["status"] == "open" and failed == ["open"]
    after = resting.open_ids(exchange, m["exchange_market_id"])
    assert order["id"] in after and len(after) == len(before) + 1
    if exchange in ("polymarket", "predictfun"):  # the venue id (the order hash) was already in the claim
        assert _record(stack.customer_id, f"{exchange}#{order['id']}")[0]["status"] == "pending"
    report = load_function("reconcile_fills").handler({}, None)
    assert report["outcomes"].get("open", 0) >= 1
    rec = _record(stack.customer_id, f"{exchange}#{order['id']}")
    assert rec and rec[0]["status"] == "open"
    # A retry with the key answers from the record: still one order at the venue.
    again = api.post("/orders", params={"exchange": exchange}, json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 200 and again.json()["id"] == order["id"]
    assert len(resting.open_ids(exchange, m["exchange_market_id"])) == len(before) + 1
