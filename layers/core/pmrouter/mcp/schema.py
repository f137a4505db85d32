"""Tool input schemas, derived from the REST API's own OpenAPI document and never written again:
each tool's arguments are its operation's query and path parameters, the few headers an agent may
set, and the fields of its request body (a contract model), side by side in one flat object.

The same description splits a call's arguments back into path, query, headers and body."""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Any

from .rest import openapi

API_PREFIX = "/api/v1"
REF_PREFIX = "#/components/schemas/"

# Headers an agent may set, and the argument each becomes. X-API-Key is the connection's own
# credential; X-Exchange-Credentials (raw venue keys) has no place in an agent's context.
HEADER_ARGS = {"Idempotency-Key": "idempotency_key", "X-Builder-Customer-Id": "builder_customer_id"}
HEADER_DESCRIPTIONS = {
    "idempotency_key": "Idempotency-Key: a retry with the same key returns the first result and never places a "
                       "second order",
    "builder_customer_id": "X-Builder-Customer-Id: a builder acting for one of its end users",
}


@dataclass(frozen=True)
class Arg:
    name: str  # the tool argument
    where: str  # query | path | header | body
    wire: str  # the name on the wire (the header's name; else the same)
    schema: dict[str, Any]
    required: bool


@dataclass(frozen=True)
class Operation:
    """One REST operation as a tool sees it."""

    method: str
    path: str  # below /api/v1, e.g. /orders/{order_id}
    args: tuple[Arg, ...]
    body_required: bool
    defs: dict[str, Any]
    summary: str

    def arg(self, name: str) -> Arg:
        for a in self.args:
            if a.name == name:
                return a
        raise KeyError(name)

    def input_schema(self, only: tuple[str, ...] | None = None, omit: tuple[str, ...] = ()) -> dict[str, Any]:
        chosen = [a for a in self.args if (only is None or a.name in only) and a.name not in omit]
        return assemble(chosen, self.defs)

    def split(self, arguments: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, str], dict[str, Any] | None]:
        """(path, query, headers, body) for one call. Arguments the operation does not take are
        left to the API to refuse (they are sent in the body where there is one)."""
        path = self.path
        query: dict[str, Any] = {}
        headers: dict[str, str] = {}
        body: dict[str, Any] = {}
        known = {a.name: a for a in self.args}
        for name, value in arguments.items():
            if value is None:
                continue
            a = known.get(name)
            where = a.where if a else "body"
            if where == "path":
                path = path.replace("{" + a.wire + "}", _segment(value))
            elif where == "query":
                query[a.wire] = ",".join(map(str, value)) if isinstance(value, list) else value
            elif where == "header":
                headers[a.wire] = str(value)
            else:
                body[name] = value
        has_body = any(a.where == "body" for a in self.args) or self.body_required
        return path, query, headers, (body if (body or self.body_required) and has_body else None)


def _segment(value: Any) -> str:
    from urllib.parse import quote

    return quote(str(value), safe="")


def assemble(args: list[Arg], defs: dict[str, Any]) -> dict[str, Any]:
    props = {a.name: a.schema for a in args}
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    required = [a.name for a in args if a.required]
    if required:
        schema["required"] = required
    used = _refs_closure(props, defs)
    if used:
        schema["$defs"] = {k: defs[k] for k in sorted(used)}
    return schema


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith(REF_PREFIX):
                out[k] = "#/$defs/" + v[len(REF_PREFIX):]
            else:
                out[k] = _rewrite(v)
        return out
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.add(ref[len("#/$defs/"):])
        for v in node.values():
            _refs(v, found)
    elif isinstance(node, list):
        for v in node:
            _refs(v, found)


def _refs_closure(props: dict[str, Any], defs: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    _refs(props, found)
    todo = list(found)
    while todo:
        more: set[str] = set()
        _refs(defs.get(todo.pop(), {}), more)
        for name in more - found:
            found.add(name)
            todo.append(name)
    return found


def _body_model(schema: dict[str, Any]) -> str | None:
    """The contract model a request body is (`Model` or `Model | None`)."""
    if "$ref" in schema:
        return schema["$ref"][len(REF_PREFIX):]
    for option in schema.get("anyOf", ()):
        if "$ref" in option:
            return option["$ref"][len(REF_PREFIX):]
    return None


@functools.lru_cache(maxsize=1)
def _api_defs() -> dict[str, Any]:
    return {k: _rewrite(v) for k, v in openapi().get("components", {}).get("schemas", {}).items()}


def operation(method: str, path: str) -> Operation:
    spec = openapi()
    op = spec["paths"][API_PREFIX + path][method.lower()]
    defs = _api_defs()
    args: list[Arg] = []
    for p in op.get("parameters", ()):
        where, wire = p["in"], p["name"]
        if where == "header":
            if wire not in HEADER_ARGS:
                continue
            name = HEADER_ARGS[wire]
        else:
            name = wire
        schema = _rewrite(copy.deepcopy(p.get("schema", {})))
        if where == "header":
            schema["description"] = HEADER_DESCRIPTIONS[name]
        elif p.get("description"):
            schema.setdefault("description", p["description"])
        args.append(Arg(name, where, wire, schema, bool(p.get("required"))))
    body_required = False
    body = op.get("requestBody")
    if body:
        body_required = bool(body.get("required"))
        model = _body_model(body["content"]["application/json"]["schema"])
        if model is not None:
            component = defs[model]
            needed = set(component.get("required", ())) if body_required else set()
            taken = {a.name for a in args}
            for field, schema in component.get("properties", {}).items():
                if field in taken:  # one flat namespace: a clash would make an argument ambiguous
                    raise ValueError(f"{method} {path}: body field {field!r} clashes with a parameter")
                args.append(Arg(field, "body", field, schema, field in needed))
    return Operation(method.upper(), path, tuple(args), body_required, defs, op.get("summary", ""))
