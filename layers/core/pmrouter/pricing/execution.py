"""Pre-trade estimates: walk a live book for `amount` contracts, and estimate the venue's fee.

Definitions (documented in docs/api-decisions.md):
- total_cost: sum of price * size over the contracts that would fill (USD for a buy, proceeds for a sell).
- avg_price: total_cost / filled_amount (VWAP). worst_price: the last level touched.
- slippage: how far the VWAP is from the best level, relative to it ((avg - best) / best for a buy,
  (best - avg) / best for a sell); 0 when the best level alone fills the order.
- fee_estimate: the venue's taker fee on the fill per its fee model, labelled an estimate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..exchanges.base import FeeModel, OrderBook


@dataclass(frozen=True)
class Fill:
    filled_amount: float
    fully_filled: bool
    levels_consumed: int
    total_cost: float
    avg_price: float | None
    slippage: float | None
    worst_price: float | None
    # (price, size) actually taken at each level, for per-level fee models
    legs: tuple[tuple[float, float], ...]


def walk_book(book: OrderBook, side: str, amount: float) -> Fill:
    levels = book.asks if side == "buy" else book.bids
    remaining = amount
    cost = 0.0
    legs: list[tuple[float, float]] = []
    for price, size in levels:
        if remaining <= 1e-12:
            break
        if size <= 0:
            continue
        take = min(size, remaining)
        cost += take * price
        remaining -= take
        legs.append((price, take))
    filled = amount - max(remaining, 0.0)
    if not legs:
        return Fill(0.0, False, 0, 0.0, None, None, None, ())
    avg = cost / filled
    best = legs[0][0]
    slip = (avg - best) / best if side == "buy" else (best - avg) / best
    return Fill(
        filled_amount=round(filled, 10),
        fully_filled=remaining <= 1e-9,
        levels_consumed=len(legs),
        total_cost=round(cost, 10),
        avg_price=round(avg, 10),
        slippage=round(max(slip, 0.0), 10),
        worst_price=legs[-1][0],
        legs=tuple(legs),
    )


def estimate_fee(model: FeeModel, legs: tuple[tuple[float, float], ...]) -> float | None:
    """The taker fee on `legs` under `model`; None when the model cannot price it."""
    if model.kind == "none":
        return 0.0
    if model.kind == "linear" and model.basis == "min_side":
        fee = sum(model.rate * s * min(p, 1 - p) for p, s in legs)
    elif model.kind == "linear":
        fee = sum(model.rate * p * s for p, s in legs)
    elif model.kind == "quadratic":
        fee = sum(model.rate * s * (p * (1 - p)) ** model.exponent for p, s in legs)
    else:
        return None
    if model.round_up_to:
        step = model.round_up_to
        # Round up to the venue's increment (Kalshi: whole cents), ignoring float dust.
        fee = math.ceil(round(fee / step, 9)) * step
    return round(fee, 10)
