"""Issue 8, item 8: each function's IAM policies against what its code really does. Every function's
own app (or handler) is driven through its main paths while every DynamoDB call it makes is
recorded; each table it touched must be granted to it in template.yaml, writes only with a CRUD
policy. (tests/unit/deploy/test_template.py checks the other direction: no policy on a table the
function's code cannot reach.)"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import uuid
from collections import defaultdict

import httpx
import pytest
from eth_account import Account

from pmrouter.settings import get_settings
from pmrouter.store import dynamo
from shared.localstack.aws import load_template, table_env_vars
from shared.localstack.stack import load_function

TEMPLATE = load_template()
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable", "TransactGetItems"}
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("fn", default=None)
TOUCHED: dict[str, set[tuple[str, str]]] = defaultdict(set)  # function -> {(logical table, "read"|"write")}
KMS_USED: dict[str, set[tuple[str, str]]] = defaultdict(set)  # function -> {("kms:Decrypt", purpose)}


def _logical_by_name() -> dict[str, str]:
    s = get_settings()
    out = {}
    for logical, var in table_env_vars(TEMPLATE).items():
        attr = var.removeprefix("PMROUTER_").lower()
        name = getattr(s, attr, None) or __import__("os").environ.get(var)
        if name:
            out[name] = logical
    return out


def _record(model=None, params=None, **_kw) -> None:
    fn = _current.get()
    if fn is None or model is None:
        return
    names = [params.get("TableName")] if params.get("TableName") else []
    for item in params.get("TransactItems", []):
        names += [op.get("TableName") for op in item.values()]
    names += list(params.get("RequestItems", {}))
    kind = "read" if model.name in READS else "write"
    for name in filter(None, names):
        TOUCHED[fn].add((_logical_by_name().get(name, name), kind))


def _record_kms(model=None, params=None, **_kw) -> None:
    fn = _current.get()
    if fn is not None and model is not None:
        KMS_USED[fn].add((f"kms:{model.name}", str((params.get("EncryptionContext") or {}).get("purpose"))))


def _kms_granted(fn: str) -> set[tuple[str, str]]:
    """(action, purpose) pairs the function's statements allow on direct KMS calls (the ViaService
    statements cover Secrets Manager's own use of the key, not calls of ours)."""
    out = set()
    for res in TEMPLATE["Resources"].values():
        if res.get("Type") == "AWS::Serverless::Function" and res["Properties"]["CodeUri"].endswith("/" + fn):
            for policy in res["Properties"].get("Policies", []):
                for stmt in policy.get("Statement", []) if isinstance(policy, dict) else []:
                    purpose = stmt.get("Condition", {}).get("StringEquals", {}).get("kms:EncryptionContext:purpose")
                    actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
                    out |= {(a, purpose) for a in actions if purpose}
    return out


@pytest.fixture(scope="module", autouse=True)
def recorder(stack):
    for fn in ("markets", "trading", "accounts", "builder", "ctf", "reconcile_fills", "settle_fees"):
        load_function(fn)  # first: a function's bootstrap may renew the boto3 handles
    emitters = [dynamo.client("dynamodb").meta.events, dynamo.resource("dynamodb").meta.client.meta.events]
    for events in emitters:
        events.register("before-parameter-build.dynamodb", _record, unique_id="policy-recorder")
    kms_events = dynamo.client("kms").meta.events
    kms_events.register("before-parameter-build.kms", _record_kms, unique_id="policy-recorder-kms")
    yield
    for events in emitters:
        events.unregister("before-parameter-build.dynamodb", unique_id="policy-recorder")
    kms_events.unregister("before-parameter-build.kms", unique_id="policy-recorder-kms")


@contextlib.contextmanager
def acting_as(fn: str):
    token = _current.set(fn)
    try:
        yield
    finally:
        _current.reset(token)


def _granted(fn: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for res in TEMPLATE["Resources"].values():
        if res.get("Type") == "AWS::Serverless::Function" and res["Properties"]["CodeUri"].endswith("/" + fn):
            for policy in res["Properties"].get("Policies", []):
                for kind, body in (policy.items() if isinstance(policy, dict) else []):
                    if kind in ("DynamoDBCrudPolicy", "DynamoDBReadPolicy"):
                        level = "write" if kind == "DynamoDBCrudPolicy" else "read"
                        table = body["TableName"]["Args"]
                        out[table] = "write" if "write" in (level, out.get(table)) else "read"
    return out


async def _drive(fn: str, key: str, requests: list[tuple[str, str, dict]]) -> list[httpx.Response]:
    app = load_function(fn).app
    out = []
    with acting_as(fn):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lambda/api/v1",
                                     headers={"X-API-Key": key}, timeout=60) as c:
            for method, url, kw in requests:
                out.append(await c.request(method, url, **kw))
    return out


def _market(api, exchange: str) -> dict:
    return next(m for m in api.get("/markets", params={"exchanges": exchange, "limit": 50}).json()["markets"]
                if m["status"] == "active" and m["market_type"] == "binary")


def test_every_table_a_function_touches_is_granted(stack, api, monkeypatch):
    # As deployed: the sandbox ledgers (which move no money and write where no deployment would)
    # are selected only by PMROUTER_SANDBOX_CHAIN=1; the stack's local EVM stands in for the chain.
    monkeypatch.delenv("PMROUTER_SANDBOX_CHAIN", raising=False)
    key = stack.api_key
    pm = _market(api, "polymarket")
    order = {"market_id": pm["exchange_market_id"], "outcome": "yes", "side": "buy", "price": 0.02, "size": 10}
    ext = f"policy-{uuid.uuid4().hex[:8]}"
    user = api.post("/builder/users", json={"external_id": ext}).json()
    as_user = {"headers": {"X-Builder-Customer-Id": user["customer_id"]}}

    run = asyncio.run
    run(_drive("markets", key, [("GET", "/exchanges", {}), ("GET", "/markets", {"params": {"limit": 2}}),
                                ("GET", "/orderbook", {"params": {"parsec_id": pm["parsec_id"], "limit": 3}})]))
    run(_drive("markets", user["api_key"], [("GET", "/exchanges", {})]))  # an end user's own key
    run(_drive("builder", key, [
        ("GET", "/builder/pool", {}), ("PATCH", f"/builder/users/{user['customer_id']}", {"json": {"qps_limit": 6}}),
        ("POST", "/builder/onboard", {"json": {"customer_id": user["customer_id"], "exchange": "polymarket",
                                               "mode": "self", "private_key": "0x" + bytes(Account.create().key).hex()}}),
        ("GET", "/builder/escrow/config", {})]))
    placed = run(_drive("trading", key, [("POST", "/orders", {"params": {"exchange": "polymarket"}, "json": order,
                                                               **as_user})]))[0]
    assert placed.status_code == 200, placed.text
    run(_drive("trading", key, [
        ("GET", "/orders", {"params": {"exchange": "polymarket"}, **as_user}),
        ("GET", f"/orders/{placed.json()['id']}", {"params": {"exchange": "polymarket"}, **as_user}),
        ("GET", "/fills", {"params": {"exchange": "polymarket"}, **as_user}),
        ("GET", "/balance", {"params": {"exchange": "polymarket"}, **as_user})]))
    run(_drive("accounts", key, [("GET", "/ping", {}), ("GET", "/usage", {}), ("GET", "/wallet", as_user)]))
    run(_drive("ctf", key, [("POST", "/polymarket/ctf/split",
                             {"json": {"condition_id": "0x" + "ab" * 32, "amount": "1000000"}, **as_user})]))
    # deactivation cancels the user's open order through the ordinary cancel path
    gone = run(_drive("builder", key, [("DELETE", f"/builder/users/{user['customer_id']}", {})]))[0]
    assert gone.status_code == 204, gone.text
    for fn in ("reconcile_fills", "settle_fees"):
        with acting_as(fn):
            load_function(fn).handler({}, None)

    problems = []
    for fn, touched in sorted(TOUCHED.items()):
        granted = _granted(fn)
        for table, kind in sorted(touched):
            if table not in granted or (kind == "write" and granted[table] != "write"):
                problems.append(f"{fn} {kind}s {table} but is granted {granted.get(table, 'nothing')}")
    for fn, used in sorted(KMS_USED.items()):
        problems += [f"{fn} calls {action} for purpose {purpose} without a statement allowing it"
                     for action, purpose in sorted(used - _kms_granted(fn))]
    assert {"markets", "builder", "trading", "accounts", "reconcile_fills", "settle_fees"} <= set(TOUCHED)
    assert ("kms:GenerateDataKey", "exchange-credentials") in KMS_USED["builder"], KMS_USED  # onboarding seals
    assert not problems, "\n".join(problems)
