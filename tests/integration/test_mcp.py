"""The MCP server through the official `mcp` SDK as the client, over both transports, against the
real local stack: the hosted Streamable HTTP endpoint (/mcp on the API's port) and the stdio
command (`pmrouter mcp`, a child process calling the REST API)."""
from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[2]

MARKET = {"list_exchanges", "list_markets", "get_orderbook", "get_execution_price", "get_price", "list_trades",
          "list_events"}
TRADE = {"create_order", "cancel_order", "list_orders", "get_order", "list_positions", "list_fills", "get_balance"}
STREAM = {"connect", "auth", "subscribe", "unsubscribe", "resync", "read", "close"}
ACCOUNT = {"account.ping", "account.get_usage", "account.get_ws_usage", "account.get_user_activity",
           "account.onboard", "wallet.get_state", "wallet.export_key"}
BUILDER = {"create_user", "list_users", "get_user", "update_user", "delete_user", "onboard_user", "get_pool",
           "get_escrow_config"}
CTF = {"split", "merge", "redeem"}
COMPOSITE = {"market.find_market", "market.get_market_snapshot", "trade.preview_order",
             "account.get_trading_setup_status", "stream.open_market_feed"}
EXPECTED = ({f"parsec.market.{n}" for n in MARKET} | {f"parsec.trade.{n}" for n in TRADE}
            | {f"parsec.stream.{n}" for n in STREAM} | {f"parsec.{n}" for n in ACCOUNT}
            | {f"parsec.builder.{n}" for n in BUILDER} | {f"parsec.ctf.{n}" for n in CTF}
            | {f"parsec.{n}" for n in COMPOSITE})
DESTRUCTIVE = {"parsec.trade.create_order", "parsec.trade.cancel_order", "parsec.wallet.export_key",
               "parsec.ctf.split", "parsec.ctf.merge", "parsec.ctf.redeem"}


@asynccontextmanager
async def hosted(stack, key=None):
    http = httpx2.AsyncClient(headers={"X-API-Key": key or stack.api_key}, timeout=60)
    async with http, Client(streamable_http_client(stack.url + "/mcp", http_client=http)) as client:
        yield client


@asynccontextmanager
async def hosted_legacy(stack, key=None):
    """The 2025-11-25 handshake (initialize first), as most desktop agents still speak it."""
    http = httpx2.AsyncClient(headers={"X-API-Key": key or stack.api_key}, timeout=60)
    async with http, Client(streamable_http_client(stack.url + "/mcp", http_client=http), mode="legacy") as client:
        assert client.protocol_version == "2025-11-25"
        yield client


@asynccontextmanager
async def stdio(stack, **env):
    wrapper = ROOT / ".venv" / "bin" / "pmrouter"  # what the README's client configuration starts
    command, args = (str(wrapper), ["mcp"]) if wrapper.exists() else (sys.executable, ["-m", "pmrouter.cli", "mcp"])
    params = StdioServerParameters(
        command=command, args=args, cwd=str(ROOT),
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'layers/core'}:{ROOT}", "PMROUTER_API_URL": stack.url,
             "PMROUTER_API_KEY": stack.api_key, **env})
    async with Client(params, read_timeout_seconds=60) as client:
        yield client


TRANSPORTS = {"hosted": hosted, "hosted-legacy": hosted_legacy, "stdio": stdio}


def run(coro):
    return asyncio.run(coro)


def body(result) -> object:
    assert result.content, result
    return json.loads(result.content[0].text)


async def call(client, name, **args):
    result = await client.call_tool(name, args)
    return result, body(result)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_lists_every_documented_tool_with_safety_annotations(stack, transport):
    async def go():
        async with TRANSPORTS[transport](stack) as client:
            return (await client.list_tools()).tools

    tools = {t.name: t for t in run(go())}
    assert set(tools) == EXPECTED and len(EXPECTED) == 44
    for name, tool in tools.items():
        ann = tool.annotations
        assert ann is not None and ann.destructive_hint == (name in DESTRUCTIVE), name
        if name not in DESTRUCTIVE and name.split(".")[1] in ("market", "stream"):
            assert ann.read_only_hint is True, name
    # Schemas are the REST operation's: POST /orders' body fields, its query and the agent's headers.
    order = tools["parsec.trade.create_order"].input_schema
    assert {"exchange", "market_id", "outcome", "side", "price", "size", "params", "idempotency_key"} <= set(
        order["properties"])
    assert set(order["required"]) == {"market_id", "outcome", "side", "price", "size"}
    assert order["properties"]["side"]["enum"] == ["buy", "sell"]
    assert "X-API-Key" not in json.dumps(order) and "credentials" not in tools["parsec.trade.preview_order"].input_schema[
        "properties"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_agent_session_find_snapshot_preview_place_list_cancel(stack, api, resting, transport):
    m, order = resting.body("kalshi")

    async def go():
        async with TRANSPORTS[transport](stack) as client:
            res, found = await call(client, "parsec.market.find_market", search=m["question"], exchanges="kalshi")
            assert not res.is_error, found
            assert m["parsec_id"] in [x["parsec_id"] for x in found["markets"]]

            res, snap = await call(client, "parsec.market.get_market_snapshot", parsec_id=m["parsec_id"], limit=5)
            assert not res.is_error, snap
            assert snap["market"]["parsec_id"] == m["parsec_id"] and snap["orderbook"]["bids"]

            before = resting.open_ids("kalshi", m["exchange_market_id"])
            res, pre = await call(client, "parsec.trade.preview_order", exchange="kalshi", **order)
            assert not res.is_error and pre["valid"] is True, pre
            assert pre["sent"] is False and pre["pricing"]["marketable"] is False
            assert pre["pricing"]["rests"] == order["size"] and pre["balance"]["available"] >= pre["balance"]["required"]
            assert resting.open_ids("kalshi", m["exchange_market_id"]) == before  # preview sent nothing

            res, placed = await call(client, "parsec.trade.create_order", exchange="kalshi", **order)
            assert not res.is_error, placed
            assert placed["status"] == "open" and res.meta["idempotency_key"].startswith("mcp-")

            res, listed = await call(client, "parsec.trade.list_orders", exchange="kalshi",
                                     market_id=m["exchange_market_id"])
            assert placed["id"] in [o["id"] for o in listed]

            res, cancelled = await call(client, "parsec.trade.cancel_order", exchange="kalshi", order_id=placed["id"])
            assert not res.is_error and cancelled["status"] == "cancelled", cancelled
            assert placed["id"] not in resting.open_ids("kalshi", m["exchange_market_id"])

    run(go())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_export_key_is_refused_unless_the_operator_enables_it(stack, transport):
    async def go():
        async with TRANSPORTS[transport](stack) as client:
            return await call(client, "parsec.wallet.export_key")

    res, out = run(go())
    assert res.is_error and out["code"] == "forbidden" and "PMROUTER_MCP_ALLOW_KEY_EXPORT" in out["error"]
    assert "private_key" not in json.dumps(out)


def test_export_key_when_enabled_is_the_api_route(stack, api):
    """With the switch on, the tool is the REST route: the same answer as POST /wallet/export-key
    (the demo account self-custodies, so the route itself declines; no MCP refusal)."""
    async def go():
        async with stdio(stack, PMROUTER_MCP_ALLOW_KEY_EXPORT="true") as client:
            return await call(client, "parsec.wallet.export_key")

    res, out = run(go())
    direct = api.post("/wallet/export-key", json={})
    assert res.is_error == (direct.status_code >= 400)
    assert "PMROUTER_MCP_ALLOW_KEY_EXPORT" not in out.get("error", "")
    assert out.get("code") == direct.json().get("code")


def test_a_retried_agent_order_is_placed_once(stack, resting):
    m, order = resting.body("kalshi", price_offset=4)

    async def go():
        async with hosted(stack) as client:
            first = await call(client, "parsec.trade.create_order", exchange="kalshi", idempotency_key="agent-retry-1",
                               **order)
            again = await call(client, "parsec.trade.create_order", exchange="kalshi", idempotency_key="agent-retry-1",
                               **order)
            return first, again

    (r1, o1), (r2, o2) = run(go())
    assert not r1.is_error and not r2.is_error and o1["id"] == o2["id"]
    assert resting.open_ids("kalshi", m["exchange_market_id"]).count(o1["id"]) == 1
    resting.api.delete(f"/orders/{o1['id']}", params={"exchange": "kalshi"})


def test_preview_reports_every_problem_and_sends_nothing(stack, resting):
    m, order = resting.body("kalshi")
    bad = {**order, "price": order["price"] + 0.003, "size": 10_000_000, "params": {"order_type": "market"}}

    async def go():
        async with hosted(stack) as client:
            return await call(client, "parsec.trade.preview_order", exchange="kalshi", **bad)

    before = resting.open_ids("kalshi", m["exchange_market_id"])
    res, pre = run(go())
    assert not res.is_error and pre["valid"] is False and pre["sent"] is False
    text = " | ".join(pre["problems"])
    assert "order_type" in text and "tick" in text and "insufficient funds" in text
    assert resting.open_ids("kalshi", m["exchange_market_id"]) == before


def test_preview_of_a_sell_checks_the_position(stack, resting):
    m, order = resting.body("kalshi")

    async def go():
        async with hosted(stack) as client:
            return await call(client, "parsec.trade.preview_order", exchange="kalshi",
                              **{**order, "side": "sell", "outcome": "no", "size": 1_000_000})

    res, pre = run(go())
    assert pre["valid"] is False and pre["position"]["required"] == 1_000_000
    assert any("insufficient position" in p for p in pre["problems"])


def test_hosted_endpoint_requires_an_api_key(stack):
    msg = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
    for key in (None, "pk_live_not_a_real_key_000000000000"):
        h = {**headers, **({"X-API-Key": key} if key else {})}
        r = httpx.post(stack.url + "/mcp", json=msg, headers=h, timeout=30)
        assert r.status_code == 401 and r.json()["code"] == "unauthorized", r.text


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_stream_tools_read_books_from_the_ws_endpoint(stack, resting, transport):
    m, _ = resting.market("kalshi")

    async def go():
        async with TRANSPORTS[transport](stack) as client:
            res, feed = await call(client, "parsec.stream.open_market_feed",
                                   markets=[{"parsec_id": m["parsec_id"], "depth": 3}])
            assert not res.is_error, feed
            res, again = await call(client, "parsec.stream.read", stream_id=feed["stream_id"])
            res2, gone = await call(client, "parsec.stream.unsubscribe", stream_id=again["stream_id"],
                                    markets=[{"parsec_id": m["parsec_id"]}])
            res3, empty = await call(client, "parsec.stream.read", stream_id=gone["stream_id"])
            res4, bogus = await call(client, "parsec.stream.read", stream_id="st_not-a-token")
            return feed, again, gone, (res3, empty), (res4, bogus)

    feed, again, gone, (res3, empty), (res4, bogus) = run(go())
    for read in (feed, again):
        assert read["source"] == "ws", read
        (frame,) = read["messages"]
        assert frame["type"] == "orderbook" and frame["kind"] == "snapshot" and frame["parsec_id"] == m["parsec_id"]
        assert frame["bids"] and len(frame["bids"]) <= 3 and frame["server_seq"] >= 1
    assert gone["subscriptions"] == []
    assert res3.is_error and empty["code"] == "validation_error"
    assert res4.is_error and bogus["code"] == "validation_error"


def test_stream_tools_fall_back_to_the_rest_book_when_ws_is_unreachable(stack, resting):
    m, _ = resting.market("kalshi")

    async def go():
        async with stdio(stack, PMROUTER_WS_URL="ws://127.0.0.1:9/ws") as client:
            return await call(client, "parsec.stream.open_market_feed", markets=[{"parsec_id": m["parsec_id"]}])

    res, feed = run(go())
    assert not res.is_error and feed["source"] == "polling" and "/ws unavailable" in feed["notes"][0]
    (frame,) = feed["messages"]
    assert frame["type"] == "orderbook" and frame["feed_state"] == "polling" and frame["bids"]


def test_concurrent_duplicates_of_an_agent_order_place_one(stack, resting):
    m, order = resting.body("kalshi", price_offset=5)

    async def go():
        async with hosted(stack) as client:
            return await asyncio.gather(*(call(client, "parsec.trade.create_order", exchange="kalshi",
                                               idempotency_key="agent-concurrent-1", **order) for _ in range(4)))

    results = run(go())
    ids = {o["id"] for r, o in results if not r.is_error}
    assert len(ids) == 1, results
    assert resting.open_ids("kalshi", m["exchange_market_id"]).count(ids.pop()) == 1


def _rpc(http, key, method, params, rid=1):
    return http.post("/mcp", json={"jsonrpc": "2.0", "id": rid, "method": method, "params": params},
                     headers={"X-API-Key": key, "Accept": "application/json, text/event-stream",
                              "MCP-Protocol-Version": "2025-11-25"})


def test_hosted_calls_are_rate_limited_like_the_rest_api(stack):
    """A free key (5 requests a second): tool calls spend the tokens of the API calls they make
    and come back with the API's own 429 body; protocol messages spend one each and are answered
    429 at the endpoint."""
    from pmrouter.auth.apikeys import new_api_key, store_key
    from pmrouter.store.accounts import create_account
    from pmrouter.usage import limits

    account = create_account("trader", "free")
    key = new_api_key()
    store_key(key, account["customer_id"], "trader", "free")
    http = httpx.Client(base_url=stack.url, timeout=30)  # kept alive: a request takes milliseconds
    _rpc(http, stack.api_key, "tools/list", {})  # the tool list is built once per process
    limits.limiter.reset()
    outcomes = []
    for i in range(15):
        r = _rpc(http, key, "tools/call", {"name": "parsec.market.list_exchanges", "arguments": {}}, i)
        assert r.status_code == 200, r.text
        result = r.json()["result"]
        outcomes.append(json.loads(result["content"][0]["text"]) if result.get("isError") else "ok")
        if result.get("isError"):
            break
    assert outcomes[:5] == ["ok"] * 5
    assert outcomes[-1] == {"error": "rate limit exceeded", "code": "rate_limit_exceeded", "retryable": True,
                            "tier": "free", "limit_qps": 5}
    # A token may come back (5 a second) between two messages; a few quick ones cannot all get one.
    listed = next((r for r in (_rpc(http, key, "tools/list", {}) for _ in range(5)) if r.status_code != 200), None)
    assert listed is not None and listed.status_code == 429 and listed.json()["code"] == "rate_limit_exceeded"
    assert int(listed.headers["Retry-After"]) >= 1


def test_lambda_handler_answers_mcp_messages_statelessly(stack):
    """functions/mcp as Lambda runs it (Mangum, API Gateway HTTP API v2 events in events/mcp/):
    every message is complete in one invocation, with JSON (not SSE) bodies."""
    import importlib

    from shared.localstack.stack import load_function

    events = ROOT / "events" / "mcp"
    fn = load_function("mcp")
    importlib.import_module("asyncio").set_event_loop(asyncio.new_event_loop())

    def invoke(name, key):
        event = json.loads((events / name).read_text().replace("REPLACE_WITH_API_KEY", key))
        return fn.handler(event, None)

    listed = invoke("post_tools_list.json", stack.api_key)
    assert listed["statusCode"] == 200 and listed["headers"]["content-type"].startswith("application/json")
    assert len(json.loads(listed["body"])["result"]["tools"]) == 44
    called = invoke("post_tools_call.json", stack.api_key)
    result = json.loads(called["body"])["result"]
    assert called["statusCode"] == 200 and not result.get("isError"), result
    assert result["structuredContent"]["scope"] == "list"
    denied = invoke("post_tools_list.json", "pk_live_" + "0" * 32)
    assert denied["statusCode"] == 401 and json.loads(denied["body"])["code"] == "unauthorized"


def test_preview_checks_fee_escrow_terms_with_the_order_paths_verifier(stack, api, resting):
    """A builder's fee authorization: a payer's valid EIP-712 signature passes, a forged one, a fee
    below the minimum or a passed deadline is named, and nothing is held or sent."""
    import time

    from eth_account import Account
    from eth_account.messages import encode_typed_data

    from pmrouter.escrow import authorization
    from pmrouter.escrow.config import EscrowConfig

    m, order = resting.body("polymarket")
    terms = api.get("/builder/escrow/config").json()
    cfg = EscrowConfig(terms["escrow_contract_address"], terms["treasury_address"], int(terms["min_fee_usdc"]),
                       terms["min_fee_bps"])
    payer = Account.create()
    fee = authorization.minimum_fee(cfg, order["price"], order["size"])

    def auth(signer=payer, amount=fee, deadline=None):
        deadline = deadline or int(time.time()) + 3600
        oid = "0x" + os.urandom(32).hex()
        msg = encode_typed_data(full_message=authorization.typed_data(cfg, oid, payer.address, amount, deadline))
        sig = signer.sign_message(msg).signature.hex()
        return {"order_id": oid, "payer": payer.address, "fee_amount": str(amount), "deadline": deadline,
                "signature": sig if sig.startswith("0x") else "0x" + sig}

    cases = {"valid": auth(), "forged": auth(signer=Account.create()), "low": auth(amount=fee - 1),
             "late": auth(deadline=int(time.time()) - 5)}

    async def go():
        async with hosted(stack) as client:
            out = {}
            for name, fa in cases.items():
                out[name] = (await call(client, "parsec.trade.preview_order", exchange="polymarket", fee_auth=fa,
                                        payer_address=payer.address, affiliate=payer.address, **order))[1]
            return out

    before = resting.open_ids("polymarket", m["exchange_market_id"])
    out = run(go())
    fee_problems = {k: [p for p in v["problems"] if "fee" in p] for k, v in out.items()}
    if not terms["fee_escrow_enabled"]:
        assert all("not available" in " ".join(p) for p in fee_problems.values())
    else:
        assert fee_problems["valid"] == [] and out["valid"]["fee_escrow"]["fee_base_units"] == fee
        assert "signature" in " ".join(fee_problems["forged"])
        assert "below the minimum" in " ".join(fee_problems["low"])
        assert "deadline" in " ".join(fee_problems["late"])
    assert all(v["sent"] is False for v in out.values())
    assert resting.open_ids("polymarket", m["exchange_market_id"]) == before


def test_tool_calls_that_make_no_api_call_still_cost_a_request(stack):
    """No message is free: a tool that answers without the API (stream.connect, an unknown tool)
    is charged one request at the endpoint."""
    from pmrouter.auth.apikeys import new_api_key, store_key
    from pmrouter.store.accounts import create_account
    from pmrouter.usage import limits

    account = create_account("trader", "free")
    key = new_api_key()
    store_key(key, account["customer_id"], "trader", "free")
    http = httpx.Client(base_url=stack.url, timeout=30)
    _rpc(http, stack.api_key, "tools/list", {})
    limits.limiter.reset()
    started, statuses = time.monotonic(), []
    for i in range(15):
        name = "parsec.stream.connect" if i % 2 else "parsec.no_such_tool"
        statuses.append(_rpc(http, key, "tools/call", {"name": name, "arguments": {}}, i).status_code)
        if statuses[-1] != 200:
            break
    answered = statuses.count(200)
    # Each answered message spent one request of the month (the free tier leases one token at a time),
    # whatever the machine's speed; a free message would leave the counter behind.
    assert limits.monthly_used(account["customer_id"]) == answered >= 5, statuses
    # On a loaded machine tokens refill while the calls are made (5 a second): count what the clock allows.
    assert answered <= 5 + 1 + 5 * (time.monotonic() - started), statuses
    assert statuses[-1] == 429 or len(statuses) == 15, statuses


def test_builder_tools_manage_end_users_and_act_for_them(stack):
    import uuid

    async def go():
        async with hosted(stack) as client:
            res, user = await call(client, "parsec.builder.create_user", external_id=f"agent-{uuid.uuid4().hex[:8]}")
            assert not res.is_error, user
            uid = user["customer_id"]
            _, got = await call(client, "parsec.builder.get_user", customer_id=uid)
            _, changed = await call(client, "parsec.builder.update_user", customer_id=uid, qps_limit=3)
            _, listed = await call(client, "parsec.builder.list_users", limit=100)
            # acting for the end user: its own (empty) trading setup, not the builder's
            _, pings = await call(client, "parsec.account.ping", builder_customer_id=uid)
            _, gone = await call(client, "parsec.builder.delete_user", customer_id=uid)
            res2, after = await call(client, "parsec.account.ping", builder_customer_id=uid)
            return uid, got, changed, listed, pings, (res2, after)

    uid, got, changed, listed, pings, (res2, after) = run(go())
    assert got["customer_id"] == uid and changed["qps_limit"] == 3
    assert uid in [u["customer_id"] for u in listed["users"]]
    assert pings and not any(p["has_credentials"] for p in pings)
    assert res2.is_error and after["code"] == "forbidden"
