"""Scheduled Lambda: refresh the market catalog from every venue."""
from pmrouter.bootstrap import bootstrap

bootstrap()

from pmrouter.catalog.sync import run_sync  # noqa: E402


def handler(event, context):
    return run_sync()
