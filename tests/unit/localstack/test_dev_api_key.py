"""`make run` refuses a PMROUTER_DEV_API_KEY that the API would answer with 401, instead of printing it."""
from __future__ import annotations

import pytest

from pmrouter.auth.apikeys import key_shape_problem, new_api_key
from shared.localstack.run import _dev_api_key


@pytest.mark.parametrize("key", ["demo-key", "pk_test_0123456789abcdef0123", "pk_live_short", "pk_live_" + "x" * 130])
def test_unusable_dev_key_is_refused_with_the_reason(monkeypatch, key):
    monkeypatch.setenv("PMROUTER_DEV_API_KEY", key)
    with pytest.raises(SystemExit) as stop:
        _dev_api_key()
    assert "PMROUTER_DEV_API_KEY" in str(stop.value) and key_shape_problem(key) in str(stop.value)


def test_usable_dev_key_and_unset_pass_through(monkeypatch):
    monkeypatch.setenv("PMROUTER_DEV_API_KEY", "pk_live_demo0123456789abcdef")
    assert _dev_api_key() == "pk_live_demo0123456789abcdef"
    monkeypatch.delenv("PMROUTER_DEV_API_KEY")
    assert _dev_api_key() is None


def test_generated_keys_have_an_acceptable_shape():
    assert key_shape_problem(new_api_key()) is None
