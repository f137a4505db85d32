"""Candle arithmetic shared by every adapter whose venue publishes price points rather than OHLC."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from ..exchanges.base import Candle, Interval

# "max" asks for the whole history; we answer it with daily candles.
INTERVAL_SECONDS: dict[str, int] = {"1m": 60, "1h": 3600, "6h": 21600, "1d": 86400, "1w": 604800, "max": 86400}


def bucket_start(ts: int, interval: Interval) -> int:
    width = INTERVAL_SECONDS[interval]
    if interval == "1w":
        # Weeks start on Monday 00:00 UTC (the Unix epoch was a Thursday).
        return ts - ((ts - 4 * 86400) % width)
    return ts - ts % width


def points_to_candles(points: Iterable[tuple[int, float]], interval: Interval, start: int, end: int,
                      volumes: dict[int, float] | None = None) -> list[Candle]:
    """OHLC from (unix_s, price) points, keeping buckets whose start lies in [start, end].

    `volumes` maps bucket start -> traded contracts where the venue gives them; otherwise 0.
    """
    buckets: dict[int, list[float]] = {}
    for ts, price in sorted(points):
        b = bucket_start(int(ts), interval)
        if b < bucket_start(start, interval) or b > end:
            continue
        o = buckets.get(b)
        if o is None:
            buckets[b] = [price, price, price, price]
        else:
            o[1] = max(o[1], price)
            o[2] = min(o[2], price)
            o[3] = price
    vols = volumes or {}
    return [
        Candle(datetime.fromtimestamp(b, tz=timezone.utc), o, h, lo, c, float(vols.get(b, 0.0)))
        for b, (o, h, lo, c) in sorted(buckets.items())
    ]


def merge_candles(candles: Iterable[Candle], interval: Interval) -> list[Candle]:
    """Roll finer candles (e.g. a venue's hourly) up into `interval` buckets."""
    out: dict[int, Candle] = {}
    for c in sorted(candles, key=lambda c: c.timestamp):
        b = bucket_start(int(c.timestamp.timestamp()), interval)
        prev = out.get(b)
        if prev is None:
            out[b] = Candle(datetime.fromtimestamp(b, tz=timezone.utc), c.open, c.high, c.low, c.close, c.volume,
                            c.open_interest)
        else:
            out[b] = Candle(prev.timestamp, prev.open, max(prev.high, c.high), min(prev.low, c.low), c.close,
                            prev.volume + c.volume, c.open_interest if c.open_interest is not None else prev.open_interest)
    return [out[k] for k in sorted(out)]
