"""Managed wallets: keys pmrouter generates and guards for its users."""
