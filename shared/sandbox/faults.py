"""Fault injection for the sandbox venues: tests tell a venue to misbehave and check that pmrouter
loses nothing and duplicates nothing.

    POST /_sandbox/faults  {"path": "/order", "method": "POST", "mode": "...", "count": 1, ...}
    DELETE /_sandbox/faults

modes:
- "delay": wait `delay_ms`, then serve normally.
- "error": answer `status` (default 503) with `body` (default the venue's error shape), without
  processing the request.
- "rate_limit": answer 429 without processing.
- "drop_after": PROCESS the request (the venue accepts it), then break the connection midway
  through the response, so the client cannot know whether it was accepted.
Each rule fires `count` times (default 1; -1 = until cleared) on requests whose path ends with
`path` and whose method matches.
"""
from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from typing import Any, Callable


@dataclass
class Rule:
    path: str
    method: str = "*"
    mode: str = "error"
    count: int = 1
    status: int = 503
    delay_ms: int = 0
    body: Any = None

    def matches(self, method: str, path: str) -> bool:
        return path.endswith(self.path) and self.method in ("*", method) and self.count != 0


class FaultInjector:
    """Pure ASGI middleware (no buffering) so `drop_after` can cut a response mid-stream."""

    def __init__(self, app, error_body: Callable[[int], Any] | None = None):
        self.app = app
        self.rules: list[Rule] = []
        self.lock = threading.Lock()
        self.error_body = error_body or (lambda status: {"error": f"sandbox fault {status}"})

    def _take(self, method: str, path: str) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if rule.matches(method, path):
                    if rule.count > 0:
                        rule.count -= 1
                    return rule
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope["method"]
        if path == "/_sandbox/faults":
            return await self._control(method, receive, send)
        rule = self._take(method, path)
        if rule is None:
            return await self.app(scope, receive, send)
        if rule.mode == "delay":
            await asyncio.sleep(rule.delay_ms / 1000)
            return await self.app(scope, receive, send)
        if rule.mode in ("error", "rate_limit"):
            status = 429 if rule.mode == "rate_limit" else rule.status
            body = rule.body if rule.body is not None else self.error_body(status)
            return await _json(send, status, body)
        if rule.mode == "drop_after":
            started = {"sent": False}

            async def swallow(message):
                # Let the venue do its work, then announce a body we never finish sending.
                if message["type"] == "http.response.start" and not started["sent"]:
                    started["sent"] = True
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
                    headers.append((b"content-length", b"100000"))
                    await send({**message, "headers": headers})
                elif message["type"] == "http.response.body":
                    await send({"type": "http.response.body", "body": b"{", "more_body": True})
                    raise ConnectionAbortedError("sandbox: connection dropped after the venue accepted the request")

            return await self.app(scope, receive, swallow)
        return await self.app(scope, receive, send)

    async def _control(self, method: str, receive, send):
        if method == "DELETE":
            with self.lock:
                self.rules.clear()
            return await _json(send, 200, {"cleared": True})
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        try:
            rule = Rule(**json.loads(body or b"{}"))
        except (TypeError, ValueError) as exc:
            return await _json(send, 400, {"error": f"bad fault rule: {exc}"})
        with self.lock:
            self.rules.append(rule)
        return await _json(send, 200, {"installed": rule.__dict__})


async def _json(send, status: int, body: Any) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


def with_faults(app, error_body: Callable[[int], Any] | None = None) -> FaultInjector:
    """Wrap a sandbox app; the wrapper exposes the app's `state` for tests and the local stack."""
    wrapped = FaultInjector(app, error_body)
    wrapped.state = getattr(app, "state", None)  # type: ignore[attr-defined]
    return wrapped
