"""boto3 clients, created once per process, for every AWS service pmrouter calls: DynamoDB (through
store/), KMS (auth/vault.py), Secrets Manager (auth/platform_secrets.py). Locally and in tests
`AWS_ENDPOINT_URL` points boto3 at moto's server; deployed, boto3 finds the real endpoints."""
from __future__ import annotations

import functools
import threading

import boto3
from botocore.config import Config

from .settings import get_settings

lock = threading.Lock()  # boto3 client and resource creation is not thread-safe
# Client-side parameter validation walks every request against the service model (a third of a
# millisecond per DynamoDB call); the service validates anyway and answers with a ClientError.
BOTO_CONFIG = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=3, read_timeout=10,
                     max_pool_connections=50, parameter_validation=False)


@functools.lru_cache(maxsize=None)
def session() -> boto3.session.Session:
    return boto3.session.Session(region_name=get_settings().region)


@functools.lru_cache(maxsize=None)
def client(service: str):
    with lock:
        return session().client(service, config=BOTO_CONFIG)


def reset() -> None:
    """Forget cached clients (tests switch endpoints between stacks)."""
    client.cache_clear()
    session.cache_clear()
