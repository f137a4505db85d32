"""Order rules: types the venue lacks are a 501 that must not be retried; params are checked."""
from __future__ import annotations

import time

import pytest

from pmrouter.api.errors import from_domain_error
from pmrouter.errors import InvalidInput, NotSupported
from pmrouter.trading.rules import parse_params, require_order_type


class NoFok:
    name = "Venue"
    order_types = frozenset({"gtc", "ioc"})


def test_unsupported_type_is_501_with_no_retry():
    with pytest.raises(NotSupported) as exc:
        require_order_type(NoFok(), "fok")
    answer = from_domain_error(exc.value)  # as the API's edge answers it
    assert answer.status == 501 and answer.headers["x-should-retry"] == "false"
    assert "gtc, ioc" in exc.value.message
    require_order_type(NoFok(), "ioc")


def test_params():
    now = time.time()
    assert parse_params({}).order_type == "gtc"
    assert parse_params({"order_type": "GTD", "expiration": str(int(now) + 120)}, now).expiration == int(now) + 120
    for bad in ({"order_type": "gtd"}, {"order_type": "gtd", "expiration": str(int(now) + 59)},
                {"order_type": "gtd", "expiration": "tomorrow"}, {"expiration": str(int(now) + 999)},
                {"order_type": "day"}, {"slippage": "1"}):
        with pytest.raises(InvalidInput):
            parse_params(bad, now)
