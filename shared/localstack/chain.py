"""A real local EVM for `make run` and the tests: anvil (from the npm package that the Makefile installs
into contracts/node_modules) with Polygon's chain id, a USDC-like token, Gnosis' ConditionalTokens
(the contract Polymarket runs, from its published build artifact) and the fee escrow deployed by the
same code the operator CLI uses. `fund` is the local faucet."""
from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from .aws import ROOT
from .servers import free_port

CONTRACTS = ROOT / "contracts"
CHAIN_ID = 137  # the escrow's EIP-712 domain uses the chain id: keep Polygon's so signatures carry over


def anvil_binary() -> Path:
    """The native binary inside the npm package (the package's own launcher is a node wrapper that
    would outlive a terminate)."""
    override = os.environ.get("PMROUTER_ANVIL")
    if override:
        return Path(override)
    found = sorted((CONTRACTS / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil"))
    if not found:
        raise RuntimeError("anvil is not installed: run `make install` (npm ci in contracts/)")
    return found[0]


def _die_with_parent() -> None:
    """In the child before exec: the node goes when the process that started it goes, even killed, so
    an interrupted test run leaves no anvil behind (Linux; elsewhere stop() is the only way)."""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _artifact(name: str) -> dict:
    return json.loads((CONTRACTS / "build" / f"{name}.json").read_text())


def _rpc(url: str, method: str, params: list) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, body, {"content-type": "application/json"})
    out = json.loads(urllib.request.urlopen(req, timeout=5).read())
    if "error" in out:
        raise RuntimeError(f"{method}: {out['error']}")
    return out["result"]


@dataclass
class LocalChain:
    port: int = 0
    url: str = ""
    proc: subprocess.Popen | None = None
    minter: LocalAccount = field(default_factory=Account.create)
    settlement: LocalAccount = field(default_factory=Account.create)
    treasury: str = field(default_factory=lambda: Account.create().address)
    usdc: str = ""
    ctf: str = ""
    escrow: str = ""

    def start(self) -> "LocalChain":
        self.port = self.port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([str(anvil_binary()), "--host", "127.0.0.1", "--port", str(self.port),
                                      "--chain-id", str(CHAIN_ID), "--silent"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 20
        while True:
            try:
                _rpc(self.url, "eth_chainId", [])
                break
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("anvil did not start") from None
                time.sleep(0.05)
        self._deploy()
        return self

    def _deploy(self) -> None:
        from pmrouter.chain.deploy import deploy, deploy_escrow

        for account in (self.minter, self.settlement):
            self.set_gas(account.address)
        self.usdc = deploy(self.url, CHAIN_ID, self.minter, _artifact("LocalUSDC"))
        self.ctf = deploy(self.url, CHAIN_ID, self.minter, _artifact("ConditionalTokens"))
        self.escrow = deploy_escrow(self.url, CHAIN_ID, self.settlement, usdc=self.usdc, treasury=self.treasury)

    def env(self) -> dict[str, str]:
        """What the functions read to find this chain (deployed: the template's parameters)."""
        return {"PMROUTER_CHAIN_RPC_URL": self.url, "PMROUTER_CHAIN_ID": str(CHAIN_ID),
                "PMROUTER_CHAIN_COLLATERAL": self.usdc, "PMROUTER_CTF_CONTRACT": self.ctf,
                "PMROUTER_ESCROW_CONTRACT": self.escrow, "PMROUTER_ESCROW_TREASURY": self.treasury,
                "PMROUTER_CHAIN_LOGS_FROM_BLOCK": "0",  # a fresh chain: positions are found from its first block
                # No neg-risk adapter on the local chain: neg-risk CTF calls answer 501 here.
                "PMROUTER_NEG_RISK_ADAPTER": "none"}

    def platform_secrets(self) -> dict[str, str]:
        return {"chain_settlement_key": "0x" + bytes(self.settlement.key).hex()}

    # --- faucet and reads (tests, demo wallets) ---------------------------------------------------

    def set_gas(self, address: str, wei: int = 10**20) -> None:
        _rpc(self.url, "anvil_setBalance", [address, hex(wei)])

    def fund(self, address: str, usdc: int = 0, gas: bool = True) -> None:
        """Give `address` gas and `usdc` base units of the local token."""
        if gas:
            self.set_gas(address)
        if usdc:
            self._send(self.minter, self.usdc, "mint", [address, usdc], _artifact("LocalUSDC")["abi"])

    def faucet(self, address: str, usdc: int = 10_000 * 10**6) -> None:
        """What a new wallet gets on the local chain, as the sandbox CLOB's faucet gives pUSD: gas,
        `usdc`, and the allowances a Polymarket wallet sets up once (the fee escrow and ConditionalTokens
        may spend its USDC). The approvals are sent as the wallet through anvil's impersonation: only a
        local node allows that; on a real chain the wallet's owner signs them."""
        self.fund(address, usdc=usdc)
        _rpc(self.url, "anvil_impersonateAccount", [address])
        try:
            for spender in (self.escrow, self.ctf):
                data = "0x095ea7b3" + spender[2:].lower().rjust(64, "0") + "f" * 64  # approve(spender, max)
                tx = _rpc(self.url, "eth_sendTransaction", [{"from": address, "to": self.usdc, "data": data}])
                if int(self._w3().eth.wait_for_transaction_receipt(tx, timeout=30, poll_latency=0.02)["status"]) != 1:
                    raise RuntimeError(f"faucet approval for {spender} reverted")
        finally:
            _rpc(self.url, "anvil_stopImpersonatingAccount", [address])

    # --- ConditionalTokens conditions (the local minter stands in for Polymarket's UMA oracle adapter) --

    def _ctf(self):
        return self._w3().eth.contract(address=self.ctf, abi=_artifact("ConditionalTokens")["abi"])

    def prepare_condition(self) -> tuple[str, bytes]:
        """A new binary condition: (condition id, question id)."""
        question = os.urandom(32)
        self._send(self.minter, self.ctf, "prepareCondition", [self.minter.address, question, 2],
                   _artifact("ConditionalTokens")["abi"])
        cid = self._ctf().functions.getConditionId(self.minter.address, question, 2).call()
        return "0x" + bytes(cid).hex(), question

    def resolve(self, question: bytes, payouts: list[int]) -> None:
        self._send(self.minter, self.ctf, "reportPayouts", [question, payouts], _artifact("ConditionalTokens")["abi"])

    def positions(self, owner: str, condition_id: str) -> list[int]:
        """`owner`'s YES and NO position balances of a binary condition on the local collateral."""
        ctf, cid = self._ctf(), bytes.fromhex(condition_id[2:])
        out = []
        for index_set in (1, 2):
            collection = ctf.functions.getCollectionId(b"\x00" * 32, cid, index_set).call()
            out.append(ctf.functions.balanceOf(owner, ctf.functions.getPositionId(self.usdc, collection).call()).call())
        return out

    def usdc_balance(self, address: str) -> int:
        return self._token().functions.balanceOf(address).call()

    def approve(self, owner: LocalAccount, spender: str, amount: int = 2**256 - 1) -> None:
        self._send(owner, self.usdc, "approve", [spender, amount], _artifact("LocalUSDC")["abi"])

    def _w3(self):
        from pmrouter.chain.client import web3_for

        return web3_for(self.url)

    def _token(self):
        return self._w3().eth.contract(address=self.usdc, abi=_artifact("LocalUSDC")["abi"])

    def _send(self, account: LocalAccount, to: str, fn: str, args: list, abi: list) -> dict:
        from pmrouter.chain.client import web3_for

        w3 = web3_for(self.url)
        tx = getattr(w3.eth.contract(address=to, abi=abi).functions, fn)(*args).build_transaction({
            "from": account.address, "chainId": CHAIN_ID,
            "nonce": w3.eth.get_transaction_count(account.address, "pending")})
        receipt = w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction), timeout=30, poll_latency=0.02)
        if int(receipt["status"]) != 1:
            raise RuntimeError(f"{fn} reverted")
        return receipt

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
