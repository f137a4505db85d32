"""The layer SAM builds ships precompiled, hash-based bytecode for every module: Lambda cannot
write bytecode caches on its read-only layer mount, and unzip breaks timestamp-checked ones."""
from __future__ import annotations

import importlib.util
import struct
import subprocess
import sys
from pathlib import Path

from shared.localstack.aws import load_template

ROOT = Path(__file__).resolve().parents[3]
LAYER = ROOT / "layers" / "core"


def test_template_builds_the_layer_with_its_makefile():
    layer = load_template()["Resources"]["CoreLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["ContentUri"] == "layers/core"
    assert "build-CoreLayer:" in (LAYER / "Makefile").read_text()


def test_layer_artifact_has_unchecked_hash_bytecode_for_every_module(tmp_path):
    # The real build pip-installs the dependencies for arm64; here they come from the test environment.
    subprocess.run(["make", "-s", "-C", str(LAYER), "build-CoreLayer", f"ARTIFACTS_DIR={tmp_path}",
                    f"PYTHON={sys.executable}", "PIP_INSTALL=true"], check=True)
    pkg = tmp_path / "python" / "pmrouter"
    sources = sorted(pkg.rglob("*.py"))
    assert len(sources) > 50
    for src in sources:
        pyc = Path(importlib.util.cache_from_source(str(src)))
        assert pyc.exists(), f"no bytecode for {src.relative_to(tmp_path)}"
        magic, flags = pyc.read_bytes()[:4], struct.unpack("<I", pyc.read_bytes()[4:8])[0]
        assert magic == importlib.util.MAGIC_NUMBER
        assert flags == 0b01, f"{pyc.name}: expected hash-based unchecked bytecode, flags={flags:#b}"
    # The artifact imports on its own (the layer's python/ is what Lambda puts on sys.path).
    out = subprocess.run([sys.executable, "-c", "import pmrouter.trading.service as s; print(s.__file__)"],
                         cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "python"), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().startswith(str(tmp_path / "python"))
