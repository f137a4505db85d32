"""The chain behind fee escrow, CTF and wallet balances: web3 to `PMROUTER_CHAIN_RPC_URL`, every
transaction journaled in DynamoDB (hash, nonce, signed bytes) before it is broadcast. Nothing here is
imported unless a chain is configured: web3 costs most of a second to import."""
