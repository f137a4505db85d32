from __future__ import annotations

import pytest
from moto import mock_aws

from pmrouter.settings import reload_settings
from pmrouter.store import dynamo
from shared.localstack.aws import create_tables, load_template


@pytest.fixture()
def tables(monkeypatch):
    """Every table of template.yaml, in moto's in-process mock."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        dynamo.reset()
        names = create_tables(load_template(), prefix="unit")
        for var, name in names.items():
            monkeypatch.setenv(var, name)
        reload_settings()
        yield names
    monkeypatch.undo()  # restore the environment before settings are re-read
    dynamo.reset()
    reload_settings()
