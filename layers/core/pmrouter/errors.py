"""pmrouter's own failures, raised by the domain (escrow, wallets, builders, usage, store, ...) and
turned into status codes and the contract's error body only in `api/errors.py`. Nothing here knows
HTTP: a domain module that imports FastAPI, Starlette or botocore exceptions to say "not found" would
tie the settlement and reconciliation functions to web code they never serve.

`code` is the contract's machine-readable error code (part of the wire body), so it lives with the
failure; the status code that goes with each class is the API's business."""
from __future__ import annotations

from typing import Any

from .exchanges import errors as venue


class PmrouterError(Exception):
    """A failure the caller can be told about. `message` never carries a secret or a request body."""

    code = "bad_request"
    retryable = False
    # True when sending the same request again cannot turn out differently (a venue's answer to an
    # order, an unsupported operation): the SDK is told not to resend it on its own.
    final = False

    def __init__(self, message: str, *, code: str | None = None, retryable: bool | None = None,
                 problems: list[str] | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if retryable is not None:
            self.retryable = retryable
        self.problems = problems
        self.extra = extra or {}


class Refused(PmrouterError):
    """Well-formed, but the current state refuses it (a spent pool, a deactivated user)."""


class InvalidInput(PmrouterError):
    """The request names something wrong; `problems` lists each one (field first)."""

    code = "validation_error"

    def __init__(self, problems: list[str], message: str | None = None):
        super().__init__(message or "; ".join(problems), problems=problems)

    @property
    def field(self) -> str:
        """The first field named wrong ("fee_auth.signature: ..." -> "fee_auth.signature")."""
        first = (self.problems or [""])[0]
        return first.split(" ", 1)[0].rstrip(":")


class NotFound(PmrouterError):
    code = "not_found"


class Conflict(PmrouterError):
    code = "conflict"


class Forbidden(PmrouterError):
    code = "forbidden"


class RateLimited(PmrouterError):
    """An allowance is spent until `retry_after` seconds from now."""

    code, retryable = "rate_limit_exceeded", True

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(PmrouterError):
    """Try again: a concurrent change or an outage of something we depend on."""

    code, retryable = "service_unavailable", True

    def __init__(self, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class NotSupported(PmrouterError):
    """Cannot succeed on this deployment or venue, so a resend is pointless."""

    code, final = "not_supported", True


class InsufficientFunds(PmrouterError):
    """The venue refused an order for the trader's balance or allowance."""

    code = "insufficient_funds"


def from_venue(exc: venue.VenueError) -> PmrouterError:
    """A venue's failure in pmrouter's terms (the venue is named; its raw answer is not echoed)."""
    ex = exc.exchange
    if isinstance(exc, venue.VenueNotSupported):
        return NotSupported(exc.message)
    if isinstance(exc, venue.MarketNotFound):
        return NotFound(f"{ex}: market not found ({exc.message})", code="market_not_found")
    if isinstance(exc, venue.VenueRateLimited):
        return Unavailable(f"{ex} is rate limiting requests; retry shortly", retry_after=int(exc.retry_after or 1))
    if isinstance(exc, (venue.VenueUnavailable, venue.VenueProtocolError)):
        return Unavailable(f"{ex} is unavailable: {exc.message}")
    if isinstance(exc, venue.VenueAuthError):
        return Forbidden(f"{ex} rejected the credentials: {exc.message}", code="authentication_failed")
    if isinstance(exc, venue.VenueBadRequest):
        return Refused(f"{ex} rejected the request: {exc.message}")
    return Unavailable(f"{ex} failed: {exc.message}")
