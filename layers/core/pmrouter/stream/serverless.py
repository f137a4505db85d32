"""`/ws` behind an API Gateway WebSocket API: the connection side, one Lambda invocation per frame.

API Gateway holds the sockets; this module keeps what a connection must remember between frames
in DynamoDB (`PMROUTER_STREAM_TABLE`) and answers through the Management API
(`post_to_connection`). It applies the same rules as the in-process session (`session.py`), by
running that session over a connection restored from the table:

- `conn#<id>/meta`: connected_ms, the customer and tier once authenticated, the control-message
  bucket; TTL two hours (API Gateway's longest connection).
- `conn#<id>/sub#<parsec_id>#<outcome>`: one subscription (depth, server_seq so far), indexed by
  book (`by-book`) for the fan-out side.
- `cust#<id>/subs`: how many subscriptions the customer holds across connections, advanced by a
  conditional write so the tier cap holds under concurrent frames.

Books are answered from the venue's REST API here (snapshot on subscribe and resync); the deltas
come from the long-lived side described in docs/streaming.md.
"""
from __future__ import annotations

import asyncio
import os
import time
from decimal import Decimal
from typing import Any

from ..store import stream_connections as rows
from .book import BookId, LiveBook
from .session import AUTH_TIMEOUT_S, Session

def _management():
    import boto3

    return boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["PMROUTER_STREAM_CALLBACK_URL"])


class _Posted:
    """The outbox of one invocation: frames are posted in order when the frame is handled."""

    def __init__(self) -> None:
        self.queue: list[str] = []
        self.closed = False
        self.sent = self.bytes = 0

    def put(self, text: str, sub: Any = None) -> None:
        self.queue.append(text)

    def stop(self) -> None:
        pass


class _Sub:
    def __init__(self, session: "StoredSession", book: LiveBook, depth: int, seq: int):
        self.session, self.book, self.depth, self.seq, self.aseq = session, book, depth, seq, 0

    @property
    def key(self) -> tuple[str, str]:
        return self.book.ident.key


class TableHub:
    """The hub's subscription side over DynamoDB; books are read from REST on demand."""

    def __init__(self, connection_id: str):
        self.connection_id = connection_id
        from .hub import Hub

        self._rest = Hub(feed_factory=lambda sink, adapter: _NoFeed())
        self._pump: bool | None = None

    @property
    def pump_serves(self) -> bool:
        """A pump holds a live lease: book frames are its alone (else answered here from REST)."""
        if self._pump is None:
            from .pump import lease_active

            self._pump = lease_active()
        return self._pump

    async def open_book(self, exchange: str, market_id: str, outcome: str | None) -> LiveBook:
        return await self._rest.open_book(exchange, market_id, outcome)

    def subscriptions_of(self, customer_id: str) -> int:
        return rows.customer_subscriptions(customer_id)

    def attach(self, session: "StoredSession", book: LiveBook, depth: int) -> _Sub:
        cap = session.tier.ws_subscriptions
        if not rows.count_subscription(session.customer_id, cap):
            session.error(3002, f"max subscriptions reached (limit: {cap}, tier: {session.tier.name})",
                          book.ident.parsec_id)
            return None  # type: ignore[return-value]
        sub = _Sub(session, book, depth, 0)
        if not self.pump_serves:  # with a pump, the first snapshot is its to send (seq 0 says so)
            self._rest.send_snapshot(sub)  # type: ignore[arg-type]
        ident = book.ident
        rows.put_subscription(self.connection_id, session.customer_id, parsec_id=ident.parsec_id,
                              exchange=ident.exchange, market_id=ident.market_id, outcome=ident.outcome,
                              token_id=ident.token_id, depth=depth, seq=sub.seq)
        return sub

    async def detach(self, sub: _Sub) -> None:
        ident = sub.book.ident
        rows.drop_subscription(self.connection_id, sub.session.customer_id, ident.parsec_id, ident.outcome)

    async def resync(self, sub: _Sub) -> None:
        ident = sub.book.ident
        if self.pump_serves:  # the pump owns this subscription's server_seq: ask it
            rows.ask_resync(self.connection_id, ident.parsec_id, ident.outcome)
            return
        sub.book = await self.open_book(ident.exchange, ident.market_id, ident.outcome)
        self._rest.send_snapshot(sub)  # type: ignore[arg-type]
        rows.resynced(self.connection_id, ident.parsec_id, ident.outcome, sub.seq)

    async def watch_user(self, customer_id: str, exchanges) -> None:
        pass  # own fills travel on the long-lived side

    async def unwatch_user(self, customer_id: str) -> None:
        pass


class _NoFeed:
    feed_state = "disconnected"  # a REST answer from a Lambda: no live venue connection vouches for it

    async def watch(self, inst) -> None: ...

    async def unwatch(self, inst) -> None: ...

    async def wait_ready(self, timeout: float) -> None: ...


class StoredSession(Session):
    """A `Session` whose state between frames lives in the connection's items."""

    @classmethod
    async def restore(cls, connection_id: str) -> "StoredSession":
        from ..auth.apikeys import Principal
        from ..usage import limits

        items = rows.connection_items(connection_id)
        meta = next((i for i in items if i["sk"] == "meta"), {})
        hub = TableHub(connection_id)
        s = cls(hub, _Posted(), builder_customer_id=meta.get("builder_customer_id"))  # type: ignore[arg-type]
        s.connected_ms = int(meta.get("connected_ms", time.time() * 1000))
        if meta.get("customer_id"):
            s.principal = Principal(str(meta["principal"]), str(meta["account_type"]), str(meta["tier"]), "")
            s.customer_id = str(meta["customer_id"])
            s.tier = limits.tier_of(str(meta["tier"]))
        s.bucket.tokens = float(meta.get("tokens", s.bucket.burst))
        s.bucket.stamp = time.monotonic() - (time.time() - float(meta.get("stamp", time.time())))
        for item in items:
            if item["sk"].startswith("sub#"):
                # Identity only: a book is read from REST when a frame needs one (resync).
                ident = BookId(item["book"].rsplit("#", 1)[0], str(item["exchange"]), str(item["outcome"]),
                               str(item["token_id"]), str(item["market_id"]))
                book = LiveBook(ident, hub._rest.stale_after_ms)
                s.subs[ident.key] = _Sub(s, book, int(item["depth"]), int(item["seq"]))  # type: ignore[assignment]
                if item.get("owed_resync"):
                    s.owed_resync.add(ident.key)
        return s

    def save(self, connection_id: str) -> None:
        who = None
        if self.principal is not None:
            who = {"customer_id": self.customer_id, "principal": self.principal.customer_id,
                   "account_type": self.principal.account_type, "tier": self.principal.tier}
        rows.save_meta(connection_id, tokens=Decimal(str(round(self.bucket.tokens, 3))),
                       stamp=Decimal(str(time.time())), who=who)


async def _frame(connection_id: str, body: str) -> tuple[list[str], bool]:
    session = await StoredSession.restore(connection_id)
    if not session.authenticated and time.time() * 1000 - session.connected_ms > AUTH_TIMEOUT_S * 1000:
        session.auth_deadline_passed()
        return session.out.queue, False
    keep = await session.receive(body)
    session.save(connection_id)
    return session.out.queue, keep


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    rc = event.get("requestContext") or {}
    route, connection_id = rc.get("routeKey"), rc.get("connectionId", "")
    if route == "$connect":
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        rows.open_connection(connection_id, builder_customer_id=headers.get("x-builder-customer-id"))
        return {"statusCode": 200}
    if route == "$disconnect":
        asyncio.run(_disconnect(connection_id))
        return {"statusCode": 200}
    frames, keep = asyncio.run(_frame(connection_id, event.get("body") or ""))
    api = _management()
    for text in frames:
        api.post_to_connection(ConnectionId=connection_id, Data=text.encode())
    if not keep:
        api.delete_connection(ConnectionId=connection_id)
    return {"statusCode": 200}


async def _disconnect(connection_id: str) -> None:
    session = await StoredSession.restore(connection_id)
    for sub in list(session.subs.values()):
        await session.hub.detach(sub)  # type: ignore[arg-type]
    rows.close_connection(connection_id)

