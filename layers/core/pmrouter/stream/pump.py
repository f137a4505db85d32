"""The long-lived side of the deployed `/ws`: venue feeds -> hub -> API Gateway fan-out.

The pump is the same `Hub` and venue feeds as `make run`, with a subscriber that posts to API
Gateway's Management API instead of writing to a socket. Subscriptions are the stream table's rows
(written by the stream function); the pump polls them, opens the books, and owns every book frame
of every subscription: the first snapshot, the deltas, the answer to `resync`.

Hand-over without a gap a client can see: instances start every 10 minutes and live 15, so two
overlap. A new instance first *warms* (opens every book and venue connection, sends nothing), then
takes the `pump/lease` row with a conditional write on its generation. The old instance renews the
lease every `RENEW_S` with a condition on being its holder; the first renewal that fails stops it
from sending anything more. The new leader cannot continue the old one's `server_seq`, so each
subscription the old one served gets `resync_required` and no deltas until its `resync` comes back
(through the stream function, recorded on the row) and is answered with a snapshot. A leader that
dies without a successor lets the lease expire (`LEASE_TTL_MS`), and the stream function answers
snapshots from REST meanwhile.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

from ..store import stream_connections as store
from ..store.stream_connections import connection_rows
from .hub import Hub, Subscription
from .session import AUTH_TIMEOUT_S, Outbox, dumps

log = logging.getLogger("pmrouter.stream.pump")

LEASE_TTL_MS = 10_000
RENEW_S = 2.0
POLL_S = 0.5
WARM_S = 20.0
HEARTBEAT_S = 10.0


def lease_active(now_ms: int | None = None) -> bool:
    item = store.lease()
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    return bool(item) and int(item.get("until_ms", 0)) > now_ms


def _expire(api: Any, connection_id: str) -> None:
    """The auth window passed: say so, close, forget (API Gateway then sends $disconnect)."""
    frame = dumps({"type": "auth_error", "code": 1002, "message": f"authenticate within {AUTH_TIMEOUT_S:g} s of connecting"})
    for call in (lambda: api.post_to_connection(ConnectionId=connection_id, Data=frame.encode()),
                 lambda: api.delete_connection(ConnectionId=connection_id)):
        try:
            call()
        except Exception as exc:  # already gone
            log.info("expiring %s: %s", connection_id, exc)
    store.close_connection(connection_id)


class RemoteConnection:
    """A hub subscriber that is an API Gateway connection."""

    def __init__(self, connection_id: str, customer_id: str, api: Any):
        self.connection_id, self.customer_id, self.api = connection_id, customer_id, api
        self.out = Outbox(self._send, self._close)
        self.gone = False

    async def _send(self, text: str) -> None:
        try:
            await asyncio.to_thread(self.api.post_to_connection, ConnectionId=self.connection_id, Data=text.encode())
        except Exception as exc:  # GoneException: the client left; $disconnect removes its rows
            self.gone = True
            raise exc

    async def _close(self, code: int, reason: str) -> None:
        await asyncio.to_thread(self.api.delete_connection, ConnectionId=self.connection_id)

    def push(self, text: str, sub: Subscription | None = None) -> None:
        self.out.put(text, sub)

    def resync_required(self, sub: Subscription) -> None:
        # The client's answering `resync` is exempt from the control-message limit.
        ident = sub.book.ident
        asyncio.get_running_loop().run_in_executor(
            None, store.update_row_if_present, f"conn#{self.connection_id}",
            f"sub#{ident.parsec_id}#{ident.outcome.lower()}", "SET owed_resync = :t", {":t": True})


class Pump:
    def __init__(self, api: Any, *, holder: str | None = None, hub: Hub | None = None):
        self.api = api
        self.holder = holder or str(uuid.uuid4())
        self.hub = hub or Hub()
        self.conns: dict[str, RemoteConnection] = {}
        self.subs: dict[tuple[str, str], Subscription] = {}
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        self.answered: dict[tuple[str, str], int] = {}  # resync_ms already answered
        self.leader = False
        self.generation = -1
        self.stopped = ""
        self._stop = False
        self._beat = time.monotonic()
        self.expired: set[str] = set()

    def stop(self) -> None:
        """Stop at the next poll (tests; a Lambda is stopped by its deadline)."""
        self._stop = True

    # --- the lease -------------------------------------------------------------------------------

    def _take_lease(self) -> bool:
        seen = int(store.lease().get("generation", -1))
        if not store.take_lease(self.holder, seen, int(time.time() * 1000) + LEASE_TTL_MS):
            return False
        self.generation = seen + 1
        return True

    def _renew(self) -> bool:
        return store.renew_lease(self.holder, self.generation, int(time.time() * 1000) + LEASE_TTL_MS)

    # --- subscriptions ---------------------------------------------------------------------------

    def _conn(self, row: dict[str, Any]) -> RemoteConnection:
        cid = row["pk"].removeprefix("conn#")
        conn = self.conns.get(cid)
        if conn is None:
            conn = self.conns[cid] = RemoteConnection(cid, str(row["customer_id"]), self.api)
        return conn

    async def _attach(self, key: tuple[str, str], row: dict[str, Any]) -> None:
        book = await self.hub.open_book(str(row["exchange"]), str(row["market_id"]), str(row["outcome"]))
        conn = self._conn(row)
        await self.hub.watch_user(conn.customer_id, ("polymarket", "kalshi"))  # own fills
        fresh = int(row.get("seq", 0)) == 0  # the client has had no snapshot from anyone
        sub = self.hub.attach(conn, book, int(row["depth"]), snapshot=fresh)
        self.subs[key] = sub
        self.answered[key] = int(row.get("resync_ms", 0))
        if fresh:
            await asyncio.to_thread(store.update_row_if_present, row["pk"], row["sk"], "SET seq = :s", {":s": sub.seq})
        else:
            conn.resync_required(sub)
            conn.push(f'{{"type":"resync_required","parsec_id":"{book.ident.parsec_id}","outcome":"{book.ident.outcome}"}}', sub)

    async def sync(self, rows: list[dict[str, Any]]) -> None:
        current = {(r["pk"], r["sk"]): r for r in rows}
        for key in [k for k in self.subs if k not in current]:
            sub = self.subs.pop(key)
            await self.hub.detach(sub)
            await self.hub.unwatch_user(sub.session.customer_id)  # one count per attached subscription
            self.rows.pop(key, None)
        for key, row in current.items():
            self.rows[key] = row
            if key not in self.subs:
                if self.leader:
                    try:
                        await self._attach(key, row)
                    except Exception as exc:  # a market gone since subscribe: the row stays, unserved
                        log.info("cannot serve %s: %s", key, exc)
                else:  # warming: open the book and its venue feed, send nothing
                    await self.hub.open_book(str(row["exchange"]), str(row["market_id"]), str(row["outcome"]))
                continue
            asked = int(row.get("resync_ms", 0))
            if asked > self.answered.get(key, 0):
                self.answered[key] = asked
                await self.hub.resync(self.subs[key])

    async def sweep(self, metas: list[dict[str, Any]]) -> None:
        """The leader's connection duties: the auth window, and a heartbeat every HEARTBEAT_S."""
        now_ms = time.time() * 1000
        for row in metas:
            cid = row["pk"].removeprefix("conn#")
            if not row.get("customer_id") and cid not in self.expired and \
                    now_ms - int(row.get("connected_ms", now_ms)) > AUTH_TIMEOUT_S * 1000:
                self.expired.add(cid)
                await asyncio.to_thread(_expire, self.api, cid)
        if time.monotonic() - self._beat >= HEARTBEAT_S:
            self._beat = time.monotonic()
            frame = dumps({"type": "heartbeat", "ts_ms": int(now_ms)})
            for row in metas:
                if row.get("customer_id"):
                    self._conn(row).push(frame)

    def warm(self) -> bool:
        return all(b.state == "fresh" for b in self.hub.books.values())

    async def run(self, seconds: float) -> str:
        """Serve until `seconds` have passed or a successor took the lease; returns why it stopped."""
        until = time.monotonic() + seconds
        warm_until = time.monotonic() + WARM_S
        renewed = 0.0
        try:
            while time.monotonic() < until and not self._stop:
                rows = await asyncio.to_thread(connection_rows)
                await self.sync([r for r in rows if r["sk"].startswith("sub#")])
                if self.leader:
                    await self.sweep([r for r in rows if r["sk"] == "meta"])
                if not self.leader and (self.warm() or time.monotonic() > warm_until):
                    self.leader = await asyncio.to_thread(self._take_lease)
                    renewed = time.monotonic()
                    if self.leader:
                        rows = await asyncio.to_thread(connection_rows)
                        await self.sync([r for r in rows if r["sk"].startswith("sub#")])
                elif self.leader and time.monotonic() - renewed > RENEW_S:
                    if not await asyncio.to_thread(self._renew):
                        self.stopped = "lease taken over"
                        return self.stopped
                    renewed = time.monotonic()
                await asyncio.sleep(POLL_S)
            self.stopped = "stopped" if self._stop else "time is up"
            return self.stopped
        finally:
            for conn in self.conns.values():
                conn.out.stop()  # nothing more from this instance, whatever it had queued
            await self.hub.close()


def run_pump(api: Any, seconds: float) -> str:
    return asyncio.run(Pump(api).run(seconds))
