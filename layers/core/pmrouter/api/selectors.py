"""Query-parameter rules shared by the market-data routes: the market selector (`parsec_id` or
`exchange`+`market_id`), CSV lists, limits and cursors. Each failure names the parameter to fix."""
from __future__ import annotations

import base64
import json

from .. import ids
from ..errors import InvalidInput
from ..exchanges.base import ExchangeAdapter, VenueMarket, VenueOutcome, resolve_outcome
from ..exchanges.registry import EXCHANGE_IDS, UnknownExchange, get_adapter
from ..ids import MarketRef, market_ref, split_parsec_id  # noqa: F401 - the market selector, for the routes
from .errors import ApiError, BadRequest, ValidationFailed, unknown_exchange


def adapter_for(exchange: str) -> ExchangeAdapter:
    try:
        return get_adapter(exchange)
    except UnknownExchange:
        raise unknown_exchange(exchange) from None


def pick_outcome(market: VenueMarket, outcome: str | None) -> VenueOutcome:
    try:
        return resolve_outcome(market, outcome)
    except ValueError as exc:
        raise ValidationFailed([f"outcome: {exc}"]) from None


def csv_list(value: str | None) -> list[str]:
    if value is None:
        return []
    return [v.strip() for v in value.split(",") if v.strip()]


def exchanges_param(value: str | None) -> list[str] | None:
    names = csv_list(value)
    if not names:
        return None
    bad = [n for n in names if n.lower() not in EXCHANGE_IDS]
    if bad:
        raise unknown_exchange(bad[0])
    return [n.lower() for n in names]


def clamp_limit(value: int | None, *, default: int, maximum: int, name: str = "limit") -> int:
    """Contract: the server clamps `limit` to its maximum; zero or negative is an error."""
    if value is None:
        return default
    if value < 1:
        raise ValidationFailed([f"{name} must be at least 1, got {value}"])
    return min(value, maximum)


MAX_OFFSET_DIGITS = 9  # our offset cursors count catalog rows; a longer number was never issued
MAX_CURSOR_CHARS = 2048


def _not_ours(cursor: str) -> ValidationFailed:
    return ValidationFailed([f"cursor: not a cursor this endpoint issued ({cursor[:40]!r})"])


def offset_cursor(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    # str.isdigit alone accepts superscripts and other scripts' digits ("²", "٣"), which int()
    # refuses or silently converts: only ASCII digits of a length we issue are ours.
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= MAX_OFFSET_DIGITS):
        raise _not_ours(cursor)
    return int(cursor)


def identifier(value: str | None, name: str) -> str:
    """ids.identifier's rule, failing as the API's ValidationFailed (callers here catch ApiError)."""
    try:
        return ids.identifier(value, name)
    except InvalidInput as exc:
        raise ValidationFailed(exc.problems or [exc.message]) from None


def encode_cursor(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict | None:
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
        raise _not_ours(cursor)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError
        return data
    except (ValueError, TypeError, RecursionError):
        raise _not_ours(cursor) from None


__all__ = ["BadRequest"]
