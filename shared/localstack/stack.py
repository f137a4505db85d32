"""The whole local stack in one process: embedded AWS, the sandbox venues, every Lambda function's
routes served by one uvicorn, and the template's schedules on timers. `make run` and the tests use
the same class, so what the tests prove is what a newcomer runs."""
from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from .aws import ROOT, EmbeddedAws, load_template, start_embedded_aws
from .servers import RunningServer, serve

log = logging.getLogger("pmrouter.localstack")

SANDBOX_OPINION_KEY = "sandbox-opinion-key"
SANDBOX_PREDICTFUN_KEY = "sandbox-predictfun-key"


@dataclass(frozen=True)
class SandboxSpec:
    name: str
    env: str  # the PMROUTER_*_URL variable the adapters read
    factory: str  # "module:function"
    path: str = ""  # suffix of the base URL (Kalshi's /trade-api/v2)
    kwargs: tuple[tuple[str, Any], ...] = ()


SANDBOXES: tuple[SandboxSpec, ...] = (
    SandboxSpec("polymarket-clob", "PMROUTER_POLYMARKET_CLOB_URL", "shared.sandbox.polymarket:create_clob_app"),
    SandboxSpec("polymarket-gamma", "PMROUTER_POLYMARKET_GAMMA_URL", "shared.sandbox.polymarket:create_gamma_app"),
    SandboxSpec("polymarket-data", "PMROUTER_POLYMARKET_DATA_URL", "shared.sandbox.polymarket:create_data_app"),
    SandboxSpec("kalshi", "PMROUTER_KALSHI_URL", "shared.sandbox.kalshi:create_app", "/trade-api/v2"),
    SandboxSpec("limitless", "PMROUTER_LIMITLESS_URL", "shared.sandbox.limitless:create_app"),
    SandboxSpec("opinion", "PMROUTER_OPINION_URL", "shared.sandbox.opinion:create_app",
                kwargs=(("api_key", SANDBOX_OPINION_KEY),)),
    SandboxSpec("predictfun", "PMROUTER_PREDICTFUN_URL", "shared.sandbox.predictfun:create_app",
                kwargs=(("api_key", SANDBOX_PREDICTFUN_KEY),)),
)

# Sandbox venues that also serve their WebSocket feed: installer ("module:function", returns extra
# environment for pmrouter's feed), the variable pmrouter's feed reads, and the path on that host.
SANDBOX_WS = {
    "polymarket-clob": ("shared.sandbox.polymarket_ws:install", "PMROUTER_POLYMARKET_WS_URL", "/ws"),
    "kalshi": ("shared.sandbox.kalshi_ws:install", "PMROUTER_KALSHI_WS_URL", "/trade-api/ws/v2"),
    "limitless": ("shared.sandbox.limitless_ws:install", "PMROUTER_LIMITLESS_WS_URL", ""),
    "opinion": ("shared.sandbox.opinion_ws:install", "PMROUTER_OPINION_WS_URL", "/ws"),
    "predictfun": ("shared.sandbox.predictfun_ws:install", "PMROUTER_PREDICTFUN_WS_URL", "/ws"),
}

FUNCTIONS_DIR = ROOT / "functions"


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py the way Lambda does (its own module), under a unique name."""
    path = FUNCTIONS_DIR / name / "app.py"
    mod_name = f"pmrouter_fn_{name}"
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    spec = importlib.util.spec_from_file_location(mod_name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    spec.loader.exec_module(module)
    return module


def function_names() -> list[str]:
    return sorted(p.parent.name for p in FUNCTIONS_DIR.glob("*/app.py"))


def _factory(path: str) -> Callable[..., Any]:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def schedules(template: dict[str, Any]) -> dict[str, float]:
    """Function directory name -> period in seconds, from each function's Schedule event."""
    params = template.get("Parameters", {})
    out: dict[str, float] = {}
    for res in template["Resources"].values():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        for event in res["Properties"].get("Events", {}).values():
            if event.get("Type") != "Schedule":
                continue
            expr = event["Properties"]["Schedule"]
            if isinstance(expr, dict) and expr.get("Fn") == "Ref":
                expr = params[expr["Args"]]["Default"]
            m = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", str(expr))
            if not m:
                continue
            unit = {"minute": 60, "hour": 3600, "day": 86400}[m.group(2).rstrip("s")]
            out[Path(res["Properties"]["CodeUri"]).name] = int(m.group(1)) * unit
    return out


@dataclass
class LocalStack:
    api_port: int = 0
    sandbox_base_port: int = 0  # 0 = free ports
    dev_api_key: str | None = None
    run_schedules: bool = True
    # The local EVM always runs; True selects the ledgers that move no money for escrow, CTF and wallet
    # balances instead (PMROUTER_SANDBOX_CHAIN=1), for suites written against those ledgers.
    sandbox_chain: bool = False
    chain: Any = None  # shared.localstack.chain.LocalChain
    schedule_seconds: float | None = None  # override every schedule's period (tests, demos)
    aws: EmbeddedAws | None = None
    servers: list[RunningServer] = field(default_factory=list)
    api: RunningServer | None = None
    api_key: str = ""
    customer_id: str = ""
    urls: dict[str, str] = field(default_factory=dict)
    apps: dict[str, Any] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _timers: list[threading.Thread] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.api is not None
        return self.api.url

    def start(self) -> "LocalStack":
        self._saved_env = dict(os.environ)
        os.environ.setdefault("PMROUTER_LOG_LEVEL", "WARNING")
        os.environ["PMROUTER_LOAD_PLATFORM_SECRETS"] = "1"
        self.chain = self._start_chain()
        self.aws = start_embedded_aws(platform={"opinion_api_key": SANDBOX_OPINION_KEY,
                                                "predictfun_api_key": SANDBOX_PREDICTFUN_KEY,
                                                **self.chain.platform_secrets()})
        for var in ("PMROUTER_OPINION_API_KEY", "PMROUTER_PREDICTFUN_API_KEY"):
            os.environ.pop(var, None)  # the platform secret is the source, as deployed
        self._start_sandboxes()
        self._reset_pmrouter()
        self._start_faucet()  # before the demo account: its wallet is funded like every other
        self._seed_demo_account()
        modules = {name: load_function(name) for name in function_names()}
        if "catalog_sync" in modules:
            modules["catalog_sync"].handler({"source": "pmrouter.localstack", "detail-type": "Scheduled Event"}, None)
        self._start_api(modules)
        if self.run_schedules:
            self._start_timers(modules)
        return self

    # --- pieces -----------------------------------------------------------------------------------

    def _start_sandboxes(self) -> None:
        from shared.sandbox.universe import current_universe

        universe = current_universe()
        for i, spec in enumerate(SANDBOXES):
            preset = os.environ.get(spec.env)
            if preset:
                self.urls[spec.name] = preset  # talk to whatever server the operator named
                continue
            app = _factory(spec.factory)(universe, **dict(spec.kwargs))
            self.apps[spec.name] = app
            ws = SANDBOX_WS.get(spec.name)
            ws = ws if ws and not os.environ.get(ws[1]) else None
            ws_env = _factory(ws[0])(getattr(app, "app", app)) if ws else {}
            port = self.sandbox_base_port + i if self.sandbox_base_port else 0
            server = serve(app, spec.name, port)
            self.servers.append(server)
            if ws:
                os.environ.update(ws_env, **{ws[1]: server.url.replace("http://", "ws://") + ws[2]})
            os.environ[spec.env] = server.url + spec.path
            self.urls[spec.name] = server.url + spec.path

    def _start_chain(self):
        """anvil with the token, ConditionalTokens and the fee escrow deployed (its settlement key goes
        into the platform secret, as an operator's does)."""
        from .chain import LocalChain

        chain = LocalChain().start()
        os.environ.update(chain.env())
        if self.sandbox_chain:
            os.environ["PMROUTER_SANDBOX_CHAIN"] = "1"
        else:
            os.environ.pop("PMROUTER_SANDBOX_CHAIN", None)
        return chain

    def _start_faucet(self) -> None:
        """Every Polymarket wallet pmrouter stores from now on (managed or onboarded) gets the local
        faucet's share when it is stored, as the sandbox CLOB funds a wallet on first sight, so the
        builder flow with fee escrow works on `make run` without manual funding."""
        from pmrouter.auth import credentials as credstore

        original = credstore.store
        chain = self.chain

        def store_and_fund(customer_id, exchange, creds, *, mode, address=None, **kw):
            original(customer_id, exchange, creds, mode=mode, address=address, **kw)
            if exchange == "polymarket" and address:
                chain.faucet(address)

        credstore.store = store_and_fund
        self._unpatch = lambda: setattr(credstore, "store", original)

    def _reset_pmrouter(self) -> None:
        from pmrouter import bootstrap as boot
        from pmrouter.auth import apikeys, platform_secrets
        from pmrouter.exchanges import registry
        from pmrouter.settings import reload_settings
        from pmrouter.store import dynamo

        dynamo.reset()
        platform_secrets.reset()
        apikeys.clear_cache()
        boot._done = False
        reload_settings()  # settings cached by an earlier test may name another platform secret
        boot.load_platform_env()
        reload_settings()
        registry.reset()
        try:
            from pmrouter.catalog import loader
            loader.reset()
        except ImportError:  # pragma: no cover - catalog not present
            pass

    def _seed_demo_account(self) -> None:
        from pmrouter.auth.apikeys import new_api_key, store_key
        from pmrouter.store.accounts import create_account

        account = create_account("builder", "scale", name="demo")
        self.customer_id = account["customer_id"]
        self.api_key = self.dev_api_key or new_api_key()
        store_key(self.api_key, self.customer_id, "builder", "scale")
        self._onboard_demo()

    def _onboard_demo(self) -> None:
        """Link the demo account to the trading venues, the way a user would (POST /onboard, self
        mode), with fresh keys: a Polygon EOA for Polymarket (the sandbox faucet funds it on first
        L1 auth), an RSA key registered with the sandbox Kalshi, a Base EOA with an API token
        for Limitless, an apikey and Safe for Opinion and a BNB Chain EOA for Predict.fun (funded on
        first sight)."""
        import asyncio

        from eth_account import Account

        from pmrouter.contract.trading import OnboardRequest
        from pmrouter.routes.account import onboard_self

        requests = []
        if "polymarket-clob" in self.apps:
            requests.append(OnboardRequest(exchange="polymarket", mode="self",
                                               private_key="0x" + bytes(Account.create().key).hex()))
        kalshi = self.apps.get("kalshi")
        if kalshi is not None:
            from shared.sandbox.kalshi_ws import register_new_key

            key_id, pem = register_new_key(kalshi.state.world)
            requests.append(OnboardRequest(exchange="kalshi", mode="self", api_key_id=key_id, private_key=pem))
        limitless = self.apps.get("limitless")
        if limitless is not None:  # an HMAC API token the sandbox issues, as the venue's site does
            wallet = Account.create()
            token_id, secret = limitless.state.world.trading.issue_token(wallet.address)
            requests.append(OnboardRequest(exchange="limitless", mode="self", private_key="0x" + bytes(wallet.key).hex(),
                                           clob_api_key=token_id, clob_api_secret=secret))
        opinion = self.apps.get("opinion")
        if opinion is not None:  # an Open API apikey for a BNB Chain EOA and its Safe, issued by the sandbox
            wallet = Account.create()
            acct = opinion.state.world.trading.issue_account(wallet.address)
            requests.append(OnboardRequest(exchange="opinion", mode="self", private_key="0x" + bytes(wallet.key).hex(),
                                           clob_api_key=acct.apikey))
        if "predictfun" in self.apps:  # a BNB Chain EOA; pmrouter's platform x-api-key, the wallet's login JWT
            requests.append(OnboardRequest(exchange="predictfun", mode="self",
                                           private_key="0x" + bytes(Account.create().key).hex()))

        async def run() -> None:
            for req in requests:
                await onboard_self(self.customer_id, req)

        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(run())
        finally:
            loop.close()

    def _start_api(self, modules: dict[str, ModuleType]) -> None:
        from pmrouter.api.app import create_app

        from pmrouter.stream import asgi as stream_asgi

        routers = [r for m in modules.values() for r in getattr(m, "ROUTERS", [])]
        stream_asgi.reset_hub()  # the WebSocket's live books belong to this stack's event loop
        roots = [r for m in modules.values() for r in getattr(m, "ROOT_ROUTERS", [])]  # /mcp
        app = create_app(routers, title="pmrouter (local)", root_routers=[stream_asgi.router, *roots])
        self.api = serve(app, "api", self.api_port)

    def _start_timers(self, modules: dict[str, ModuleType]) -> None:
        for name, period in schedules(load_template()).items():
            module = modules.get(name)
            if module is None:
                continue
            every = self.schedule_seconds or period

            def loop(module=module, every=every, name=name) -> None:
                while not self._stop.wait(every):
                    try:
                        module.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, None)
                    except Exception:  # keep the timer alive; the function logs its own failure
                        log.exception("scheduled %s failed", name)

            t = threading.Thread(target=loop, name=f"schedule-{name}", daemon=True)
            t.start()
            self._timers.append(t)

    def stop(self) -> None:
        self._stop.set()
        if self.api:
            self.api.stop()
        for s in self.servers:
            s.stop()
        if self.aws:
            self.aws.stop()
        if self.chain:
            self.chain.stop()
        if getattr(self, "_unpatch", None):
            self._unpatch()
        saved = getattr(self, "_saved_env", None)
        if saved is not None:  # leave the process as we found it (tests may start another stack)
            os.environ.clear()
            os.environ.update(saved)
