"""The HTTP mechanics every venue adapter shares: one pooled client per event loop, timeouts,
bounded retries with backoff for idempotent calls, and mapping of transport/status failures to
`VenueError`s. Adapters supply only what differs: base URL, auth headers, and how their error
bodies spell the message.
"""
from __future__ import annotations

import asyncio
import json
import random
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import httpx

from .. import observability as metrics
from .errors import (
    MarketNotFound,
    VenueAuthError,
    VenueBadRequest,
    VenueError,
    VenueProtocolError,
    VenueRateLimited,
    VenueUnavailable,
)

# One connection pool per event loop: Lambda keeps one loop for the life of the container (Mangum
# reuses it), uvicorn has one per server thread. Clients must not cross loops.
_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]" = weakref.WeakKeyDictionary()

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})

# Tests may route every venue call through an httpx transport (e.g. MockTransport with payloads
# copied from a venue's documentation) instead of the network.
_transport_override: httpx.AsyncBaseTransport | None = None


def use_transport(transport: httpx.AsyncBaseTransport | None) -> None:
    global _transport_override
    _transport_override = transport
    _clients.clear()


def shared_client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(10.0, connect=3.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50, keepalive_expiry=30),
            follow_redirects=False,
            transport=_transport_override,
        )
        _clients[loop] = client
    return client


def default_error_message(body: Any, fallback: str) -> str:
    """Pull a human message out of the common venue error shapes."""
    if isinstance(body, Mapping):
        for key in ("error", "message", "errmsg", "msg", "detail"):
            val = body.get(key)
            if isinstance(val, str) and val:
                return val
            if isinstance(val, Mapping):
                inner = default_error_message(val, "")
                if inner:
                    return inner
            if isinstance(val, list) and val:
                return "; ".join(str(v.get("message", v)) if isinstance(v, Mapping) else str(v) for v in val)
    if isinstance(body, str) and body:
        return body[:300]
    return fallback


@dataclass
class VenueHttp:
    """A venue's REST endpoint. `base_url` comes from settings (PMROUTER_*_URL), never hard-coded."""

    exchange: str
    base_url: str
    max_retries: int = 2
    backoff_base: float = 0.1
    error_message: Callable[[Any, str], str] = default_error_message

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool | None = None,
    ) -> Any:
        """Send and decode JSON. Retries only idempotent calls (or when `retry=True`), on 429/5xx
        and transport errors, so that a POST that may have reached the venue is never resent here."""
        method = method.upper()
        may_retry = (method in IDEMPOTENT) if retry is None else retry
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        if json_body is not None and content is None:
            content = json.dumps(json_body, separators=(",", ":")).encode()
        hdrs = dict(headers or {})
        if content is not None:
            hdrs.setdefault("Content-Type", "application/json")
        attempts = self.max_retries + 1 if may_retry else 1
        last: VenueError | None = None
        for attempt in range(attempts):
            if attempt:
                delay = self.backoff_base * (2 ** (attempt - 1)) * (0.75 + random.random() / 2)
                if isinstance(last, VenueRateLimited) and last.retry_after:
                    delay = max(delay, min(last.retry_after, 2.0))
                await asyncio.sleep(delay)
            started = time.perf_counter()
            try:
                resp = await shared_client().request(
                    # None keeps a query the caller signed into `path` (an empty dict would drop it)
                    method, self.url(path), params=clean_params or None, content=content, headers=hdrs
                )
                metrics.emit("VenueLatency", round((time.perf_counter() - started) * 1000, 3), "Milliseconds",
                             exchange=self.exchange)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                last = VenueUnavailable(self.exchange, f"{self.exchange} unreachable: {type(exc).__name__}")
                continue
            except httpx.TimeoutException:
                last = VenueUnavailable(self.exchange, f"{self.exchange} timed out on {method} {path}",
                                        ambiguous=method not in IDEMPOTENT)
                continue
            except httpx.TransportError as exc:
                # The request may have been delivered before the connection broke.
                last = VenueUnavailable(self.exchange, f"{self.exchange} connection failed: {type(exc).__name__}",
                                        ambiguous=method not in IDEMPOTENT)
                continue
            if resp.status_code < 400:
                return self._decode(resp, method, path)
            last = self._status_error(resp)
            if not last.retryable:
                raise last
        assert last is not None
        raise last

    async def get(self, path: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> Any:
        return await self.request("GET", path, params=params, headers=headers)

    def _decode(self, resp: httpx.Response, method: str, path: str) -> Any:
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise VenueProtocolError(self.exchange, f"{self.exchange} sent non-JSON to {method} {path}") from exc

    def _status_error(self, resp: httpx.Response) -> VenueError:
        try:
            body: Any = resp.json()
        except ValueError:
            body = resp.text
        code = resp.status_code
        msg = self.error_message(body, f"{self.exchange} answered HTTP {code}")
        if code == 429:
            retry_after = _retry_after(resp.headers.get("retry-after"))
            return VenueRateLimited(self.exchange, msg, retry_after=retry_after)
        if code >= 500 or code in (408, 425):
            # A gateway error says nothing about whether the venue behind it processed the request.
            ambiguous = code in (502, 504) and resp.request.method not in IDEMPOTENT
            return VenueUnavailable(self.exchange, msg, status=code, ambiguous=ambiguous)
        if code == 404:
            return MarketNotFound(self.exchange, msg, status=code)
        if code in (401, 403):
            return VenueAuthError(self.exchange, msg, status=code)
        return VenueBadRequest(self.exchange, msg, status=code)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
