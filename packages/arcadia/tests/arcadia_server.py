"""A real Ebling for the tests, started by the workspace's ``ebling`` command in a subprocess.

Only the command is used, never Ebling's library: Arcadia talks to Ebling over HTTP, and
the tests hold it to that.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from arcadia.client import RetryPolicy

# Short waits, so that tests of failure take fractions of a second.
FAST_RETRIES = RetryPolicy(retries=2, backoff=0.05, max_delay=2.0)

# The command installed beside this interpreter, in the workspace's virtual environment.
EBLING_COMMAND = Path(sys.executable).with_name("ebling")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EblingServer:
    """``ebling serve`` on a free port of 127.0.0.1, with its data in ``home`` (SQLite)."""

    def __init__(
        self, home: Path, *, port: int | None = None, settings: dict[str, str] | None = None
    ) -> None:
        self.home = home
        self.port = port or free_port()
        self.settings = settings or {}
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_key(self) -> str:
        return (self.home / "admin-api-key").read_text().strip()

    def start(self, *, timeout: float = 90.0) -> None:
        # The developer's own EBLING_* settings must not point the test server elsewhere.
        environment = {k: v for k, v in os.environ.items() if not k.startswith("EBLING_")}
        environment |= {"EBLING_HOME": str(self.home), "EBLING_LOG_LEVEL": "WARNING"}
        environment |= self.settings
        self.home.mkdir(parents=True, exist_ok=True)
        log = (self.home / "server.log").open("ab")
        self._process = subprocess.Popen(  # noqa: S603 - a fixed command and our arguments
            [str(EBLING_COMMAND), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"ebling serve exited early:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"ebling serve was not ready within {timeout} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """End the server at once, as a crash or a power cut would."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=30)
        self._process = None

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._process = None

    def log_tail(self) -> str:
        path = self.home / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def create_key(self, *roles: str) -> str:
        """A new API key with ``roles``, made through the API with the admin key."""
        response = httpx.post(
            f"{self.url}/api/v1/api-keys",
            json={"name": f"test {'+'.join(roles)}", "roles": list(roles)},
            headers={"Authorization": f"Bearer {self.admin_key}"},
        )
        response.raise_for_status()
        return str(response.json()["key"])

    def run_events(self, run_id: object) -> list[dict[str, Any]]:
        """The raw events Ebling stored for a run, in the order it lists them."""
        response = httpx.get(
            f"{self.url}/api/v1/runs/{run_id}/events",
            params={"limit": 500},
            headers={"Authorization": f"Bearer {self.admin_key}"},
        )
        response.raise_for_status()
        return list(response.json()["items"])
