"""Limitless Exchange (Base): market data. Trading through pmrouter is not offered for Limitless."""
