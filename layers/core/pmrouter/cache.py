"""The one in-process TTL cache: a bounded map whose entries expire, evicting the least recently
written entry when full. Per process, which in Lambda means per container. Used for venue metadata
(markets, tick sizes, logins), verified API keys and opened credentials, so that a request costs one
upstream read per TTL instead of one per request.

`lookup` tells a cached None (a negative answer: an unknown API key, a customer without stored
credentials) from a miss; `get` is for caches that never store None. Writes take a lock (the threaded
local server shares a process); reads do not need one (one dict read)."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, ttl: float = 60.0, max_items: int = 5000):
        self.ttl = ttl
        self.max_items = max_items
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, key: K) -> tuple[bool, V | None]:
        """(True, value) for a live entry, None values included; (False, None) otherwise."""
        hit = self._items.get(key)
        if hit is None:
            return False, None
        if hit[0] < time.monotonic():
            self.pop(key)
            return False, None
        return True, hit[1]

    def get(self, key: K) -> V | None:
        return self.lookup(key)[1]

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        """Store `value` for `ttl` seconds (the cache's own TTL when None)."""
        with self._lock:
            self._items[key] = (time.monotonic() + (self.ttl if ttl is None else ttl), value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
