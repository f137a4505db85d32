"""The contract's error body `{error, code, retryable, validation_errors?}` and how every failure
inside pmrouter becomes one. Handlers never echo request headers or bodies back: secrets travel in them."""
from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import errors as domain
from .. import ids
from .. import observability as metrics
from ..chain import errors as chain
from ..exchanges import errors as venue
from ..exchanges.registry import UnknownExchange
from ..store.dynamo import is_transient

log = logging.getLogger("pmrouter.api")


class ApiError(Exception):
    status = 400
    code = "bad_request"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 retryable: bool | None = None, validation_errors: list[str] | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if retryable is not None:
            self.retryable = retryable
        self.validation_errors = validation_errors
        self.headers = dict(headers or {})
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message, "code": self.code, "retryable": self.retryable}
        if self.validation_errors:
            out["validation_errors"] = self.validation_errors
        out.update(self.extra)
        return out


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class ValidationFailed(ApiError):
    status, code = 400, "validation_error"

    def __init__(self, problems: list[str], message: str | None = None):
        super().__init__(message or "; ".join(problems), validation_errors=problems)


class MissingParameter(ApiError):
    status, code = 400, "missing_parameter"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class MarketNotFoundError(ApiError):
    status, code = 404, "market_not_found"


class EventNotFoundError(ApiError):
    status, code = 404, "event_not_found"


class NotSupported(ApiError):
    """501: a resend cannot succeed, so the SDK is told not to retry."""

    status, code = 501, "not_supported"

    def __init__(self, message: str):
        super().__init__(message, headers={"x-should-retry": "false"})


class ServiceUnavailable(ApiError):
    status, code, retryable = 503, "service_unavailable", True


def unknown_exchange(name: str) -> ApiError:
    return from_domain_error(ids.unknown_exchange(name))


def from_venue_error(exc: venue.VenueError) -> ApiError:
    return from_domain_error(domain.from_venue(exc))


def from_chain_error(exc: chain.ChainError) -> ApiError:
    """No chain configured is the operator's choice, not a passing outage: 503 without retry. A refused
    call carries the contract's reason; a transaction still in flight is followed by the retry."""
    if isinstance(exc, chain.ChainNotConfigured):
        return ApiError("on-chain settlement is not configured on this deployment; nothing was recorded",
                        status=503, code="chain_not_configured", retryable=False)
    if isinstance(exc, chain.TransactionFailed):
        where = f" {exc.tx_hash}" if exc.tx_hash else ""
        return BadRequest(f"the chain refused the transaction{where}: {exc.reason}")
    if isinstance(exc, chain.TransactionPending):
        return ServiceUnavailable(f"transaction {exc.tx_hash} is not mined yet; retry the same request to follow it")
    return ServiceUnavailable("the chain is unavailable; retry shortly")


# The status code that goes with each domain failure (errors.py knows no HTTP).
_DOMAIN_STATUS: tuple[tuple[type[domain.PmrouterError], int], ...] = (
    (domain.InvalidInput, 400), (domain.Refused, 400), (domain.InsufficientFunds, 402), (domain.Forbidden, 403),
    (domain.NotFound, 404),
    (domain.Conflict, 409), (domain.RateLimited, 429), (domain.NotSupported, 501), (domain.Unavailable, 503),
)


def from_domain_error(exc: domain.PmrouterError) -> ApiError:
    status = next((s for cls, s in _DOMAIN_STATUS if isinstance(exc, cls)), 400)
    headers: dict[str, str] = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(int(retry_after))
    if exc.final:
        headers["x-should-retry"] = "false"  # as NotSupported above: a resend cannot succeed
    return ApiError(exc.message, code=exc.code, status=status, retryable=exc.retryable,
                    validation_errors=exc.problems, headers=headers, extra=exc.extra)


def _validation_problems(exc: RequestValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "body", "header", "path")]
        field = ".".join(loc) or "request"
        msg = err.get("msg", "invalid value")
        if err.get("type") == "missing":
            problems.append(f"{field} is required")
        else:
            problems.append(f"{field}: {msg}")
    return problems


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    metrics.emit("Errors", 1, code=str(body.get("code", "unknown")))
    return JSONResponse(status_code=status, content=body, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _json(exc.status, exc.body(), exc.headers)

    @app.exception_handler(domain.PmrouterError)
    async def _domain_error(_: Request, exc: domain.PmrouterError) -> JSONResponse:
        err = from_domain_error(exc)
        return _json(err.status, err.body(), err.headers)

    @app.exception_handler(venue.VenueError)
    async def _venue_error(_: Request, exc: venue.VenueError) -> JSONResponse:
        err = from_venue_error(exc)
        return _json(err.status, err.body(), err.headers)

    @app.exception_handler(chain.ChainError)
    async def _chain_error(_: Request, exc: chain.ChainError) -> JSONResponse:
        err = from_chain_error(exc)
        return _json(err.status, err.body(), err.headers)

    @app.exception_handler(UnknownExchange)
    async def _unknown_exchange(_: Request, exc: UnknownExchange) -> JSONResponse:
        err = unknown_exchange(exc.exchange)
        return _json(err.status, err.body())

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _validation_problems(exc)
        missing = [p for p in problems if p.endswith(" is required")]
        if missing and len(missing) == len(problems):
            err: ApiError = MissingParameter("; ".join(missing), validation_errors=problems)
        else:
            err = ValidationFailed(problems)
        return _json(err.status, err.body())

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "bad_request"}.get(exc.status_code, "bad_request")
        message = "route not found" if exc.status_code == 404 else str(exc.detail)
        status = exc.status_code if exc.status_code < 500 else 500
        return _json(status, {"error": message, "code": code, "retryable": False})

    @app.exception_handler(ClientError)
    @app.exception_handler(BotoCoreError)
    async def _aws(request: Request, exc: Exception) -> JSONResponse:
        # Throttled or unreachable AWS (DynamoDB, KMS, Secrets Manager) after boto3's own retries: the
        # caller may retry. Anything else from AWS is a bug of ours and stays a 500.
        if is_transient(exc):
            log.warning("aws unavailable (%s) on %s %s", type(exc).__name__, request.method, request.url.path)
            err = ServiceUnavailable("pmrouter's storage is temporarily unavailable; retry shortly")
            return _json(err.status, err.body(), {"Retry-After": "1"})
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Log type and route only: exception text can carry request data.
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
        return _json(500, {"error": "internal error", "code": "internal_error", "retryable": True})
