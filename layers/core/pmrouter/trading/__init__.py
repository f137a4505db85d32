"""Order rules and the order lifecycle (record, send, reconcile), venue-neutral."""
