"""The sandbox Limitless, Opinion and Predict.fun refuse what their venues refuse: a signature for
another exchange contract, a wrong fee rate, someone else's owner id or wallet, a stale or forged
authentication, amounts that do not match the price. (The happy paths are the official SDKs' own
contract tests.)"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from eth_account import Account

from pmrouter.exchanges.ctf_orders import BUY
from pmrouter.exchanges.limitless import auth as lauth
from pmrouter.exchanges.limitless import order_builder as lob
from pmrouter.exchanges.opinion import order_builder as oob
from pmrouter.exchanges.predictfun import auth as pauth
from pmrouter.exchanges.predictfun import order_builder as pob
from shared.localstack.servers import serve
from shared.sandbox import limitless, opinion, predictfun
from shared.sandbox.universe import current_universe

KEY = "platform"


@pytest.fixture(scope="module")
def venues():
    u = current_universe()
    apps = {"limitless": limitless.create_app(u), "opinion": opinion.create_app(u, api_key=KEY),
            "predictfun": predictfun.create_app(u, api_key=KEY)}
    servers = {k: serve(a, f"verify-{k}") for k, a in apps.items()}
    yield {k: (servers[k].url, apps[k].state.world) for k in apps}
    for s in servers.values():
        s.stop()


# --- Limitless ----------------------------------------------------------------------------------------

def _limitless(venues, *, exchange=None, fee=300, owner=None, ts=None, order_type="GTC", post_only=None):
    url, world = venues["limitless"]
    wallet = Account.create()
    token_id, secret = world.trading.issue_token(wallet.address)
    slug, (lst, row) = next((s, v) for s, v in world.by_slug.items() if v[1]["status"] == "FUNDED"
                            and v[1]["venue"]["adapter"] is None)
    price, maker, taker = lob.limit_amounts(BUY, 0.01, 5)
    signed = lob.sign_order(wallet, exchange=exchange or row["venue"]["exchange"], token_id=row["tokens"]["yes"],
                            side=BUY, maker_amount=maker, taker_amount=taker, fee_rate_bps=fee, salt=7, price=price)
    owner_id = owner if owner is not None else world.trading.profile(wallet.address)["id"]
    body = signed.body(owner_id, order_type, slug, post_only)
    headers = lauth.headers(token_id, secret, "POST", "/orders", body, timestamp=ts)
    return httpx.post(url + "/orders", content=body, headers={**headers, "Content-Type": "application/json"})


def test_limitless_accepts_a_well_signed_order(venues):
    r = _limitless(venues)
    assert r.status_code == 201 and r.json()["order"]["status"] == "LIVE", r.text


@pytest.mark.parametrize("change,status,words", [
    (dict(exchange="0xe3E00BA3a9888d1DE4834269f62ac008b4BB5C47"), 400, "signature"),  # another venue's exchange
    (dict(fee=150), 400, "FEE_RATE_MISMATCH"),
    (dict(owner=1), 403, "ownerId"),
    (dict(ts=lauth.iso_timestamp(datetime.now(timezone.utc) - timedelta(seconds=60))), 401, "window"),
])
def test_limitless_refuses_what_the_venue_refuses(venues, change, status, words):
    r = _limitless(venues, **change)
    assert r.status_code == status and words in r.json()["message"], r.text


# --- Predict.fun --------------------------------------------------------------------------------------

def _predict_login(url, wallet):
    with httpx.Client(base_url=url, headers={"x-api-key": KEY}) as c:
        message = c.get("/v1/auth/message").json()["data"]["message"]
        return c.post("/v1/auth", json=pauth.sign_login(wallet, message)).json()["data"]["token"]


def _predict(venues, *, fee=None, login_as=None, tamper_hash=False, expiration=None, yield_bearing=None):
    url, world = venues["predictfun"]
    wallet = Account.create()
    mid = next(m for m in world.order if world.markets[m]["tradingStatus"] == "OPEN")
    market = world.markets[mid]
    amounts = pob.limit_amounts(BUY, 0.01, 5)
    yb = market["isYieldBearing"] if yield_bearing is None else yield_bearing
    signed = pob.sign_order(wallet, token_id=market["outcomes"][0]["onChainId"], side=BUY, amounts=amounts,
                            fee_rate_bps=market["feeRateBps"] if fee is None else fee, salt=5,
                            expiration=expiration or pob.LIMIT_EXPIRATION, neg_risk=market["isNegRisk"], yield_bearing=yb)
    body = json.loads(signed.body(amounts.price_per_share, "LIMIT"))
    if tamper_hash:
        body["data"]["order"]["hash"] = "0x" + "11" * 32
    jwt = _predict_login(url, login_as or wallet)
    return httpx.post(url + "/v1/orders", json=body, headers=pauth.headers(KEY, jwt))


def test_predict_accepts_a_well_signed_order(venues):
    r = _predict(venues)
    assert r.status_code == 200 and r.json()["data"]["orderHash"].startswith("0x"), r.text


@pytest.mark.parametrize("change,words", [
    (dict(fee=1), "feeRateBps"),
    (dict(tamper_hash=True), "hash"),
    (dict(login_as=Account.create()), "maker"),
    (dict(expiration=1_000_000_000), "expiration"),
])
def test_predict_refuses_what_the_venue_refuses(venues, change, words):
    r = _predict(venues, **change)
    assert r.status_code in (400, 403) and words in r.json()["message"], r.text


def test_predict_signature_for_the_wrong_exchange_variant_is_refused(venues):
    url, world = venues["predictfun"]
    mid = next(m for m in world.order if world.markets[m]["tradingStatus"] == "OPEN")
    r = _predict(venues, yield_bearing=not world.markets[mid]["isYieldBearing"])
    assert r.status_code == 400 and ("hash" in r.json()["message"] or "signature" in r.json()["message"]), r.text


def test_predict_forged_jwt_is_refused(venues):
    url, _ = venues["predictfun"]
    claims = base64.urlsafe_b64encode(json.dumps({"sub": "0x" + "00" * 20, "exp": 9_999_999_999}).encode()).decode()
    r = httpx.get(url + "/v1/orders", headers=pauth.headers(KEY, f"sandbox.{claims}.AAAA"))
    assert r.status_code == 401


# --- Opinion ------------------------------------------------------------------------------------------

def _opinion(venues, *, safe=None, amounts=None):
    url, world = venues["opinion"]
    wallet = Account.create()
    acct = world.trading.issue_account(wallet.address)
    mid, market = next((m, row) for m, row in world.binary.items() if row["status"] == 2)
    quote = opinion.QUOTE_TOKENS[0]
    signed = oob.sign_order(wallet, safe=safe or acct.safe, exchange=quote["ctfExchangeAddress"],
                            token_id=market["yesTokenId"], side=BUY, method=oob.LIMIT, price="0.01", size=200,
                            decimals=quote["decimal"], salt=3)
    body = json.loads(signed.body(mid, quote["quoteTokenAddress"]))
    if amounts:
        body["makerAmount"], body["takerAmount"] = amounts
    return httpx.post(url + "/openapi/order", content=json.dumps(body), headers={"apikey": acct.apikey}).json()


def test_opinion_accepts_a_well_signed_order(venues):
    r = _opinion(venues)
    assert r["errno"] == 0 and r["result"]["orderData"]["orderId"], r


@pytest.mark.parametrize("change", [dict(safe=Account.create().address),
                                    dict(amounts=(str(10**18), str(3 * 10**20)))])
def test_opinion_refuses_another_safe_or_amounts_off_the_price(venues, change):
    r = _opinion(venues, **change)
    assert r["errno"] != 0, r  # the refusal is the venue's envelope, in an HTTP 200
