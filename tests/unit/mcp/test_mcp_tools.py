"""The MCP tool set without a stack: schemas are the REST API's (derived, not restated), calls split
into path/query/headers/body as the API expects them, annotations mark what moves money, and the
safety rules hold before anything reaches the API."""
from __future__ import annotations

import asyncio
import json

import pytest

from pmrouter.contract.trading import CreateOrderRequest
from pmrouter.mcp import streams
from pmrouter.mcp.api import Api, Reply
from pmrouter.mcp.preview import walk_limit
from pmrouter.mcp.rest import openapi
from pmrouter.mcp.schema import HEADER_ARGS, operation
from pmrouter.mcp.server import dispatch, tool_list
from pmrouter.mcp.tools import PLAIN, Context, ToolDef, all_tools


class RecordingApi(Api):
    def __init__(self, reply: Reply | None = None):
        self.calls: list[tuple] = []
        self.reply = reply or Reply(200, {"ok": True})

    async def call(self, method, path, *, query=None, headers=None, body=None):
        self.calls.append((method, path, query, headers, body))
        return self.reply


def test_44_tools_and_each_plain_tool_takes_exactly_its_operations_inputs():
    assert len(all_tools()) == 44
    spec = openapi()
    for tool in PLAIN:
        method, path = tool.operation
        op = spec["paths"]["/api/v1" + path][method.lower()]
        expected = {HEADER_ARGS.get(p["name"], p["name"]) for p in op.get("parameters", ())
                    if p["in"] != "header" or p["name"] in HEADER_ARGS}
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        ref = body.get("$ref") or next((o["$ref"] for o in body.get("anyOf", ()) if "$ref" in o), None)
        if ref:
            expected |= set(spec["components"]["schemas"][ref.split("/")[-1]]["properties"])
        assert set(tool.schema()["properties"]) == expected, tool.name


def test_create_order_schema_is_the_contract_model():
    schema = operation("POST", "/orders").input_schema()
    body_fields = {a.name for a in operation("POST", "/orders").args if a.where == "body"}
    assert body_fields == set(CreateOrderRequest.model_fields)
    assert schema["properties"]["side"]["enum"] == ["buy", "sell"]
    assert schema["properties"]["market_id"]["minLength"] == 1
    assert "FeeAuthorization" in schema["$defs"] and "X-Exchange-Credentials" not in json.dumps(schema)


def test_split_puts_each_argument_where_the_api_reads_it():
    url, query, headers, body = operation("DELETE", "/orders/{order_id}").split(
        {"order_id": "a/b?c", "exchange": "kalshi", "builder_customer_id": "u1"})
    assert url == "/orders/a%2Fb%3Fc" and query == {"exchange": "kalshi"}
    assert headers == {"X-Builder-Customer-Id": "u1"} and body is None
    url, query, headers, body = operation("POST", "/orders").split(
        {"exchange": "kalshi", "market_id": "M", "outcome": "yes", "side": "buy", "price": 0.1, "size": 2,
         "idempotency_key": "k1", "params": {"order_type": "gtc"}})
    assert (url, query, headers) == ("/orders", {"exchange": "kalshi"}, {"Idempotency-Key": "k1"})
    assert body == {"market_id": "M", "outcome": "yes", "side": "buy", "price": 0.1, "size": 2,
                    "params": {"order_type": "gtc"}}


def test_annotations_mark_what_moves_money_or_secrets():
    tools = {t.name: t for t in tool_list()}
    destructive = {n for n, t in tools.items() if t.annotations.destructive_hint}
    assert destructive == {"parsec.trade.create_order", "parsec.trade.cancel_order", "parsec.wallet.export_key",
                           "parsec.ctf.split", "parsec.ctf.merge", "parsec.ctf.redeem"}
    for tool in PLAIN:
        if tool.operation[0] == "GET":
            assert tools[tool.name].annotations.read_only_hint is True, tool.name
        else:
            assert tools[tool.name].annotations.read_only_hint is False, tool.name
    # MCP reads a missing destructiveHint as true: every tool states it.
    assert all(t.annotations.destructive_hint is not None for t in tools.values())


def _call(api, name, args, **ctx):
    return asyncio.run(dispatch(Context(api, **ctx), name, args))


def test_export_key_never_reaches_the_api_unless_enabled():
    api = RecordingApi(Reply(200, {"private_key": "0x" + "ab" * 32}))
    result = _call(api, "parsec.wallet.export_key", {})
    assert result.is_error and api.calls == []
    assert json.loads(result.content[0].text)["code"] == "forbidden"
    result = _call(api, "parsec.wallet.export_key", {}, allow_key_export=True)
    assert not result.is_error and api.calls[0][:2] == ("POST", "/wallet/export-key")


def test_an_agent_order_always_carries_an_idempotency_key():
    api = RecordingApi(Reply(200, {"id": "o1"}))
    args = {"exchange": "kalshi", "market_id": "M", "outcome": "yes", "side": "buy", "price": 0.1, "size": 1}
    first = _call(api, "parsec.trade.create_order", args)
    generated = api.calls[0][3]["Idempotency-Key"]
    assert generated.startswith("mcp-") and first.meta["idempotency_key"] == generated
    assert generated in first.content[1].text
    _call(api, "parsec.trade.create_order", {**args, "idempotency_key": "mine-1"})
    assert api.calls[1][3]["Idempotency-Key"] == "mine-1"
    _call(api, "parsec.trade.create_order", args)
    assert api.calls[2][3]["Idempotency-Key"] != generated  # a new order without a key is a new order


def test_api_errors_come_back_as_the_contracts_body_and_bugs_as_internal_error(monkeypatch):
    api = RecordingApi(Reply(404, {"error": "order x not found", "code": "order_not_found", "retryable": False}))
    result = _call(api, "parsec.trade.get_order", {"order_id": "x", "exchange": "kalshi"})
    assert result.is_error and result.structured_content["code"] == "order_not_found"
    unknown = _call(api, "parsec.nope", {})
    assert unknown.is_error and json.loads(unknown.content[0].text)["code"] == "not_found"

    async def boom(ctx, args):
        raise RuntimeError("secret-ish detail")

    tools = dict(all_tools())
    monkeypatch.setitem(tools, "parsec.market.list_exchanges",
                        ToolDef("parsec.market.list_exchanges", "", "read", dict, boom))
    monkeypatch.setattr("pmrouter.mcp.server.all_tools", lambda: tools)
    result = _call(api, "parsec.market.list_exchanges", {})
    assert result.is_error and "secret-ish" not in result.content[0].text
    assert json.loads(result.content[0].text)["code"] == "internal_error"


def test_stream_tokens_round_trip_and_refuse_forgeries():
    token = streams.encode({"v": 1, "subs": [{"parsec_id": "kalshi:X"}], "seq": 3})
    assert streams.decode(token)["seq"] == 3
    for bad in ("", "abc", "st_!!!", streams.encode({"v": 1, "subs": [], "closed": True}), None,
                streams.encode({"v": 1, "subs": "x"})):
        with pytest.raises(ValueError):
            streams.decode(bad)


def test_subscribing_past_the_cap_is_refused_before_any_read():
    api = RecordingApi()
    token = streams.encode({"v": 1, "subs": [], "seq": 0})
    many = [{"parsec_id": f"kalshi:M{i}"} for i in range(streams.MAX_SUBSCRIPTIONS + 1)]
    result = _call(api, "parsec.stream.subscribe", {"stream_id": token, "markets": many})
    assert result.is_error and api.calls == []


@pytest.mark.parametrize("side,levels,price,size,expect", [
    ("buy", [[0.40, 5], [0.41, 5], [0.45, 10]], 0.41, 8, (8, (5 * 0.40 + 3 * 0.41) / 8)),
    ("buy", [[0.40, 5]], 0.39, 8, (0, None)),
    ("sell", [[0.38, 2], [0.37, 2], [0.30, 50]], 0.37, 10, (4, (2 * 0.38 + 2 * 0.37) / 4)),
])
def test_walk_limit_fills_only_at_the_limit_or_better(side, levels, price, size, expect):
    filled, avg = walk_limit(levels, side, price, size)
    assert filled == expect[0] and (avg == pytest.approx(expect[1]) if expect[1] else avg is None)


def test_the_stack_deploys_export_off_and_points_stream_tools_at_its_ws():
    from shared.localstack.aws import load_template

    tpl = load_template()
    assert tpl["Parameters"]["McpAllowKeyExport"]["Default"] == "false"
    fn = next(r["Properties"] for r in tpl["Resources"].values()
              if r.get("Type") == "AWS::Serverless::Function" and r["Properties"]["CodeUri"] == "functions/mcp")
    env = fn["Environment"]["Variables"]
    assert env["PMROUTER_MCP_ALLOW_KEY_EXPORT"] == {"Fn": "Ref", "Args": "McpAllowKeyExport"} or \
        "McpAllowKeyExport" in json.dumps(env["PMROUTER_MCP_ALLOW_KEY_EXPORT"])
    assert "StreamApi" in json.dumps(env["PMROUTER_WS_URL"]) and "/ws" in json.dumps(env["PMROUTER_WS_URL"])
    events = [e["Properties"] for e in fn["Events"].values()]
    assert [(e["Method"], e["Path"]) for e in events] == [("POST", "/mcp")]


@pytest.mark.parametrize("params", ["zz", ["gtc"], {"order_type": 5}])
def test_preview_names_malformed_params_and_sends_nothing(params):
    from pmrouter.mcp.preview import preview

    api = RecordingApi(Reply(503, {"error": "down", "code": "service_unavailable", "retryable": True}))
    out = asyncio.run(preview(api, {"exchange": "kalshi", "market_id": "M", "outcome": "yes", "side": "buy",
                                    "price": 0.5, "size": 1, "params": params}))
    assert out["valid"] is False and out["sent"] is False
    assert any("params must be an object of strings" in p for p in out["problems"])
    assert all(method == "GET" for method, *_ in api.calls)


def test_preview_picks_outcomes_like_the_order_path():
    from pmrouter.mcp.preview import pick_outcome

    names = ["Yes", "No"]
    assert pick_outcome(names, "yes") == "Yes" and pick_outcome(names, " NO ") == "No"
    assert pick_outcome(names, 1) == "No" and pick_outcome(names, "0") == "Yes"
    assert pick_outcome(names, 7) is None and pick_outcome(names, None) is None and pick_outcome(names, "maybe") is None


@pytest.mark.parametrize("exchange,raw,usd", [
    ("polymarket", {"balance": "2500000", "allowances": {}}, 2.5),
    ("kalshi", {"balance": 1234, "balance_dollars": "12.34"}, 12.34),
    ("kalshi", {"balance": 1234}, 12.34),
    ("opinion", {"balances": [{"availableBalance": "10.5", "totalBalance": "11"}]}, 10.5),
])
def test_balances_are_read_in_each_venues_units(exchange, raw, usd):
    from pmrouter.mcp.preview import BALANCE_READERS

    assert BALANCE_READERS[exchange](raw) == pytest.approx(usd)


def test_a_stream_token_is_held_to_what_subscribe_could_issue():
    too_many = [{"parsec_id": f"kalshi:M{i}"} for i in range(streams.MAX_SUBSCRIPTIONS + 1)]
    for state in ({"v": 1, "subs": too_many, "seq": 0}, {"v": 1, "subs": [{"parsec_id": 5}], "seq": 0},
                  {"v": 1, "subs": [{"parsec_id": "kalshi:X", "api_key": "x"}], "seq": 0},
                  {"v": 1, "subs": [], "seq": "1"}):
        with pytest.raises(ValueError):
            streams.decode(streams.encode(state))
    api = RecordingApi()
    token = streams.encode({"v": 1, "subs": [{"parsec_id": "kalshi:X"}], "seq": 0})
    closed = _call(api, "parsec.stream.close", {"stream_id": token})
    again = _call(api, "parsec.stream.read", {"stream_id": closed.structured_content["stream_id"]})
    assert again.is_error and api.calls == []


def test_stream_auth_passes_the_apis_refusal_through():
    api = RecordingApi(Reply(401, {"error": "invalid API key", "code": "unauthorized", "retryable": False}))
    result = _call(api, "parsec.stream.auth", {})
    assert result.is_error and result.structured_content["code"] == "unauthorized"
