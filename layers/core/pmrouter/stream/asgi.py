"""`/ws` on an ASGI server: the same FastAPI app and port as the REST API (`make run`, tests).

The connection's clock lives here: the auth window, then a heartbeat every `HEARTBEAT_S`. The
process keeps one hub (created in the serving event loop on first use), so every connection of a
process shares live books and venue feeds.
"""
from __future__ import annotations

import asyncio
import contextlib
import os

from fastapi import APIRouter, WebSocket

from .hub import Hub
from .session import AUTH_TIMEOUT_S, CLOSE_POLICY, Outbox, Session

router = APIRouter()
_hub: Hub | None = None


def heartbeat_seconds() -> float:
    return float(os.environ.get("PMROUTER_STREAM_HEARTBEAT_SECONDS", "10"))


def get_hub() -> Hub:
    global _hub
    if _hub is None:
        _hub = Hub()
    return _hub


def reset_hub() -> None:
    """Forget the hub (a new local stack starts a new event loop)."""
    global _hub
    _hub = None


async def _flush_and_close(ws: WebSocket, outbox: Outbox, code: int, reason: str) -> None:
    for _ in range(100):  # the last word (auth_error) goes out before the close frame
        if not outbox.queue:
            break
        await asyncio.sleep(0.01)
    with contextlib.suppress(Exception):
        await ws.close(code, reason)


async def _clock(ws: WebSocket, session: Session) -> None:
    try:
        await asyncio.wait_for(session.authed.wait(), AUTH_TIMEOUT_S)
    except asyncio.TimeoutError:
        session.auth_deadline_passed()
        await _flush_and_close(ws, session.out, CLOSE_POLICY, "auth timeout")
        return
    beat = heartbeat_seconds()
    while True:
        await asyncio.sleep(beat)
        session.heartbeat()


@router.websocket("/ws")
async def ws_endpoint(ws: WebSocket) -> None:
    await ws.accept()

    async def close(code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await ws.close(code, reason)

    outbox = Outbox(ws.send_text, close)
    session = Session(get_hub(), outbox, builder_customer_id=ws.headers.get("x-builder-customer-id"))
    clock = asyncio.create_task(_clock(ws, session))
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                text = (message.get("bytes") or b"").decode("utf-8", "replace")
            if not await session.receive(text):
                await _flush_and_close(ws, outbox, CLOSE_POLICY, "authentication failed")
                break
    except Exception:  # a dropped client; its subscriptions go below
        pass
    finally:
        clock.cancel()
        await session.close()
