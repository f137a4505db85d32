"""The seven stream tools (and `open_market_feed`) over one seam, `FeedSource`.

An MCP tool call is a request and an answer, and the hosted server is stateless (one Lambda
invocation per message), so a feed is not a connection held by the server: it is a *stream token*
the agent carries, naming its subscriptions and the sequence it has read up to. `read` asks the
feed source for the current book of every subscription.

`WsFeed` reads from the deployment's `/ws` (pmrouter.stream): it authenticates with the caller's
key, subscribes, and returns each book's snapshot frame as the streaming server sent it.
`PollingFeed` frames `GET /orderbook` the same way, for a server that cannot reach a `/ws` (a
hosted Lambda without PMROUTER_WS_URL) or when the `/ws` fails. docs/mcp.md."""
from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any, Protocol

from .api import Api
from .tools import Context, Result, ToolDef, error

MAX_SUBSCRIPTIONS = 20
SELECTOR_ARGS = ("parsec_id", "outcome", "depth")


class FeedSource(Protocol):
    name: str

    async def read(self, subs: list[dict[str, Any]], seq: int) -> list[dict[str, Any]]:
        """One frame per subscription: its current book (the `/ws` snapshot frame) or an error."""
        ...


def _match(frame: dict[str, Any], sub: dict[str, Any]) -> bool:
    if frame.get("parsec_id") != sub["parsec_id"]:
        return False
    return not sub.get("outcome") or frame.get("type") == "error" or \
        str(frame.get("outcome", "")).lower() == str(sub["outcome"]).lower()


class WsFeed:
    """The deployment's `/ws`: auth with the caller's key, subscribe, take each book's snapshot as
    the streaming server frames it (its own `server_seq`, `book_state`, `feed_state`), close."""

    name = "ws"

    def __init__(self, url: str, api_key: str, timeout: float = 5.0):
        self.url, self.api_key, self.timeout = url, api_key, timeout

    async def read(self, subs: list[dict[str, Any]], seq: int) -> list[dict[str, Any]]:
        import websockets

        found: dict[int, dict[str, Any]] = {}
        async with websockets.connect(self.url, open_timeout=self.timeout, close_timeout=1,
                                      max_size=2**22) as ws:
            await ws.send(json.dumps({"type": "auth", "api_key": self.api_key}))
            first = json.loads(await asyncio.wait_for(ws.recv(), self.timeout))
            if first.get("type") != "auth_ok":
                raise ConnectionError(f"/ws refused the key: {first.get('message') or first.get('type')}")
            await ws.send(json.dumps({"type": "subscribe", "markets": [
                {"parsec_id": s["parsec_id"], "outcome": s.get("outcome"), "depth": s.get("depth")} for s in subs]}))
            deadline = asyncio.get_running_loop().time() + self.timeout
            while len(found) < len(subs):
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    break
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), left))
                except asyncio.TimeoutError:
                    break
                if frame.get("type") not in ("orderbook", "error") or frame.get("kind", "snapshot") != "snapshot":
                    continue
                for i, sub in enumerate(subs):
                    if i not in found and _match(frame, sub):
                        found[i] = frame
                        break
        return [found.get(i) or {"type": "error", "parsec_id": s["parsec_id"], "code": "timeout",
                                 "message": "no snapshot from /ws in time"} for i, s in enumerate(subs)]


class PollingFeed:
    """Books from `GET /orderbook`, framed as the `/ws` snapshot (used where no `/ws` is reachable)."""

    name = "polling"

    def __init__(self, api: Api):
        self.api = api

    async def read(self, subs: list[dict[str, Any]], seq: int) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(self._one(s, seq + i + 1) for i, s in enumerate(subs))))

    async def _one(self, sub: dict[str, Any], seq: int) -> dict[str, Any]:
        r = await self.api.get("/orderbook", parsec_id=sub["parsec_id"], outcome=sub.get("outcome"),
                               limit=sub.get("depth") or 10)
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


async def read_books(ctx: Context, subs: list[dict[str, Any]], seq: int) -> tuple[str, list[dict[str, Any]], list[str]]:
    """The `/ws` when this server can reach one; else (or if it fails) the REST book."""
    notes: list[str] = []
    if ctx.ws_url:
        try:
            frames = await WsFeed(ctx.ws_url, ctx.api_key).read(subs, seq)
        except Exception as exc:  # an unreachable /ws must not cost the agent its books
            notes.append(f"/ws unavailable ({type(exc).__name__}); books read from REST instead")
        else:
            late = [i for i, f in enumerate(frames) if f.get("code") == "timeout"]
            if late:  # books /ws did not snapshot in time come from REST, said so
                polled = await PollingFeed(ctx.api).read([subs[i] for i in late], seq)
                for i, frame in zip(late, polled):
                    frames[i] = frame
                notes.append(f"{len(late)} book(s) not snapshotted by /ws in time; read from REST")
            return "ws", frames, notes
    return "polling", await PollingFeed(ctx.api).read(subs, seq), notes


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
    # The token comes back from the client: hold it to what subscribe itself would have issued.
    subs = state["subs"]
    if len(subs) > MAX_SUBSCRIPTIONS or not isinstance(state.get("seq", 0), int) or not all(
            isinstance(x, dict) and isinstance(x.get("parsec_id"), str) and set(x) <= set(SELECTOR_ARGS)
            for x in subs):
        raise ValueError("stream_id is not a valid stream token")
    return state


def _selectors(args: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for m in args.get("markets") or []:
        if not isinstance(m, dict) or not isinstance(m.get("parsec_id"), str) or ":" not in m["parsec_id"]:
            raise ValueError("each market needs a parsec_id like 'kalshi:<ticker>'")
        out.append({k: m[k] for k in SELECTOR_ARGS if m.get(k) is not None})
    if not out:
        raise ValueError("markets: give at least one {parsec_id, outcome?, depth?}")
    return out


def _key(sub: dict[str, Any]) -> str:
    return f"{sub['parsec_id']}:{(sub.get('outcome') or '').lower()}"


async def _read(ctx: Context, state: dict[str, Any]) -> dict[str, Any]:
    seq = int(state.get("seq", 0))
    source, frames, notes = await read_books(ctx, state["subs"], seq)
    state = {**state, "seq": seq + len(frames)}
    out = {"stream_id": encode(state), "source": source, "messages": frames}
    if notes:
        out["notes"] = notes
    return out


class Refused(Exception):
    """The API's own refusal, passed through as the tool's answer."""

    def __init__(self, result: Result):
        super().__init__(result.body)
        self.result = result


def _guard(fn):
    async def run(ctx: Context, args: dict[str, Any]) -> Result:
        try:
            return Result(await fn(ctx, args))
        except Refused as exc:
            return exc.result
        except ValueError as exc:
            return error(str(exc), "validation_error", problems=[str(exc)])
    return run


async def _connect(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    return {"stream_id": encode({"v": 1, "subs": [], "seq": 0}), "source": "ws" if ctx.ws_url else "polling",
            "note": "the stream_id carries this feed's subscriptions; pass the newest one to every stream tool"}


async def _auth(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    usage = await ctx.api.get("/usage")
    if not usage.ok:
        raise Refused(Result.of(usage))
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
    state = decode(args.get("stream_id"))
    # Nothing is held server-side to release; the closed token is refused by every stream tool.
    return {"closed": True, "stream_id": encode({**state, "subs": [], "closed": True})}


async def open_feed(ctx: Context, args: dict[str, Any]) -> Result:
    async def run(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
        return await _subscribe(ctx, {**args, "stream_id": encode({"v": 1, "subs": [], "seq": 0})})
    return await _guard(run)(ctx, args)


# --- schemas: a market selector is the `/ws` contract's own (stream/messages.MarketSelector) ------------

def selector_schema() -> dict[str, Any]:
    from ..stream.messages import MarketSelector

    item = MarketSelector.model_json_schema()
    props = {k: v for k, v in item["properties"].items() if k in SELECTOR_ARGS}
    return {"type": "object", "properties": props, "required": ["parsec_id"], "additionalProperties": False,
            "title": item.get("title", "MarketSelector")}


def selectors_schema(with_stream: bool = False) -> dict[str, Any]:
    props: dict[str, Any] = {"markets": {"type": "array", "items": selector_schema(), "minItems": 1,
                                         "maxItems": MAX_SUBSCRIPTIONS}}
    required = ["markets"]
    if with_stream:
        props = {"stream_id": STREAM_ID, **props}
        required.insert(0, "stream_id")
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


STREAM_ID = {"type": "string", "description": "the token from parsec.stream.connect (always pass the newest)"}


def _stream_only(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    props = {"stream_id": STREAM_ID, **(extra or {})}
    return {"type": "object", "properties": props, "required": ["stream_id"], "additionalProperties": False}


def _resync_schema() -> dict[str, Any]:
    return _stream_only({"parsec_id": selector_schema()["properties"]["parsec_id"]})


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
