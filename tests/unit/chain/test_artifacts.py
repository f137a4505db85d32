"""The committed artifacts are what the pinned compiler makes of the committed sources (and the
ConditionalTokens artifact is the published one): recompile into a scratch folder and compare."""
from __future__ import annotations

import filecmp
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
OUTPUTS = ["layers/core/pmrouter/chain/artifacts/ParsecFeeEscrow.json",
           "layers/core/pmrouter/chain/artifacts/ConditionalTokens.abi.json",
           "contracts/build/LocalUSDC.json", "contracts/build/ConditionalTokens.json"]


def test_committed_artifacts_match_a_fresh_compile(tmp_path):
    subprocess.run(["node", str(ROOT / "contracts" / "build.mjs"), str(tmp_path)], check=True, timeout=120)
    different = [p for p in OUTPUTS if not filecmp.cmp(ROOT / p, tmp_path / p, shallow=False)]
    assert not different, f"stale artifacts (run `node contracts/build.mjs`): {different}"


def test_escrow_artifact_has_the_contracts_interface():
    import json

    art = json.loads((ROOT / OUTPUTS[0]).read_text())
    names = {f["name"] for f in art["abi"] if f["type"] in ("function", "error", "event")}
    assert {"pullFee", "distribute", "refund", "feeRecords", "FeePulled", "FeeDistributed", "FeeRefunded",
            "AlreadyPulled", "NotOperator"} <= names
    assert art["compiler"].startswith("solc 0.8.30") and len(art["bytecode"]) > 1000
