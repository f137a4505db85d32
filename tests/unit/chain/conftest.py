"""A real local EVM (anvil) with the token, ConditionalTokens and the fee escrow deployed, shared by
this directory's tests; moto's in-process DynamoDB for the transaction journal."""
from __future__ import annotations

import pytest

from shared.localstack.chain import LocalChain
from tests.unit.store.conftest import tables  # noqa: F401  (the same template tables, in moto)


@pytest.fixture(scope="session")
def local_chain():
    chain = LocalChain().start()
    yield chain
    chain.stop()
