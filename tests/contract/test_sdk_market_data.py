"""The official `parsec-api` SDK, unchanged, in strict response-validation mode, against the local
stack: every market-data method must parse and return non-empty answers."""
from __future__ import annotations

import parsec_api
import pytest


def _market(sdk, exchange):
    markets = sdk.markets.list(exchanges=[exchange], limit=20).markets
    return next(m for m in markets if m.market_type == "binary")


def test_exchanges(sdk):
    caps = sdk.exchanges.list()
    assert {c.id for c in caps} == {"polymarket", "kalshi", "limitless", "opinion", "predictfun"}
    assert {c.id for c in caps if c.has.create_order} == {"polymarket", "kalshi", "limitless", "opinion", "predictfun"}


def test_markets_every_scope(sdk):
    page = sdk.markets.list(search="bitcoin", include_matches=True, limit=10)
    assert page.scope == "list" and page.markets and page.pagination.total >= len(page.markets)
    m = page.markets[0]
    one = sdk.markets.list(scope="market", parsec_id=m.parsec_id)
    assert one.markets[0].parsec_id == m.parsec_id
    batch = sdk.markets.list(parsec_ids=[m.parsec_id, m.parsec_id, "kalshi:NOPE"])
    assert batch.scope == "market_batch" and batch.duplicate_ids == [m.parsec_id] and batch.not_found_ids == ["kalshi:NOPE"]
    grouped = next(x for x in sdk.markets.list(limit=100).markets if x.parsec_group_id)
    ev = sdk.markets.list(scope="event", event_id=grouped.parsec_group_id)
    assert ev.event is not None and ev.markets
    nxt = sdk.markets.list(limit=5, cursor=sdk.markets.list(limit=5).pagination.next_cursor)
    assert len(nxt.markets) == 5


def test_events(sdk):
    events = sdk.events.list(limit=5, include_markets=True)
    assert events.events and events.events[0].markets


@pytest.mark.parametrize("exchange", ["polymarket", "kalshi", "limitless", "opinion", "predictfun"])
def test_orderbook_and_execution_price(sdk, exchange):
    m = _market(sdk, exchange)
    book = sdk.orderbook.retrieve(parsec_id=m.parsec_id, outcome="yes", limit=5)
    assert book.bids and book.asks
    est = sdk.execution_price.retrieve(parsec_id=m.parsec_id, side="buy", amount=3)
    assert est.filled_amount > 0 and est.fee_info is not None


@pytest.mark.parametrize("exchange", ["polymarket", "kalshi", "limitless", "opinion", "predictfun"])
def test_price_and_trades(sdk, exchange):
    caps = {c.id: c.has for c in sdk.exchanges.list()}[exchange]
    m = _market(sdk, exchange)
    if caps.fetch_price_history:
        candles = sdk.price.retrieve(parsec_id=m.parsec_id, interval="1d")
        assert candles.candles
    else:
        with pytest.raises(parsec_api.InternalServerError) as exc:
            sdk.price.retrieve(parsec_id=m.parsec_id, interval="1d")
        assert exc.value.status_code == 501
    if caps.fetch_trades:
        trades = sdk.trades.list(exchange=exchange, market_id=m.exchange_market_id, limit=5)
        assert trades.trades
    else:
        with pytest.raises(parsec_api.InternalServerError) as exc:
            sdk.trades.list(exchange=exchange, market_id=m.exchange_market_id, limit=5)
        assert exc.value.status_code == 501 and exc.value.body["code"] == "not_supported"


def test_errors_surface_as_sdk_exceptions(sdk):
    with pytest.raises(parsec_api.NotFoundError) as exc:
        sdk.orderbook.retrieve(parsec_id="kalshi:NO-SUCH-TICKER")
    assert exc.value.body["code"] == "market_not_found"
    with pytest.raises(parsec_api.BadRequestError):
        sdk.markets.list(parsec_ids=[f"kalshi:T{i}" for i in range(101)])
