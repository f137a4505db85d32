from __future__ import annotations

from pydantic import BaseModel, ConfigDict

ERROR_CODES = (
    "unauthorized", "forbidden", "exchange_not_found", "credentials_required", "authentication_failed",
    "missing_parameter", "bad_request", "validation_error", "market_not_found", "event_not_found",
    "event_not_resolvable", "order_not_found", "not_found", "internal_error", "not_supported",
    "insufficient_funds", "rate_limit_exceeded", "monthly_limit_exceeded", "service_unavailable",
    "session_signer_expired",
)


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PaginationInfo(WireModel):
    count: int
    total: int
    has_more: bool
    next_cursor: str | None = None
