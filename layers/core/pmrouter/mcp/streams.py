"""The seven stream tools (and `open_market_feed`) over one seam, `FeedSource`.

An MCP tool call is a request and an answer, and the hosted server is stateless (one Lambda
invocation per message), so a feed is not a connection held by the server: it is a *stream token*
the agent carries, naming its subscriptions and the sequence it has read up to. `read` asks the
feed source for the current book of every subscription.

`PollingFeed` (today) reads each book from `GET /orderbook` and frames it as the `/ws` snapshot
message. A `/ws`-backed source (a WebSocket client on the deployment's `/ws`, reading snapshots and
deltas) replaces it behind the same interface when the streaming endpoint lands; docs/mcp.md."""
from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any, Protocol

from .api import Api
from .tools import Context, Result, ToolDef, error, op

MAX_SUBSCRIPTIONS = 20
SELECTOR_ARGS = ("parsec_id", "outcome", "limit")


class FeedSource(Protocol):
    name: str

    async def snapshot(self, api: Api, sub: dict[str, Any], seq: int) -> dict[str, Any]: ...


class PollingFeed:
    """Books from the REST endpoint, in the `/ws` `orderbook` snapshot frame."""

    name = "polling"

    async def snapshot(self, api: Api, sub: dict[str, Any], seq: int) -> dict[str, Any]:
        r = await api.get("/orderbook", parsec_id=sub["parsec_id"], outcome=sub.get("outcome"),
                          limit=sub.get("limit") or 10)
        if not r.ok:
            body = r.body if isinstance(r.body, dict) else {}
            return {"type": "error", "parsec_id": sub["parsec_id"], "code": body.get("code"),
                    "message": body.get("error")}
        b = r.body
        return {"type": "orderbook", "kind": "snapshot", "parsec_id": b["parsec_id"], "exchange": b["exchange"],
                "outcome": b["outcome"], "token_id": b["token_id"], "market_id": b["market_id"],
                "tick_size": b.get("tick_size"), "min_order_size": b.get("min_order_size"),
                "bids": [list(lv) for lv in b["bids"]], "asks": [list(lv) for lv in b["asks"]],
                "server_seq": seq, "book_state": "fresh", "feed_state": "polling",
                "ingest_ts_ms": int(time.time() * 1000)}


def feed_source() -> FeedSource:
    return PollingFeed()


# --- the stream token -----------------------------------------------------------------------------------

def encode(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return "st_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: Any) -> dict[str, Any]:
    if not isinstance(token, str) or not token.startswith("st_"):
        raise ValueError("stream_id must be a token from parsec.stream.connect")
    body = token[3:]
    try:
        state = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        raise ValueError("stream_id is not a valid stream token") from None
    if not isinstance(state, dict) or not isinstance(state.get("subs"), list) or state.get("closed"):
        raise ValueError("stream_id is closed or invalid; open a new one with parsec.stream.connect")
    return state


def _selectors(args: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for m in args.get("markets") or []:
        if not isinstance(m, dict) or not isinstance(m.get("parsec_id"), str) or ":" not in m["parsec_id"]:
            raise ValueError("each market needs a parsec_id like 'kalshi:<ticker>'")
        out.append({k: m[k] for k in SELECTOR_ARGS if m.get(k) is not None})
    if not out:
        raise ValueError("markets: give at least one {parsec_id, outcome?, limit?}")
    return out


def _key(sub: dict[str, Any]) -> str:
    return f"{sub['parsec_id']}:{(sub.get('outcome') or '').lower()}"


async def _read(ctx: Context, state: dict[str, Any]) -> dict[str, Any]:
    source = feed_source()
    seq = int(state.get("seq", 0))
    frames = await asyncio.gather(*(source.snapshot(ctx.api, s, seq + i + 1) for i, s in enumerate(state["subs"])))
    state = {**state, "seq": seq + len(frames)}
    return {"stream_id": encode(state), "source": source.name, "messages": list(frames)}


def _guard(fn):
    async def run(ctx: Context, args: dict[str, Any]) -> Result:
        try:
            return Result(await fn(ctx, args))
        except ValueError as exc:
            return error(str(exc), "validation_error", problems=[str(exc)])
    return run


async def _connect(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    return {"stream_id": encode({"v": 1, "subs": [], "seq": 0}), "source": feed_source().name,
            "note": "the stream_id carries this feed's subscriptions; pass the newest one to every stream tool"}


async def _auth(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    usage = await ctx.api.get("/usage")
    if not usage.ok:
        raise ValueError(usage.body.get("error", "authentication failed") if isinstance(usage.body, dict) else "auth")
    return {"type": "auth_ok", "tier": usage.body.get("tier"), "note": "MCP calls are authenticated by the "
            "connection's API key; this confirms it and the tier's stream limits"}


async def _subscribe(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    state = decode(args.get("stream_id"))
    subs = {_key(s): s for s in state["subs"]}
    for s in _selectors(args):
        subs[_key(s)] = s
    if len(subs) > MAX_SUBSCRIPTIONS:
        raise ValueError(f"at most {MAX_SUBSCRIPTIONS} subscriptions per stream")
    return await _read(ctx, {**state, "subs": list(subs.values())})


async def _unsubscribe(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    state = decode(args.get("stream_id"))
    gone = {_key(s) for s in _selectors(args)} | {s["parsec_id"] for s in _selectors(args) if "outcome" not in s}
    subs = [s for s in state["subs"] if _key(s) not in gone and s["parsec_id"] not in gone]
    return {"stream_id": encode({**state, "subs": subs}), "subscriptions": subs}


async def _resync(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    state = decode(args.get("stream_id"))
    pid = args.get("parsec_id")
    subs = [s for s in state["subs"] if not pid or s["parsec_id"] == pid]
    if pid and not subs:
        raise ValueError(f"{pid} is not subscribed on this stream")
    read = await _read(ctx, {**state, "subs": subs})
    read["stream_id"] = encode({**state, "seq": decode(read["stream_id"])["seq"]})
    return read


async def _read_tool(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    state = decode(args.get("stream_id"))
    if not state["subs"]:
        raise ValueError("nothing subscribed yet: call parsec.stream.subscribe")
    return await _read(ctx, state)


async def _close(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    decode(args.get("stream_id"))
    return {"closed": True}


async def open_feed(ctx: Context, args: dict[str, Any]) -> Result:
    async def run(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        return await _subscribe(ctx, {**args, "stream_id": encode({"v": 1, "subs": [], "seq": 0})})
    return await _guard(run)(ctx, args)


# --- schemas: a market selector is the order book's own (parsec_id, outcome, limit) ----------------------

def selectors_schema(with_stream: bool = False) -> dict[str, Any]:
    item = op("GET", "/orderbook").input_schema(only=SELECTOR_ARGS)
    item["required"] = ["parsec_id"]
    defs = item.pop("$defs", None)
    props: dict[str, Any] = {"markets": {"type": "array", "items": item, "minItems": 1,
                                         "maxItems": MAX_SUBSCRIPTIONS}}
    required = ["markets"]
    if with_stream:
        props = {"stream_id": STREAM_ID, **props}
        required.insert(0, "stream_id")
    schema: dict[str, Any] = {"type": "object", "properties": props, "required": required,
                              "additionalProperties": False}
    if defs:
        schema["$defs"] = defs
    return schema


STREAM_ID = {"type": "string", "description": "the token from parsec.stream.connect (always pass the newest)"}


def _stream_only(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    props = {"stream_id": STREAM_ID, **(extra or {})}
    return {"type": "object", "properties": props, "required": ["stream_id"], "additionalProperties": False}


def _resync_schema() -> dict[str, Any]:
    return _stream_only({"parsec_id": op("GET", "/orderbook").arg("parsec_id").schema})


def _empty() -> dict[str, Any]:
    return {"type": "object", "properties": {}, "additionalProperties": False}


P = "parsec.stream."
TOOLS: tuple[ToolDef, ...] = (
    ToolDef(P + "connect", "Open a feed (returns its stream_id).", "read", _empty, _guard(_connect)),
    ToolDef(P + "auth", "Confirm the connection's API key and its tier.", "read", _empty, _guard(_auth)),
    ToolDef(P + "subscribe", "Add market order books to a feed; answers with their snapshots.", "read",
            lambda: selectors_schema(with_stream=True), _guard(_subscribe)),
    ToolDef(P + "unsubscribe", "Remove markets from a feed.", "read", lambda: selectors_schema(with_stream=True),
            _guard(_unsubscribe)),
    ToolDef(P + "resync", "Fresh snapshots (all subscriptions, or one parsec_id).", "read", _resync_schema,
            _guard(_resync)),
    ToolDef(P + "read", "The current book of every subscription.", "read", _stream_only, _guard(_read_tool)),
    ToolDef(P + "close", "Close a feed.", "read", _stream_only, _guard(_close)),
)
