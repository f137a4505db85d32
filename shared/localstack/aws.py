"""Embedded AWS for the local stack and tests: moto's server, with the DynamoDB tables, KMS key and
platform secret that `template.yaml` declares, created from the template itself so local and
deployed schemas cannot drift."""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation YAML: intrinsic tags (!Ref, !Sub, !GetAtt...) become {"Fn": tag, "Args": value}."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Fn": suffix, "Args": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)


def table_env_vars(template: dict[str, Any]) -> dict[str, str]:
    """Logical table id -> the environment variable the functions read its name from."""
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    out = {}
    for var, value in env.items():
        if isinstance(value, dict) and value.get("Fn") == "Ref":
            target = template["Resources"].get(value["Args"], {})
            if target.get("Type") == "AWS::DynamoDB::Table":
                out[value["Args"]] = var
    return out


def create_tables(template: dict[str, Any], prefix: str = "pmrouter-local") -> dict[str, str]:
    """Create every table of the template; returns {env var: table name} (the caller sets them)."""
    ddb = boto3.client("dynamodb")
    names: dict[str, str] = {}
    env_for = table_env_vars(template)
    for logical, res in template["Resources"].items():
        if res.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = res["Properties"]
        name = f"{prefix}-{logical[:-5].lower() if logical.endswith('Table') else logical.lower()}"
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("TimeToLiveSpecification"):
            pass  # applied below: create_table does not take it
        existing = ddb.list_tables()["TableNames"]
        if name not in existing:
            ddb.create_table(**kwargs)
            ttl = props.get("TimeToLiveSpecification")
            if ttl:
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        if logical in env_for:
            names[env_for[logical]] = name
    return names


@dataclass
class EmbeddedAws:
    endpoint: str
    server: Any
    kms_key_id: str
    secret_id: str

    def stop(self) -> None:
        self.server.stop()


def _moto_subprocess(port: int):
    """moto's server in its own process: its in-memory state must not be shared with tests that use
    `mock_aws` (which resets every in-process backend when it exits), and a second process keeps
    the simulated AWS off the API's interpreter lock."""
    import subprocess
    import sys
    import time
    import urllib.request

    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).read(1)
            return proc
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto server did not start") from None
            time.sleep(0.05)


class _Proc:
    def __init__(self, proc):
        self.proc = proc

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except Exception:
            self.proc.kill()


def start_embedded_aws(port: int = 0, *, platform: dict[str, str] | None = None) -> EmbeddedAws:
    """Start moto's server on loopback, point boto3 at it through the environment, and create the
    template's resources. `platform` adds entries to the platform secret."""
    from .servers import free_port

    port = port or free_port()
    server = _Proc(_moto_subprocess(port))
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update({
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_REGION": os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1")),
    })
    os.environ.pop("AWS_PROFILE", None)
    template = load_template()
    os.environ.update(create_tables(template))
    kms = boto3.client("kms")
    key_id = kms.create_key(Description="pmrouter local data key")["KeyMetadata"]["KeyId"]
    os.environ["PMROUTER_KMS_KEY_ID"] = key_id
    secret_id = os.environ.setdefault("PMROUTER_PLATFORM_SECRET_ID", "pmrouter/local/platform")
    value = {"api_key_pepper": secrets.token_urlsafe(36)}
    value.update(platform or {})
    boto3.client("secretsmanager").create_secret(Name=secret_id, SecretString=json.dumps(value))
    return EmbeddedAws(endpoint, server, key_id, secret_id)
