"""A live stack for Trillian's tests: a real ``ebling serve`` with seeded runs, and Chromium.

Chromium comes from the system's packages (``chromium`` on the PATH, which ``scripts/test``
installs, or ``TRILLIAN_TEST_CHROMIUM``); without it the browser tests skip, except in CI,
where they fail. Playwright's own browser downloads are not used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from trillian.app import create_app
from trillian.settings import Settings
from trillian_seed import seed
from trillian_stack import ebling, trillian
from trillian_testing import Stack, chromium_or_skip


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Ebling on a fresh home, with the seeded runs, report and artifact."""
    home = tmp_path_factory.mktemp("ebling") / "home"
    with ebling(home, auth="simple") as url:
        admin_key = (home / "admin-api-key").read_text().strip()
        password_file = home / "admin-password"
        yield Stack(
            ebling_url=url,
            home=home,
            admin_key=admin_key,
            admin_password=password_file.read_text().strip(),
            seeded=seed(url, admin_key),
        )


@pytest.fixture
def client(stack: Stack) -> Iterator[TestClient]:
    """Trillian in process, on the live Ebling."""
    app = create_app(Settings(ebling_url=stack.ebling_url, public_url="http://testserver"))
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="session")
def trillian_url(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``trillian serve`` as a subprocess, on the live Ebling."""
    log = tmp_path_factory.mktemp("trillian") / "trillian.log"
    with trillian(stack.ebling_url, log, session_secret="test-session-secret") as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Chromium, headless."""
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser tab in New York time, at a laptop's size, that records CSP errors."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        locale="en-US",
        timezone_id="America/New_York",
        accept_downloads=True,
    )
    page = context.new_page()
    page.console_errors = []
    page.on(
        "console",
        lambda message: (
            page.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    yield page
    context.close()
