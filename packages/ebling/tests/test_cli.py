"""The ebling command: migrations and API keys, as an operator uses them."""

from __future__ import annotations

from pathlib import Path

import pytest
from ebling.cli import app
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EBLING_DATABASE_URL", database_url)
    monkeypatch.setenv("EBLING_HOME", str(tmp_path / "home"))


def test_api_key_create_list_revoke(env: None) -> None:
    assert "already at revision" in runner.invoke(app, ["migrate"]).output

    created = runner.invoke(
        app, ["api-key", "create", "--name", "airflow", "--role", "ingest", "--role", "viewer"]
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("ebl_")

    listed = runner.invoke(app, ["api-key", "list"])
    assert "ingest,viewer" in listed.output
    assert "active" in listed.output
    assert token not in listed.output

    assert runner.invoke(app, ["api-key", "revoke", "1"]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["api-key", "list"]).output


def test_revoking_an_unknown_key_says_so(env: None) -> None:
    result = runner.invoke(app, ["api-key", "revoke", "42"])
    assert result.exit_code == 1
    assert "no API key has id 42" in result.output


def test_unknown_role_is_refused(env: None) -> None:
    result = runner.invoke(app, ["api-key", "create", "--name", "x", "--role", "root"])
    assert result.exit_code == 2
    assert "root" in result.output


def test_serve_refuses_remote_addresses_with_simple_auth(env: None) -> None:
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0"])  # noqa: S104 - the point of the test
    assert result.exit_code == 2
    assert "--allow-remote" in result.output


def test_migrate_creates_an_empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EBLING_HOME", str(tmp_path / "fresh"))
    monkeypatch.delenv("EBLING_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "from empty to" in result.output
    assert (tmp_path / "fresh" / "ebling.db").exists()
