"""Fixtures shared by the suites. `stack` is the real local stack (embedded AWS, five sandbox venues,
the API) started once per test process, exactly what `make run` starts."""
from __future__ import annotations

import httpx
import pytest


@pytest.fixture(scope="session")
def stack():
    from shared.localstack.stack import LocalStack

    s = LocalStack(run_schedules=False).start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def api(stack):
    """An httpx client on the local API with the demo key."""
    with httpx.Client(base_url=stack.url + "/api/v1", headers={"X-API-Key": stack.api_key}, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def anon(stack):
    with httpx.Client(base_url=stack.url + "/api/v1", timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def sdk(stack):
    from parsec_api import ParsecAPI

    return ParsecAPI(base_url=stack.url, api_key=stack.api_key, _strict_response_validation=True, max_retries=0)
