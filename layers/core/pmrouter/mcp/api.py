"""How a tool reaches the REST API. One interface, two ways: over HTTP to a deployment (stdio) or
in-process to the same routes (hosted). Either way the call carries the caller's API key, so auth,
rate limits, metering and every error body are the API's own."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

API_PREFIX = "/api/v1"


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Api:
    """An API key's view of one deployment."""

    def __init__(self, client: httpx.AsyncClient):
        self.client = client
        self.calls = 0  # API calls made (the hosted endpoint charges a call that made none itself)

    async def call(self, method: str, path: str, *, query: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None, body: Any = None) -> Reply:
        self.calls += 1
        kwargs: dict[str, Any] = {"params": _params(query or {}), "headers": headers or {}}
        if body is not None:
            kwargs["json"] = body
        try:
            r = await self.client.request(method, API_PREFIX + path, **kwargs)
        except httpx.HTTPError as exc:  # the deployment itself is unreachable (stdio): the contract's 503 shape
            return Reply(503, {"error": f"pmrouter API unreachable: {type(exc).__name__}",
                               "code": "service_unavailable", "retryable": True})
        try:
            data = r.json() if r.content else None
        except ValueError:
            data = {"error": r.text[:200], "code": "internal_error", "retryable": False}
        return Reply(r.status_code, data, dict(r.headers))

    async def get(self, path: str, **query: Any) -> Reply:
        return await self.call("GET", path, query={k: v for k, v in query.items() if v is not None})

    async def aclose(self) -> None:
        await self.client.aclose()


def _params(query: dict[str, Any]) -> dict[str, str]:
    out = {}
    for k, v in query.items():
        if isinstance(v, bool):
            out[k] = "true" if v else "false"
        else:
            out[k] = str(v)
    return out


def over_http(base_url: str, api_key: str, timeout: float = 30.0) -> Api:
    """stdio: the deployment at `base_url` (PMROUTER_API_URL)."""
    base = base_url.rstrip("/").removesuffix(API_PREFIX)  # either the root or the /api/v1 URL
    return Api(httpx.AsyncClient(base_url=base, headers={"X-API-Key": api_key}, timeout=timeout))


def in_process(app, api_key: str, request_id: str | None = None) -> Api:
    """Hosted: the same routes, called inside this process through ASGI (no network hop)."""
    headers = {"X-API-Key": api_key}
    if request_id:
        headers["x-request-id"] = request_id
    transport = httpx.ASGITransport(app=app)
    return Api(httpx.AsyncClient(transport=transport, base_url="http://pmrouter.internal", headers=headers,
                                 timeout=30.0))
