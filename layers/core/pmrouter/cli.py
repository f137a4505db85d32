"""`pmrouter`: the operator's command line. Creates trader and builder accounts and issues, lists and
revokes their API keys, against whichever stack the environment points at: a deployed one (AWS
credentials plus the stack's PMROUTER_*_TABLE and PMROUTER_PLATFORM_SECRET_ID values) or the local one
(`--local` reads what `make run` wrote to .pmrouter/local.env).

    pmrouter account create --type builder --tier pro [--name acme] [--qps-pool 1000]
    pmrouter key issue  --customer <customer_id>
    pmrouter key list   --customer <customer_id>
    pmrouter key revoke --key-id <pk_live_xxxxxx prefix>
    pmrouter mcp        (MCP server on stdio: PMROUTER_API_URL, PMROUTER_API_KEY; docs/mcp.md)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

LOCAL_ENV = Path(".pmrouter") / "local.env"


def _load_local(path: Path) -> None:
    if not path.exists():
        sys.exit(f"{path} not found: start the local stack with `make run` first")
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, _, v = line.partition("=")
            os.environ[k.strip()] = v.strip()


def _account_create(args) -> dict:
    from .auth.apikeys import key_id, new_api_key, store_key
    from .settings import get_settings
    from .store import dynamo
    from .store.accounts import create_account

    account = create_account(args.type, args.tier, name=args.name or "")
    if args.qps_pool:
        dynamo.table(get_settings().accounts_table).update_item(
            Key={"customer_id": account["customer_id"]}, UpdateExpression="SET qps_pool = :p",
            ExpressionAttributeValues={":p": args.qps_pool})
    key = new_api_key()
    store_key(key, account["customer_id"], args.type, args.tier)
    return {"customer_id": account["customer_id"], "account_type": args.type, "tier": args.tier,
            "api_key": key, "key_id": key_id(key), "note": "the key is shown once; pmrouter keeps only its hash"}


def _key_issue(args) -> dict:
    from .auth.apikeys import key_id, new_api_key, store_key
    from .store.accounts import get_account

    account = get_account(args.customer)
    if account is None:
        sys.exit(f"no account {args.customer}")
    key = new_api_key()
    store_key(key, account["customer_id"], account["account_type"], account["tier"])
    return {"customer_id": account["customer_id"], "api_key": key, "key_id": key_id(key)}


def _keys_for(customer: str) -> list[dict]:
    from boto3.dynamodb.conditions import Key

    from .settings import get_settings
    from .store import dynamo

    table = dynamo.table(get_settings().api_keys_table)
    hashes = [i["key_hash"] for i in table.query(IndexName="by-customer",
                                                 KeyConditionExpression=Key("customer_id").eq(customer))["Items"]]
    return [table.get_item(Key={"key_hash": h})["Item"] for h in hashes]


def _key_list(args) -> list[dict]:
    return [{"key_id": i.get("key_id"), "status": i.get("status"), "created_at": i.get("created_at")}
            for i in _keys_for(args.customer)]


def _key_revoke(args) -> dict:
    from boto3.dynamodb.conditions import Attr

    from .auth.apikeys import revoke_key
    from .settings import get_settings
    from .store import dynamo

    table = dynamo.table(get_settings().api_keys_table)
    items = table.scan(FilterExpression=Attr("key_id").eq(args.key_id))["Items"]
    if not items:
        sys.exit(f"no key {args.key_id}")
    for item in items:
        revoke_key(item["key_hash"])
    return {"revoked": args.key_id, "note": "running functions may accept it for up to 30 s (key cache)"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="pmrouter", description="pmrouter operator tool")
    ap.add_argument("--local", action="store_true", help="use the stack started by `make run`")
    sub = ap.add_subparsers(dest="group", required=True)
    acc = sub.add_parser("account").add_subparsers(dest="cmd", required=True)
    create = acc.add_parser("create", help="create an account and its first API key")
    create.add_argument("--type", choices=["trader", "builder"], required=True)
    create.add_argument("--tier", choices=["free", "pro", "scale"], default="free")
    create.add_argument("--name")
    create.add_argument("--qps-pool", type=int, help="builders: the QPS pool shared by their end users")
    keys = sub.add_parser("key").add_subparsers(dest="cmd", required=True)
    issue = keys.add_parser("issue")
    issue.add_argument("--customer", required=True)
    lst = keys.add_parser("list")
    lst.add_argument("--customer", required=True)
    revoke = keys.add_parser("revoke")
    revoke.add_argument("--key-id", required=True, help="the pk_live_xxxxxx prefix shown by `key list`")
    sub.add_parser("mcp", help="MCP server on stdio for AI agents (PMROUTER_API_URL, PMROUTER_API_KEY)")
    args = ap.parse_args(argv)
    if args.group == "mcp":  # stdout is the MCP wire: nothing else may print there
        from .mcp.stdio import main as mcp_main

        return mcp_main()
    if args.local:
        _load_local(LOCAL_ENV)
    handlers = {("account", "create"): _account_create, ("key", "issue"): _key_issue, ("key", "list"): _key_list,
                ("key", "revoke"): _key_revoke}
    print(json.dumps(handlers[(args.group, args.cmd)](args), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
