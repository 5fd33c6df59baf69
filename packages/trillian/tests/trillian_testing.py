"""What Trillian's tests share besides fixtures: the live stack's handle, Chromium, paths.

Kept out of ``conftest.py`` so tests can import it by a name no other package's tests use.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from trillian_seed import Seeded

IN_CI = os.environ.get("CI") == "true"
CHROMIUM = os.environ.get("TRILLIAN_TEST_CHROMIUM", "chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def chromium_or_skip() -> str:
    """The Chromium executable, or a skip (a failure in CI) when there is none."""
    found = shutil.which(CHROMIUM)
    if found:
        return found
    if IN_CI:
        pytest.fail(f"Chromium ({CHROMIUM}) is not installed; CI must run the browser tests")
    pytest.skip(f"Chromium ({CHROMIUM}) is not installed (scripts/test installs it)")


@dataclass(frozen=True)
class Stack:
    """The running Ebling and what the tests need to use it."""

    ebling_url: str
    home: Path
    admin_key: str
    admin_password: str
    seeded: Seeded

    def api(self, method: str, path: str, **options: Any) -> httpx.Response:
        """Call Ebling as the bootstrap admin."""
        headers = {"Authorization": f"Bearer {self.admin_key}"}
        return httpx.request(
            method, f"{self.ebling_url}/api/v1{path}", headers=headers, timeout=30, **options
        )

    def create_key(self, *roles: str) -> dict[str, Any]:
        """A fresh API key with ``roles``, as Ebling answered its creation."""
        answer = self.api("POST", "/api-keys", json={"name": "+".join(roles), "roles": list(roles)})
        answer.raise_for_status()
        created: dict[str, Any] = answer.json()
        return created

    def new_key(self, *roles: str) -> str:
        """The secret of a fresh API key with ``roles``."""
        return str(self.create_key(*roles)["key"])
