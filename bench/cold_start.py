"""Cold-start import time of each Lambda function module, measured the way Lambda pays it: a fresh
interpreter importing functions/<name>/app.py with the layer on sys.path, the layer built as SAM
builds it (layers/core/Makefile: precompiled, hash-based bytecode; the dependencies come from the
local environment instead of an arm64 pip install). Prints the median of N runs.

    .venv/bin/python bench/cold_start.py [runs]
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
import app
print((time.perf_counter() - t) * 1000)
"""


def build_layer(into: Path) -> Path:
    subprocess.run(["make", "-s", "-C", str(ROOT / "layers" / "core"), "build-CoreLayer", f"ARTIFACTS_DIR={into}",
                    f"PYTHON={sys.executable}", "PIP_INSTALL=true"], check=True)
    return into / "python"


def measure(fn: str, runs: int, layer: Path) -> list[float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMROUTER_")}
    env.pop("PYTHONPATH", None)
    out = []
    for _ in range(runs):
        code = PROBE.format(fn=str(ROOT / "functions" / fn), layer=str(layer))
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        out.append(float(res.stdout.strip().splitlines()[-1]))
    return out


def main() -> dict:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    results = {}
    with tempfile.TemporaryDirectory(prefix="pmrouter-layer-") as tmp:
        layer = build_layer(Path(tmp))
        for fn in sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py")):
            samples = measure(fn, runs, layer)
            results[fn] = round(statistics.median(samples), 1)
            print(f"import {fn:<16} median {results[fn]:7.1f} ms  (runs: {', '.join(f'{s:.0f}' for s in samples)})")
    return results


if __name__ == "__main__":
    print(json.dumps(main()))
