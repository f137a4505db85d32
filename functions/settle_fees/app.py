"""Scheduled Lambda: settle the fee escrow of finished builder orders, exactly once."""
from pmrouter.bootstrap import bootstrap

bootstrap()

from pmrouter.escrow.service import settle_once  # noqa: E402


def handler(event, context):
    return settle_once()
