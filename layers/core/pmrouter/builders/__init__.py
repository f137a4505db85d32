"""Builders: accounts that route orders for their own end users."""
