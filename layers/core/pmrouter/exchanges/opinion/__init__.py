"""Opinion (opinion.trade): market data over its Open API (`/openapi/...`, static `apikey` header)."""
