"""`pmrouter`: the operator's command line. Creates trader and builder accounts and issues, lists and
revokes their API keys, against whichever stack the environment points at: a deployed one (AWS
credentials plus the stack's PMROUTER_*_TABLE and PMROUTER_PLATFORM_SECRET_ID values) or the local one
(`--local` reads what `make run` wrote to .pmrouter/local.env).

    pmrouter account create --type builder --tier pro [--name acme] [--qps-pool 1000]
    pmrouter key issue  --customer <customer_id>
    pmrouter key list   --customer <customer_id>
    pmrouter key revoke --key-hash <hash shown by key list> | --api-key <the full key>
    pmrouter wallet recover --customer <customer_id> --reason "<why>"   (prints the keys; audited)
    pmrouter mcp        (MCP server on stdio: PMROUTER_API_URL, PMROUTER_API_KEY; docs/mcp.md)
    pmrouter escrow deploy --treasury 0x... [--token 0x...]   (ParsecFeeEscrow, operated by the settlement key)
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
    from .store.accounts import create_account, set_qps_pool

    account = create_account(args.type, args.tier, name=args.name or "")
    if args.qps_pool:
        set_qps_pool(account["customer_id"], args.qps_pool)
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
    from .store import api_keys

    return api_keys.for_customer(customer)


def _key_list(args) -> list[dict]:
    return [{"key_id": i.get("key_id"), "key_hash": i.get("key_hash"), "status": i.get("status"),
             "created_at": i.get("created_at")} for i in _keys_for(args.customer)]


def _key_revoke(args) -> dict:
    """Exactly one key, by its hash or the full key. A key id is only the key's first characters,
    which two keys may share, so it never selects what to revoke."""
    from .auth.apikeys import hash_key, revoke_key
    from .store import api_keys

    if args.key_id:
        sys.exit(f"{args.key_id!r} is a key id (a prefix two keys may share): revoke by --key-hash "
                 "(shown by `key list`) or --api-key")
    digest = args.key_hash or hash_key(args.api_key)
    item = api_keys.get(digest)
    if item is None:
        sys.exit("no such key")
    revoke_key(digest)
    return {"revoked": item.get("key_id"), "key_hash": digest, "customer_id": item.get("customer_id"),
            "note": "running functions may accept it for up to 30 s (key cache)"}


def _wallet_recover(args) -> dict:
    """The managed wallet keys pmrouter keeps for a customer (active, deactivated or replaced), so the
    operator can move their funds. Audited; the keys are printed here and nowhere else."""
    import getpass

    from .wallets.keys import recover

    wallets = recover(args.customer, reason=args.reason, operator=os.environ.get("USER") or getpass.getuser())
    if not wallets:
        sys.exit(f"no wallet keys kept for {args.customer}")
    return {"customer_id": args.customer,
            "wallets": [{"address": w.address, "status": w.status, "mode": w.mode, "record": w.record,
                         "private_key": w.private_key} for w in wallets],
            "note": "move the funds, then keep these keys offline; this recovery is audited"}


def _escrow_deploy(args) -> dict:
    """Deploy ParsecFeeEscrow to PMROUTER_CHAIN_RPC_URL with the platform secret's settlement key as its
    operator (the only key that can move escrowed fees) and deployer (it pays the gas)."""
    from .chain.config import require
    from .chain.deploy import deploy_escrow
    from .chain.errors import ChainNotConfigured
    from .chain.keys import settlement_account

    try:
        cfg = require()
        operator = settlement_account()
    except ChainNotConfigured as exc:
        sys.exit(f"{exc}: set PMROUTER_CHAIN_RPC_URL and put `chain_settlement_key` into the platform secret "
                 "(docs/builders.md, Deploying the fee escrow)")
    token = args.token or cfg.collateral
    address = deploy_escrow(cfg.rpc_url, cfg.chain_id, operator, usdc=token, treasury=args.treasury)
    return {"escrow_contract": address, "operator": operator.address, "treasury": args.treasury, "token": token,
            "chain_id": cfg.chain_id,
            "next": "set the stack parameters EscrowContract and PMROUTER_ESCROW_TREASURY to these values and deploy"}


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
    revoke = keys.add_parser("revoke").add_mutually_exclusive_group(required=True)
    revoke.add_argument("--key-hash", help="the key's hash, as `key list` shows it")
    revoke.add_argument("--api-key", help="the full API key")
    revoke.add_argument("--key-id", help=argparse.SUPPRESS)  # refused with a message: only a prefix
    wallet = sub.add_parser("wallet").add_subparsers(dest="cmd", required=True)
    rec = wallet.add_parser("recover", help="print a customer's kept wallet keys to move their funds (audited)")
    rec.add_argument("--customer", required=True)
    rec.add_argument("--reason", required=True, help="why (a ticket id): written to the audit record")
    sub.add_parser("mcp", help="MCP server on stdio for AI agents (PMROUTER_API_URL, PMROUTER_API_KEY)")
    esc = sub.add_parser("escrow").add_subparsers(dest="cmd", required=True)
    dep = esc.add_parser("deploy", help="deploy the fee escrow contract operated by the settlement key")
    dep.add_argument("--treasury", required=True, help="address that receives the platform's share of fees")
    dep.add_argument("--token", help="fee token (default: the chain's collateral, PMROUTER_CHAIN_COLLATERAL)")
    args = ap.parse_args(argv)
    if args.group == "mcp":  # stdout is the MCP wire: nothing else may print there
        from .mcp.stdio import main as mcp_main

        return mcp_main()
    if args.local:
        _load_local(LOCAL_ENV)
    handlers = {("account", "create"): _account_create, ("key", "issue"): _key_issue, ("key", "list"): _key_list,
                ("key", "revoke"): _key_revoke, ("wallet", "recover"): _wallet_recover,
                ("escrow", "deploy"): _escrow_deploy}
    print(json.dumps(handlers[(args.group, args.cmd)](args), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
