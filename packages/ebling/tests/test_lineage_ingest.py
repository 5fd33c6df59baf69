"""Ingesting OpenLineage events and projecting them into workflows, runs and task runs."""

from __future__ import annotations

import uuid
from datetime import timedelta

from event_factories import BASE_TIME, error_facet, event, workflow_run
from fastapi.testclient import TestClient


def post(client: TestClient, headers: dict[str, str], body: object) -> dict:
    response = client.post("/api/v1/lineage", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_one_event_creates_workflow_and_running_run(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    run_id = uuid.uuid4()
    summary = post(client, ingest_headers, event("START", run_id=run_id))
    assert summary == {"received": 1, "stored": 1, "duplicates": 0}

    run = client.get(f"/api/v1/runs/{run_id}", headers=viewer_headers).json()
    assert run["state"] == "RUNNING"
    assert run["started_at"] == "2026-11-02T06:00:00Z"
    assert run["ended_at"] is None
    assert run["workflow"]["namespace"] == "airflow://etl-test"
    assert run["workflow"]["name"] == "daily_report"


def test_whole_run_with_tasks(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    run_id, events = workflow_run(tasks=("extract", "transform", "load"))
    assert post(client, ingest_headers, events)["stored"] == len(events)

    run = client.get(f"/api/v1/runs/{run_id}", headers=viewer_headers).json()
    assert run["state"] == "COMPLETED"
    assert run["duration_seconds"] == 6 * 60 + 1
    assert [task["task_name"] for task in run["task_runs"]] == [
        "daily_report.extract",
        "daily_report.transform",
        "daily_report.load",
    ]
    assert all(task["state"] == "COMPLETED" for task in run["task_runs"])
    assert run["task_runs"][0]["duration_seconds"] == 60

    # Task runs are not workflows: only the DAG is listed.
    workflows = client.get("/api/v1/workflows", headers=viewer_headers).json()["items"]
    assert [w["name"] for w in workflows] == ["daily_report"]
    assert workflows[0]["last_run"]["state"] == "COMPLETED"


def test_replayed_events_are_stored_once(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    run_id, events = workflow_run()
    post(client, ingest_headers, events)
    again = post(client, ingest_headers, events + events[:2])
    assert again == {"received": len(events) + 2, "stored": 0, "duplicates": len(events) + 2}

    run = client.get(f"/api/v1/runs/{run_id}", headers=viewer_headers).json()
    assert run["event_count"] == 2
    raw = client.get(f"/api/v1/runs/{run_id}/events", headers=viewer_headers).json()["items"]
    assert len(raw) == len(events)


def test_same_event_with_keys_in_another_order_is_a_duplicate(
    client: TestClient, ingest_headers: dict[str, str]
) -> None:
    original = event("START")
    reordered = dict(reversed(list(original.items())))
    assert post(client, ingest_headers, [original, reordered])["duplicates"] == 1


def test_older_event_does_not_overwrite_terminal_state(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    run_id = uuid.uuid4()
    post(
        client, ingest_headers, event("COMPLETE", run_id=run_id, at=BASE_TIME + timedelta(hours=1))
    )
    post(
        client, ingest_headers, event("RUNNING", run_id=run_id, at=BASE_TIME + timedelta(minutes=5))
    )
    post(client, ingest_headers, event("START", run_id=run_id, at=BASE_TIME))

    run = client.get(f"/api/v1/runs/{run_id}", headers=viewer_headers).json()
    assert run["state"] == "COMPLETED"
    assert run["started_at"] == "2026-11-02T06:00:00Z"
    assert run["ended_at"] == "2026-11-02T07:00:00Z"
    assert run["duration_seconds"] == 3600
    assert run["event_count"] == 3


def test_failure_keeps_error_message_and_facets(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    run_id = uuid.uuid4()
    nominal = {"nominalTime": {"nominalStartTime": "2026-11-01T00:00:00Z"}}
    post(
        client,
        ingest_headers,
        [
            event("START", run_id=run_id, run_facets=nominal),
            event(
                "FAIL",
                run_id=run_id,
                at=BASE_TIME + timedelta(seconds=30),
                run_facets=error_facet("division by zero"),
            ),
        ],
    )
    run = client.get(f"/api/v1/runs/{run_id}", headers=viewer_headers).json()
    assert run["state"] == "FAILED"
    assert run["error_message"] == "division by zero"
    assert run["nominal_start_time"] == "2026-11-01T00:00:00Z"
    assert set(run["facets"]) == {"nominalTime", "errorMessage"}


def test_task_event_before_its_workflow_run_creates_the_run(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    run_id = uuid.uuid4()
    task_time = BASE_TIME + timedelta(minutes=2)
    post(
        client,
        ingest_headers,
        event("START", job="daily_report.extract", at=task_time, parent=(run_id, "daily_report")),
    )

    run = client.get(f"/api/v1/runs/{run_id}", headers=viewer_headers).json()
    assert run["state"] == "NEW"
    assert run["started_at"] == "2026-11-02T06:02:00Z"
    assert run["task_runs"][0]["state"] == "RUNNING"

    post(client, ingest_headers, event("START", run_id=run_id, at=BASE_TIME))
    run = client.get(f"/api/v1/runs/{run_id}", headers=viewer_headers).json()
    assert run["state"] == "RUNNING"
    assert run["started_at"] == "2026-11-02T06:00:00Z"


def test_airflow_try_number_and_job_metadata(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    run_id = uuid.uuid4()
    task_run = uuid.uuid4()
    job_facets = {
        "documentation": {"description": "Daily CSV reports from monitoring"},
        "ownership": {"owners": [{"name": "data-team"}]},
        "tags": {"tags": [{"key": "reports", "value": "reports"}, {"key": "team", "value": "ops"}]},
    }
    airflow = {"airflow": {"taskInstance": {"try_number": 2}}}
    post(
        client,
        ingest_headers,
        [
            event("START", run_id=run_id, job_facets=job_facets),
            event(
                "START",
                run_id=task_run,
                job="daily_report.load",
                parent=(run_id, "daily_report"),
                run_facets=airflow,
            ),
        ],
    )
    run = client.get(f"/api/v1/runs/{run_id}", headers=viewer_headers).json()
    assert run["task_runs"][0]["try_number"] == 2

    workflow = client.get(
        f"/api/v1/workflows/{run['workflow']['id']}", headers=viewer_headers
    ).json()
    assert workflow["description"] == "Daily CSV reports from monitoring"
    assert workflow["owners"] == ["data-team"]
    assert workflow["tags"] == ["reports", "team:ops"]


def test_newer_job_facets_win_over_older(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    doc = {"documentation": {"description": "new"}}
    old_doc = {"documentation": {"description": "old"}}
    post(client, ingest_headers, event("START", at=BASE_TIME + timedelta(days=1), job_facets=doc))
    post(client, ingest_headers, event("START", at=BASE_TIME, job_facets=old_doc))
    workflows = client.get("/api/v1/workflows", headers=viewer_headers).json()["items"]
    assert workflows[0]["description"] == "new"


def test_event_without_event_type_counts_as_other(
    client: TestClient, ingest_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    run_id = uuid.uuid4()
    post(client, ingest_headers, event("START", run_id=run_id))
    other = event("START", run_id=run_id, at=BASE_TIME + timedelta(minutes=1))
    del other["eventType"]
    post(client, ingest_headers, other)
    run = client.get(f"/api/v1/runs/{run_id}", headers=viewer_headers).json()
    assert run["state"] == "RUNNING"
    assert run["event_count"] == 2
