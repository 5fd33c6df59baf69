"""Simple sign-in: the generated admin password, login tokens, wrong passwords, lock-out."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from ebling.api.app import create_app
from ebling.auth.local_accounts import FREE_FAILURES, create_admin_account
from ebling.cli import app as cli
from ebling.db.engine import session_factory
from ebling.settings import Settings
from event_factories import event
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner


@pytest.fixture
def admin_password(engine: Engine) -> str:
    with session_factory(engine)() as session:
        created = create_admin_account(session)
        session.commit()
    assert created is not None
    return created.password


def login(client: TestClient, password: str, username: str = "admin"):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_login_answers_a_token_that_works(client: TestClient, admin_password: str) -> None:
    response = login(client, admin_password)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "roles"}
    assert (body["token_type"], body["expires_in"], body["roles"]) == ("Bearer", 3600, ["admin"])

    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/v1/runs", headers=headers).status_code == 200
    assert client.get("/api/v1/api-keys", headers=headers).status_code == 200
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["subject"] == "local:admin"
    assert me["roles"] == ["admin"]


def test_a_wrong_password_is_401_and_audited(
    client: TestClient, admin_password: str, admin_headers: dict[str, str]
) -> None:
    response = login(client, admin_password + "x")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "Wrong username or password."
    assert login(client, "whatever", username="root").status_code == 401

    events = client.get(
        "/api/v1/audit-events", params={"outcome": "unauthenticated"}, headers=admin_headers
    ).json()["items"]
    assert [(e["route"], e["auth_kind"], e["subject"]) for e in events] == [
        ("/api/v1/auth/login", "password", None),  # unknown account: the name is not kept
        ("/api/v1/auth/login", "password", "local:admin"),
    ]
    assert all(admin_password not in str(e) for e in events)


def test_repeated_failures_lock_the_account(client: TestClient, admin_password: str) -> None:
    for _ in range(FREE_FAILURES):
        assert login(client, "wrong-password").status_code == 401
    # The next failure locks; then even the right password waits.
    assert login(client, "wrong-password").status_code == 401
    locked = login(client, admin_password)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    assert locked.json()["type"] == "urn:ebling:problem:too-many-sign-in-attempts"


def test_a_forged_or_tampered_token_is_401(client: TestClient, admin_password: str) -> None:
    token = login(client, admin_password).json()["access_token"]
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    response = client.get("/api/v1/runs", headers={"Authorization": f"Bearer {tampered}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_bad_login_bodies_are_422(client: TestClient) -> None:
    for body in ({}, {"username": "admin"}, {"username": "", "password": "x"}):
        response = client.post("/api/v1/auth/login", json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"


def test_login_is_off_in_oidc_mode(settings: Settings) -> None:
    oidc = settings.model_copy(
        update={"auth": "oidc", "oidc_issuer": "https://sso.test/realms/automation"}
    )
    with TestClient(create_app(oidc)) as client:
        response = login(client, "anything")
    assert response.status_code == 404
    assert "identity provider" in response.json()["detail"]


runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cli-home"
    monkeypatch.setenv("EBLING_DATABASE_URL", database_url)
    monkeypatch.setenv("EBLING_HOME", str(home))
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: None)
    return home


def test_first_start_prints_and_saves_the_password_once(cli_env: Path, settings: Settings) -> None:
    first = runner.invoke(cli, ["serve"])
    assert first.exit_code == 0, first.output
    password_file = cli_env / "admin-password"
    password = password_file.read_text().strip()
    assert len(password) >= 20
    assert password in first.output
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600

    second = runner.invoke(cli, ["serve"])
    assert second.exit_code == 0
    assert password not in second.output
    assert "admin sign-in" not in second.output

    with TestClient(create_app(settings)) as client:
        assert login(client, password).status_code == 200


def test_reset_gives_a_new_password_and_ends_old_tokens(cli_env: Path, settings: Settings) -> None:
    assert runner.invoke(cli, ["serve"]).exit_code == 0
    old_password = (cli_env / "admin-password").read_text().strip()
    with TestClient(create_app(settings)) as client:
        token = login(client, old_password).json()["access_token"]

        reset = runner.invoke(cli, ["admin-password", "reset"])
        assert reset.exit_code == 0, reset.output
        new_password = (cli_env / "admin-password").read_text().strip()
        assert new_password != old_password
        assert new_password in reset.output

        stale = client.get("/api/v1/runs", headers={"Authorization": f"Bearer {token}"})
        assert stale.status_code == 401
        assert "password change" in stale.json()["detail"]
        assert login(client, old_password).status_code == 401
        assert login(client, new_password).status_code == 200


def test_ingest_keys_still_work_beside_login(
    client: TestClient, ingest_headers: dict[str, str]
) -> None:
    assert client.post("/api/v1/lineage", json=event(), headers=ingest_headers).status_code == 200
