"""Ebling and Trillian as real subprocesses, the way ``scripts/run`` starts them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _clean_environment(**overrides: str) -> dict[str, str]:
    # The developer's own EBLING_* and TRILLIAN_* settings must not leak into the test stack.
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("EBLING_", "TRILLIAN_"))
    }
    environment.update(overrides)
    return environment


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {url} within 60 s:\n{log.read_text()}")


@contextmanager
def running(
    command: list[str], *, env: dict[str, str], ready_url: str, log: Path
) -> Iterator[None]:
    """Run ``command`` until the block ends, once ``ready_url`` answers 200."""
    with log.open("wb") as output:
        # The commands are this workspace's own entry points, with arguments the tests chose.
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        _wait_until_up(process, ready_url, log, command[0])
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def ebling(home: Path, **settings: str) -> Iterator[str]:
    """``ebling serve`` on a fresh home; yields its URL."""
    port = free_port()
    env = _clean_environment(
        EBLING_HOME=str(home), **{f"EBLING_{k.upper()}": v for k, v in settings.items()}
    )
    url = f"http://127.0.0.1:{port}"
    command = [str(BIN / "ebling"), "serve", "--port", str(port)]
    with running(command, env=env, ready_url=f"{url}/readyz", log=home.parent / "ebling.log"):
        yield url


@contextmanager
def trillian(ebling_url: str, log: Path, **settings: str) -> Iterator[str]:
    """``trillian serve`` pointed at ``ebling_url``; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _clean_environment(
        TRILLIAN_EBLING_URL=ebling_url,
        TRILLIAN_PUBLIC_URL=url,
        **{f"TRILLIAN_{k.upper()}": v for k, v in settings.items()},
    )
    command = [str(BIN / "trillian"), "serve", "--port", str(port)]
    with running(command, env=env, ready_url=f"{url}/healthz", log=log):
        yield url
