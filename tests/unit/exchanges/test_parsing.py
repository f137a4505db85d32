"""The one timestamp parser every adapter uses, on each form a venue sends."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pmrouter.exchanges.parsing import to_datetime, to_datetime_or_now

T = datetime(2026, 3, 1, 12, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("value", [T.timestamp(), int(T.timestamp()), int(T.timestamp() * 1000), str(int(T.timestamp())),
                                   str(T.timestamp() * 1000), "2026-03-01T12:30:00Z", "2026-03-01T12:30:00+00:00",
                                   "2026-03-01T12:30:00"])
def test_every_form_means_the_same_instant(value):
    assert to_datetime(value) == T


@pytest.mark.parametrize("value", [None, "", 0, "0", -5, "not a time", "nan", float("inf"), {"a": 1}])
def test_absent_or_malformed_is_none(value):
    assert to_datetime(value) is None


def test_or_now_falls_back_to_the_current_time_only_when_absent():
    assert to_datetime_or_now(int(T.timestamp())) == T
    assert datetime.now(timezone.utc) - to_datetime_or_now(None) < timedelta(seconds=5)
