"""The audit log: every write and every refused request is recorded; admins read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ebling.db.models import AuditEvent
from event_factories import event
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session


def audit_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_writes_and_refusals_are_recorded_reads_are_not(
    client: TestClient,
    engine: Engine,
    ingest_headers: dict[str, str],
    viewer_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    assert client.post("/api/v1/lineage", json=event(), headers=ingest_headers).status_code == 200
    assert client.get("/api/v1/runs", headers=viewer_headers).status_code == 200
    assert client.get("/api/v1/me", headers=viewer_headers).status_code == 200
    assert audit_count(engine) == 1  # the successful reads cost no write

    assert client.post("/api/v1/lineage", json=event(), headers=viewer_headers).status_code == 403
    assert client.get("/api/v1/runs", headers=ingest_headers).status_code == 403
    assert client.get("/api/v1/runs").status_code == 401
    bad_key = {"Authorization": "Bearer ebl_000000000000_nope"}
    assert client.post("/api/v1/lineage", json=event(), headers=bad_key).status_code == 401

    page = client.get("/api/v1/audit-events", headers=admin_headers).json()
    rows = [
        (e["method"], e["route"], e["status"], e["outcome"], e["auth_kind"]) for e in page["items"]
    ]
    assert rows == [
        ("POST", "/api/v1/lineage", 401, "unauthenticated", "api_key"),
        ("GET", "/api/v1/runs", 401, "unauthenticated", "none"),
        ("GET", "/api/v1/runs", 403, "denied", "api_key"),
        ("POST", "/api/v1/lineage", 403, "denied", "api_key"),
        ("POST", "/api/v1/lineage", 200, "success", "api_key"),
    ]
    newest, *_, oldest = page["items"]
    assert newest["subject"] is None
    assert "unknown, revoked or expired" in newest["reason"]
    assert "ebl_" not in str(page)  # no credential is ever stored
    assert oldest["subject"].startswith("api-key:")
    assert oldest["reason"] is None
    assert oldest["remote_addr"] == "testclient"
    assert datetime.fromisoformat(oldest["occurred_at"]) <= datetime.now(UTC)


def test_filters_and_pages(
    client: TestClient, ingest_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    for _ in range(5):
        client.post("/api/v1/lineage", json=event(), headers=ingest_headers)
    for _ in range(3):
        client.get("/api/v1/runs")

    seen, cursor = [], None
    while True:
        params: dict[str, str | int] = {"limit": 2, "outcome": "success"}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/audit-events", params=params, headers=admin_headers).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5
    assert seen == sorted(seen, reverse=True)

    subject = client.get("/api/v1/audit-events", headers=admin_headers).json()["items"][-1][
        "subject"
    ]
    by_subject = client.get(
        "/api/v1/audit-events", params={"subject": subject}, headers=admin_headers
    ).json()["items"]
    assert len(by_subject) == 5

    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (
        client.get("/api/v1/audit-events", params={"since": future}, headers=admin_headers).json()[
            "items"
        ]
        == []
    )
    assert (
        len(
            client.get(
                "/api/v1/audit-events", params={"until": future}, headers=admin_headers
            ).json()["items"]
        )
        == 8
    )


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"since": "2026-01-01T00:00:00"},
        {"outcome": "maybe"},
        {"limit": 0},
        {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    ],
    ids=["cursor", "naive-time", "outcome", "limit", "empty-range"],
)
def test_bad_queries_are_4xx_problems(
    client: TestClient, admin_headers: dict[str, str], params: dict[str, object]
) -> None:
    response = client.get("/api/v1/audit-events", params=params, headers=admin_headers)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"


def test_only_admins_read_the_audit_log(
    client: TestClient, viewer_headers: dict[str, str], ingest_headers: dict[str, str]
) -> None:
    for headers in (viewer_headers, ingest_headers):
        response = client.get("/api/v1/audit-events", headers=headers)
        assert response.status_code == 403
        assert "audit:read" in response.json()["detail"]


def test_me_describes_the_caller(client: TestClient, viewer_headers: dict[str, str]) -> None:
    me = client.get("/api/v1/me", headers=viewer_headers).json()
    assert set(me) == {"subject", "kind", "display_name", "client_id", "roles", "permissions"}
    assert me["kind"] == "api_key"
    assert me["roles"] == ["viewer"]
    assert me["client_id"] is None
    assert me["permissions"] == ["artifacts:read", "monitoring:read", "reports:read"]
    assert client.get("/api/v1/me").status_code == 401
