"""Compiled contracts shipped with the layer (built by contracts/build.mjs, checked by a test that
recompiles them) and the interfaces of the contracts Polymarket runs."""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_DIR = Path(__file__).resolve().parent / "artifacts"


@functools.lru_cache(maxsize=None)
def load(name: str) -> dict[str, Any]:
    """`ParsecFeeEscrow` -> {abi, bytecode}; interfaces (`ConditionalTokens`, `NegRiskAdapter`, `ERC20`)
    -> {abi}."""
    path = _DIR / f"{name}.json"
    if path.exists():
        return json.loads(path.read_text())
    return {"abi": json.loads((_DIR / f"{name}.abi.json").read_text())}


def abi(name: str) -> list[dict[str, Any]]:
    return load(name)["abi"]
