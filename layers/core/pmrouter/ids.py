"""Ids taken from a path or body (order id, customer id, a market selector), checked before they reach a
store key or a venue URL. Domain code (trading, stream) uses this; api/selectors hands the same rules
to the routes."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidInput, NotFound, PmrouterError
from .exchanges.registry import EXCHANGE_IDS

MAX_ID_CHARS = 128


def identifier(value: str | None, name: str) -> str:
    """1 to 128 printable ASCII characters without spaces. Anything else cannot name one of ours or
    a venue's, and some of it (control characters, a 3,000-character key) would make the store or
    the venue's URL fail instead."""
    v = (value or "").strip()
    if not v:
        raise InvalidInput([f"{name} is required and must not be empty"])
    if len(v) > MAX_ID_CHARS or not all(33 <= ord(c) <= 126 for c in v):
        raise InvalidInput([f"{name} must be 1 to {MAX_ID_CHARS} printable ASCII characters without spaces"])
    return v


def unknown_exchange(name: str) -> NotFound:
    return NotFound(f"unknown exchange {name!r}; expected one of: {', '.join(EXCHANGE_IDS)}",
                    code="exchange_not_found")


def _missing(message: str) -> PmrouterError:
    return PmrouterError(message, code="missing_parameter")


def split_parsec_id(parsec_id: str, param: str = "parsec_id") -> tuple[str, str]:
    exchange, sep, native = parsec_id.strip().partition(":")
    if not sep or not exchange or not native:
        raise InvalidInput([f"{param} must look like '{{exchange}}:{{market_id}}', got {parsec_id!r}"])
    if exchange.lower() not in EXCHANGE_IDS:
        raise unknown_exchange(exchange)
    return exchange.lower(), native


@dataclass(frozen=True)
class MarketRef:
    exchange: str
    market_id: str

    @property
    def parsec_id(self) -> str:
        return f"{self.exchange}:{self.market_id}"


def market_ref(parsec_id: str | None, exchange: str | None, market_id: str | None,
               market_param: str = "market_id") -> MarketRef:
    """A market named by `parsec_id` or by `exchange` and `market_id` (one way, not both)."""
    if parsec_id and (exchange or market_id):
        raise InvalidInput([f"pass either parsec_id or exchange+{market_param}, not both"])
    if parsec_id:
        ex, native = split_parsec_id(parsec_id)
        return MarketRef(ex, native)
    if exchange and market_id:
        ex = exchange.strip().lower()
        if ex not in EXCHANGE_IDS:
            raise unknown_exchange(exchange)
        return MarketRef(ex, market_id.strip())
    if exchange:
        raise _missing(f"{market_param} is required with exchange (or pass parsec_id)")
    if market_id:
        raise _missing(f"exchange is required with {market_param} (or pass parsec_id)")
    raise _missing(f"a market selector is required: parsec_id, or exchange and {market_param}")
