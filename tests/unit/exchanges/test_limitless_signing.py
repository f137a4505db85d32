"""Limitless orders built by pmrouter are byte-equal to limitless-sdk 1.3.0's: the same key, salt,
clock and market data go through the SDK's own OrderClient (its HTTP session faked) and through
pmrouter's session (its HTTP transport faked), and every request (path, body bytes, auth headers)
must match. Several market shapes: a simple CLOB venue, a neg-risk venue, a collateral-fee venue
(fee rate 0), and each order type."""
from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest
from eth_account import Account
from limitless_sdk.api import http_client as sdk_http
from limitless_sdk.api.hmac import compute_hmac_signature
from limitless_sdk.api.http_client import HttpClient
from limitless_sdk.orders.client import OrderClient
from limitless_sdk.types import OrderType, Side
from limitless_sdk.types.api_tokens import HMACCredentials

from pmrouter.exchanges.base import Credentials, OrderIntent
from pmrouter.exchanges.http import use_transport
from pmrouter.trading.rules import exact
from pmrouter.exchanges.limitless import auth, order_builder
from pmrouter.exchanges.limitless.adapter import LimitlessAdapter
from pmrouter.exchanges.limitless.config import LimitlessConfig

PK = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ACCOUNT = Account.from_key(PK)
SECRET = base64.b64encode(b"limitless-test-secret-0123456789").decode()
TOKEN_ID = "tok-1"
TS = "2026-01-01T00:00:00.000Z"
YES = "19633204485790857949828516737993423758628930235371629943999544859324645414627"
NO = "4242"
SIMPLE = {"exchange": "0x05c748E2f4DcDe0ec9Fa8DDc40DE6b867f923fa5", "adapter": None}
NEG_RISK = {"exchange": "0xe3E00BA3a9888d1DE4834269f62ac008b4BB5C47", "adapter": "0x7A5EcC2C5F3fD4bD1b0aD5E7b01A3a4ff7f5dB6B"}
COLLATERAL_FEE = {"exchange": "0xa4409D988CA2218d956BeEFD3874100F444f0DC3", "adapter": None,
                  "feeModule": "0x1111111111111111111111111111111111111111", "feeModuleType": "COLLATERAL"}
BASE = "http://limitless.test"


def _market(slug: str, venue: dict) -> dict:
    return {"id": 7, "slug": slug, "title": "T", "collateralToken": {"address": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
            "decimals": 6, "symbol": "USDC"}, "expirationDate": "Dec 31, 2026", "expirationTimestamp": 1798675200000,
            "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z", "categories": [],
            "status": "FUNDED", "creator": {"name": "x"}, "tags": [], "tradeType": "clob", "marketType": "single",
            "priorityIndex": 0, "metadata": {"fee": True}, "tokens": {"yes": YES, "no": NO}, "venue": venue}


# The YES book the market orders are sized from (sizes in 1e6 share units, as the venue sends them).
BOOK = {"bids": [{"price": 0.52, "size": 10_000_000, "side": "BUY"}, {"price": 0.5, "size": 40_000_000, "side": "BUY"},
                 {"price": 0.3, "size": 90_000_000, "side": "BUY"}],
        "asks": [{"price": 0.2, "size": 10_000_000, "side": "SELL"}, {"price": 0.25, "size": 100_000_000, "side": "SELL"},
                 {"price": 0.6, "size": 90_000_000, "side": "SELL"}],
        "tokenId": YES, "minSize": 1_000_000}


def _canned(method: str, path: str, body: bytes | None, fee_bps: int, venue: dict) -> dict:
    if path.endswith("/orderbook"):
        return BOOK
    if path.startswith("/profiles/"):
        return {"id": 4242, "account": ACCOUNT.address, "rank": {"feeRateBps": fee_bps}}
    if path.startswith("/markets/"):
        return _market(path.split("/")[2], venue)
    if method == "POST" and path == "/orders":
        order = json.loads(body)["order"]
        return {"order": {**order, "id": "ord-1", "status": "LIVE", "createdAt": TS}, "makerMatches": []}
    raise AssertionError(f"unexpected {method} {path}")


class _Resp:
    def __init__(self, data):
        self.status, self._data, self.headers = 200, data, {}

    async def json(self):
        return self._data

    async def text(self):
        return json.dumps(self._data)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *a):
        return False


def sdk_requests(slug, venue, fee_bps, salt, **order) -> list[tuple[str, str, dict, bytes | None]]:
    seen = []

    class Session:
        closed = False

        def _do(self, method, url, **kw):
            path = url.removeprefix(BASE)
            data = kw.get("data")
            data = data.encode() if isinstance(data, str) else data
            seen.append((method, path, dict(kw.get("headers") or {}), data))
            return _Resp(_canned(method, path.split("?")[0], data, fee_bps, venue))

        def get(self, url, **kw):
            return self._do("GET", url, **kw)

        def post(self, url, **kw):
            return self._do("POST", url, **kw)

        async def close(self):
            pass

    async def run():
        http = HttpClient(base_url=BASE, hmac_credentials=HMACCredentials(token_id=TOKEN_ID, secret=SECRET))

        async def ensure():
            http._session = Session()
        http._ensure_session = ensure
        client = OrderClient(http_client=http, wallet=ACCOUNT)
        await client._ensure_user_data()
        client._builder._generate_salt = lambda: salt
        await client.create_order(market_slug=slug, **order)

    orig = sdk_http._build_iso_timestamp
    sdk_http._build_iso_timestamp = lambda: TS
    try:
        asyncio.run(run())
    finally:
        sdk_http._build_iso_timestamp = orig
    return seen


def pmrouter_requests(slug, venue, fee_bps, *, side, order_type, price, size, outcome=0, uid="uid-1"):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        body = request.content or None
        seen.append((request.method, path, dict(request.headers), body))
        return httpx.Response(200, json=_canned(request.method, path.split("?")[0], body, fee_bps, venue))

    async def run():
        use_transport(httpx.MockTransport(handler))
        try:
            adapter = LimitlessAdapter(LimitlessConfig(url=BASE))
            market = await adapter.get_market(slug)
            sess = adapter.open_session(Credentials(private_key=PK, clob_api_key=TOKEN_ID, clob_api_secret=SECRET))
            intent = OrderIntent(market, market.outcomes[outcome], side, exact(price), exact(size), order_type,
                                 None, uid)
            prepared = await sess.prepare_order(intent)
            return await sess.submit_order(prepared)
        finally:
            use_transport(None)

    orig = auth.iso_timestamp
    auth.iso_timestamp = lambda now=None: TS
    try:
        placed = asyncio.run(run())
    finally:
        auth.iso_timestamp = orig
    return [r for r in seen if not r[1].startswith("/markets/")], placed


def _auth(headers: dict) -> dict:
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith("lmts-")}


CASES = [
    # (venue, fee, contract side/type/price/size, SDK create_order arguments)
    (SIMPLE, 300, ("buy", "gtc", 0.65, 100.0), dict(token_id=YES, side=Side.BUY, order_type=OrderType.GTC, price=0.65, size=100.0)),
    (SIMPLE, 150, ("sell", "gtc", 0.37, 12.3456), dict(token_id=YES, side=Side.SELL, order_type=OrderType.GTC, price=0.37, size=12.3456)),
    (NEG_RISK, 300, ("buy", "ioc", 0.123, 7.0), dict(token_id=YES, side=Side.BUY, order_type=OrderType.FAK, price=0.123, size=7.0)),
    # FOK is the venue's price-less market order: a SELL of the shares the bids within 0.5 hold; a BUY
    # spending what the asks within 0.25 cost for 40 shares (10 x 0.2 + 30 x 0.25 = 9.5 USDC).
    (NEG_RISK, 300, ("sell", "fok", 0.5, 18.64), dict(token_id=YES, side=Side.SELL, order_type=OrderType.FOK, maker_amount=18.64)),
    (COLLATERAL_FEE, 300, ("buy", "fok", 0.25, 40.0), dict(token_id=YES, side=Side.BUY, order_type=OrderType.FOK, maker_amount=9.5)),
    (COLLATERAL_FEE, 300, ("buy", "gtc", 0.999, 3.0), dict(token_id=YES, side=Side.BUY, order_type=OrderType.GTC, price=0.999, size=3.0)),
]


@pytest.mark.parametrize("venue,fee,ours,sdk", CASES)
def test_every_request_is_byte_equal_to_the_sdk(venue, fee, ours, sdk):
    side, order_type, price, size = ours
    mine, placed = pmrouter_requests("m-1", venue, fee, side=side, order_type=order_type, price=price, size=size)
    theirs = sdk_requests("m-1", venue, fee, order_builder.salt_for("uid-1"), **sdk)
    theirs = [r for r in theirs if not r[1].startswith("/markets/")]
    mine = [r for r in mine if not r[1].endswith("/orderbook")]
    assert [(m, p) for m, p, _, _ in mine] == [(m, p) for m, p, _, _ in theirs]
    for (_, _, h1, b1), (_, _, h2, b2) in zip(mine, theirs):
        assert b1 == b2
        assert _auth(h1) == _auth(h2)
    assert placed.id == "m-1:ord-1"
    body = json.loads(mine[-1][3])
    assert body["order"]["feeRateBps"] == (0 if venue is COLLATERAL_FEE else fee)


def test_the_no_outcome_signs_the_no_token():
    mine, _ = pmrouter_requests("m-2", SIMPLE, 300, side="buy", order_type="gtc", price=0.4, size=5, outcome=1)
    theirs = sdk_requests("m-2", SIMPLE, 300, order_builder.salt_for("uid-1"), token_id=NO, side=Side.BUY,
                          order_type=OrderType.GTC, price=0.4, size=5.0)
    assert mine[-1][3] == theirs[-1][3]


def test_signature_recovers_under_the_markets_own_exchange():
    from eth_account.messages import encode_typed_data

    mine, _ = pmrouter_requests("m-3", NEG_RISK, 300, side="buy", order_type="gtc", price=0.5, size=2)
    order = json.loads(mine[-1][3])["order"]
    signed = order_builder.sign_order(ACCOUNT, exchange=NEG_RISK["exchange"], token_id=YES, side=0,
                                      maker_amount=order["makerAmount"], taker_amount=order["takerAmount"],
                                      fee_rate_bps=300, salt=order["salt"], price=0.5)
    td = signed.signed.order.typed_data(order_builder.domain(NEG_RISK["exchange"]))
    assert Account.recover_message(encode_typed_data(full_message=td), signature=order["signature"]) == ACCOUNT.address
    other = signed.signed.order.typed_data(order_builder.domain(SIMPLE["exchange"]))
    assert Account.recover_message(encode_typed_data(full_message=other), signature=order["signature"]) != ACCOUNT.address


def test_hmac_matches_the_published_vector_and_the_sdk_with_a_query():
    body = '{"a":1}'
    assert auth.hmac_signature(SECRET, TS, "POST", "/orders", body) == compute_hmac_signature(SECRET, TS, "POST", "/orders", body)
    path = auth.request_path("/markets/x/user-orders", {"statuses": "LIVE,MATCHED", "skip": None})
    assert path == "/markets/x/user-orders?statuses=LIVE%2CMATCHED"
    assert auth.headers("k", None, "GET", path) == {"X-API-Key": "k"}  # legacy key: no HMAC


@pytest.mark.parametrize("price,size", [(0.0004, 1), (1.0, 1), (0.5, 0.0004)])
def test_impossible_orders_are_refused_before_signing(price, size):
    with pytest.raises(ValueError):
        order_builder.limit_amounts(0, price, size)


def test_the_profile_is_read_once_a_minute_and_again_after_a_fee_mismatch():
    seen = []
    state = {"refuse": True}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        seen.append((request.method, path))
        if request.method == "POST" and state.pop("refuse", False):
            return httpx.Response(400, json={"message": "FEE_RATE_MISMATCH: expected feeRateBps 150"})
        return httpx.Response(200, json=_canned(request.method, path, request.content, 300, SIMPLE))

    async def run():
        use_transport(httpx.MockTransport(handler))
        try:
            adapter = LimitlessAdapter(LimitlessConfig(url=BASE))
            market = await adapter.get_market("m-9")
            creds = Credentials(private_key=PK, clob_api_key=TOKEN_ID, clob_api_secret=SECRET)
            results = []
            for uid in ("a", "b", "c"):
                sess = adapter.open_session(creds)  # a new session per request, as the API opens them
                intent = OrderIntent(market, market.outcomes[0], "buy", 0.5, 2, "gtc", None, uid)
                try:
                    results.append((await sess.submit_order(await sess.prepare_order(intent))).status)
                except Exception as exc:  # noqa: BLE001 - the refusal is the point
                    results.append(type(exc).__name__)
            return results
        finally:
            use_transport(None)

    results = asyncio.run(run())
    assert results == ["VenueBadRequest", "open", "open"]
    profiles = [p for m, p in seen if p.startswith("/profiles/")]
    assert len(profiles) == 2  # first order, then once more after the venue refused the cached fee rate


@pytest.mark.parametrize("side,price", [("buy", 0.22), ("sell", 0.51)])
def test_a_fill_or_kill_the_book_within_the_limit_cannot_fill_is_refused_before_signing(side, price):
    with pytest.raises(Exception) as exc:
        pmrouter_requests("m-4", SIMPLE, 300, side=side, order_type="fok", price=price, size=40)
    assert "fill-or-kill" in str(exc.value)
