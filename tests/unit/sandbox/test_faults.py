"""The fault injector: each mode does what the trading tests rely on."""
from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from shared.localstack.servers import serve
from shared.sandbox.faults import with_faults


@pytest.fixture(scope="module")
def server():
    app = FastAPI()
    app.state.hits = 0

    @app.post("/order")
    def order():
        app.state.hits += 1
        return {"ok": True, "n": app.state.hits}

    s = serve(with_faults(app), "faulty")
    yield s, app
    s.stop()


def test_modes(server):
    s, app = server
    with httpx.Client(base_url=s.url, timeout=5) as c:
        c.post("/_sandbox/faults", json={"path": "/order", "mode": "error", "status": 502})
        assert c.post("/order").status_code == 502
        assert app.state.hits == 0  # an error fault never reaches the venue
        assert c.post("/order").json()["n"] == 1  # count=1: the next call is normal
        c.post("/_sandbox/faults", json={"path": "/order", "mode": "rate_limit"})
        assert c.post("/order").status_code == 429
        c.post("/_sandbox/faults", json={"path": "/order", "mode": "drop_after"})
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("/order")
    assert app.state.hits == 2  # the dropped request was processed
    with httpx.Client(base_url=s.url, timeout=5) as c:
        assert c.post("/order").json()["n"] == 3
        c.post("/_sandbox/faults", json={"path": "/order", "mode": "error", "count": -1})
        assert c.post("/order").status_code == 503 and c.post("/order").status_code == 503
        c.delete("/_sandbox/faults")
        assert c.post("/order").status_code == 200
