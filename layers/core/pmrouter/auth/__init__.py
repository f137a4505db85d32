"""API keys, platform secrets, and (later) the credential resolver and KMS vault."""
