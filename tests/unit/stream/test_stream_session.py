"""Units of the stream core: the slow-reader outbox, the per-depth views, the frame models."""
from __future__ import annotations

import asyncio
import json

from pmrouter.stream.book import BookId, LiveBook
from pmrouter.stream.messages import server_message
from pmrouter.stream.session import Outbox


class _Sub:
    def __init__(self):
        self.book = LiveBook(BookId("kalshi:T", "kalshi", "Yes", "T:yes", "T"), 1000)
        self.key = self.book.ident.key


def test_slow_reader_is_warned_once_then_dropped():
    async def go():
        blocked = asyncio.Event()
        closed = []

        async def send(text):  # a client that never reads: the first send never completes
            await blocked.wait()

        async def close(code, reason):
            closed.append((code, reason))

        out = Outbox(send, close, warn=10, drop=20)
        sub = _Sub()
        for i in range(19):
            out.put(json.dumps({"n": i}), sub)
        await asyncio.sleep(0)
        frames = [json.loads(t) for t in out.queue]
        warnings = [f for f in frames if f.get("type") == "slow_reader"]
        assert len(warnings) == 1 and warnings[0] == {"type": "slow_reader", "parsec_id": "kalshi:T", "outcome": "Yes"}
        server_message.validate_python(warnings[0])
        assert not closed
        for i in range(5):
            out.put("{}", sub)
        await asyncio.sleep(0)
        assert closed == [(1008, "slow reader")] and out.closed
        out.put("{}", sub)  # nothing is queued after the drop
        assert len(out.queue) <= 21
        out.stop()

    asyncio.run(go())


def test_views_diff_to_what_each_depth_was_sent():
    book = LiveBook(BookId("p:1", "polymarket", "Yes", "t", "1"), 1000)
    book.replace([(0.5, 10), (0.49, 5), (0.48, 7)], [(0.52, 3)])
    top1, top2 = book.view(1), book.view(2)
    book.set_level("bid", 0.5, 0)  # the best bid goes: depth 1 sees 0.49 move in
    changes = dict((v.depth, c) for v, c in book.changed_views())
    assert changes[1] == [("bid", 0.49, 5.0), ("bid", 0.5, 0.0)]
    assert changes[2] == [("bid", 0.48, 7.0), ("bid", 0.5, 0.0)]
    book.set_level("bid", 0.40, 9)  # below every view's depth: nobody is told
    assert book.changed_views() == []
    assert top1.levels() == ([(0.49, 5.0)], [(0.52, 3.0)])
    assert top2.levels()[0] == [(0.49, 5.0), (0.48, 7.0)]
