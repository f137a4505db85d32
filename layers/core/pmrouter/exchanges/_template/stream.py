"""The venue's live feed for the /ws pump (fill in, or keep returning None to be polled).

`stream.feeds.create_feed` imports `pmrouter.exchanges.<venue>.stream` and calls `create_feed(sink,
adapter)`; return a `stream.feeds.SocketFeed` (WebSocket) or `VenueFeed` subclass that turns the
venue's messages into book snapshots and deltas on `sink`, or None to fall back to `PollingFeed`.
"""
from __future__ import annotations

from typing import Any


def create_feed(sink: Any, adapter: Any) -> None:
    """No feed of its own: the pump polls the adapter's REST book."""
    return None
