"""Operating the service: metrics, OpenAPI, settings, and the public surface."""

from __future__ import annotations

import importlib

import pytest
from ebling.settings import Settings
from event_factories import event
from fastapi.testclient import TestClient


def test_metrics_count_requests_and_events(
    client: TestClient, ingest_headers: dict[str, str]
) -> None:
    client.post("/api/v1/lineage", json=[event(), event()], headers=ingest_headers)
    client.post("/api/v1/lineage", json=[event("NOPE")], headers=ingest_headers)
    text = client.get("/metrics").text
    assert 'ebling_lineage_events_total{outcome="stored"} 2.0' in text
    assert 'ebling_lineage_events_total{outcome="rejected"} 1.0' in text
    assert (
        'ebling_http_requests_total{method="POST",route="/api/v1/lineage",status="200"} 1.0' in text
    )
    assert 'route="/api/v1/lineage"' in text
    assert "ebling_http_request_duration_seconds_bucket" in text


def test_openapi_document_is_served(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert document["info"]["title"] == "Ebling"
    assert "/api/v1/lineage" in document["paths"]
    assert "/api/v1/runs/{run_id}/events" in document["paths"]


def test_settings_from_environment_and_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "ebling.toml"
    config.write_text('database_url = "sqlite:///from-file.db"\nlog_format = "json"\n')
    monkeypatch.setenv("EBLING_CONFIG_FILE", str(config))
    monkeypatch.setenv("EBLING_LOG_FORMAT", "text")
    settings = Settings()
    assert settings.resolved_database_url == "sqlite:///from-file.db"
    assert settings.log_format == "text"  # the environment wins over the file


def test_embedded_defaults(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("EBLING_HOME", str(tmp_path))
    settings = Settings()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'ebling.db'}"
    assert settings.resolved_storage_url == (tmp_path / "storage").as_uri()


@pytest.mark.parametrize(
    "module",
    [
        "ebling",
        "ebling.settings",
        "ebling.lineage.events",
        "ebling.lineage.projection",
        "ebling.lineage.store",
        "ebling.auth.principal",
        "ebling.auth.api_keys",
        "ebling.db.models",
        "ebling.db.types",
        "ebling.api.schemas",
    ],
)
def test_public_surface_is_declared(module: str) -> None:
    imported = importlib.import_module(module)
    assert imported.__all__, f"{module} declares no public names"
    missing = [name for name in imported.__all__ if not hasattr(imported, name)]
    assert not missing, f"{module}.__all__ names what it does not define: {missing}"
