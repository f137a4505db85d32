"""Scheduled Lambda: settle the fee escrow of finished builder orders exactly once, and refund fees whose
order never reached the venue, is gone, pending without a venue id for 10 minutes or stale for a day
(pmrouter.escrow.service.settle_once)."""
from pmrouter.bootstrap import bootstrap

bootstrap()

from pmrouter.escrow.service import settle_once  # noqa: E402


def handler(event, context):
    return settle_once()
