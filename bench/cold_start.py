"""Cold-start import time of each Lambda function module, measured the way Lambda pays it: a fresh
interpreter importing functions/<name>/app.py with the layer on sys.path, the layer built as SAM
builds it (layers/core/Makefile: precompiled, hash-based bytecode; the dependencies come from the
local environment instead of an arm64 pip install). Prints the median of N runs.

    .venv/bin/python bench/cold_start.py [runs]
    .venv/bin/python bench/cold_start.py [runs] --compare markets catalog_sync

`--compare` prices the library choices of docs/api-decisions.md: each named function's cold import
with what it does today, then with the setup it would add for Powertools (Logger with the request id
as correlation id, Metrics, Tracer with the X-Ray patching the template's `Tracing: Active` turns on,
Parameters for the platform secret) or for pydantic-settings (today's Settings as a BaseSettings),
run interleaved so that a busy machine slows every variant alike.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import sys, time
sys.path[:0] = [{fn!r}, {layer!r}]
t = time.perf_counter()
{setup}
import app
print((time.perf_counter() - t) * 1000)
"""
# What each alternative adds at cold start, timed together with the function's own import.
VARIANTS = {
    "today": "",
    "powertools": """
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities import parameters
Logger(service="pmrouter").set_correlation_id("req-1")
Metrics(namespace="pmrouter", service="pmrouter")
Tracer(service="pmrouter")
parameters.SecretsProvider()
""",
    "powertools-no-tracer": """
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities import parameters
Logger(service="pmrouter").set_correlation_id("req-1")
Metrics(namespace="pmrouter", service="pmrouter")
parameters.SecretsProvider()
""",
    "pydantic-settings": """
from pydantic_settings import BaseSettings, SettingsConfigDict
class S(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PMROUTER_", frozen=True)
""" + "".join(f"    {n}: str = 'x'\n" for n in (
        "accounts_table", "api_keys_table", "catalog_table", "credentials_table", "orders_table", "fills_table",
        "usage_table", "escrow_table", "platform_secret_id", "stage", "log_level")) + """
    catalog_refresh_seconds: float = 30.0
    api_key_cache_seconds: float = 30.0
S()
""",
}


def build_layer(into: Path) -> Path:
    subprocess.run(["make", "-s", "-C", str(ROOT / "layers" / "core"), "build-CoreLayer", f"ARTIFACTS_DIR={into}",
                    f"PYTHON={sys.executable}", "PIP_INSTALL=true"], check=True)
    return into / "python"


def once(fn: str, layer: Path, setup: str = "", in_lambda: bool = False) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMROUTER_")}
    env.pop("PYTHONPATH", None)
    if in_lambda:  # Powertools' Tracer patches and records only inside a function's environment
        env.update(AWS_LAMBDA_FUNCTION_NAME=fn, AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1")
    code = PROBE.format(fn=str(ROOT / "functions" / fn), layer=str(layer), setup=setup)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(res.stdout.strip().splitlines()[-1])


def measure(fn: str, runs: int, layer: Path) -> list[float]:
    return [once(fn, layer) for _ in range(runs)]


def compare(fns: list[str], runs: int, layer: Path) -> dict:
    """The alternatives come from requirements-dev.txt (the layer ships neither); a variant whose
    package is missing is left out with a line saying so."""
    import importlib.util

    needs = {"powertools": "aws_lambda_powertools", "powertools-no-tracer": "aws_lambda_powertools",
             "pydantic-settings": "pydantic_settings"}
    variants = {v: setup for v, setup in VARIANTS.items() if importlib.util.find_spec(needs.get(v, "json"))}
    for missing in sorted(set(VARIANTS) - set(variants)):
        print(f"{missing}: not installed, left out")
    results: dict = {}
    for fn in fns:
        samples: dict[str, list[float]] = {v: [] for v in variants}
        for _ in range(runs):
            for variant, setup in variants.items():
                samples[variant].append(once(fn, layer, setup, in_lambda=True))
        base = statistics.median(samples["today"])
        for variant, got in samples.items():
            med = statistics.median(got)
            results[f"{fn}/{variant}"] = round(med, 1)
            print(f"import {fn:<16} {variant:<18} median {med:7.1f} ms  ({med - base:+6.1f} ms vs today)")
    return results


def main() -> dict:
    args = sys.argv[1:]
    runs = int(args.pop(0)) if args and args[0].isdigit() else 5
    results = {}
    with tempfile.TemporaryDirectory(prefix="pmrouter-layer-") as tmp:
        layer = build_layer(Path(tmp))
        if args and args[0] == "--compare":
            return compare(args[1:] or ["markets"], runs, layer)
        for fn in sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py")):
            samples = measure(fn, runs, layer)
            results[fn] = round(statistics.median(samples), 1)
            print(f"import {fn:<16} median {results[fn]:7.1f} ms  (runs: {', '.join(f'{s:.0f}' for s in samples)})")
    return results


if __name__ == "__main__":
    print(json.dumps(main()))
