"""The package's boundaries: its public names, its settings, and no import of Ebling."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import trillian
from pydantic import ValidationError
from trillian import app, cli
from trillian.settings import AuthMode, Settings

SOURCE = Path(trillian.__file__).parent


def test_the_public_surface() -> None:
    assert app.__all__ == ["create_app"]
    assert cli.__all__ == ["main"]


def test_no_module_imports_ebling() -> None:
    # Trillian talks to Ebling over HTTP only; importing it would tie the two releases.
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not [n for n in names if n.split(".")[0] == "ebling"], path


def test_oidc_without_issuer_or_secret_is_refused_with_the_variables_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRILLIAN_AUTH", "oidc")
    with pytest.raises(
        ValidationError, match="TRILLIAN_OIDC_ISSUER and TRILLIAN_OIDC_CLIENT_SECRET"
    ):
        Settings()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRILLIAN_AUTH", "oidc")
    monkeypatch.setenv("TRILLIAN_OIDC_ISSUER", "https://sso.example/realms/automation")
    monkeypatch.setenv("TRILLIAN_OIDC_CLIENT_SECRET", "s3cret")
    monkeypatch.setenv("TRILLIAN_PUBLIC_URL", "https://dash.example/")
    settings = Settings()
    assert settings.auth is AuthMode.OIDC
    assert settings.secure_cookies
    assert settings.public_base == "https://dash.example"
    assert "s3cret" not in repr(settings)


def test_serve_refuses_bad_settings_with_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRILLIAN_AUTH", "sso")
    assert cli.main(["serve", "--port", "1"]) == 2
    assert "invalid settings" in capsys.readouterr().err
