"""Fixtures: a real Ebling over HTTP, and clients for it.

One Ebling serves the whole session (it takes seconds to start); tests keep out of each
other's way with fresh run ids and report names. Tests that stop or reconfigure Ebling
start their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from arcadia.client import EblingClient
from arcadia_server import FAST_RETRIES, EblingServer


@pytest.fixture(scope="session")
def ebling(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EblingServer]:
    """Ebling for the whole session, on SQLite."""
    server = EblingServer(tmp_path_factory.mktemp("ebling-home"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_ebling(tmp_path: Path) -> Iterator[EblingServer]:
    """An Ebling for one test, which the test may kill and start again (not yet started)."""
    server = EblingServer(tmp_path / "ebling-home")
    yield server
    server.stop()


@pytest.fixture
def client(ebling: EblingServer) -> Iterator[EblingClient]:
    """A client with the admin key."""
    with EblingClient(ebling.url, api_key=ebling.admin_key, retries=FAST_RETRIES) as client:
        yield client


@pytest.fixture
def report_name() -> str:
    """A report name no other test uses."""
    return f"arcadia-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def namespace() -> str:
    """An orchestrator namespace no other test uses."""
    return f"airflow://arcadia-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio, which the orchestrators use."""
    return "asyncio"
