"""Fixtures shared by the suites. `stack` is the real local stack (embedded AWS, five sandbox venues,
the API) started once per test process, exactly what `make run` starts."""
from __future__ import annotations

import logging

import httpx
import pytest

_STACK = {}
_RESPONSES: list[str] = []


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record) + " " + repr(record.__dict__))
        except Exception:  # a record that cannot be formatted is still scanned by its raw fields
            self.lines.append(repr(record.__dict__))


def _stored_secrets() -> list[str]:
    """Every secret value the credential store holds (opened with KMS, as the functions do)."""
    import boto3

    from pmrouter.auth import vault
    from pmrouter.auth.credentials import PURPOSE, SECRET_FIELDS
    from pmrouter.settings import get_settings

    out = []
    for item in boto3.resource("dynamodb").Table(get_settings().credentials_table).scan()["Items"]:
        if "ct" not in item:
            continue
        ctx = {"customer_id": item["customer_id"], "exchange": item["exchange"], "purpose": PURPOSE}
        secret = vault.open_sealed(vault.Sealed.from_item(item), ctx)
        out += [str(secret[f]) for f in SECRET_FIELDS if f != "api_key_id" and secret.get(f)]
    return out


def _needles(secret: str) -> list[str]:
    s = secret.strip()
    if "PRIVATE KEY" in s:  # a PEM: its base64 body lines
        return [line for line in s.splitlines() if line and "PRIVATE KEY" not in line][:3]
    return [s.removeprefix("0x").lower()] if len(s) >= 16 else []


def _scan_for_leaks(capture: _Capture) -> None:
    """After the whole session: no stored secret appears in plaintext in any DynamoDB item, any log
    record, or any API response body this process saw."""
    import boto3

    from pmrouter.settings import get_settings

    secrets = _stored_secrets()
    assert secrets, "the stack onboarded accounts, so the store must hold secrets to scan for"
    s = get_settings()
    haystacks = []
    for table in (s.accounts_table, s.api_keys_table, s.catalog_table, s.credentials_table, s.orders_table,
                  s.fills_table, s.usage_table, s.escrow_table):
        haystacks += [repr(i).lower() for i in boto3.resource("dynamodb").Table(table).scan()["Items"]]
    haystacks += [line.lower() for line in capture.lines] + [r.lower() for r in _RESPONSES]
    leaks = [n[:8] + "…" for sec in secrets for n in _needles(sec) if any(n.lower() in h for h in haystacks)]
    assert not leaks, f"secrets found in plaintext: {leaks}"


def _keep_body(response: httpx.Response) -> None:
    response.read()
    _RESPONSES.append(response.text)


@pytest.fixture(scope="session")
def stack():
    from shared.localstack.stack import LocalStack

    # Money moves on the stack's local EVM (anvil): fees, settlements and CTF calls are real transactions.
    s = LocalStack(run_schedules=False).start()
    _STACK["stack"] = s
    capture = _Capture()  # after start: the functions' bootstrap installs its own root handler
    logging.getLogger().addHandler(capture)
    yield s
    logging.getLogger().removeHandler(capture)
    try:
        _scan_for_leaks(capture)
    finally:
        s.stop()


@pytest.fixture(scope="session")
def api(stack):
    """An httpx client on the local API with the demo key."""
    with httpx.Client(base_url=stack.url + "/api/v1", headers={"X-API-Key": stack.api_key}, timeout=30,
                      event_hooks={"response": [_keep_body]}) as c:
        yield c


@pytest.fixture(scope="session")
def anon(stack):
    with httpx.Client(base_url=stack.url + "/api/v1", timeout=30, event_hooks={"response": [_keep_body]}) as c:
        yield c


@pytest.fixture(scope="session")
def sdk(stack):
    from parsec_api import ParsecAPI

    return ParsecAPI(base_url=stack.url, api_key=stack.api_key, _strict_response_validation=True, max_retries=0)
