"""Predict.fun: market data over its REST API (`/v1/...`, `x-api-key` header)."""
