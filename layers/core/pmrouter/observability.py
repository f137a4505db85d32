"""Metrics in CloudWatch's Embedded Metric Format: one JSON log line per data point, which CloudWatch
turns into metrics without an agent or an API call (and without importing a metrics library at cold
start). Names: `OrdersPlaced` (by exchange and outcome), `VenueLatency` (ms, by exchange), `Errors` (by
code)."""
from __future__ import annotations

import json
import logging
import os
import time

log = logging.getLogger("pmrouter.metrics")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "pmrouter")


def emit(name: str, value: float, unit: str = "Count", **dimensions: str) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    record = {
        "_aws": {"Timestamp": int(time.time() * 1000),
                 "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [sorted(dimensions)],
                                        "Metrics": [{"Name": name, "Unit": unit}]}]},
        name: value,
        **dimensions,
    }
    log.info(json.dumps(record, separators=(",", ":")))
