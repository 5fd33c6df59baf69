"""Credentials: 401 without valid ones, 403 when the role does not allow, API keys via the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ebling.auth.api_keys import create_api_key
from ebling.auth.principal import Role
from ebling.db.engine import session_factory
from event_factories import event
from fastapi.testclient import TestClient
from sqlalchemy import Engine


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer ebl_000000000000_wrong"},
        {"Authorization": "Bearer ebl_garbage"},
        {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."},
    ],
    ids=["none", "empty", "basic", "unknown-key", "malformed-key", "unsigned-jwt"],
)
def test_missing_or_bad_credentials_are_401(client: TestClient, headers: dict[str, str]) -> None:
    problem = assert_problem(client.get("/api/v1/runs", headers=headers), 401)
    assert problem["type"] == "urn:ebling:problem:unauthenticated"


def test_401_says_how_to_authenticate(client: TestClient) -> None:
    response = client.get("/api/v1/workflows")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.json()["detail"]


def test_health_needs_no_credentials(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_viewer_cannot_write_events(client: TestClient, viewer_headers: dict[str, str]) -> None:
    problem = assert_problem(
        client.post("/api/v1/lineage", json=event(), headers=viewer_headers), 403
    )
    assert "lineage:write" in problem["detail"]


def test_ingest_key_writes_but_reads_nothing(
    client: TestClient, ingest_headers: dict[str, str]
) -> None:
    assert client.post("/api/v1/lineage", json=event(), headers=ingest_headers).status_code == 200
    for path in ("/api/v1/runs", "/api/v1/workflows", "/api/v1/overview", "/api/v1/api-keys"):
        assert_problem(client.get(path, headers=ingest_headers), 403)


def test_only_admins_manage_keys(client: TestClient, viewer_headers: dict[str, str]) -> None:
    assert_problem(client.get("/api/v1/api-keys", headers=viewer_headers), 403)
    body = {"name": "x", "roles": ["admin"]}
    assert_problem(client.post("/api/v1/api-keys", json=body, headers=viewer_headers), 403)


def test_api_key_lifecycle(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/api-keys",
        json={"name": "airflow prod", "roles": ["ingest"]},
        headers=admin_headers,
    )
    assert response.status_code == 201
    created = response.json()
    key = created["key"]
    assert key.startswith("ebl_")
    assert created["roles"] == ["ingest"]

    listed = client.get("/api/v1/api-keys", headers=admin_headers).json()
    mine = next(k for k in listed if k["id"] == created["id"])
    assert "key" not in mine
    assert key not in response.text.replace(key, "", 1)  # the secret appears once

    headers = {"Authorization": f"Bearer {key}"}
    assert client.post("/api/v1/lineage", json=event(), headers=headers).status_code == 200
    listed = client.get("/api/v1/api-keys", headers=admin_headers).json()
    assert next(k for k in listed if k["id"] == created["id"])["last_used_at"] is not None

    revoked = client.delete(f"/api/v1/api-keys/{created['id']}", headers=admin_headers).json()
    assert revoked["revoked_at"] is not None
    assert_problem(client.post("/api/v1/lineage", json=event(), headers=headers), 401)


def test_key_also_accepted_in_x_api_key_header(
    client: TestClient, viewer_headers: dict[str, str]
) -> None:
    key = viewer_headers["Authorization"].removeprefix("Bearer ")
    assert client.get("/api/v1/runs", headers={"X-API-Key": key}).status_code == 200


def test_expired_key_is_401(client: TestClient, engine: Engine) -> None:
    with session_factory(engine)() as session:
        created = create_api_key(
            session,
            name="old",
            roles=[Role.ADMIN],
            expires_at=datetime.now(UTC) - timedelta(seconds=1),
        )
        session.commit()
    headers = {"Authorization": f"Bearer {created.token}"}
    assert_problem(client.get("/api/v1/runs", headers=headers), 401)


def test_invalid_key_requests(client: TestClient, admin_headers: dict[str, str]) -> None:
    for body in (
        {"name": "x", "roles": []},
        {"name": "x", "roles": ["root"]},
        {"roles": ["admin"]},
    ):
        problem = assert_problem(
            client.post("/api/v1/api-keys", json=body, headers=admin_headers), 422
        )
        assert problem["errors"]
    assert_problem(client.delete("/api/v1/api-keys/999", headers=admin_headers), 404)
    assert len(client.get("/api/v1/api-keys", headers=admin_headers).json()) == 1
