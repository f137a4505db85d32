"""One client connection: in-band auth, control messages, limits, and a bounded outbox.

Transport-neutral: the local ASGI endpoint (`stream/asgi.py`) feeds it text frames and gives it a
`send`/`close` pair. Everything the contract says about a connection lives here:

- `auth` within `AUTH_TIMEOUT_S` (the transport enforces the clock, `auth_deadline_passed` says
  what to send); `auth_ok`/`auth_error`; a second `auth` is error 1001. Builders stream for an end
  user with `builder_customer_id` in the auth message (or `X-Builder-Customer-Id` on the upgrade
  request), checked as on REST.
- subscribe/unsubscribe/resync: 3 a second (3001), the tier's subscription cap across all of the
  customer's connections (3002), depth 1..100 defaulting to 50 and clamped to the tier maximum,
  and every per-market error names the market and leaves the connection usable.
- A reader that falls `SLOW_WARN` frames behind is told `slow_reader` (once per subscription until
  it catches up); at `SLOW_DROP` the connection is closed rather than let memory grow.
"""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
from typing import Awaitable, Callable

from pydantic import ValidationError

from ..errors import PmrouterError
from ..exchanges.errors import MarketNotFound, VenueError
from ..exchanges.registry import UnknownExchange
from ..ids import market_ref
from ..usage import limits
from . import messages as m
from .hub import Hub, Subscription
from .usage import ANONYMOUS, usage

log = logging.getLogger("pmrouter.stream.session")

AUTH_TIMEOUT_S = 15.0
CONTROL_RATE = 3.0  # subscribe/unsubscribe/resync per second (burst 3)
DEFAULT_DEPTH = 50
MAX_DEPTH = 100
SLOW_WARN = 512
SLOW_DROP = 4096
CLOSE_POLICY = 1008  # WebSocket close code: policy violation (auth window, slow reader)

_SEP = (",", ":")


def dumps(frame: dict) -> str:
    return json.dumps(frame, separators=_SEP)


class Outbox:
    """Frames waiting for one client, written by a single task in order."""

    def __init__(self, send: Callable[[str], Awaitable[None]], close: Callable[[int, str], Awaitable[None]],
                 warn: int = SLOW_WARN, drop: int = SLOW_DROP):
        self._send, self._close = send, close
        self.warn, self.drop = warn, drop
        self.queue: collections.deque[str] = collections.deque()
        self.warned: set[tuple[str, str]] = set()
        self.closed = False
        self.sent = self.bytes = 0
        self._ready = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._writer())

    def put(self, text: str, sub: Subscription | None = None) -> None:
        if self.closed:
            return
        n = len(self.queue)
        if n >= self.drop:
            self.closed = True
            asyncio.get_running_loop().create_task(self._close(CLOSE_POLICY, "slow reader"))
            return
        if n >= self.warn and sub is not None and sub.key not in self.warned:
            self.warned.add(sub.key)
            ident = sub.book.ident
            self.queue.append(dumps({"type": "slow_reader", "parsec_id": ident.parsec_id, "outcome": ident.outcome}))
        self.queue.append(text)
        self._ready.set()

    async def _writer(self) -> None:
        try:
            while True:
                await self._ready.wait()
                self._ready.clear()
                while self.queue:
                    text = self.queue.popleft()
                    await self._send(text)
                    self.sent += 1
                    self.bytes += len(text)
                if self.warned:
                    self.warned.clear()  # caught up: warn again next time
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # the socket went away; the transport closes the session
            log.debug("writer stopped: %s", exc)
            self.closed = True

    def stop(self) -> None:
        self.closed = True
        self._task.cancel()


class TokenBucket:
    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Session:
    def __init__(self, hub: Hub, outbox: Outbox, *, builder_customer_id: str | None = None):
        self.hub = hub
        self.out = outbox
        self.header_customer = builder_customer_id
        self.principal = None
        self.customer_id = ANONYMOUS
        self.tier = limits.tier_of("free")
        self.subs: dict[tuple[str, str], Subscription] = {}
        self.owed_resync: set[tuple[str, str]] = set()
        self.bucket = TokenBucket(CONTROL_RATE, CONTROL_RATE)
        self.opened = time.monotonic()
        self._counted = (0, 0)
        self.authed = asyncio.Event()  # the transport's clock waits on it

    @property
    def authenticated(self) -> bool:
        return self.principal is not None

    # --- outgoing ---------------------------------------------------------------------------------

    def push(self, text: str, sub: Subscription | None = None) -> None:
        self.out.put(text, sub)

    def resync_required(self, sub: Subscription) -> None:
        self.owed_resync.add(sub.key)

    def error(self, code: int, message: str, parsec_id: str | None = None) -> None:
        frame = {"type": "error", "code": code, "message": message}
        if parsec_id:
            frame["parsec_id"] = parsec_id
        self.push(dumps(frame))

    def auth_deadline_passed(self) -> None:
        self.push(dumps({"type": "auth_error", "code": m.AUTH_INVALID,
                         "message": f"authenticate within {AUTH_TIMEOUT_S:g} s of connecting"}))
        usage.add(ANONYMOUS, "auth_failures_total")

    def heartbeat(self) -> None:
        self.push(dumps({"type": "heartbeat", "ts_ms": int(time.time() * 1000)}))

    # --- incoming ---------------------------------------------------------------------------------

    async def receive(self, text: str) -> bool:
        """Handle one client frame. Returns False when the connection must close (failed auth)."""
        try:
            raw = json.loads(text)
        except ValueError:
            self.error(m.INVALID_MARKET, "messages must be JSON objects")
            return True
        kind = raw.get("type") if isinstance(raw, dict) else None
        if kind in ("auth", "auth_terminal"):
            if self.authenticated:
                self.error(m.AUTH_REQUIRED, "already authenticated")
                return True
            return await self._auth(raw)
        if not self.authenticated:
            self.error(m.AUTH_REQUIRED, "authenticate first: {\"type\":\"auth\",\"api_key\":...}")
            return True
        try:
            msg = m.client_message.validate_python(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            self.error(m.INVALID_MARKET, f"invalid {kind or 'message'}: {where}: {first['msg']}")
            return True
        sub_key = raw.get("parsec_id") if kind == "resync" else None
        if not (kind == "resync" and self._owed(msg)) and not self.bucket.take():
            self.error(m.RATE_LIMITED, f"rate limited: at most {CONTROL_RATE:g} subscribe/unsubscribe/resync a second",
                       sub_key)
            return True
        if isinstance(msg, m.SubscribeIn):
            usage.add(self.customer_id, "subscribe_requests_total")
            for sel in msg.markets:
                await self._subscribe(sel)
        elif isinstance(msg, m.UnsubscribeIn):
            usage.add(self.customer_id, "unsubscribe_requests_total")
            for sel in msg.markets:
                await self._unsubscribe(sel)
        elif isinstance(msg, m.ResyncIn):
            await self._resync(msg)
        self._count_subs()
        return True

    async def _auth(self, raw: dict) -> bool:
        from ..auth.apikeys import authenticate

        def fail(message: str) -> bool:
            usage.add(ANONYMOUS, "auth_failures_total")
            self.push(dumps({"type": "auth_error", "code": m.AUTH_INVALID, "message": message}))
            return False

        if raw.get("type") == "auth_terminal":
            return fail("terminal tokens are not issued by this server; authenticate with an API key")
        try:
            msg = m.AuthIn.model_validate(raw)
        except ValidationError:
            return fail("auth needs api_key")
        principal = await asyncio.to_thread(authenticate, msg.api_key)
        if principal is None:
            return fail("invalid API key")
        acting = msg.builder_customer_id or self.header_customer
        customer_id = principal.customer_id
        if acting:
            problem = await asyncio.to_thread(_end_user_problem, principal, acting.strip())
            if problem:
                return fail(problem)
            customer_id = acting.strip()
        tier_name = principal.tier
        if principal.account_type == "end_user":
            # An end user's own key streams on its builder's terms, as on REST; a deactivated user's
            # key (whose revocation may still be cached) is refused.
            from ..builders.users import end_user_terms

            terms = await asyncio.to_thread(end_user_terms, principal.customer_id)
            if terms is None:
                return fail("invalid API key")
            tier_name = terms.builder_tier
        self.principal = principal
        self.customer_id = customer_id
        self.tier = limits.tier_of(tier_name)
        usage.add(customer_id, "connections_opened_total")
        usage.add(customer_id, "active_connections")
        self.push(dumps({"type": "auth_ok", "customer_id": customer_id}))
        self.authed.set()
        await self.hub.watch_user(customer_id, ("polymarket", "kalshi"))
        return True

    def _owed(self, msg: m.ResyncIn) -> bool:
        sub = self._find(msg)
        if sub is not None and sub.key in self.owed_resync:
            self.owed_resync.discard(sub.key)
            return True
        return False

    def _find(self, sel: m.MarketSelector) -> Subscription | None:
        """The subscription a selector means; no outcome means Yes (or the market's only one)."""
        try:
            ref = market_ref(sel.parsec_id, sel.exchange, sel.market_id)
        except PmrouterError:
            return None
        pid, want = ref.parsec_id.lower(), (sel.outcome or "").strip().lower()
        mine = [s for s in self.subs.values() if s.book.ident.parsec_id.lower() == pid]
        if want:
            return next((s for s in mine if s.key[1] == want), None)
        return next((s for s in mine if s.key[1] == "yes"), mine[0] if len(mine) == 1 else None)

    def _ref(self, sel: m.MarketSelector):
        """The selector's market, or None after telling the client what is wrong with it."""
        try:
            return market_ref(sel.parsec_id, sel.exchange, sel.market_id)
        except PmrouterError as exc:
            self.error(m.INVALID_MARKET, _problem(exc), sel.parsec_id)
            return None

    async def _subscribe(self, sel: m.MarketSelector) -> None:
        ref = self._ref(sel)
        if ref is None:
            return
        depth = DEFAULT_DEPTH if sel.depth is None else sel.depth
        if depth < 1:
            self.error(m.INVALID_MARKET, f"depth must be between 1 and {MAX_DEPTH}, got {depth}", ref.parsec_id)
            return
        depth = min(depth, MAX_DEPTH, self.tier.ws_depth)
        try:
            book = await self.hub.open_book(ref.exchange, ref.market_id, sel.outcome)
        except UnknownExchange:
            self.error(m.INVALID_MARKET, f"unknown exchange {ref.exchange!r}", ref.parsec_id)
            return
        except MarketNotFound:
            self.error(m.MARKET_NOT_FOUND, f"market not found: {ref.parsec_id}", ref.parsec_id)
            return
        except ValueError as exc:
            self.error(m.INVALID_OUTCOME, str(exc), ref.parsec_id)
            return
        except VenueError as exc:
            self.error(m.EXCHANGE_UNAVAILABLE, f"{ref.exchange} is unavailable: {exc}", ref.parsec_id)
            return
        key = book.ident.key
        existing = self.subs.get(key)
        if existing is not None:
            if existing.depth != depth:  # a new depth is a new view: start over from a snapshot
                await self.hub.detach(existing)
                del self.subs[key]
            else:
                return
        cap = self.tier.ws_subscriptions
        if self.hub.subscriptions_of(self.customer_id) >= cap:
            self.error(m.MAX_SUBSCRIPTIONS, f"max subscriptions reached (limit: {cap}, tier: {self.tier.name})",
                       book.ident.parsec_id)
            return
        if self.out.closed:
            return
        sub = self.hub.attach(self, book, depth)
        if sub is not None:  # None: a store-side cap refused it (and said so)
            self.subs[key] = sub

    async def _unsubscribe(self, sel: m.MarketSelector) -> None:
        ref = self._ref(sel)
        if ref is None:
            return
        want = (sel.outcome or "").strip().lower()
        for key, sub in list(self.subs.items()):
            if sub.book.ident.parsec_id.lower() == ref.parsec_id.lower() and want in ("", key[1]):
                del self.subs[key]
                self.owed_resync.discard(key)
                await self.hub.detach(sub)

    async def _resync(self, sel: m.ResyncIn) -> None:
        sub = self._find(sel)
        if sub is None:
            self.error(m.INVALID_MARKET, "resync: not subscribed to this market", sel.parsec_id)
            return
        await self.hub.resync(sub)

    def _count_subs(self) -> None:
        n = len(self.subs)
        before, _ = self._counted
        if n != before:
            usage.add(self.customer_id, "active_subscriptions", n - before)
            self._counted = (n, 0)

    async def close(self) -> None:
        self.out.stop()
        for sub in list(self.subs.values()):
            await self.hub.detach(sub)
        self.subs.clear()
        self._count_subs()
        if self.authenticated:
            await self.hub.unwatch_user(self.customer_id)
            usage.add(self.customer_id, "active_connections", -1)
            usage.add(self.customer_id, "connections_closed_total")
        usage.add(self.customer_id, "messages_sent_total", self.out.sent)
        usage.add(self.customer_id, "bytes_sent_total", self.out.bytes)


def _problem(exc: PmrouterError) -> str:
    return "; ".join(exc.problems or []) or exc.message


def _end_user_problem(principal, customer_id: str) -> str | None:
    """REST's rule of `X-Builder-Customer-Id`, told as an auth error instead of a 403."""
    from ..builders.users import acting_user

    try:
        acting_user(principal, customer_id, named="builder_customer_id")
    except PmrouterError as exc:
        return exc.message
    return None
