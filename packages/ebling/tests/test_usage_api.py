"""Usage over HTTP: counted once per key, exact sums, bad input refused whole."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient


def record(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "key": str(uuid.uuid4()),
        "metric": "documents_processed",
        "quantity": "3",
        "occurred_at": "2026-12-03T06:00:00Z",
        "account": "acme",
    }
    return {**base, **changes}


def totals(client: TestClient, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/usage/totals", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_usage_is_counted_once_per_key_and_summed_exactly(
    client: TestClient, ingest_headers: dict[str, str], billing_headers: dict[str, str]
) -> None:
    run_id = str(uuid.uuid4())
    batch = [
        record(quantity="0.1", run_id=run_id),
        record(quantity="0.2", run_id=run_id),
        record(quantity="1.25", account="globex", attributes={"document_type": "invoice"}),
        record(metric="pages_scanned", quantity=12),
    ]
    first = client.post("/api/v1/usage", json=batch, headers=ingest_headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 4, "stored": 4, "duplicates": 0}

    # A replay (an outbox delivering again after a lost answer) stores nothing new; the same
    # instant written with another offset and 0.10 for 0.1 are the same record.
    replay = [{**batch[0], "occurred_at": "2026-12-03T07:00:00+01:00", "quantity": "0.10"}]
    again = client.post("/api/v1/usage", json=replay + batch[1:], headers=ingest_headers)
    assert again.json() == {"received": 4, "stored": 0, "duplicates": 4}

    assert totals(client, billing_headers) == [
        {"metric": "documents_processed", "account": "acme", "quantity": "0.3", "records": 2},
        {"metric": "documents_processed", "account": "globex", "quantity": "1.25", "records": 1},
        {"metric": "pages_scanned", "account": "acme", "quantity": "12", "records": 1},
    ]
    listed = client.get("/api/v1/usage", params={"run_id": run_id}, headers=billing_headers).json()
    assert sorted(item["quantity"] for item in listed["items"]) == ["0.1", "0.2"]
    assert all(item["recorded_by"] for item in listed["items"])


def test_a_key_reused_for_other_usage_is_a_conflict(
    client: TestClient, ingest_headers: dict[str, str], billing_headers: dict[str, str]
) -> None:
    first = record(quantity="2")
    client.post("/api/v1/usage", json=first, headers=ingest_headers)

    fresh = record()
    answer = client.post(
        "/api/v1/usage", json=[fresh, {**first, "quantity": "5"}], headers=ingest_headers
    )

    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert [error["key"] for error in answer.json()["errors"]] == [first["key"]]
    # All or nothing: the fresh record of the refused request was not stored either.
    assert totals(client, billing_headers) == [
        {"metric": "documents_processed", "account": "acme", "quantity": "2", "records": 1}
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "0.0000001"}, "quantity"),
        ({"quantity": "1e13"}, "quantity"),
        ({"quantity": "lots"}, "quantity"),
        ({"metric": "Documents Processed"}, "metric"),
        ({"occurred_at": "2026-12-03T06:00:00"}, "occurred_at"),
        ({"key": ""}, "key"),
        ({"run_id": "not-a-uuid"}, "run_id"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_an_invalid_record_refuses_the_whole_batch(
    client: TestClient,
    ingest_headers: dict[str, str],
    billing_headers: dict[str, str],
    change: dict[str, Any],
    field: str,
) -> None:
    answer = client.post("/api/v1/usage", json=[record(), record(**change)], headers=ingest_headers)

    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["index"] == 1
    assert answer.json()["errors"][0]["field"] == field
    assert totals(client, billing_headers) == []


def test_bodies_that_are_no_usage_are_refused(
    client: TestClient, ingest_headers: dict[str, str]
) -> None:
    headers = {**ingest_headers, "Content-Type": "application/json"}
    assert client.post("/api/v1/usage", content=b"{", headers=headers).status_code == 400
    assert client.post("/api/v1/usage", content=b"[]", headers=headers).status_code == 400
    too_many = [record() for _ in range(1001)]
    assert client.post("/api/v1/usage", json=too_many, headers=headers).status_code == 400
    same_key_twice = [record(key="k1"), record(key="k1", quantity="9")]
    refused = client.post("/api/v1/usage", json=same_key_twice, headers=headers)
    assert refused.status_code == 422
    assert "earlier in this batch" in refused.json()["errors"][0]["message"]


def test_roles(
    client: TestClient,
    ingest_headers: dict[str, str],
    viewer_headers: dict[str, str],
    billing_headers: dict[str, str],
) -> None:
    # Machines write usage and read none back; billing reads it and writes none.
    assert client.get("/api/v1/usage", headers=ingest_headers).status_code == 403
    assert client.get("/api/v1/usage/totals", headers=viewer_headers).status_code == 403
    assert client.post("/api/v1/usage", json=record(), headers=billing_headers).status_code == 403
    assert client.post("/api/v1/usage", json=record(), headers=viewer_headers).status_code == 403
    assert client.get("/api/v1/usage", headers=billing_headers).status_code == 200
    naive = client.get(
        "/api/v1/usage", params={"since": "2026-12-01T00:00:00"}, headers=billing_headers
    )
    assert naive.status_code == 422


def test_pages_walk_every_record_once(
    client: TestClient, ingest_headers: dict[str, str], billing_headers: dict[str, str]
) -> None:
    batch = [record(occurred_at=f"2026-12-0{1 + i % 3}T0{i % 10}:00:00Z") for i in range(25)]
    client.post("/api/v1/usage", json=batch, headers=ingest_headers)

    seen: list[str] = []
    params: dict[str, Any] = {"limit": 7}
    while True:
        page = client.get("/api/v1/usage", params=params, headers=billing_headers).json()
        seen += [item["key"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert sorted(seen) == sorted(r["key"] for r in batch)
