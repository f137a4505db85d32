"""Per-key rate limits and monthly quotas that hold across function instances.

The token bucket of each API key lives in DynamoDB. An instance does not pay a round trip per
request: it *leases* a few tokens at a time from the shared bucket (an optimistic conditional
update) and spends them locally; a lease it has not used within a second is dropped, so idle
instances cannot hoard capacity. The monthly counter is advanced by each lease the same way. The
lease size is a tenth of the burst (at least 1), so the shared state is exact to within a tenth of a
burst per instance.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from ..errors import RateLimited
from ..store import usage as usage_store


@dataclass(frozen=True)
class Tier:
    name: str
    qps: int
    burst: int
    monthly: int  # 0 = unlimited
    history_days: int  # 0 = unlimited
    ws_subscriptions: int
    ws_depth: int


TIERS = {
    "free": Tier("free", 5, 5, 10_000, 5, 3, 10),
    "pro": Tier("pro", 60, 120, 5_000_000, 30, 500, 100),
    "scale": Tier("scale", 200, 400, 0, 0, 2000, 100),
    # Operators' own keys (benchmarks, health checks): effectively unlimited, never sold.
    "internal": Tier("internal", 100_000, 100_000, 0, 0, 2000, 100),
}
LEASE_TTL_S = 1.0


def tier_of(name: str) -> Tier:
    return TIERS.get(name, TIERS["free"])


def month_bounds(now: float | None = None) -> tuple[int, int]:
    dt = datetime.fromtimestamp(now if now is not None else time.time(), tz=timezone.utc)
    start = datetime(dt.year, dt.month, 1, tzinfo=timezone.utc)
    end = datetime(dt.year + (dt.month == 12), dt.month % 12 + 1, 1, tzinfo=timezone.utc)
    return int(start.timestamp()), int(end.timestamp())


class Limited(RateLimited):
    """The API answers it with the contract's 429 and the tier's limits (api/auth.py)."""

    def __init__(self, kind: str, retry_after: float, tier: Tier):
        super().__init__(kind, retry_after=math.ceil(retry_after))
        self.kind = kind  # rate | monthly
        self.retry_after = retry_after
        self.tier = tier


@dataclass
class Admission:
    tier: Tier
    monthly_used: int | None  # None when the tier has no monthly cap
    tokens_left: int = 0  # what this instance still holds of its lease (a lower bound on the bucket)


def _lease_bucket(bucket_id: str, rate: float, burst: int, want: int) -> tuple[int, float]:
    """Take up to `want` tokens from the shared bucket. Returns (granted, seconds until one token).

    The optimistic lock is a version counter (store/usage.write_bucket), not the timestamp: two
    writers that read the same state within one millisecond would both match on the timestamp and
    one update would be lost."""
    for _ in range(8):
        now_ms = int(time.time() * 1000)
        item = usage_store.get_bucket(bucket_id)
        if item is None:
            tokens, stamp = float(burst), now_ms
        else:
            elapsed = max(0.0, (now_ms - int(item["ms"])) / 1000)
            tokens, stamp = min(float(burst), float(item["tokens"]) + elapsed * rate), int(item["ms"])
        granted = min(want, int(tokens))
        if granted < 1:
            return 0, (1 - tokens) / rate
        # A clock behind the last writer's never moves the stamp back (that would refill twice).
        if usage_store.write_bucket(bucket_id, Decimal(str(round(tokens - granted, 6))), max(now_ms, stamp), item):
            return granted, 0.0
    return 0, 1 / rate  # heavy contention: treat as momentarily exhausted


def _count_month(customer_id: str, n: int, cap: int) -> int:
    """Add `n` requests to this month's counter; refuse when the cap is reached."""
    used = usage_store.add_to_month(customer_id, month_bounds()[0], n, cap)
    if used is None:
        raise Limited("monthly", 0, TIERS["free"])
    return used


def monthly_used(customer_id: str) -> int:
    return usage_store.month_count(customer_id, month_bounds()[0])


class Limiter:
    """One per process (one per Lambda container); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._leases: dict[str, tuple[int, float, int]] = {}  # bucket -> (tokens left, expires, month count)

    def admit(self, bucket: str, customer_id: str, tier: Tier, qps: int | None = None,
              count_month: bool = True) -> Admission:
        rate = float(qps or tier.qps)
        burst = max(1, int(rate * tier.burst / tier.qps)) if qps else tier.burst
        with self._lock:
            left, expires, used = self._leases.get(bucket, (0, 0.0, 0))
            if left > 0 and expires > time.monotonic():
                self._leases[bucket] = (left - 1, expires, used)
                return Admission(tier, used if tier.monthly and count_month else None, left - 1)
        want = max(1, burst // 10)
        granted, wait = _lease_bucket(f"bucket#{bucket}", rate, burst, want)
        if granted < 1:
            raise Limited("rate", max(wait, 0.001), tier)
        used = 0
        if count_month:
            try:
                used = _count_month(customer_id, granted, tier.monthly)
            except Limited:
                raise Limited("monthly", month_bounds()[1] - time.time(), tier) from None
        with self._lock:
            self._leases[bucket] = (granted - 1, time.monotonic() + LEASE_TTL_S, used)
        return Admission(tier, used if tier.monthly and count_month else None, granted - 1)

    def reset(self) -> None:
        with self._lock:
            self._leases.clear()


limiter = Limiter()


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
