"""The venue's `TradingSession` (fill in, for a venue that trades): one user's credentials for one
request, never cached across users. Implement every abstract method of `exchanges.base.TradingSession`
and set `self.credentials`. Money-path rules: an order the venue accepted is never an error because
its read-back failed (`base.accepted_unread`); ioc/fok read back live are final (`base.immediate_final`);
a timeout after sending is `VenueUnavailable(ambiguous=True)`, never a retryable error. The adapter
imports this module inside `open_session` so market-data functions do not pay for signing libraries.
"""
from __future__ import annotations
