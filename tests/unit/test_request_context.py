"""The correlation-id middleware: every response names its request, error responses included."""
from __future__ import annotations

import asyncio
import logging

import httpx
from fastapi import APIRouter

from pmrouter.api.app import MAX_REQUEST_ID, create_app
from pmrouter.api.errors import BadRequest

router = APIRouter()


@router.get("/ok")
async def ok() -> dict:
    return {"ok": True}


@router.get("/bad")
async def bad() -> dict:
    raise BadRequest("nope")


class _Client:
    """Drives the app in-process over ASGI (no server, no event loop left behind)."""

    def __init__(self) -> None:
        self.app = create_app([router])

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://t") as c:
                return await c.get(path, headers=headers)

        return asyncio.run(go())


def client() -> _Client:
    return _Client()


def test_caller_request_id_is_echoed():
    r = client().get("/api/v1/ok", headers={"X-Request-Id": "abc-123"})
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert r.headers["x-request-id"] == "abc-123"


def test_api_gateway_trace_id_is_used_when_no_request_id():
    r = client().get("/api/v1/ok", headers={"X-Amzn-Trace-Id": "Root=1-abc"})
    assert r.headers["x-request-id"] == "Root=1-abc"


def test_new_id_when_none_given_and_on_errors():
    c = client()
    a = c.get("/api/v1/ok").headers["x-request-id"]
    b = c.get("/api/v1/bad")
    assert b.status_code == 400 and b.json()["code"] == "bad_request"
    assert len(a) == 32 and a != b.headers["x-request-id"]
    assert c.get("/api/v1/missing").headers["x-request-id"]


def test_server_timing_reports_the_app_time():
    r = client().get("/api/v1/bad")
    name, dur = r.headers["server-timing"].split(";dur=")
    assert name == "app" and 0 < float(dur) < 5000


def test_overlong_request_id_is_cut():
    r = client().get("/api/v1/ok", headers={"X-Request-Id": "x" * 1000})
    assert r.headers["x-request-id"] == "x" * MAX_REQUEST_ID


def test_one_access_line_per_request(caplog):
    with caplog.at_level(logging.INFO, logger="pmrouter.access"):
        client().get("/api/v1/bad", headers={"X-Request-Id": "r1"})
    lines = [r for r in caplog.records if r.name == "pmrouter.access"]
    assert len(lines) == 1
    assert (lines[0].request_id, lines[0].status, lines[0].path) == ("r1", 400, "/api/v1/bad")
