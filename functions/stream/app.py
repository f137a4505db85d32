"""API Gateway WebSocket API routes of `/ws` ($connect, $disconnect, $default). Thin: the
connection rules live in pmrouter.stream (session.py, serverless.py)."""
from pmrouter.bootstrap import bootstrap

bootstrap()

from pmrouter.stream.serverless import handler as _ws_handler  # noqa: E402


def handler(event, context):
    if "requestContext" not in event:
        # A scheduled invocation (the local stack's timers): the fan-out side is described in
        # docs/streaming.md and runs in-process locally, so there is nothing to do here.
        return {"skipped": "not a WebSocket route"}
    return _ws_handler(event, context)
