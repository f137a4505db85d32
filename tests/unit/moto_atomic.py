"""DynamoDB applies each request atomically; moto's in-process backend takes no lock, so under threads a
conditional write can interleave with another and a read can see a transaction half applied. Tests that
race threads against moto serialize its requests with one lock: the service's atomicity, nothing more
(which writes win when they do not overlap is unchanged)."""
from __future__ import annotations

import threading

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")


def serialize(monkeypatch, names: tuple[str, ...] = WRITES) -> None:
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in names:
        original = getattr(DynamoDBBackend, name)

        def locked(self, *a, _original=original, **kw):
            with lock:
                return _original(self, *a, **kw)

        monkeypatch.setattr(DynamoDBBackend, name, locked)
