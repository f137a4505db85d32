"""Polymarket CLOB V2: our orders, signatures, hashes and L1/L2 headers equal the official
py-clob-client-v2's byte for byte for the same inputs (salt and timestamp pinned as the reference
snippets do), and the published vectors hold."""
from __future__ import annotations

import functools
import json
import types

import pytest
import py_clob_client_v2.order_builder.builder as v2b
from eth_account import Account
from py_clob_client_v2.clob_types import CreateOrderOptions, MarketOrderArgsV2, OrderArgsV2
from py_clob_client_v2.order_utils import ExchangeOrderBuilderV2
from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2
from py_clob_client_v2.signer import Signer
from py_clob_client_v2.signing.eip712 import sign_clob_auth_message
from py_clob_client_v2.signing.hmac import build_hmac_signature

from pmrouter.exchanges.polymarket import auth, order_builder as ob
from pmrouter.trading.rules import exact

PK = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ACCOUNT = Account.from_key(PK)
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
SALT, TS = 479249096354, 1700000000000
OWNER = "00000000-0000-0000-0000-000000000000"
SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="


@pytest.fixture()
def official(monkeypatch):
    monkeypatch.setattr(v2b, "ExchangeOrderBuilderV2", functools.partial(ExchangeOrderBuilderV2, generate_salt=lambda: str(SALT)))
    monkeypatch.setattr(v2b, "time", types.SimpleNamespace(time_ns=lambda: TS * 1_000_000))
    return v2b.OrderBuilder(Signer(PK, 137))


def ours(side, maker, taker, neg_risk=False):
    return ob.sign_order(ACCOUNT, token_id=TOKEN, side=side, maker_amount=maker, taker_amount=taker,
                         neg_risk=neg_risk, salt=SALT, timestamp_ms=TS)


def official_body(so, order_type="GTC"):
    return json.dumps(order_to_json_v2(so, OWNER, order_type), separators=(",", ":"), ensure_ascii=False)


CASES = [  # (side, size, price, tick, neg_risk)
    ("BUY", 10.0, 0.56, "0.01", False), ("SELL", 10.0, 0.56, "0.01", True), ("BUY", 7.33, 0.571, "0.001", False),
    ("SELL", 123.45, 0.3, "0.1", False), ("BUY", 15.0, 0.0625, "0.0025", True), ("BUY", 1000.0, 0.9999, "0.0001", False),
    ("SELL", 33.33, 0.555, "0.005", False),
]


@pytest.mark.parametrize("side,size,price,tick,neg_risk", CASES)
def test_limit_orders_equal_the_official_client(official, side, size, price, tick, neg_risk):
    so = official.build_order(OrderArgsV2(token_id=TOKEN, price=price, size=size, side=side),
                              CreateOrderOptions(tick_size=tick, neg_risk=neg_risk), version=2)
    s = ob.BUY if side == "BUY" else ob.SELL
    maker, taker = ob.limit_amounts(s, exact(size), exact(price), float(tick))  # as the order path hands them
    assert (str(maker), str(taker)) == (so.makerAmount, so.takerAmount)
    mine = ours(s, maker, taker, neg_risk)
    assert mine.body(OWNER, "GTC") == official_body(so)
    exchange = ob.config.NEG_RISK_EXCHANGE_V2 if neg_risk else ob.config.EXCHANGE_V2
    eb = ExchangeOrderBuilderV2(exchange, 137, Signer(PK, 137))
    assert mine.order_hash == eb.build_order_hash(eb.build_order_typed_data(so))


@pytest.mark.parametrize("side,amount,price", [("BUY", 25.0, 0.57), ("SELL", 12.5, 0.43), ("BUY", 5.6, 0.56)])
def test_market_orders_equal_the_official_client(official, side, amount, price):
    so = official.build_market_order(MarketOrderArgsV2(token_id=TOKEN, amount=amount, side=side, price=price),
                                     CreateOrderOptions(tick_size="0.01", neg_risk=False), version=2)
    s = ob.BUY if side == "BUY" else ob.SELL
    maker, taker = ob.market_amounts(s, amount, price, 0.01)
    assert (str(maker), str(taker)) == (so.makerAmount, so.takerAmount)
    assert ours(s, maker, taker).body(OWNER, "FOK") == official_body(so, "FOK")


def test_published_vectors():
    buy = ours(ob.BUY, *ob.limit_amounts(ob.BUY, 10, 0.56, 0.01))
    assert buy.signature == ("0xc4e3c8ba212c13fd392b4da5efe935934d0c792e05decb553cd152a53632f7944e3a2b4f2c01f066ae374b1"
                             "d92062eab17712748df6ff50643807daa2a71fb181c")
    assert buy.order_hash == "0x6d54d8a531c7ba18ef0959a06af92b1206ea6d10ffbe52e9b82e440c16239e1b"
    sell = ours(ob.SELL, *ob.limit_amounts(ob.SELL, 10, 0.56, 0.01), neg_risk=True)
    assert (sell.maker_amount, sell.taker_amount) == (10_000_000, 5_600_000)
    assert sell.signature == ("0xc812f9788c50fd5a227e3adc5f367c6625fd377f3f627c9d68da86de4f03e7780b238b6ba8bd0af7f8f4c3"
                              "cf204222fab621da0ccf55f102037b229c6bc723f51b")
    assert ob.market_amounts(ob.BUY, 25, 0.57, 0.01)[1] == 44_642_800


def test_l1_and_l2_headers_equal_the_official_client():
    ours_l1 = auth.l1_headers(ACCOUNT, timestamp=1700000000, nonce=0)
    assert ours_l1["POLY_SIGNATURE"] == sign_clob_auth_message(Signer(PK, 137), 1700000000, 0)
    assert ours_l1["POLY_SIGNATURE"] == ("0x659ed4b28ae28e0f038fdf0023c00863c9559caacb9ebc83f44eea87059a099a36f1e1dee11"
                                         "0e7faa1c4f65d17489b2da1333ebef78bbe2116d81207b975052d1c")
    body = ours(ob.BUY, *ob.limit_amounts(ob.BUY, 10, 0.56, 0.01)).body(OWNER, "GTC")
    assert auth.hmac_signature(SECRET, 1700000000, "POST", "/order", body) == \
        build_hmac_signature(SECRET, 1700000000, "POST", "/order", body)
    l2 = auth.l2_headers(ACCOUNT.address, OWNER, SECRET, "pp", "GET", "/data/orders", None, timestamp=1700000000)
    assert l2["POLY_SIGNATURE"] == build_hmac_signature(SECRET, 1700000000, "GET", "/data/orders")
    assert set(l2) == {"POLY_ADDRESS", "POLY_SIGNATURE", "POLY_TIMESTAMP", "POLY_API_KEY", "POLY_PASSPHRASE"}


@pytest.mark.parametrize("price", [0.29, 0.57, 0.58, 0.03, 0.999])
def test_contract_fok_amounts_never_cross_the_limit(price):
    tick = 0.001 if price == 0.999 else 0.01
    maker, taker = ob.fill_or_kill_amounts(ob.BUY, 5, price, tick)
    assert maker % 10_000 == 0  # whole cents: the venue's market-BUY precision
    assert maker / taker <= price + 1e-12 and taker >= 4.9 * 10**6
    s_maker, s_taker = ob.fill_or_kill_amounts(ob.SELL, 5, price, tick)
    assert s_maker == 5 * 10**6 and s_taker / s_maker >= price - 1e-12
    assert ob.fill_or_kill_amounts(ob.BUY, 5, 0.57, 0.01) == (2_850_000, 5_000_000)
