"""boto3 handles, created once per process. Locally and in tests `AWS_ENDPOINT_URL` points boto3 at
moto's server; deployed, boto3 finds the real endpoints. There is no other storage backend."""
from __future__ import annotations

import functools
import threading

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..settings import get_settings

_lock = threading.Lock()
# Client-side parameter validation walks every request against the service model (a third of a
# millisecond per DynamoDB call); the service validates anyway and answers with a ClientError.
_BOTO_CONFIG = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=3, read_timeout=10,
                      max_pool_connections=50, parameter_validation=False)


@functools.lru_cache(maxsize=None)
def _session() -> boto3.session.Session:
    return boto3.session.Session(region_name=get_settings().region)


@functools.lru_cache(maxsize=None)
def client(service: str):
    with _lock:  # boto3 client creation is not thread-safe
        return _session().client(service, config=_BOTO_CONFIG)


@functools.lru_cache(maxsize=None)
def resource(service: str):
    with _lock:
        return _session().resource(service, config=_BOTO_CONFIG)


@functools.lru_cache(maxsize=None)
def table(name: str):
    """A DynamoDB Table resource by its (already resolved) table name. Cached: building a Table
    resource costs about a millisecond, more than the rest of an order's own work."""
    return resource("dynamodb").Table(name)


def reset() -> None:
    """Forget cached handles (tests switch endpoints between stacks)."""
    table.cache_clear()
    client.cache_clear()
    resource.cache_clear()
    _session.cache_clear()


# DynamoDB's own "try again" answers (after boto3's retries have run out).
_TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable", "TransactionInProgressException",
    "KMSThrottlingException", "LimitExceededException",
})


def is_transient(exc: BaseException) -> bool:
    """A store failure a retry may cure: throttling, the service's 5xx, or no connection at all."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return err.get("Code") in _TRANSIENT_CODES or int(status or 0) >= 500
    return isinstance(exc, BotoCoreError)  # connection refused/reset, timeouts
