from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field

from .common import WireModel


class RequestCredentials(WireModel):
    api_key_id: str | None = None
    private_key: str | None = None
    clob_api_key: str | None = None
    clob_api_secret: str | None = None
    clob_api_passphrase: str | None = None

    def __repr__(self) -> str:  # never print secret values (pydantic's repr would)
        return "RequestCredentials(***)"


class FeeAuthorization(WireModel):
    order_id: str
    payer: str
    fee_amount: str
    deadline: int
    signature: str


def _exact(value: float) -> Decimal:
    # The one conversion of a request's number: the float's shortest repr is the JSON text the client
    # sent (0.57, not 0.569999...), so everything after this edge computes on exactly that decimal.
    return Decimal(repr(value))


if TYPE_CHECKING:
    ExactNumber = Decimal
else:  # validated (and documented in OpenAPI) as a JSON number, handed on as a Decimal
    ExactNumber = Annotated[float, AfterValidator(_exact)]


class CreateOrderRequest(WireModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    market_id: str = Field(min_length=1)
    outcome: str = Field(min_length=1)
    side: Literal["buy", "sell"]
    price: ExactNumber
    size: ExactNumber
    params: dict[str, str] = Field(default_factory=dict)
    credentials: RequestCredentials | None = None
    fee_auth: FeeAuthorization | None = None
    payer_address: str | None = None
    signer_address: str | None = None
    affiliate: str | None = None


class Order(WireModel):
    id: str
    market_id: str
    outcome: str
    side: Literal["buy", "sell"]
    price: float
    size: float
    filled: float
    status: Literal["pending", "open", "filled", "partially_filled", "cancelled", "rejected"]
    created_at: datetime
    updated_at: datetime | None = None


class Position(WireModel):
    market_id: str
    outcome: str
    size: float
    average_price: float
    current_price: float


class FillOut(WireModel):
    fill_id: str
    order_id: str
    market_id: str
    outcome: str
    side: Literal["buy", "sell"]
    price: float
    size: float
    fee: float
    is_taker: bool
    created_at: datetime


class BalanceResponse(WireModel):
    raw: dict[str, Any]


class PingResult(WireModel):
    exchange: str
    has_credentials: bool
    authenticated: bool
    message: str


class OnboardRequest(WireModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    exchange: str
    mode: Literal["managed", "self"]
    wallet_type: str | None = None
    eoa_address: str | None = None
    chain_id: int | None = None
    clob_api_key: str | None = None
    clob_api_secret: str | None = None
    clob_api_passphrase: str | None = None
    api_key_id: str | None = None
    private_key: str | None = None

    def __repr__(self) -> str:
        return f"OnboardRequest(exchange={self.exchange!r}, mode={self.mode!r})"


class OnboardResponse(WireModel):
    exchange: str
    mode: str
    status: str
    linked_exchanges: list[str]
    steps_completed: list[str]
    eoa_address: str | None = None
    safe_address: str | None = None


class ExportKeyRequest(WireModel):
    wallet_type: Literal["eoa", "safe"] = "eoa"


class ExportKeyResponse(WireModel):
    private_key: str

    def __repr__(self) -> str:
        return "ExportKeyResponse(***)"
