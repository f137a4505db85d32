"""What every sandbox venue WebSocket shares: connections that the matching engine's thread can
reach, and the faults the stream tests need (drop every connection, go silent).

The venue modules (`polymarket_ws.py`, `kalshi_ws.py`) own the wire format; this module only moves
text frames. Engine listeners run on whichever thread changed the book, so frames are handed to a
connection's event loop with `call_soon_threadsafe`, in the order the engine produced them.
"""
from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from fastapi import WebSocket


@dataclass(eq=False)
class Client:
    ws: WebSocket
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    topics: set = field(default_factory=set)  # what it subscribed to (venue-defined keys)
    info: dict[str, Any] = field(default_factory=dict)  # venue session state (user id, sids...)


_CLOSE = object()


class WsClients:
    def __init__(self) -> None:
        self.clients: set[Client] = set()
        self.lock = threading.Lock()
        self.silent = False  # fault: the venue stops sending anything (books, pongs, acks)

    def send(self, client: Client, text: str) -> None:
        if not self.silent:
            client.loop.call_soon_threadsafe(client.queue.put_nowait, text)

    def publish(self, topic: Any, text: str) -> None:
        with self.lock:
            targets = [c for c in self.clients if topic in c.topics]
        for c in targets:
            self.send(c, text)

    def drop_all(self) -> int:
        """Fault: close every connection (the venue restarts, a load balancer cuts us off)."""
        with self.lock:
            targets = list(self.clients)
        for c in targets:
            c.loop.call_soon_threadsafe(c.queue.put_nowait, _CLOSE)
        return len(targets)

    async def serve(self, ws: WebSocket, handle: Callable[[Client, str], Awaitable[None]],
                    info: dict[str, Any] | None = None) -> None:
        client = Client(ws, asyncio.get_running_loop(), info=info or {})
        with self.lock:
            self.clients.add(client)

        async def writer() -> None:
            while True:
                item = await client.queue.get()
                if item is _CLOSE:
                    await ws.close(1001, "sandbox venue restarting")
                    return
                await ws.send_text(item)

        task = asyncio.create_task(writer())
        try:
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    break
                text = msg.get("text") or (msg.get("bytes") or b"").decode()
                await handle(client, text)
        except Exception:
            pass
        finally:
            with self.lock:
                self.clients.discard(client)
            task.cancel()
            with contextlib.suppress(Exception):
                await ws.close()


def level_diff(old: dict[float, float], new: dict[float, float]) -> list[tuple[float, float]]:
    """(price, new size) for every level that changed; size 0 for a level that went away."""
    out = [(p, s) for p, s in new.items() if old.get(p) != s]
    out += [(p, 0.0) for p in old if p not in new]
    return out
