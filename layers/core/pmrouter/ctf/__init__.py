"""Polymarket conditional-token operations (split, merge, redeem), gasless through a relayer."""
