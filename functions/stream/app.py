"""`/ws` on AWS. One code path, two functions in template.yaml: `Stream` serves the WebSocket
API's routes ($connect, $disconnect, $default); `StreamPump`, started on a schedule, runs the venue
feeds and fans the books out (pmrouter.stream.pump). Thin: the rules live in pmrouter.stream."""
import os

from pmrouter.bootstrap import bootstrap

bootstrap()

from pmrouter.stream.serverless import handler as _ws_handler  # noqa: E402

MARGIN_MS = 20_000  # stop sending well before Lambda stops us


def handler(event, context):
    if "requestContext" in event:
        return _ws_handler(event, context)
    if not os.environ.get("PMROUTER_STREAM_CALLBACK_URL"):
        # The local stack's timers: there the hub runs inside the API process (pmrouter.stream.asgi).
        return {"skipped": "no WebSocket API to fan out to"}
    import boto3

    from pmrouter.stream.pump import run_pump

    api = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["PMROUTER_STREAM_CALLBACK_URL"])
    seconds = (context.get_remaining_time_in_millis() - MARGIN_MS) / 1000 if context else 60
    return {"stopped": run_pump(api, seconds)}
