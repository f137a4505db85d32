"""Scheduled Lambda: bring unfinished orders and fills up to date from the venues."""
from pmrouter.bootstrap import bootstrap

bootstrap()

from pmrouter.trading.reconcile import run_reconcile  # noqa: E402


def handler(event, context):
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return run_reconcile(remaining() if remaining else None)
