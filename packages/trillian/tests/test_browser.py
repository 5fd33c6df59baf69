"""End to end in Chromium: a real ``trillian serve`` on a real ``ebling serve``.

The tests also write the screenshots in docs/screenshots/.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from trillian_seed import finish_running_run, start_running_run
from trillian_testing import SCREENSHOTS, Stack

pytestmark = pytest.mark.timeout(180)


def sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{base}/")


def sign_in_with_key(page: Any, base: str, key: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_text("Sign in with an API key").click()
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in with the key").click()
    page.wait_for_url(f"{base}/")


def shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)  # let charts finish their first frame
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def no_policy_violations(page: Any) -> None:
    violations = [e for e in page.console_errors if "Content Security Policy" in e]
    assert not violations, violations


def test_find_a_failed_run_and_read_its_timeline(
    page: Any, trillian_url: str, stack: Stack
) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    sign_in(page, trillian_url, "admin", stack.admin_password)
    expect(page.locator("#runs-today")).to_be_visible()
    expect(page.locator("[data-chart=states] canvas")).to_have_count(1)
    shoot(page, "overview")

    page.get_by_role("link", name="Workflows").click()
    page.get_by_label("Search").fill("sales")
    # HTMX narrows the list as one types, without a page load.
    expect(page.locator("table.workflows tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=sales"))
    page.get_by_label("Search").fill("")
    expect(page.locator("table.workflows tbody tr")).to_have_count(4)
    shoot(page, "workflows")

    page.get_by_role("link", name="nightly_sales_etl").click()
    expect(page.get_by_role("heading", name="nightly_sales_etl")).to_be_visible()
    expect(page.locator(".run-grid tbody tr")).to_have_count(3)
    shoot(page, "workflow")

    page.locator(".run-grid thead a.state-failed").click()
    expect(page).to_have_url(f"{trillian_url}/runs/{stack.seeded.failed_run_id}")
    expect(page.locator(".gantt-row")).to_have_count(3)
    expect(page.locator(".gantt-row").nth(2)).to_contain_text("load")
    expect(page.locator(".error-block")).to_contain_text("ValueError: the warehouse refused")
    shoot(page, "run")

    first_event = page.locator("details.event").first
    first_event.locator("summary").click()
    expect(first_event.locator("pre")).to_contain_text('"eventType": "START"')
    no_policy_violations(page)


def test_times_are_shown_in_the_viewers_zone(page: Any, trillian_url: str, stack: Stack) -> None:
    sign_in(page, trillian_url, "admin", stack.admin_password)
    page.goto(f"{trillian_url}/runs/{stack.seeded.failed_run_id}")
    started = page.locator("dl.facts time").first
    utc = datetime.fromisoformat(started.get_attribute("datetime").replace("Z", "+00:00"))
    local = utc.astimezone(ZoneInfo("America/New_York"))
    hour = local.strftime("%I:%M %p").lstrip("0")
    assert hour in started.inner_text()
    assert "UTC" in started.get_attribute("title")


def test_filter_a_report_chart_it_and_download_it(
    page: Any, trillian_url: str, stack: Stack
) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    sign_in(page, trillian_url, "admin", stack.admin_password)
    page.get_by_role("link", name="Reports").click()
    page.get_by_role("link", name="sensor_readings").click()
    expect(page.locator("[data-chart=report] canvas")).to_have_count(1)

    page.get_by_label("Column").select_option("sensor")
    page.get_by_label("Condition").select_option("eq")
    page.get_by_label("Value").fill("s-2")
    page.get_by_role("button", name="Add filter").click()
    rows = page.locator("#report-rows tbody tr")
    expect(rows).to_have_count(48)
    expect(page.locator("#report-rows tbody td:first-child")).to_have_text(["s-2"] * 48)

    page.get_by_role("link", name="temperature").click()  # sort ascending
    page.get_by_role("link", name="temperature ▲").click()  # then descending
    temperatures = [
        float(t) for t in page.locator("#report-rows tbody td:nth-child(3)").all_inner_texts()
    ]
    assert temperatures == sorted(temperatures, reverse=True)
    shoot(page, "report")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == "sensor_readings.csv"
    rows_downloaded = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert len(rows_downloaded) == 48
    assert {row["sensor"] for row in rows_downloaded} == {"s-2"}

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download Parquet").click()
    assert Path(download_info.value.path()).read_bytes()[:4] == b"PAR1"
    no_policy_violations(page)


def test_a_running_run_updates_by_itself(page: Any, trillian_url: str, stack: Stack) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    sign_in(page, trillian_url, "admin", stack.admin_password)
    namespace = stack.seeded.running_namespace
    run_id = start_running_run(stack.ebling_url, stack.admin_key, namespace)
    page.goto(f"{trillian_url}/runs/{run_id}")
    expect(page.locator("#run-state")).to_contain_text("Running")
    finish_running_run(stack.ebling_url, stack.admin_key, namespace, run_id)
    # No reload: the page polls while the run is active, then stops.
    expect(page.locator("#run-state")).to_contain_text("Completed", timeout=15_000)
    expect(page.locator("#run-live")).not_to_have_attribute("hx-trigger", "every 3s")


def test_an_admin_creates_a_key_sees_it_once_and_revokes_it(
    page: Any, trillian_url: str, stack: Stack
) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    sign_in(page, trillian_url, "admin", stack.admin_password)
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("browser-made")
    page.get_by_label("viewer").check()
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-key").inner_text()
    assert secret.startswith("ebl_")
    shoot(page, "api-keys")

    page.reload()
    expect(page.locator("#new-key")).to_have_count(0)  # shown once
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke browser-made").click()
    row = page.locator("#api-keys tr", has_text="browser-made")
    expect(row).to_contain_text("Revoked")
    me = httpx.get(f"{stack.ebling_url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 401

    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("#audit tbody tr").first).to_be_visible()
    expect(page.locator("#audit")).to_contain_text("/api/v1/api-keys")
    shoot(page, "audit")
    no_policy_violations(page)


def test_a_viewer_is_not_offered_the_admin_pages(
    page: Any, trillian_url: str, stack: Stack
) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    sign_in_with_key(page, trillian_url, stack.new_key("viewer"))
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Workflows")).to_be_visible()
    expect(navigation.get_by_role("link", name="API keys")).to_have_count(0)
    expect(navigation.get_by_role("link", name="Audit log")).to_have_count(0)
    answer = page.goto(f"{trillian_url}/admin/api-keys")
    assert answer.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def test_the_keyboard_reaches_the_content_first(page: Any, trillian_url: str, stack: Stack) -> None:
    sign_in(page, trillian_url, "admin", stack.admin_password)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_a_wrong_password_is_explained_on_the_form(page: Any, trillian_url: str) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    page.goto(f"{trillian_url}/login")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#login-error")).to_have_text("Wrong username or password.")
    shoot(page, "login")


@pytest.mark.parametrize("width", [1024, 1920])
def test_pages_fit_a_laptop_and_a_wide_screen(
    page: Any, trillian_url: str, stack: Stack, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, trillian_url, "admin", stack.admin_password)
    for path in ("/", "/workflows", f"/runs/{stack.seeded.failed_run_id}", "/admin/audit"):
        page.goto(f"{trillian_url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow} px wider than a {width} px window"
