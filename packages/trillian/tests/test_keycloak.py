"""Single sign-on through the real Keycloak: password and TOTP, refresh, and signing out.

Keycloak comes from ``EBLING_TEST_KEYCLOAK_URL`` with its master realm's admin in
``EBLING_TEST_KEYCLOAK_ADMIN_USERNAME`` and ``..._PASSWORD`` (``scripts/test`` starts one
with the platform's realm). Without it these tests skip, except in CI, where they fail.
The test's user is created, and removed again, through Keycloak's admin REST API.
"""

from __future__ import annotations

import csv
import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from trillian_seed import seed
from trillian_stack import ebling, trillian
from trillian_testing import IN_CI

REALM = "automation"
REPO = Path(__file__).resolve().parents[3]
AIRFLOW = REPO / "packages" / "arcadia-airflow" / ".venv" / "bin" / "airflow"
RUN_EXAMPLE = REPO / "examples" / "airflow" / "run-example"
pytestmark = pytest.mark.timeout(300)


@dataclass(frozen=True)
class Keycloak:
    """The test Keycloak, reached with a token of its master realm's admin."""

    url: str
    admin_token: str

    @property
    def issuer(self) -> str:
        return f"{self.url}/realms/{REALM}"

    def admin(self, method: str, path: str, **options: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        answer = httpx.request(
            method, f"{self.url}/admin/realms/{REALM}{path}", headers=headers, timeout=30, **options
        )
        answer.raise_for_status()
        return answer

    def client_uuid(self, client_id: str) -> str:
        return str(self.admin("GET", "/clients", params={"clientId": client_id}).json()[0]["id"])


@pytest.fixture(scope="module")
def keycloak() -> Keycloak:
    url = os.environ.get("EBLING_TEST_KEYCLOAK_URL")
    if not url:
        if IN_CI:
            pytest.fail("EBLING_TEST_KEYCLOAK_URL is not set; CI must test single sign-on")
        pytest.skip("EBLING_TEST_KEYCLOAK_URL is not set (scripts/test starts Keycloak)")
    answer = httpx.post(
        f"{url}/realms/master/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": os.environ.get("EBLING_TEST_KEYCLOAK_ADMIN_USERNAME", "admin"),
            "password": os.environ["EBLING_TEST_KEYCLOAK_ADMIN_PASSWORD"],
        },
        timeout=30,
    )
    answer.raise_for_status()
    return Keycloak(url=url, admin_token=answer.json()["access_token"])


@dataclass(frozen=True)
class Person:
    username: str
    password: str
    user_id: str


@pytest.fixture
def viewer(keycloak: Keycloak) -> Iterator[Person]:
    """A new Keycloak user with the viewer role, who must set up TOTP at first sign-in."""
    username = f"ada-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    keycloak.admin(
        "POST",
        "/users",
        json={
            "username": username,
            "enabled": True,
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": f"{username}@example.org",
            "emailVerified": True,
            "credentials": [{"type": "password", "value": password, "temporary": False}],
            "requiredActions": ["CONFIGURE_TOTP"],
        },
    )
    user_id = keycloak.admin(
        "GET", "/users", params={"username": username, "exact": "true"}
    ).json()[0]["id"]
    role = keycloak.admin("GET", "/roles/viewer").json()
    keycloak.admin("POST", f"/users/{user_id}/role-mappings/realm", json=[role])
    yield Person(username=username, password=password, user_id=user_id)
    keycloak.admin("DELETE", f"/users/{user_id}")


@pytest.fixture(scope="module")
def short_lived_tokens(keycloak: Keycloak) -> Iterator[int]:
    """Access tokens for Trillian that live 40 s, so a test sees them refreshed."""
    uuid = keycloak.client_uuid("trillian")
    client = keycloak.admin("GET", f"/clients/{uuid}").json()
    before = dict(client.get("attributes", {}))
    client["attributes"] = {**before, "access.token.lifespan": "40"}
    keycloak.admin("PUT", f"/clients/{uuid}", json=client)
    yield 40
    client["attributes"] = before
    if "access.token.lifespan" not in before:
        client["attributes"]["access.token.lifespan"] = ""
    keycloak.admin("PUT", f"/clients/{uuid}", json=client)


@dataclass(frozen=True)
class SsoStack:
    trillian_url: str
    log: Path
    ebling_url: str
    admin_key: str
    home: Path


@pytest.fixture(scope="module")
def sso_stack(
    keycloak: Keycloak, short_lived_tokens: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SsoStack]:
    """Ebling and Trillian, both on the Keycloak realm."""
    secret = keycloak.admin("GET", f"/clients/{keycloak.client_uuid('trillian')}/client-secret")
    home = tmp_path_factory.mktemp("ebling-sso") / "home"
    log = home.parent / "trillian.log"
    with ebling(home, auth="oidc", oidc_issuer=keycloak.issuer) as ebling_url:
        admin_key = (home / "admin-api-key").read_text().strip()
        seed(ebling_url, admin_key)
        with trillian(
            ebling_url,
            log,
            auth="oidc",
            oidc_issuer=keycloak.issuer,
            oidc_client_id="trillian",
            oidc_client_secret=secret.json()["value"],
        ) as url:
            yield SsoStack(
                trillian_url=url, log=log, ebling_url=ebling_url, admin_key=admin_key, home=home
            )


@pytest.fixture(scope="module")
def example_dag_run(sso_stack: SsoStack) -> None:
    """The user's example Airflow DAG, run once by Airflow on sample mail into this Ebling."""
    if not AIRFLOW.exists():
        if IN_CI:
            pytest.fail(f"{AIRFLOW} is missing; scripts/test syncs Airflow's environment first")
        pytest.skip(
            "Airflow's environment is not synced (uv sync --project packages/arcadia-airflow)"
        )
    # Our own script, with arguments this test chose.
    subprocess.run(  # noqa: S603
        [
            str(RUN_EXAMPLE),
            sso_stack.ebling_url,
            sso_stack.admin_key,
            str(sso_stack.home.parent / "airflow"),
        ],
        check=True,
        timeout=240,
    )


def sign_in_with_totp(page: Any, base: str, person: Person) -> str:
    """Sign in at Keycloak, setting up TOTP as a first sign-in asks; returns the secret."""
    expect = pytest.importorskip("playwright.sync_api").expect
    page.goto(f"{base}/login")
    page.get_by_role("link", name="Sign in with single sign-on").click()
    page.locator("#username").fill(person.username)
    page.locator("#password").fill(person.password)
    page.locator("#kc-login").click()
    # CONFIGURE_TOTP: the QR code, and for those who cannot scan it, the secret as text.
    page.get_by_text("Unable to scan?").click()
    secret = re.sub(r"\s+", "", page.locator("#kc-totp-secret-key").inner_text())
    page.locator("#totp").fill(pyotp.TOTP(secret).now())
    page.locator("#saveTOTPBtn").click()
    expect(page).to_have_url(f"{base}/")
    return secret


def test_sign_in_with_password_and_totp_refresh_and_sign_out(
    page: Any, sso_stack: SsoStack, viewer: Person
) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    base = sso_stack.trillian_url
    sign_in_with_totp(page, base, viewer)

    # Trillian calls Ebling with the person's Keycloak token: Ebling knows them by name.
    who = page.locator("form.who")
    expect(who).to_contain_text("viewer")
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Workflows")).to_be_visible()
    expect(navigation.get_by_role("link", name="API keys")).to_have_count(0)
    assert page.goto(f"{base}/admin/audit").status == 403
    page.goto(f"{base}/workflows")
    expect(page.locator("table.workflows")).to_contain_text("nightly_sales_etl")

    # The access token lives 40 s, and Trillian refreshes it when under 30 s are left.
    time.sleep(12)
    page.goto(f"{base}/workflows")
    expect(page.locator("table.workflows")).to_contain_text("nightly_sales_etl")
    assert "refreshed the access token" in sso_stack.log.read_text()

    # Signing out ends the Keycloak session too: signing in again asks for the password.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login\?signed_out=1$"))
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.get_by_role("link", name="Sign in with single sign-on").click()
    expect(page.locator("#password")).to_be_visible()
    page.goto(f"{base}/workflows")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_a_viewer_finds_the_example_dags_run_and_downloads_its_report(
    page: Any, sso_stack: SsoStack, example_dag_run: None, viewer: Person
) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    base = sso_stack.trillian_url
    sign_in_with_totp(page, base, viewer)

    # The run Airflow reported, with no reporting code in the DAG.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workflows").click()
    page.get_by_label("Search").fill("monitoring")
    page.get_by_role("link", name="monitoring_system_report_automation").click()
    page.locator(".run-grid thead a.state-completed").first.click()
    rows = page.locator(".gantt-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("wait_for_monitoring_reports_email")
    expect(rows.nth(2)).to_contain_text("save_csv_in_database")

    # What it produced: the day's CSV attachments, as report batches of this run.
    produced = page.get_by_role("heading", name="What it produced").locator("..")
    expect(produced).to_contain_text("cpu_")
    produced.get_by_role("link", name="cpu").first.click()
    page.get_by_label("Column").select_option("host")
    page.get_by_label("Condition").select_option("eq")
    page.get_by_label("Value").fill("web-1")
    page.get_by_role("button", name="Add filter").click()
    # Three days of reports, a row every two hours for each host.
    expect(page.locator("#report-rows tbody tr")).to_have_count(36)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    text = Path(download_info.value.path()).read_text()
    rows_downloaded = list(csv.DictReader(text.splitlines()))
    assert len(rows_downloaded) == 36
    assert {row["host"] for row in rows_downloaded} == {"web-1"}
    assert {"timestamp", "cpu_percent", "load_1m"} <= set(rows_downloaded[0])
