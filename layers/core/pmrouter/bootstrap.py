"""Cold-start setup shared by every function: logging, and (deployed) venue API keys from the
platform secret into the environment before the venues' configs are read. The convention needs no
list of venues here: the platform secret's `<venue>_api_key` becomes `PMROUTER_<VENUE>_API_KEY`,
the variable `exchanges/<venue>/config.py` reads."""
from __future__ import annotations

import json
import logging
import os
import sys
import time

_done = False


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with whatever `extra=` fields the call passed (request id, route...)."""

    _skip = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": round(record.created, 3), "level": record.levelname, "logger": record.name,
               "msg": record.getMessage()}
        out.update({k: v for k, v in record.__dict__.items() if k not in self._skip})
        if record.exc_info and record.exc_info[0] is not None:
            out["exception"] = record.exc_info[0].__name__
        return json.dumps(out, default=str)


def configure_logging(level: str | None = None) -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(level or os.environ.get("PMROUTER_LOG_LEVEL", "INFO"))


def load_platform_env() -> None:
    """Copy venue API keys from the platform secret into the environment (only those not set)."""
    if os.environ.get("PMROUTER_LOAD_PLATFORM_SECRETS") != "1":
        return
    from .auth.platform_secrets import platform_secrets
    from .settings import reload_settings

    for name, value in platform_secrets().items():
        env = f"PMROUTER_{name.upper()}"
        if name.endswith("_api_key") and name[:-8].isalnum() and value and not os.environ.get(env):
            os.environ[env] = value
    reload_settings()


def bootstrap() -> None:
    global _done
    if _done:
        return
    started = time.perf_counter()
    configure_logging()
    load_platform_env()
    _done = True
    logging.getLogger("pmrouter.bootstrap").debug("bootstrap", extra={"ms": round((time.perf_counter() - started) * 1000, 1)})
