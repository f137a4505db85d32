"""pmrouter's MCP server: the tools Parsec's `parsec-mcp` documents, by the same names, over two
transports from one tool set: stdio (`pmrouter mcp`, calling a deployment's REST API) and the
hosted Streamable HTTP endpoint `/mcp` (calling the same routes in-process). Decisions: docs/mcp.md."""
