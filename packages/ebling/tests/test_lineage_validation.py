"""Bad input to the lineage endpoint: a clear 4xx problem, and nothing stored."""

from __future__ import annotations

import uuid

import orjson
import pytest
from ebling.db.models import LineageEvent, Run, Workflow
from event_factories import event
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select


def stored_rows(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.scalar(select(func.count()).select_from(table))
            for table in (LineageEvent, Run, Workflow)
        )


def send(client: TestClient, headers: dict[str, str], body: bytes) -> dict:
    response = client.post(
        "/api/v1/lineage", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == response.status_code
    assert problem["detail"]
    return problem


def with_field(**changes: object) -> dict:
    base = event("START")
    for path, value in changes.items():
        target = base
        *parents, last = path.split("__")
        for part in parents:
            target = target[part]
        if value is ...:
            del target[last]
        else:
            target[last] = value
    return base


@pytest.mark.parametrize(
    ("bad_event", "field"),
    [
        (with_field(run__runId="not-a-uuid"), "run.runId"),
        (with_field(run__runId=...), "run.runId"),
        (with_field(eventType="FINISHED"), "eventType"),
        (with_field(eventTime="yesterday"), "eventTime"),
        (with_field(eventTime="2026-11-02T06:00:00"), "eventTime"),
        (with_field(job__name=42), "job.name"),
        (with_field(job__namespace=...), "job.namespace"),
        (with_field(producer=...), "producer"),
        (
            with_field(run__facets={"parent": {"run": {"runId": "x"}}}),
            "run.facets.parent.run.runId",
        ),
    ],
)
def test_invalid_event_rejects_the_whole_batch(
    client: TestClient,
    ingest_headers: dict[str, str],
    engine: Engine,
    bad_event: dict,
    field: str,
) -> None:
    batch = [event("START"), bad_event, event("COMPLETE")]
    problem = send(client, ingest_headers, orjson.dumps(batch))
    assert problem["type"] == "urn:ebling:problem:invalid-events"
    assert "Nothing was stored" in problem["detail"]
    assert any(e["index"] == 1 and e["field"] == field for e in problem["errors"]), problem
    assert all(e["index"] == 1 for e in problem["errors"])
    assert stored_rows(engine) == (0, 0, 0)


def test_every_invalid_event_is_listed(client: TestClient, ingest_headers: dict[str, str]) -> None:
    batch = [with_field(eventType="NOPE"), event("START"), with_field(run__runId="1")]
    problem = send(client, ingest_headers, orjson.dumps(batch))
    assert sorted((e["index"], e["field"]) for e in problem["errors"]) == [
        (0, "eventType"),
        (2, "run.runId"),
    ]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"just a string"', b"[]"],
    ids=["broken", "empty", "binary", "numbers", "string", "empty-array"],
)
def test_malformed_bodies(
    client: TestClient, ingest_headers: dict[str, str], engine: Engine, body: bytes
) -> None:
    send(client, ingest_headers, body)
    assert stored_rows(engine) == (0, 0, 0)


def test_more_than_a_thousand_events(
    client: TestClient, ingest_headers: dict[str, str], engine: Engine
) -> None:
    batch = [event("START", run_id=uuid.uuid4()) for _ in range(1001)]
    problem = send(client, ingest_headers, orjson.dumps(batch))
    assert problem["status"] == 422
    assert "1001 > 1000" in problem["detail"]
    assert stored_rows(engine) == (0, 0, 0)


def test_body_over_the_size_limit_is_413(
    client: TestClient, ingest_headers: dict[str, str], engine: Engine
) -> None:
    padding = "x" * (17 * 1024 * 1024)
    body = orjson.dumps(with_field(job__facets={"documentation": {"description": padding}}))
    problem = send(client, ingest_headers, body)
    assert problem["status"] == 413
    assert stored_rows(engine) == (0, 0, 0)


def test_gzip_bomb_is_413(
    client: TestClient, ingest_headers: dict[str, str], engine: Engine
) -> None:
    import gzip

    bomb = gzip.compress(b"[" + b" " * (40 * 1024 * 1024) + b"]")
    assert len(bomb) < 100_000
    response = client.post(
        "/api/v1/lineage",
        content=bomb,
        headers={**ingest_headers, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 413
    assert stored_rows(engine) == (0, 0, 0)


@pytest.mark.parametrize(
    ("encoding", "body", "status"),
    [("gzip", b"not gzip at all", 400), ("br", b"{}", 415)],
)
def test_bad_content_encoding(
    client: TestClient, ingest_headers: dict[str, str], encoding: str, body: bytes, status: int
) -> None:
    response = client.post(
        "/api/v1/lineage",
        content=body,
        headers={
            **ingest_headers,
            "Content-Type": "application/json",
            "Content-Encoding": encoding,
        },
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
