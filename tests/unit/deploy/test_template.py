"""template.yaml is the deployment's truth: the routes it declares must be exactly the routes the
functions serve, and the local stack builds its tables from it."""
from __future__ import annotations

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
        if "DynamoDBReadPolicy" in policy:
            assert policy["DynamoDBReadPolicy"]["TableName"]["Args"] in ("ApiKeysTable", "CatalogTable")
