"""Kalshi trade-api v2: market data (and, with RSA-PSS signed requests, trading)."""
