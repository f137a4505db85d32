"""Chain figures on the local EVM (anvil, instant blocks), so they measure pmrouter's own cost around a
transaction: estimate, fees, the journaled nonce claim (DynamoDB transaction, moto in process), sign,
broadcast and receipt. Prints p50/p99 of a fee pull and of a settlement through the escrow contract,
a replayed intent (journal read, nothing sent), the local chain's start-up with its three deployments,
and web3's import time (paid once per cold start by functions that touch the chain)."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]

from bench.machine import reference_ms  # noqa: E402

N = int(os.environ.get("BENCH_N", "60"))


def pct(xs: list[float], q: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(q * len(xs)))]


def web3_import_ms() -> float:
    code = "import time; t=time.perf_counter(); import web3; print((time.perf_counter()-t)*1000)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout) for _ in range(5)]
    return statistics.median(runs)


def main() -> None:
    os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from eth_account import Account
    from eth_account.messages import encode_typed_data
    from moto import mock_aws

    from pmrouter.chain import keys
    from pmrouter.escrow import authorization
    from pmrouter.escrow import chain as escrow_chain
    from pmrouter.escrow.config import EscrowConfig
    from pmrouter.settings import reload_settings
    from shared.localstack.aws import create_tables, load_template
    from shared.localstack.chain import LocalChain

    t = time.perf_counter()
    chain = LocalChain().start()
    startup = (time.perf_counter() - t) * 1000
    try:
        with mock_aws():
            os.environ.update(create_tables(load_template(), prefix="bench"))
            os.environ.update(chain.env())
            reload_settings()
            keys.settlement_account = lambda: chain.settlement
            esc = escrow_chain.chain()
            payer = Account.create()
            chain.fund(payer.address, usdc=10**12)
            chain.approve(payer, chain.escrow)
            cfg = EscrowConfig(contract=chain.escrow, treasury=chain.treasury, min_fee_usdc=0, min_fee_bps=0)
            pulls, settles, replays = [], [], []
            for _ in range(N):
                oid, deadline = "0x" + os.urandom(32).hex(), int(time.time()) + 600
                typed = authorization.typed_data(cfg, oid, payer.address, 100_000, deadline)
                sig = "0x" + bytes(payer.sign_message(encode_typed_data(full_message=typed)).signature).hex()
                t = time.perf_counter()
                esc.pull_fee(oid, payer.address, 100_000, deadline, sig)
                pulls.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                esc.pull_fee(oid, payer.address, 100_000, deadline, sig)
                replays.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                esc.distribute(oid, chain.treasury, 15_000, 85_000, 0)
                settles.append((time.perf_counter() - t) * 1000)
    finally:
        chain.stop()
    print(f"machine reference workload: {reference_ms()} ms")
    print(f"local chain start + 3 deployments: {startup:.0f} ms")
    for name, xs in (("fee pull (pullFee, journaled)", pulls), ("settlement (distribute, journaled)", settles),
                     ("replayed pull (journal read, nothing sent)", replays)):
        print(f"{name:<44} p50 {statistics.median(xs):6.1f} ms   p99 {pct(xs, 0.99):6.1f} ms   (n={len(xs)})")
    print(f"web3 import (cold start, median of 5): {web3_import_ms():.0f} ms")


if __name__ == "__main__":
    main()
