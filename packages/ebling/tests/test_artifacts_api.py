"""Artifacts over HTTP, on a local folder and on real S3."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def storage_options(any_storage: dict[str, object]) -> dict[str, object]:
    return any_storage


def upload(client: TestClient, headers: dict[str, str], data: bytes, **params: object):  # type: ignore[no-untyped-def]
    params.setdefault("name", "report.pdf")
    return client.post(
        "/api/v1/artifacts",
        params=params,
        content=data,
        headers={**headers, "Content-Type": "application/pdf"},
    )


def test_upload_download_and_metadata(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    run_id = uuid.uuid4()
    response = upload(
        client,
        ingest_headers,
        data,
        name="scan 2026-12 é.pdf",
        run_id=run_id,
        label=["kind:scan", "team:ops"],
    )
    assert response.status_code == 201, response.text
    artifact = response.json()
    assert artifact["size_bytes"] == len(data)
    assert artifact["sha256"] == hashlib.sha256(data).hexdigest()
    assert artifact["content_type"] == "application/pdf"
    assert artifact["labels"] == {"kind": "scan", "team": "ops"}
    assert artifact["run_id"] == str(run_id)

    download = client.get(f"/api/v1/artifacts/{artifact['id']}/content", headers=viewer_headers)
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["etag"] == f'"{artifact["sha256"]}"'
    assert "filename*=UTF-8''scan%202026-12%20%C3%A9.pdf" in download.headers["content-disposition"]

    cached = client.get(
        f"/api/v1/artifacts/{artifact['id']}/content",
        headers={**viewer_headers, "If-None-Match": download.headers["etag"]},
    )
    assert cached.status_code == 304

    listed = client.get("/api/v1/artifacts", params={"run_id": str(run_id)}, headers=viewer_headers)
    assert [a["id"] for a in listed.json()["items"]] == [artifact["id"]]
    by_label = client.get("/api/v1/artifacts", params={"label": "team:ops"}, headers=viewer_headers)
    assert len(by_label.json()["items"]) == 1
    assert (
        client.get("/api/v1/artifacts", params={"label": "team:x"}, headers=viewer_headers).json()[
            "items"
        ]
        == []
    )


def test_same_bytes_are_stored_once_and_deleted_with_the_last_artifact(
    client: TestClient, ingest_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    data = b"%PDF-1.7 the same content\n" * 1000
    first = upload(client, ingest_headers, data, name="a.pdf").json()
    second = upload(client, ingest_headers, data, name="b.pdf").json()
    assert first["sha256"] == second["sha256"]
    assert first["id"] != second["id"]

    store = client.app.state.store  # type: ignore[attr-defined]
    key = f"blobs/sha256/{first['sha256'][:2]}/{first['sha256']}"
    assert store.exists(key)

    assert (
        client.delete(f"/api/v1/artifacts/{first['id']}", headers=admin_headers).status_code == 204
    )
    assert store.exists(key)
    assert (
        client.get(f"/api/v1/artifacts/{second['id']}/content", headers=admin_headers).content
        == data
    )

    assert (
        client.delete(f"/api/v1/artifacts/{second['id']}", headers=admin_headers).status_code == 204
    )
    assert not store.exists(key)
    assert client.get(f"/api/v1/artifacts/{second['id']}", headers=admin_headers).status_code == 404


def test_roles(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    artifact = upload(client, ingest_headers, b"x").json()
    assert upload(client, viewer_headers, b"x").status_code == 403
    assert (
        client.get(f"/api/v1/artifacts/{artifact['id']}", headers=ingest_headers).status_code == 403
    )
    assert (
        client.delete(f"/api/v1/artifacts/{artifact['id']}", headers=viewer_headers).status_code
        == 403
    )


def test_size_limit_is_413_and_stores_nothing(
    client: TestClient, ingest_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    client.app.state.settings.max_upload_bytes = 1024 * 1024  # type: ignore[attr-defined]
    response = upload(client, ingest_headers, b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/artifacts", headers=admin_headers).json()["items"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"name": ""},
        {"name": "../etc/passwd"},
        {"name": "ok.pdf", "label": "no-colon"},
        {"name": "x", "run_id": "1"},
    ],
)
def test_bad_upload_requests(
    client: TestClient, ingest_headers: dict[str, str], admin_headers: dict[str, str], params: dict
) -> None:
    response = upload(client, ingest_headers, b"data", **params)
    assert response.status_code == 422, response.text
    assert client.get("/api/v1/artifacts", headers=admin_headers).json()["items"] == []
