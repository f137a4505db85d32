"""One exact type for an order's price and size: the request edge turns the JSON number into the
decimal the client wrote, the rules compare exact multiples of the tick (no float tolerance), and each
venue's builder receives that Decimal and converts it once to its own units. The idempotency
fingerprint keeps the text records written before this change hold."""
from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pmrouter.contract.trading import CreateOrderRequest
from pmrouter.errors import InvalidInput
from pmrouter.exchanges.base import Credentials, OrderIntent, VenueMarket, VenueOutcome
from pmrouter.exchanges.kalshi.adapter import KalshiAdapter
from pmrouter.exchanges.kalshi.config import KalshiConfig
from pmrouter.exchanges.limitless import order_builder as limitless_ob
from pmrouter.exchanges.opinion import order_builder as opinion_ob
from pmrouter.exchanges.polymarket import order_builder as poly_ob
from pmrouter.exchanges.polymarket.adapter import PolymarketAdapter
from pmrouter.exchanges.polymarket.config import PolymarketConfig
from pmrouter.exchanges.predictfun import order_builder as predict_ob
from pmrouter.exchanges.predictfun.adapter import PredictFunAdapter
from pmrouter.exchanges.predictfun.config import PredictFunConfig
from pmrouter.trading import service
from pmrouter.trading.rules import check_price_and_size, exact

PK = "0x" + "11" * 32


def _request(price: str, size: str) -> CreateOrderRequest:
    # The JSON text exactly as a client sends it, numbers unquoted.
    return CreateOrderRequest.model_validate_json(
        f'{{"market_id": "m", "outcome": "Yes", "side": "buy", "price": {price}, "size": {size}}}')


def _market(tick: float = 0.01, min_size: float | None = None) -> VenueMarket:
    return VenueMarket("x", "m1", "Q?", [VenueOutcome("Yes", "101"), VenueOutcome("No", "102")], "active", "binary",
                       tick_size=tick, min_order_size=min_size)


def test_the_request_edge_hands_on_the_decimal_the_client_wrote():
    req = _request("0.57", "1.1")
    assert (req.price, req.size) == (Decimal("0.57"), Decimal("1.1"))
    assert isinstance(req.price, Decimal) and isinstance(req.size, Decimal)
    assert Decimal(0.57) != req.price  # the float's binary value is not what was sent; the edge keeps the text
    props = CreateOrderRequest.model_json_schema()["properties"]
    assert props["price"]["type"] == "number" and props["size"]["type"] == "number"  # the wire is unchanged


@pytest.mark.parametrize("text", ["0.57", "1.1", "0.3", "0.30000000000000004", "10", "10.0", "0.50", "1e-05",
                                  "123.45", "1e16", "0.999"])
def test_the_fingerprint_text_is_what_records_written_before_hold(text):
    req = _request(text, text)
    assert service._as_sent(req.price) == repr(float(json.loads(text)))  # the pre-Decimal fingerprint text
    assert float(req.price) == json.loads(text)


def test_tick_and_size_checks_are_exact():
    check_price_and_size(None, _market(0.01, 1.1), _request("0.57", "1.1").price, _request("0.57", "1.1").size)
    check_price_and_size(None, _market(0.01), Decimal("0.01"), Decimal("1"))  # the grid's ends are allowed
    check_price_and_size(None, _market(0.01), Decimal("0.99"), Decimal("1"))
    check_price_and_size(None, _market(0.001), 0.571, 3)  # MCP's preview passes plain JSON numbers
    # A float tolerance let these through (0.5700000001 / 0.01 is within 1e-6 of 57); exact maths does not.
    for price in ("0.5700000001", "0.30000000000000004", "0.575"):
        with pytest.raises(InvalidInput, match="tick size"):
            check_price_and_size(None, _market(0.01), _request(price, "1").price, Decimal(1))
    with pytest.raises(InvalidInput, match="minimum order size 1.1"):
        check_price_and_size(None, _market(0.01, 1.1), Decimal("0.57"), _request("0", "1.0999999999").size)
    with pytest.raises(InvalidInput, match="between 0.3 and 0.7"):  # on a grid that does not divide 1
        check_price_and_size(None, _market(0.3), Decimal("0.9"), Decimal(1))
    for bad in (float("nan"), float("inf"), "0.5", True, None):
        assert exact(bad) is None


class _Seen(Exception):
    pass


def _spy(monkeypatch, module, name: str, seen: list):
    def spy(*args, **kwargs):
        seen.append([a for a in (*args, *kwargs.values()) if isinstance(a, (Decimal, float))])
        raise _Seen
    monkeypatch.setattr(module, name, spy)


def _kalshi_session():
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return KalshiAdapter(KalshiConfig(url="http://kalshi.test")).open_session(Credentials(api_key_id="k", private_key=pem))


def test_each_venue_builder_receives_the_decimal(monkeypatch):
    from pmrouter.exchanges.kalshi import trading as kalshi_trading

    req = _request("0.57", "1.1")
    intent = OrderIntent(_market(), _market().outcomes[0], "buy", req.price, req.size, "gtc", None, "uid-1")
    sessions = [
        (kalshi_trading, "to_book", _kalshi_session()),
        (poly_ob, "limit_amounts", PolymarketAdapter(PolymarketConfig(
            gamma_url="http://g.test", clob_url="http://c.test", data_url="http://d.test")).open_session(
            Credentials(private_key=PK))),
        (predict_ob, "limit_amounts", PredictFunAdapter(PredictFunConfig(url="http://p.test", api_key="k"))
         .open_session(Credentials(private_key=PK))),
    ]
    for module, name, sess in sessions:
        seen: list = []
        _spy(monkeypatch, module, name, seen)
        with pytest.raises(_Seen):
            asyncio.run(sess.prepare_order(intent))
        numbers = seen[0]
        assert Decimal("0.57") in numbers and all(type(n) is Decimal for n in numbers if n in (req.price, req.size)), \
            (module.__name__, numbers)
        assert not any(isinstance(n, float) and n in (0.57, 1.1) for n in numbers), (module.__name__, numbers)


def test_builders_convert_the_decimal_once_to_the_same_amounts_as_the_sdks_floats():
    # The official SDKs take floats; our builders, given the exact decimals, sign the same amounts.
    for side in (poly_ob.BUY, poly_ob.SELL):
        assert poly_ob.limit_amounts(side, Decimal("1.1"), Decimal("0.57"), 0.01) == \
            poly_ob.limit_amounts(side, 1.1, 0.57, 0.01)
        assert poly_ob.fill_or_kill_amounts(side, Decimal("7.33"), Decimal("0.571"), 0.001) == \
            poly_ob.fill_or_kill_amounts(side, 7.33, 0.571, 0.001)
        assert predict_ob.limit_amounts(side, Decimal("0.57"), Decimal("1.1")) == \
            predict_ob.limit_amounts(side, 0.57, 1.1)
        assert limitless_ob.limit_amounts(side, Decimal("0.571"), Decimal("1.1")) == \
            limitless_ob.limit_amounts(side, 0.571, 1.1)
        assert opinion_ob.maker_amount(side, opinion_ob.LIMIT, "0.57", Decimal("2.2")) == \
            opinion_ob.maker_amount(side, opinion_ob.LIMIT, "0.57", 2.2)
