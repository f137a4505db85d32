"""Each function's Lambda handler, invoked the way Lambda does, with the payloads in events/."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from shared.localstack.stack import load_function

EVENTS = Path(__file__).resolve().parents[2] / "events"


class FakeContext:
    function_name = "pmrouter-test"
    aws_request_id = "test-request"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:pmrouter-test"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000


@pytest.fixture(autouse=True)
def event_loop_like_lambda():
    """A Lambda process has a current event loop for Mangum; other tests in this worker may have
    closed the main thread's one with asyncio.run()."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    loop.close()


def _event(name: str, api_key: str | None = None) -> dict:
    text = (EVENTS / name).read_text()
    if api_key:
        text = text.replace("REPLACE_WITH_API_KEY", api_key)
    return json.loads(text)


def test_markets_handler_serves_exchanges(stack):
    fn = load_function("markets")
    resp = fn.handler(_event("markets/get_exchanges.json", stack.api_key), FakeContext())
    assert resp["statusCode"] == 200
    body = json.loads(resp["body"])
    assert {e["id"] for e in body} == {"polymarket", "kalshi", "limitless", "opinion", "predictfun"}


def test_markets_handler_search_and_auth(stack):
    fn = load_function("markets")
    resp = fn.handler(_event("markets/get_markets_search.json", stack.api_key), FakeContext())
    assert resp["statusCode"] == 200
    body = json.loads(resp["body"])
    assert body["scope"] == "list" and 0 < len(body["markets"]) <= 5
    denied = fn.handler(_event("markets/get_markets_search.json"), FakeContext())
    assert denied["statusCode"] == 401
    assert json.loads(denied["body"])["code"] == "unauthorized"


def test_catalog_sync_handler_writes_a_snapshot(stack):
    fn = load_function("catalog_sync")
    report = fn.handler(_event("catalog_sync/scheduled.json"), FakeContext())
    assert report["market_count"] >= 200
    assert set(report["venues"]) == {"polymarket", "kalshi", "limitless", "opinion", "predictfun"}


def test_trading_handler_balance(stack):
    fn = load_function("trading")
    resp = fn.handler(_event("trading/get_balance.json", stack.api_key), FakeContext())
    body = json.loads(resp["body"])
    assert resp["statusCode"] == 200, body
    assert isinstance(body["raw"], dict) and body["raw"]


def test_accounts_handler_ping(stack):
    fn = load_function("accounts")
    resp = fn.handler(_event("accounts/get_ping.json", stack.api_key), FakeContext())
    assert resp["statusCode"] == 200
    rows = {r["exchange"]: r for r in json.loads(resp["body"])}
    assert set(rows) == {"polymarket", "kalshi", "limitless", "opinion", "predictfun"}  # every trading venue
    assert all(r["has_credentials"] and r["authenticated"] for r in rows.values()), rows


def test_reconcile_handler_runs(stack):
    fn = load_function("reconcile_fills")
    report = fn.handler(_event("reconcile_fills/scheduled.json"), FakeContext())
    assert {"orders_checked", "outcomes", "fills_recorded"} <= set(report)


def test_builder_handler_pool(stack):
    fn = load_function("builder")
    resp = fn.handler(_event("builder/get_pool.json", stack.api_key), FakeContext())
    assert resp["statusCode"] == 200
    body = json.loads(resp["body"])
    assert body["qps_pool"] == 500 and body["total_allocated_qps"] >= 0


def test_settle_fees_handler_runs(stack):
    fn = load_function("settle_fees")
    report = fn.handler(_event("settle_fees/scheduled.json"), FakeContext())
    assert set(report) == {"settled", "void", "waiting", "errors"}


def test_ctf_handler_split(stack):
    fn = load_function("ctf")
    event = _event("ctf/post_split.json", stack.api_key)
    body = json.loads(event["body"])
    body["condition_id"], _ = stack.chain.prepare_condition()  # a condition the local chain knows
    event["body"] = json.dumps(body)
    resp = fn.handler(event, FakeContext())
    assert resp["statusCode"] == 200, resp["body"]
    assert json.loads(resp["body"])["status"] == "mined"
