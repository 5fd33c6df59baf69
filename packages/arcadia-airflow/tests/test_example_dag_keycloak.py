"""The example DAG reporting through a Keycloak service account, to an Ebling in OIDC mode.

The ``ebling_default`` connection holds the ``arcadia-airflow`` client's credentials (client
id as login, secret as password, the token endpoint in extra) instead of an API key, and
Ebling accepts only Keycloak's tokens beside API keys. The test command starts Keycloak
with the shipped realm and sets EBLING_TEST_KEYCLOAK_URL and its admin's credentials.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from airflow_stack import (
    DAG_ID,
    NAMESPACE,
    Ebling,
    airflow_env,
    free_port,
    monitoring_mail,
    run_airflow,
)

IN_CI = os.environ.get("CI") == "true"
CLIENT_ID = "arcadia-airflow"


def _keycloak_url() -> str:
    url = os.environ.get("EBLING_TEST_KEYCLOAK_URL")
    if url:
        return url.rstrip("/")
    if IN_CI:
        pytest.fail("EBLING_TEST_KEYCLOAK_URL is not set; CI must run this test")
    pytest.skip("EBLING_TEST_KEYCLOAK_URL is not set (the README's test command sets it)")


@pytest.fixture
def issuer() -> str:
    return f"{_keycloak_url()}/realms/automation"


@pytest.fixture
def client_secret(issuer: str) -> str:
    """The service account's secret, read as an operator would: through the admin API."""
    base = issuer.rsplit("/realms/", 1)[0]
    token = httpx.post(
        f"{base}/realms/master/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": os.environ.get("EBLING_TEST_KEYCLOAK_ADMIN_USERNAME", "admin"),
            "password": os.environ.get("EBLING_TEST_KEYCLOAK_ADMIN_PASSWORD", ""),
        },
        timeout=30,
    ).json()["access_token"]
    admin = httpx.Client(
        base_url=f"{base}/admin/realms/automation",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    with admin:
        (client,) = admin.get("/clients", params={"clientId": CLIENT_ID}).json()
        return str(admin.get(f"/clients/{client['id']}/client-secret").json()["value"])


@pytest.fixture
def ebling(tmp_path: Path, issuer: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ebling]:
    # Ebling's process inherits these; the Airflow processes get no EBLING_* of the test's.
    monkeypatch.setenv("EBLING_AUTH", "oidc")
    monkeypatch.setenv("EBLING_OIDC_ISSUER", issuer)
    server = Ebling(home=tmp_path / "ebling", port=free_port())
    server.start()
    yield server
    server.stop()


def test_example_dag_reports_through_a_service_account(
    tmp_path: Path, ebling: Ebling, issuer: str, client_secret: str
) -> None:
    maildir = tmp_path / "mail"
    monitoring_mail(maildir, 1)
    monitoring_mail(maildir, 2)
    home = tmp_path / "airflow"
    env = airflow_env(home, ebling, maildir)
    token_url = f"{issuer}/protocol/openid-connect/token"
    env["AIRFLOW_CONN_EBLING_DEFAULT"] = json.dumps(
        {
            "conn_type": "ebling",
            "host": ebling.url,
            "login": CLIENT_ID,
            "password": client_secret,
            "extra": {"outbox_path": str(home / "outbox.db"), "token_url": token_url},
        }
    )
    run_airflow(env, "db", "migrate")
    run_airflow(env, "dags", "test", DAG_ID)

    workflows = ebling.get("/api/v1/workflows", namespace=NAMESPACE)["items"]  # type: ignore[index]
    assert [w["name"] for w in workflows] == [DAG_ID]
    (run,) = ebling.get("/api/v1/runs", workflow_id=workflows[0]["id"])["items"]  # type: ignore[index]
    assert run["state"] == "COMPLETED"
    batches = ebling.get("/api/v1/reports/cpu/batches")["items"]  # type: ignore[index]
    assert sorted(b["source_file_name"] for b in batches) == [
        "cpu_2026-12-01.csv",
        "cpu_2026-12-02.csv",
    ]
    assert {b["run_id"] for b in batches} == {run["id"]}

    # Every write came from the service account's tokens, none was refused.
    events = ebling.get("/api/v1/audit-events", limit=500)["items"]  # type: ignore[index]
    assert [e for e in events if e["outcome"] != "success"] == []
    routes = {e["route"] for e in events if e["client_id"] == CLIENT_ID}
    assert "/api/v1/lineage" in routes
    assert any(route.startswith("/api/v1/reports/") for route in routes)
    assert {(e["client_id"], e["auth_kind"]) for e in events} == {(CLIENT_ID, "oidc")}
