"""Fee escrow under abuse (issue 8, items 1 and 2): one signed PullFee pays for exactly one order of
the caller's own customer, whatever the spelling of its order id, however often it is replayed or
raced; a fee pulled for an order that never reaches the venue is refunded and a retry with the same
Idempotency-Key and authorization works; a crash between two steps leaves nothing stuck `held`.

Every check also asks the chain (whichever implementation the stack configured) whether the fee was
pulled and whether it was distributed or refunded."""
from __future__ import annotations

import math
import os
import threading
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address

from pmrouter.escrow import chain as escrow_chain
from pmrouter.escrow import service as escrow_service
from pmrouter.exchanges import errors as venue
from pmrouter.exchanges.polymarket.trading import PolymarketSession
from pmrouter.settings import get_settings
from pmrouter.store import dynamo

AFFILIATE = "0x1111111111111111111111111111111111111111"
THROTTLED = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
                         "ResponseMetadata": {"HTTPStatusCode": 400}}, "UpdateItem")


def sign_pull_fee(signer, contract: str, order_id_bytes: bytes, fee: int, deadline: int) -> str:
    """PullFee as the docs describe it, signed over the 32 bytes (independently of pmrouter's code)."""
    typed = {
        "primaryType": "PullFee",
        "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                   {"name": "chainId", "type": "uint256"},
                                   {"name": "verifyingContract", "type": "address"}],
                  "PullFee": [{"name": "orderId", "type": "bytes32"}, {"name": "payer", "type": "address"},
                              {"name": "feeAmount", "type": "uint256"}, {"name": "deadline", "type": "uint256"}]},
        "domain": {"name": "ParsecFeeEscrow", "version": "1", "chainId": 137,
                   "verifyingContract": to_checksum_address(contract)},
        "message": {"orderId": order_id_bytes, "payer": signer.address, "feeAmount": fee, "deadline": deadline},
    }
    return "0x" + signer.sign_message(encode_typed_data(full_message=typed)).signature.hex().removeprefix("0x")


class Escrow:
    """One end user of the demo builder, self-onboarded to Polymarket with a wallet the test holds."""

    def __init__(self, api, resting):
        self.api, self.resting = api, resting
        self.cfg = api.get("/builder/escrow/config").json()
        r = api.post("/builder/users", json={"external_id": f"abuse-{uuid.uuid4().hex[:10]}", "qps_limit": 20})
        assert r.status_code == 201, r.text
        self.customer_id = r.json()["customer_id"]
        self.wallet = Account.create()
        r = api.post("/builder/onboard", json={"customer_id": self.customer_id, "exchange": "polymarket",
                                               "mode": "self", "private_key": "0x" + bytes(self.wallet.key).hex()})
        assert r.status_code == 200, r.text
        self.headers = {"X-Builder-Customer-Id": self.customer_id}
        self.market, self.body = resting.body("polymarket", price_offset=5)

    def fee(self, bps: int = 50) -> int:
        return max(int(self.cfg["min_fee_usdc"]),
                   math.ceil(self.body["price"] * self.body["size"] * bps / 10_000 * 10**6))

    def auth(self, *, signer=None, raw: bytes | None = None, fee: int | None = None) -> dict:
        signer = signer or self.wallet
        raw = raw if raw is not None else os.urandom(32)
        fee = self.fee() if fee is None else fee
        deadline = int(time.time()) + 600
        return {"order_id": "0x" + raw.hex(), "payer": signer.address, "fee_amount": str(fee), "deadline": deadline,
                "signature": sign_pull_fee(signer, self.cfg["escrow_contract_address"], raw, fee, deadline)}

    def open_ids(self) -> list[str]:
        r = self.api.get("/orders", params={"exchange": "polymarket", "market_id": self.market["exchange_market_id"],
                                            "status": "open"}, headers=self.headers)
        assert r.status_code == 200, r.text
        return [o["id"] for o in r.json()]

    def order(self, auth: dict, key: str | None = None, **over):
        body = {**self.body, "fee_auth": auth, "payer_address": auth["payer"], "affiliate": AFFILIATE, **over}
        headers = {**self.headers, "Idempotency-Key": key or str(uuid.uuid4())}
        return self.api.post("/orders", params={"exchange": "polymarket"}, json=body, headers=headers)


def ledger(escrow_id: str) -> set[str]:
    """What the chain did for one escrow id: {"pull"}, {"pull", "distribute"} or nothing."""
    c = escrow_chain.chain()
    return {a for a, done in (("pull", c.pulled(escrow_id)), ("distribute", c.settled(escrow_id))) if done}


def escrow_rows() -> list[dict]:
    items = boto3.resource("dynamodb").Table(get_settings().escrow_table).scan()["Items"]
    return [i for i in items if "customer_id" in i and not str(i["escrow_id"]).startswith("chain#")]


@pytest.fixture()
def esc(api, resting):
    return Escrow(api, resting)


@pytest.fixture(autouse=True)
def _clear_faults(stack):
    yield
    import httpx

    base = stack.urls["polymarket-clob"]
    httpx.delete(f"{base}/_sandbox/faults").raise_for_status()


def _fault(stack, **rule):
    import httpx

    base = stack.urls["polymarket-clob"]
    httpx.post(f"{base}/_sandbox/faults", json={"path": "/order", "method": "POST", **rule}).raise_for_status()


# --- item 1: one signature, one charge ------------------------------------------------------------


def test_textual_variants_of_one_order_id_pay_for_one_order(esc):
    raw = os.urandom(31) + b"\x00"  # a short form (31 bytes) decodes to these 32 bytes
    auth = esc.auth(raw=raw)
    canonical = auth["order_id"]
    short = canonical[:-2]
    variants = [short + "  ", short + "\n\t", "0x  " + canonical[2:-2], " " + canonical, canonical + " ",
                "0X" + canonical[2:], short, canonical[:-1] + "g", "0x" + "\u0661" * 64]
    first = esc.order({**auth, "order_id": canonical.upper().replace("0X", "0x")})  # upper-case hex digits
    assert first.status_code == 200, first.text
    for v in variants:
        r = esc.order({**auth, "order_id": v})
        assert r.status_code == 400, (repr(v), r.text)
        body = r.json()
        assert body["code"] in ("bad_request", "validation_error")
        assert "fee_auth.order_id" in body["error"] + " ".join(body.get("validation_errors") or [])
    again = esc.order({**auth, "order_id": canonical})  # the canonical spelling: spent
    assert again.status_code == 400 and "already used" in again.text
    assert ledger(canonical.lower()) == {"pull"}
    assert [r["escrow_id"] for r in escrow_rows() if r["customer_id"] == esc.customer_id] == [canonical.lower()]


def test_concurrent_variants_of_one_authorization_charge_once(esc):
    raw = os.urandom(31) + b"\x00"
    auth = esc.auth(raw=raw)
    spellings = [auth["order_id"], auth["order_id"][:-2] + "  ", auth["order_id"][:-2] + "\n\n",
                 auth["order_id"].upper().replace("0X", "0x")] * 2
    results: list[int] = []
    barrier = threading.Barrier(len(spellings))

    def go(order_id):
        barrier.wait()
        results.append(esc.order({**auth, "order_id": order_id}).status_code)

    threads = [threading.Thread(target=go, args=(s,)) for s in spellings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [400] * (len(spellings) - 1), results
    assert len([r for r in escrow_rows() if r["customer_id"] == esc.customer_id]) == 1


def test_a_third_partys_authorization_cannot_pay_for_this_customer(esc):
    stranger = Account.create()  # signed a PullFee once, for something else
    r = esc.order(esc.auth(signer=stranger))
    assert r.status_code == 400, r.text
    assert "payer" in r.json()["error"] + " ".join(r.json().get("validation_errors") or [])
    assert not [x for x in escrow_rows() if x["customer_id"] == esc.customer_id]


def test_one_customers_authorization_cannot_pay_for_another_customers_order(api, resting, esc):
    other = Escrow(api, resting)  # another end user of the same builder
    r = other.order(esc.auth())  # signed by the first user's wallet
    assert r.status_code == 400, r.text
    assert "payer" in r.json()["error"]
    assert not [x for x in escrow_rows() if x["customer_id"] == other.customer_id]


def test_the_fee_cap_is_enforced(esc):
    cap_bps = esc.cfg["fee_bps"]
    over = max(esc.fee(cap_bps), int(esc.cfg["min_fee_usdc"])) + 1
    r = esc.order(esc.auth(fee=over))
    assert r.status_code == 400, r.text
    assert "maximum" in r.json()["error"] + " ".join(r.json().get("validation_errors") or [])
    ok = esc.order(esc.auth(fee=over - 1))
    assert ok.status_code == 200, ok.text


# --- item 2: nothing stuck --------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["503", "429", "connection_refused", "validation_after_pull"])
def test_order_that_never_reached_the_venue_releases_the_fee_and_the_retry_works(esc, stack, how, monkeypatch):
    auth = esc.auth()
    key = str(uuid.uuid4())
    before = esc.open_ids()
    if how == "503":
        _fault(stack, mode="error", status=503)
    elif how == "429":
        _fault(stack, mode="rate_limit")
    else:
        real = PolymarketSession.submit_order
        calls = []

        async def refuse(self, prepared):
            calls.append(1)
            if len(calls) == 1:
                if how == "connection_refused":
                    raise venue.VenueUnavailable("polymarket", "connection refused")
                from pmrouter.errors import InvalidInput  # pmrouter's checks raise its domain errors
                raise InvalidInput(["the order failed a check after the fee was pulled"])
            return await real(self, prepared)

        monkeypatch.setattr(PolymarketSession, "submit_order", refuse)
    failed = esc.order(auth, key)
    assert failed.status_code in (400, 503), failed.text
    row = escrow_service.get(auth["order_id"])
    assert row is not None and row["state"] != "held", row  # no escrow held without an order
    assert esc.open_ids() == before
    retry = esc.order(auth, key)
    assert retry.status_code == 200, retry.text
    assert retry.json()["status"] == "open"
    assert escrow_service.get(auth["order_id"])["state"] == "held"
    assert ledger(auth["order_id"]) == {"pull"}  # pulled once, for the order that exists
    assert len(esc.open_ids()) == len(before) + 1


def test_released_fee_is_refunded_by_the_scheduled_settlement(esc, stack):
    auth = esc.auth()
    _fault(stack, mode="error", status=503)
    assert esc.order(auth).status_code == 503
    escrow_service.settle_once()  # inside the retry window: nothing moves yet
    assert "distribute" not in ledger(auth["order_id"])
    escrow_service.settle_once(now=time.time() + escrow_service.RETRY_WINDOW_S + 1)
    row = escrow_service.get(auth["order_id"])
    assert row["state"] == "settled" and int(row["refund_amount"]) == int(auth["fee_amount"])
    assert ledger(auth["order_id"]) == {"pull", "distribute"}
    retry = esc.order(auth)  # refunded: the authorization is spent
    assert retry.status_code == 400 and "sign a new" in retry.text


def _place(esc):
    auth = esc.auth()
    r = esc.order(auth)
    assert r.status_code == 200, r.text
    row = escrow_service.get(auth["order_id"])
    assert row["state"] == "held"
    return auth, row


def _orders_table():
    return boto3.resource("dynamodb").Table(get_settings().orders_table)


def test_escrow_whose_order_is_gone_is_refunded(esc):
    auth, row = _place(esc)
    _orders_table().delete_item(Key={"customer_id": esc.customer_id, "order_uid": row["order_uid"]})
    escrow_service.settle_once()
    after = escrow_service.get(auth["order_id"])
    assert after["state"] == "settled" and int(after["refund_amount"]) == int(auth["fee_amount"])


def test_escrow_pending_without_venue_id_for_ten_minutes_is_refunded(esc):
    auth, row = _place(esc)
    _orders_table().update_item(Key={"customer_id": esc.customer_id, "order_uid": row["order_uid"]},
                                UpdateExpression="SET #s = :p REMOVE venue_order_id, venue_key",
                                ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":p": "pending"})
    escrow_service.settle_once(now=time.time() + 5 * 60)
    assert escrow_service.get(auth["order_id"])["state"] == "held"
    escrow_service.settle_once(now=time.time() + 10 * 60 + 5)
    after = escrow_service.get(auth["order_id"])
    assert after["state"] == "settled" and int(after["refund_amount"]) == int(auth["fee_amount"])


def test_escrow_stale_for_a_day_is_settled(esc):
    auth, _ = _place(esc)  # rests, unfilled
    escrow_service.settle_once(now=time.time() + 23 * 3600)
    assert escrow_service.get(auth["order_id"])["state"] == "held"
    escrow_service.settle_once(now=time.time() + 24 * 3600 + 5)
    after = escrow_service.get(auth["order_id"])
    assert after["state"] == "settled" and int(after["refund_amount"]) == int(auth["fee_amount"])
    escrow_service.settle_once(now=time.time() + 48 * 3600)  # reruns change nothing
    assert escrow_service.get(auth["order_id"])["settle_tx"] == after["settle_tx"]


# --- crashes between two steps ---------------------------------------------------------------------


class _StoreDown:
    """DynamoDB refuses the named operations on the named tables (botocore's before-call hook, so the
    code under test runs unchanged)."""

    def __init__(self, ops: dict[str, set[str]]):
        self.ops = ops
        self.events = dynamo.resource("dynamodb").meta.client.meta.events

    def _hook(self, model, params, **_):
        if params.get("TableName") in self.ops.get(model.name, set()):
            raise THROTTLED

    def __enter__(self):
        self.events.register("before-parameter-build.dynamodb", self._hook, unique_id="escrow-abuse-outage")
        return self

    def __exit__(self, *exc):
        self.events.unregister("before-parameter-build.dynamodb", unique_id="escrow-abuse-outage")


def test_store_outage_right_after_the_pull_releases_the_fee_and_the_retry_works(esc, monkeypatch):
    """Only the write after the pull fails; everything after it works again."""
    auth = esc.auth()
    key = str(uuid.uuid4())
    impl = type(escrow_chain.chain())
    real_pull = impl.pull_fee
    outage = _StoreDown({"UpdateItem": {get_settings().escrow_table}})

    def pull_then_outage(self, *a, **kw):
        tx = real_pull(self, *a, **kw)
        outage.__enter__()
        threading.Timer(0.3, outage.__exit__).start()  # a short outage
        return tx

    monkeypatch.setattr(impl, "pull_fee", pull_then_outage)
    failed = esc.order(auth, key)
    assert failed.status_code == 503, failed.text
    time.sleep(0.5)
    monkeypatch.undo()
    retry = esc.order(auth, key)
    assert retry.status_code == 200 and retry.json()["status"] == "open", retry.text
    assert escrow_service.get(auth["order_id"])["state"] == "held"
    assert ledger(auth["order_id"]) == {"pull"}


def test_crash_between_the_pull_and_the_send_is_refunded_once(esc, monkeypatch):
    """Nothing after the pull reaches the store (as if the process died there): the caller's retry or
    the settlement finds the fee, refunds it once, and nothing stays `held`."""
    auth = esc.auth()
    s = get_settings()
    impl = type(escrow_chain.chain())
    real_pull = impl.pull_fee
    outage = _StoreDown({"UpdateItem": {s.escrow_table, s.orders_table}, "DeleteItem": {s.orders_table},
                         "PutItem": {s.escrow_table}})

    def pull_then_die(self, *a, **kw):
        tx = real_pull(self, *a, **kw)
        outage.__enter__()
        return tx

    monkeypatch.setattr(impl, "pull_fee", pull_then_die)
    try:
        failed = esc.order(auth)
    finally:
        outage.__exit__()
    monkeypatch.undo()
    assert failed.status_code == 503, failed.text
    assert escrow_service.get(auth["order_id"])["state"] != "held"
    later = time.time() + escrow_service.RETRY_WINDOW_S + 1
    escrow_service.settle_once(now=later)
    escrow_service.settle_once(now=later)
    row = escrow_service.get(auth["order_id"])
    assert row["state"] == "settled" and int(row["refund_amount"]) == int(auth["fee_amount"])
    assert ledger(auth["order_id"]) == {"pull", "distribute"}


def test_crash_between_the_settlement_claim_and_the_chain_call_is_finished_by_the_next_run(esc, monkeypatch):
    auth, row = _place(esc)
    _orders_table().delete_item(Key={"customer_id": esc.customer_id, "order_uid": row["order_uid"]})
    impl = type(escrow_chain.chain())
    real = impl.distribute

    def die(self, *a, **kw):
        raise ConnectionError("the settlement run died here")

    monkeypatch.setattr(impl, "distribute", die)
    escrow_service.settle_once()  # one escrow failing never stops the run
    monkeypatch.setattr(impl, "distribute", real)
    assert escrow_service.get(auth["order_id"])["state"] == "settling"
    escrow_service.settle_once(now=time.time() + escrow_service.SETTLE_LEASE_S + 1)
    after = escrow_service.get(auth["order_id"])
    assert after["state"] == "settled" and int(after["refund_amount"]) == int(auth["fee_amount"])
    assert ledger(auth["order_id"]) == {"pull", "distribute"}
