"""Lambda for the hosted MCP endpoint (POST /mcp). Thin: the server lives in the shared layer; its
tools call the REST routes in-process with the caller's key."""
import os

from mangum import Mangum

from pmrouter.bootstrap import bootstrap

bootstrap()

from pmrouter.api.app import create_app  # noqa: E402
from pmrouter.mcp.hosted import make_router  # noqa: E402
from pmrouter.mcp.rest import rest_app  # noqa: E402

ROUTERS: list = []
ROOT_ROUTERS = [make_router(rest_app)]  # served at /mcp, outside /api/v1
app = create_app(ROUTERS, root_routers=ROOT_ROUTERS, title="pmrouter mcp")
handler = Mangum(app, lifespan="off")

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # the tool list (OpenAPI-derived) is built at init, not on a caller's time
    from pmrouter.mcp.server import tool_list

    tool_list()
