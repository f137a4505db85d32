"""Run ASGI apps on loopback in background threads (the sandbox venues, the API) for `make run`,
tests and benchmarks."""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningServer:
    name: str
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def serve(app, name: str, port: int = 0, host: str = "127.0.0.1", log_level: str = "warning") -> RunningServer:
    """Start `app` on host:port (0 = any free port) and return once it accepts connections."""
    port = port or free_port()
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False, lifespan="off",
                            loop="uvloop", http="httptools", timeout_keep_alive=30)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"serve-{name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{name} failed to start on {host}:{port}")
        time.sleep(0.01)
    return RunningServer(name, f"http://{host}:{port}", server, thread)
