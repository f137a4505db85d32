"""Every route the API serves, fed malformed input, answers with the contract's error body: never a
500, never a traceback, never a half-written order. The routes come from the app's own OpenAPI
document, so a route added later is fuzzed without anyone remembering to."""
from __future__ import annotations

import collections
import json
import re
from urllib.parse import quote

import boto3
import httpx
import pytest

from pmrouter.settings import get_settings

# What schema fuzzers try: empty and blank strings, control and non-ASCII characters, digits of other
# scripts (str.isdigit accepts "²" and "٣", int() refuses or converts them), numbers too big for any
# field or for int() itself, and very long strings.
GARBAGE = ["", " ", "-1", "0", "1e309", "NaN", "999999999999999999999999", "null", "[]", "{}", "'; DROP TABLE x;--",
           "../../etc/passwd", "%00", "\u202e\U0001f4a5", "x" * 3000, "polymarket:", ":", "true",
           "\x01", "a\x00b", "\x7f", "\u00b2", "\u0663", "\uff11\uff12", "\u00e9t\u00e9", "9" * 4000, "1" * 20]
BODIES = ["not json", "[]", "null", '"x"', "{", '{"a":' * 40 + "1" + "}" * 40]
WRONG_TYPES = [None, "x", -1, 1e308, [], {}, True, "0x" + "zz" * 20, "", " ", "\x01", "\u00b2", "\u0663",
               "9" * 4000, 10**40, -(10**40)]
ALLOWED_5XX = {501}  # "not supported" is a contract answer; anything else 5xx is a bug


@pytest.fixture(scope="module")
def fuzz(polymarket_linked):
    """A builder account of the internal tier (so the rate limiter measures nothing here), linked
    to Polymarket, so trading routes get past the credentials check to the input checks."""
    with polymarket_linked("builder", "fuzz") as linked:
        yield linked


def _operations(client):
    spec = client.get("/../../openapi.json").json()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method.upper(), op, spec


STATUSES: collections.Counter = collections.Counter()


SERVER_ERRORS: list[str] = []  # every 5xx of the walk, reported together at its end


def _send(client: httpx.Client, method: str, url: str, where: str, **kwargs) -> None:
    try:
        resp = client.request(method, url, **kwargs)
    except httpx.TransportError as exc:  # the server dropped the connection: an unhandled error
        SERVER_ERRORS.append(f"{where[:160]} -> {type(exc).__name__}")
        return
    _check(resp, where)


def _check(resp: httpx.Response, where: str) -> None:
    STATUSES[resp.status_code] += 1
    if resp.status_code >= 500 and resp.status_code not in ALLOWED_5XX:
        SERVER_ERRORS.append(f"{where[:160]} -> {resp.status_code} {resp.text[:120]}")
        return
    if resp.status_code >= 400:
        body = resp.json()
        assert isinstance(body.get("error"), str) and body["error"], where
        assert isinstance(body.get("code"), str) and isinstance(body.get("retryable"), bool), (where, body)
        assert "Traceback" not in resp.text and 'File "' not in resp.text, where


def _body_schema(op, spec):
    content = (op.get("requestBody") or {}).get("content", {}).get("application/json")
    if not content:
        return None
    schema = content["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _resolve(schema, spec):
    if "$ref" in schema:
        return spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _plausible(schema, spec):
    """A value of the right type, so that one garbled field is checked with the others present."""
    schema = _resolve(schema, spec)
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return _plausible(option, spec)
    if "enum" in schema:
        return schema["enum"][0]
    return {"string": "x", "integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}.get(
        schema.get("type"), "x")


def _skeleton(schema, spec) -> dict:
    props = schema.get("properties", {})
    return {name: _plausible(props[name], spec) for name in schema.get("required", []) if name in props}


def _orders_count(customer_id: str) -> int:
    table = boto3.resource("dynamodb").Table(get_settings().orders_table)
    return table.query(KeyConditionExpression=boto3.dynamodb.conditions.Key("customer_id").eq(customer_id),
                       Select="COUNT")["Count"]


def test_every_route_survives_garbage(fuzz):
    client, customer_id = fuzz
    before = _orders_count(customer_id)
    seen = 0
    for path, method, op, spec in _operations(client):
        rel = path.removeprefix("/api/v1")
        params = [p for p in op.get("parameters", []) if p["in"] in ("query", "path", "header")]
        for value in GARBAGE:
            url = re.sub(r"\{[^}]+\}", lambda _m: quote(value, safe="") or "x", rel)
            # each parameter garbled on its own, and all of them at once
            for target in [None, *params]:
                if target is None and len(value) * len(params) > 50_000:
                    continue  # beyond what a URL may carry (httpx refuses to send it)
                query, headers = {}, {}
                for p in params:
                    if target is not None and p is not target:
                        if p["in"] == "query" and p["name"] == "exchange":
                            query["exchange"] = "polymarket"  # so the garbled one is what gets checked
                        continue
                    if p["in"] == "query":
                        query[p["name"]] = value
                    elif p["in"] == "header" and p["name"].lower() != "x-api-key":
                        # only what HTTP can carry: printable latin-1, no surrounding whitespace
                        v = "".join(ch for ch in value if 32 < ord(ch) < 256 and ord(ch) != 127).strip()[:2000]
                        if v:
                            headers[p["name"]] = v.encode("latin-1")
                kwargs = {"params": query, "headers": headers}
                if method in ("POST", "PATCH", "PUT"):
                    kwargs["json"] = {}
                _send(client, method, url, f"{method} {url} {query} {list(headers)}", **kwargs)
                seen += 1
        schema = _body_schema(op, spec)
        if schema is not None:
            url = re.sub(r"\{[^}]+\}", "x", rel)
            qp = {"exchange": "polymarket"} if any(p["name"] == "exchange" for p in params) else {}
            for raw in BODIES:
                _send(client, method, url, f"{method} {url} body={raw[:20]!r}", params=qp, content=raw,
                      headers={"content-type": "application/json"})
            skeleton = _skeleton(schema, spec)
            for field in schema.get("properties", {}):
                for wrong in WRONG_TYPES:
                    # the field alone, and the field garbled among plausible required fields
                    for body in ({field: wrong}, {**skeleton, field: wrong}):
                        _send(client, method, url, f"{method} {url} {field}={wrong!r:.30} among {sorted(body)}",
                              params=qp, json=body)
                        seen += 1
    assert not SERVER_ERRORS, f"{len(SERVER_ERRORS)} server errors:\n" + "\n".join(sorted(set(SERVER_ERRORS))[:60])
    assert seen > 1000  # the walk really covered the API
    # ...and got past the key check and the rate limiter to the input checks themselves
    assert not {401, 429} & set(STATUSES), STATUSES
    assert {400, 404} <= set(STATUSES) and len(STATUSES) >= 4, STATUSES
    assert _orders_count(customer_id) == before, "a malformed request left an order record behind"


def test_non_json_content_types_and_huge_bodies(fuzz):
    client, _ = fuzz
    for ctype, content in [("text/plain", b"price=1"), ("application/json", b"\xff\xfe\x00"),
                           ("application/json", json.dumps({"x": "y" * 2_000_000}).encode())]:
        r = client.post("/orders", params={"exchange": "polymarket"}, content=content, headers={"content-type": ctype})
        _check(r, f"POST /orders {ctype} {len(content)} bytes")
        assert not SERVER_ERRORS, SERVER_ERRORS
        assert r.status_code in (400, 413, 422), r.status_code
