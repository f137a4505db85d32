"""DynamoDB handles, created once per process (the clients of every AWS service are pmrouter/aws.py).
There is no other storage backend: only modules under store/ call the tables."""
from __future__ import annotations

import functools

from botocore.exceptions import BotoCoreError, ClientError

from .. import aws
from ..aws import client  # noqa: F401  (store modules use the low-level DynamoDB client for transactions)


@functools.lru_cache(maxsize=None)
def resource(service: str):
    with aws.lock:
        return aws.session().resource(service, config=aws.BOTO_CONFIG)


@functools.lru_cache(maxsize=None)
def table(name: str):
    """A DynamoDB Table resource by its (already resolved) table name. Cached: building a Table
    resource costs about a millisecond, more than the rest of an order's own work."""
    return resource("dynamodb").Table(name)


def reset() -> None:
    """Forget cached handles (tests switch endpoints between stacks)."""
    table.cache_clear()
    resource.cache_clear()
    aws.reset()


def conditional(call, **kwargs) -> bool:
    """Run one conditional write (`call(**kwargs)`, e.g. `table.update_item`): False when its
    condition did not hold; other failures raise."""
    try:
        call(**kwargs)
        return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False


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
