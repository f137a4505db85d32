"""template.yaml is the deployment's truth: the routes it declares must be exactly the routes the
functions serve, and the local stack builds its tables from it."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from shared.localstack.aws import load_template, table_env_vars
from shared.localstack.stack import function_names, load_function, schedules

TEMPLATE = load_template()


def _template_routes() -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    for res in TEMPLATE["Resources"].values():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        fn = res["Properties"]["CodeUri"].split("/")[-1]
        for event in res["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                out.setdefault(fn, set()).add((props["Method"].upper(), props["Path"]))
    return out


def _app_routes(fn: str) -> set[tuple[str, str]]:
    module = load_function(fn)
    app = getattr(module, "app", None)
    if app is None:
        return set()
    # The OpenAPI document lists every operation the app really serves (FastAPI builds it from the
    # mounted routers), so it is the app's own account of its routes.
    routes = set()
    for path, ops in app.openapi()["paths"].items():
        for method in ops:
            routes.add((method.upper(), path))
    return routes


@pytest.mark.parametrize("fn", function_names())
def test_routes_in_template_equal_routes_served(fn):
    declared = _template_routes().get(fn, set())
    served = _app_routes(fn)
    assert declared == served, f"{fn}: only in template {declared - served}; only in app {served - declared}"


def test_every_function_directory_is_in_the_template():
    code_uris = {res["Properties"]["CodeUri"].split("/")[-1] for res in TEMPLATE["Resources"].values()
                 if res.get("Type") == "AWS::Serverless::Function"}
    assert code_uris == set(function_names())


def test_every_table_is_wired_to_an_environment_variable():
    tables = {k for k, r in TEMPLATE["Resources"].items() if r.get("Type") == "AWS::DynamoDB::Table"}
    assert tables == set(table_env_vars(TEMPLATE))


def test_catalog_sync_is_scheduled():
    assert schedules(TEMPLATE).get("catalog_sync") == 300


def _functions():
    return {r["Properties"]["CodeUri"].split("/")[-1]: r["Properties"] for r in TEMPLATE["Resources"].values()
            if r.get("Type") == "AWS::Serverless::Function"}


def test_kms_use_is_always_conditioned():
    """No function may use the data key unconditionally: credential records only under their
    encryption-context purpose, the platform secret only through Secrets Manager."""
    for name, props in _functions().items():
        for policy in props.get("Policies", []):
            assert "KMSDecryptPolicy" not in policy, f"{name}: unconditioned KMSDecryptPolicy"
            for stmt in policy.get("Statement", []) if isinstance(policy, dict) else []:
                actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
                if any(a.startswith("kms:") for a in actions):
                    assert stmt.get("Condition"), f"{name}: {stmt.get('Sid')} has no condition"


def test_market_data_function_cannot_write_or_read_credentials():
    props = _functions()["markets"]
    for policy in props["Policies"]:
        if "DynamoDBCrudPolicy" in policy:  # only the rate-limit buckets
            assert policy["DynamoDBCrudPolicy"]["TableName"]["Args"] == "UsageTable"
        if "DynamoDBReadPolicy" in policy:  # accounts: an end user's own key draws on its builder
            assert policy["DynamoDBReadPolicy"]["TableName"]["Args"] in ("ApiKeysTable", "CatalogTable", "AccountsTable")


def _table_policies(fn: str) -> set[str]:
    return {body["TableName"]["Args"] for policy in _functions()[fn].get("Policies", []) if isinstance(policy, dict)
            for kind, body in policy.items() if kind.startswith("DynamoDB")}


def test_ctf_function_has_no_access_to_the_escrow_table():
    """CTF calls move the customer's own tokens; nothing in them may read or move escrowed fees."""
    assert "EscrowTable" not in _table_policies("ctf")


# --- no policy a function's code never uses ------------------------------------------------------------
LAYER = Path(__file__).resolve().parents[3] / "layers" / "core"
FUNCTIONS = Path(__file__).resolve().parents[3] / "functions"


def _module_file(name: str) -> Path | None:
    base = LAYER / name.replace(".", "/")
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _imports(path: Path, module: str) -> set[str]:
    """Every pmrouter module `path` imports, at the top or inside a function (lazy imports count)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("pmrouter")}
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1]) if node.level else ""
            target = ".".join(p for p in (base, node.module or "") if p)
            if target.startswith("pmrouter"):
                out.add(target)
                out |= {f"{target}.{a.name}" for a in node.names if _module_file(f"{target}.{a.name}")}
    return out


def _reachable(fn: str) -> set[str]:
    seen: set[str] = set()
    todo = _imports(FUNCTIONS / fn / "app.py", "app")
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        todo |= {".".join(parts[:i]) for i in range(1, len(parts))}  # a package's __init__ runs too
        path = _module_file(module)
        if path is not None:
            todo |= _imports(path, module)
    return seen


def _tables_named_in(modules: set[str]) -> set[str]:
    """Tables whose name variable (PMROUTER_X_TABLE, or the settings field x_table) appears in the code."""
    names = {logical: (var, var.removeprefix("PMROUTER_").lower()) for logical, var in table_env_vars(TEMPLATE).items()}
    for logical, res in TEMPLATE["Resources"].items():  # tables whose variable a single function sets
        if res.get("Type") == "AWS::DynamoDB::Table" and logical not in names:
            names[logical] = (f"PMROUTER_{logical.removesuffix('Table').upper()}_TABLE",
                              f"{logical.removesuffix('Table').lower()}_table")
    found = set()
    for module in modules:
        path = _module_file(module)
        text = path.read_text() if path else ""
        found |= {logical for logical, words in names.items()
                  if any(re.search(rf"\b{w}\b", text) for w in words)}
    return found


@pytest.mark.parametrize("fn", function_names())
def test_no_function_gets_a_table_its_code_cannot_reach(fn):
    """A policy on a table that no module the function can import (lazily included) ever names is
    one it never uses. (tests/integration/test_function_policies.py drives the functions and checks
    the other direction: every table they touch is granted.)"""
    unused = _table_policies(fn) - _tables_named_in(_reachable(fn))
    assert not unused, f"{fn} is granted {sorted(unused)} but no code it runs names them"
