"""Escrow state machine on moto (issue 8, items 1 and 2): the order id's one spelling, a crash
between recording an escrow and pulling its fee, and a retry racing the settlement for a released
fee: every interleaving ends with the fee pulled at most once and either held for the order or
refunded, never both and never neither."""
from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from pmrouter.errors import InvalidInput as ValidationFailed
from pmrouter.escrow import authorization, chain as escrow_chain
from pmrouter.escrow import service as escrow
from pmrouter.store import orders as order_store

FEE = 100_000
ARGS = dict(customer_id="cust-1", builder_id="builder-1", payer="0x" + "ab" * 20, fee=FEE, deadline=2**40,
            signature="0x00", affiliate="0x" + "11" * 20, affiliate_bps=1500)


@pytest.fixture(autouse=True)
def _sandbox_chain(monkeypatch):
    monkeypatch.setenv("PMROUTER_SANDBOX_CHAIN", "1")  # the ledger chain is chosen, never a default


def test_the_order_id_has_one_spelling():
    canonical = "0x" + "ab" * 32
    assert authorization.canonical_order_id(canonical.upper().replace("0X", "0x")) == canonical
    for bad in (" " + canonical, canonical + "\n", canonical[:-2] + "  ", canonical[:-2], "0X" + canonical[2:],
                "0x" + "\u0661" * 64, "0x" + "ab" * 31 + "a\u00e9", canonical + "00", None, 5):
        assert authorization.canonical_order_id(bad) is None, repr(bad)


def test_the_fee_cap_never_goes_below_the_minimum():
    cfg = authorization.EscrowConfig(contract="0x" + "22" * 20, treasury="0x" + "33" * 20, min_fee_usdc=100_000,
                                     min_fee_bps=10)
    assert authorization.max_fee(cfg, 0.5, 10, 50) == 100_000  # 5 USDC notional: 50 bps is below the minimum
    assert authorization.max_fee(cfg, 0.5, 10_000, 50) == 25_000_000


def _ledger(escrow_id: str) -> list[str]:
    return escrow_chain.SandboxEscrowChain().calls(escrow_id)


def test_a_crash_before_the_pull_is_voided_and_one_after_it_refunded(tables, monkeypatch):
    real = escrow_chain.SandboxEscrowChain.pull_fee

    class Crash(BaseException):
        pass

    def die_before(self, *a, **kw):
        raise Crash()

    def die_after(self, *a, **kw):
        real(self, *a, **kw)
        raise Crash()

    for name, crash in (("0x" + "01" * 32, die_before), ("0x" + "02" * 32, die_after)):
        monkeypatch.setattr(escrow_chain.SandboxEscrowChain, "pull_fee", crash)
        with pytest.raises(Crash):
            escrow.hold(name, order_uid=f"uid-{name[-2:]}", **ARGS)
        assert escrow.get(name)["state"] == "pulling"
    monkeypatch.setattr(escrow_chain.SandboxEscrowChain, "pull_fee", real)
    escrow.settle_once()  # inside the window: a retry may still finish them
    assert escrow.get("0x" + "01" * 32)["state"] == escrow.get("0x" + "02" * 32)["state"] == "pulling"
    later = time.time() + escrow.RETRY_WINDOW_S + 1
    escrow.settle_once(now=later)
    escrow.settle_once(now=later)
    assert escrow.get("0x" + "01" * 32)["state"] == "void" and _ledger("0x" + "01" * 32) == []
    refunded = escrow.get("0x" + "02" * 32)
    assert refunded["state"] == "settled" and int(refunded["refund_amount"]) == FEE
    assert _ledger("0x" + "02" * 32) == ["pull", "distribute"]


def test_the_same_orders_retry_finishes_an_interrupted_pull_once(tables, monkeypatch):
    real = escrow_chain.SandboxEscrowChain.pull_fee

    def die_after(self, *a, **kw):
        real(self, *a, **kw)
        raise ConnectionError("gone")

    name = "0x" + "03" * 32
    monkeypatch.setattr(escrow_chain.SandboxEscrowChain, "pull_fee", die_after)
    with pytest.raises(ConnectionError):
        escrow.hold(name, order_uid="uid-3", **ARGS)
    monkeypatch.setattr(escrow_chain.SandboxEscrowChain, "pull_fee", real)
    with pytest.raises(ValidationFailed):  # another order (another Idempotency-Key) cannot take it
        escrow.hold(name, order_uid="uid-other", **ARGS)
    escrow.hold(name, order_uid="uid-3", **ARGS)
    assert escrow.get(name)["state"] == "held" and _ledger(name) == ["pull"]


@pytest.fixture()
def atomic_calls(tables):
    """moto's in-process backend does not serialise concurrent requests; DynamoDB makes each one
    atomic (a conditional update is checked and applied at once). One call at a time, as there."""
    from pmrouter.store import dynamo

    lock = threading.Lock()
    events = dynamo.resource("dynamodb").meta.client.meta.events

    def take(**_):
        lock.acquire()  # returns None: a before-call handler's value would replace the call

    def give(**_):
        lock.release()

    events.register("before-call.dynamodb", take, unique_id="atomic-before")
    events.register("after-call.dynamodb", give, unique_id="atomic-after")
    yield
    events.unregister("before-call.dynamodb", unique_id="atomic-before")
    events.unregister("after-call.dynamodb", unique_id="atomic-after")


@pytest.mark.parametrize("round_", range(8))
def test_a_retry_racing_the_refund_of_its_released_fee(tables, atomic_calls, round_):
    name = "0x" + f"{round_ + 16:02x}" * 32
    escrow.hold(name, order_uid="uid-r", **ARGS)
    escrow.release(name)
    later = time.time() + escrow.RETRY_WINDOW_S + 1
    outcome: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def retry():  # as place_order does: claim the order (the first attempt released its claim), then hold
        order_store.claim(order_store.OrderRecord(
            customer_id="cust-1", order_uid="uid-r", exchange="polymarket", market_id="m", outcome="Yes", side="buy",
            price=Decimal("0.5"), size=Decimal(10), order_type="gtc", client_order_id="uid-r", fingerprint="f",
            cred_mode="stored", venue_order_id="0xabc"))
        barrier.wait()
        try:
            escrow.hold(name, order_uid="uid-r", **ARGS)
            outcome["retry"] = "held"
        except ValidationFailed as exc:
            outcome["retry"] = str(exc)

    def settle():
        barrier.wait()
        outcome["settle"] = escrow.settle_once(now=later)

    threads = [threading.Thread(target=retry), threading.Thread(target=settle)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = escrow.get(name)
    if outcome["retry"] == "held":
        assert final["state"] == "held" and _ledger(name) == ["pull"]
    else:
        assert "sign a new" in str(outcome["retry"])
        assert final["state"] == "settled" and int(final["refund_amount"]) == FEE
        assert _ledger(name) == ["pull", "distribute"]
