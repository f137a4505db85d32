"""`make run`: start the local stack and keep it up until Ctrl-C."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

from .stack import LocalStack


def _write_local_env() -> None:
    """What `pmrouter --local` needs to reach this stack's embedded AWS."""
    keep = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION",
            "PMROUTER_PLATFORM_SECRET_ID", "PMROUTER_KMS_KEY_ID")
    lines = [f"{k}={v}" for k, v in sorted(os.environ.items())
             if k in keep or (k.startswith("PMROUTER_") and k.endswith("_TABLE"))
             or k.startswith(("PMROUTER_CHAIN_", "PMROUTER_ESCROW_", "PMROUTER_CTF_"))]
    os.makedirs(".pmrouter", exist_ok=True)
    with open(".pmrouter/local.env", "w") as fh:
        fh.write("# written by `make run` for `pmrouter --local`\n" + "\n".join(lines) + "\n")


def _dev_api_key() -> str | None:
    """PMROUTER_DEV_API_KEY, refused up front when the API would answer it with 401."""
    key = os.environ.get("PMROUTER_DEV_API_KEY") or None
    if key is not None:
        from pmrouter.auth.apikeys import key_shape_problem

        problem = key_shape_problem(key)
        if problem:
            raise SystemExit(f"PMROUTER_DEV_API_KEY is not usable: {problem} (for example pk_live_demo0123456789abcdef)")
    return key


def main() -> int:
    dev_api_key = _dev_api_key()
    started = time.perf_counter()
    stack = LocalStack(
        api_port=int(os.environ.get("PMROUTER_PORT", "8000")),
        sandbox_base_port=int(os.environ.get("PMROUTER_SANDBOX_PORT", "8101")),
        dev_api_key=dev_api_key,
        schedule_seconds=float(os.environ["PMROUTER_SCHEDULE_SECONDS"]) if os.environ.get("PMROUTER_SCHEDULE_SECONDS") else None,
    )
    stack.start()
    took = time.perf_counter() - started
    _write_local_env()
    print(f"""
pmrouter is running ({took:.1f} s)

  API          {stack.url}/api/v1      (OpenAPI: {stack.url}/docs)
  WebSocket    {stack.url.replace("http://", "ws://")}/ws   (the SDK's client.ws())
  MCP          {stack.url}/mcp          (Streamable HTTP; stdio: .venv/bin/pmrouter mcp)
  Demo API key {stack.api_key}
  Account      {stack.customer_id} (builder, scale tier)
  Embedded AWS {stack.aws.endpoint if stack.aws else '-'}
""")
    for name, url in stack.urls.items():
        print(f"  sandbox {name:<17} {url}")
    if stack.chain is not None:
        print(f"""
  Local chain  {stack.chain.url} (anvil, chain id 137)
    USDC (local)       {stack.chain.usdc}
    ConditionalTokens  {stack.chain.ctf}
    ParsecFeeEscrow    {stack.chain.escrow}  (treasury {stack.chain.treasury})""")
    print(f"""
Operator CLI:  .venv/bin/pmrouter --local account create --type builder --tier pro

Try:
  curl -s -H 'X-API-Key: {stack.api_key}' '{stack.url}/api/v1/markets?search=bitcoin&limit=3'

Ctrl-C stops everything.""", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    print("\nstopping...", flush=True)
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
