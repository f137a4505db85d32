"""`/ws/usage` counters: in-memory aggregates of this process's WebSocket traffic, as the
contract says they are. The deployed stream function keeps the same counters per Lambda
instance; `docs/streaming.md` says what that means for the numbers."""
from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict

FIELDS = ("active_connections", "active_subscriptions", "connections_opened_total", "connections_closed_total",
          "auth_failures_total", "subscribe_requests_total", "unsubscribe_requests_total", "messages_sent_total",
          "bytes_sent_total")
ANONYMOUS = ""  # connections that never authenticated (auth failures land here)


class Usage:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_customer: dict[str, Counter] = defaultdict(Counter)
        self._markets: dict[str, Counter] = defaultdict(Counter)
        self.updated_at_ms = int(time.time() * 1000)

    def add(self, customer_id: str, field: str, n: int = 1) -> None:
        with self._lock:
            self._by_customer[customer_id][field] += n
            self.updated_at_ms = int(time.time() * 1000)

    def market(self, customer_id: str, parsec_id: str, n: int) -> None:
        with self._lock:
            mine = self._markets[customer_id]
            mine[parsec_id] += n
            if mine[parsec_id] <= 0:
                del mine[parsec_id]

    def customer(self, customer_id: str) -> dict[str, int]:
        with self._lock:
            c = self._by_customer.get(customer_id, Counter())
            return {f: int(c[f]) for f in FIELDS}

    def totals(self) -> dict[str, int]:
        with self._lock:
            out = Counter()
            for c in self._by_customer.values():
                out.update(c)
            return {f: int(out[f]) for f in FIELDS}

    def top_markets(self, limit: int, customer_id: str | None = None) -> list[tuple[str, int]]:
        with self._lock:
            if customer_id is not None:
                return self._markets.get(customer_id, Counter()).most_common(limit)
            out: Counter = Counter()
            for c in self._markets.values():
                out.update(c)
            return out.most_common(limit)

    def reset(self) -> None:
        with self._lock:
            self._by_customer.clear()
            self._markets.clear()


usage = Usage()
