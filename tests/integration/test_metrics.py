"""EMF metric lines: orders placed, venue latency and errors by code, in CloudWatch's format."""
from __future__ import annotations

import json
import logging


def _metrics(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "pmrouter.metrics"]


def test_order_venue_latency_and_error_metrics(api, caplog):
    m = next(x for x in api.get("/markets", params={"exchanges": "kalshi", "limit": 20}).json()["markets"]
             if x["status"] == "active")
    with caplog.at_level(logging.INFO, logger="pmrouter.metrics"):
        ok = api.post("/orders", params={"exchange": "kalshi"},
                      json={"market_id": m["exchange_market_id"], "outcome": "yes", "side": "buy", "price": 0.02, "size": 3})
        bad = api.get("/orderbook", params={"parsec_id": "kalshi:NO-SUCH"})
    assert ok.status_code == 200 and bad.status_code == 404
    lines = _metrics(caplog)
    names = {n["Name"] for line in lines for d in line["_aws"]["CloudWatchMetrics"] for n in d["Metrics"]}
    assert {"OrdersPlaced", "VenueLatency", "Errors"} <= names
    placed = next(line for line in lines if "OrdersPlaced" in line)
    assert placed["OrdersPlaced"] == 1 and placed["exchange"] == "kalshi" and placed["order_type"] == "gtc"
    assert placed["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "pmrouter"
    assert any(line.get("code") == "market_not_found" for line in lines if "Errors" in line)
    latency = next(line for line in lines if "VenueLatency" in line)
    assert latency["VenueLatency"] > 0 and latency["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] == "Milliseconds"
