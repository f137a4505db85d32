"""Polymarket: Gamma (catalog), CLOB V2 (books, prices, trading) and the Data API (public trades)."""
