"""Venue failures, in venue-neutral terms. The API layer maps each to a contract status code."""
from __future__ import annotations

from dataclasses import dataclass


class VenueError(Exception):
    """Base class. `retryable` says whether sending the same request again may succeed."""

    retryable = False

    def __init__(self, exchange: str, message: str, *, status: int | None = None):
        super().__init__(message)
        self.exchange = exchange
        self.message = message
        self.status = status  # the venue's HTTP status, when there was one


class MarketNotFound(VenueError):
    """The venue does not know this market (or this outcome's token)."""


class VenueBadRequest(VenueError):
    """The venue rejected our parameters; the message names what it disliked."""


class VenueAuthError(VenueError):
    """Credentials missing, wrong or expired at the venue."""


class VenueRateLimited(VenueError):
    retryable = True

    def __init__(self, exchange: str, message: str, *, status: int | None = 429, retry_after: float | None = None):
        super().__init__(exchange, message, status=status)
        self.retry_after = retry_after


class VenueUnavailable(VenueError):
    """Outage, 5xx, timeout or connection failure.

    `ambiguous` is True when a request that changes state may have reached the venue (a read
    timeout, a dropped connection, a gateway 502/504): the caller must not resend it blindly but
    find out what the venue did. False means it certainly was not processed (connection refused,
    the venue's own 503)."""

    retryable = True

    def __init__(self, exchange: str, message: str, *, status: int | None = None, ambiguous: bool = False):
        super().__init__(exchange, message, status=status)
        self.ambiguous = ambiguous


class InsufficientFunds(VenueError):
    """The venue refused the order for balance or allowance."""


class VenueNotSupported(VenueError, NotImplementedError):
    """The venue (or pmrouter's adapter for it) cannot do this at all: a resend cannot succeed. The
    default of every optional `ExchangeAdapter` hook; the API answers 501."""


class VenueProtocolError(VenueError):
    """The venue answered something we could not parse: a contract break on their side."""

    retryable = True


@dataclass(frozen=True)
class ErrorWords:
    """The phrases (lower case) a venue's error messages use for each kind of failure."""

    rate_limited: tuple[str, ...]
    not_found: tuple[str, ...]
    auth: tuple[str, ...]


def error_from_words(exchange: str, message: str, words: ErrorWords, *, text: str | None = None,
                     status: int | None = None) -> VenueError:
    """The error of a venue that answers failures inside a 200 envelope, classified by its message
    (the venues publish no code table): rate limit, unknown market, credentials, else a bad request.
    `text` is what the caller sees (defaults to the message)."""
    low = message.lower()
    shown = message if text is None else text
    if any(w in low for w in words.rate_limited):
        return VenueRateLimited(exchange, shown, status=status)
    if any(w in low for w in words.not_found):
        return MarketNotFound(exchange, shown, status=status)
    if any(w in low for w in words.auth):
        return VenueAuthError(exchange, shown, status=status)
    return VenueBadRequest(exchange, shown, status=status)
