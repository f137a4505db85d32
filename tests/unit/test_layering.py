"""The layer's structure, checked on its source (issue 10 items 1 and 3):

- every DynamoDB table is read and written only through its module under store/;
- the domain raises pmrouter.errors and knows no HTTP: no module of escrow/, wallets/, builders/,
  usage/, store/, chain/, ctf/, trading/ or stream/ imports FastAPI, Starlette or pmrouter.api (and only store/ imports
  botocore's exceptions);
- the scheduled functions that move money or reconcile orders (settle_fees, reconcile_fills) load no
  web code at all."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "core" / "pmrouter"

# Calls that only a store module makes: the boto3 Table resource's and the low-level client's item APIs.
TABLE_APIS = frozenset({"get_item", "put_item", "update_item", "delete_item", "query", "scan", "Table",
                        "transact_write_items", "transact_get_items", "batch_write_item", "batch_get_item"})
# Not moved yet, each with the reason (the entry fails the test once it no longer needs to be here).
PENDING: dict[str, str] = {}
DOMAIN = ("escrow", "wallets", "builders", "usage", "store", "chain", "ctf", "trading", "stream", "exchanges", "catalog",
          "pricing", "auth")
WEB = ("fastapi", "starlette", "pmrouter.api", "pmrouter.routes")
# Transport edges inside a domain package: they may speak the web framework (never pmrouter.api).
EDGES = {"stream/asgi.py": "the /ws endpoint on the API's ASGI app, as stream/serverless.py is API Gateway's"}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(), filename=str(path))


def _table_calls(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr, owner = node.func.attr, node.func.value
            dynamo_handle = attr in ("table", "resource") and isinstance(owner, ast.Name) and owner.id == "dynamo"
            if attr in TABLE_APIS or dynamo_handle:
                found.append(f"line {node.lineno}: {ast.unparse(node.func)}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("boto3.dynamodb"):
            found.append(f"line {node.lineno}: from {node.module} import ...")
    return found


def _imported(rel: str, tree: ast.AST) -> list[tuple[int, str]]:
    """Absolute names of every module imported, at the top or lazily inside a function."""
    package = ["pmrouter", *rel.removesuffix(".py").split("/")][:-1]
    if rel.endswith("__init__.py"):
        package = ["pmrouter", *rel.split("/")[:-1]]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, node.module] if node.module else base)
            out += [(node.lineno, target)] + [(node.lineno, f"{target}.{a.name}") for a in node.names]
    return out


def test_only_store_modules_touch_tables():
    offenders = {}
    for rel, tree in _modules():
        if rel.startswith("store/"):
            continue
        calls = _table_calls(tree)
        if calls and rel not in PENDING:
            offenders[rel] = calls
    assert not offenders, f"table access outside store/ (move it into store/<table>.py): {offenders}"


def test_pending_entries_are_still_needed():
    trees = dict(_modules())
    stale = [rel for rel in PENDING if rel not in trees or not _table_calls(trees[rel])]
    assert not stale, f"remove from PENDING, they no longer touch a table: {stale}"


def test_the_rule_sees_a_table_call():
    """The check is not vacuous: a direct call and a Table handle are both found."""
    tree = ast.parse("from ..store import dynamo\nx = dynamo.table('t').get_item(Key={})\n")
    assert len(_table_calls(tree)) == 2


@pytest.mark.parametrize("package", DOMAIN)
def test_domain_packages_import_no_web_code(package):
    offenders = []
    for rel, tree in _modules():
        if not rel.startswith(f"{package}/"):
            continue
        for line, name in _imported(rel, tree):
            framework = name.split(".")[0] in ("fastapi", "starlette")
            if any(name == w or name.startswith(w + ".") for w in WEB) and not (framework and rel in EDGES):
                offenders.append(f"{rel}:{line} imports {name}")
            if name.startswith("botocore") and package != "store":
                offenders.append(f"{rel}:{line} imports {name} (wrap ClientError in store/)")
    assert not offenders, offenders


def test_the_import_rule_resolves_relative_and_lazy_imports():
    tree = ast.parse("def f():\n    from ..api.errors import NotFound\n")
    assert "pmrouter.api.errors" in {name for _, name in _imported("escrow/service.py", tree)}


def test_domain_errors_know_no_http():
    tree = ast.parse((PACKAGE / "errors.py").read_text())
    names = {name for _, name in _imported("errors.py", tree)}
    assert not {n for n in names if n.split(".")[0] in ("fastapi", "starlette", "botocore")}


@pytest.mark.parametrize("function", ["settle_fees", "reconcile_fills"])
def test_scheduled_money_functions_load_no_web_code(function):
    """Imported in a fresh interpreter the way Lambda does, the handler's module loads no web framework
    and nothing of pmrouter's HTTP edge."""
    probe = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(ROOT / 'functions' / function / 'app.py')!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "assert callable(module.handler)\n"
        f"web = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette') "
        f"or m.startswith(('pmrouter.api', 'pmrouter.routes')))\n"
        "print(','.join(web))\n"
    )
    env = {"PYTHONPATH": f"{ROOT / 'layers' / 'core'}:{ROOT}", "PATH": "/usr/bin:/bin",
           "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", f"{function} loads web code: {done.stdout.strip()}"
