"""Builders of OpenLineage events for tests, with sensible defaults for every field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

PRODUCER = "https://example.org/tests/ebling"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
BASE_TIME = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def event(
    event_type: str = "START",
    *,
    run_id: uuid.UUID | str | None = None,
    namespace: str = "airflow://etl-test",
    job: str = "daily_report",
    at: datetime | None = None,
    parent: tuple[uuid.UUID, str] | None = None,
    run_facets: dict[str, Any] | None = None,
    job_facets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One RunEvent as a producer would send it; ``parent`` is (run id, workflow name)."""
    facets = dict(run_facets or {})
    if parent is not None:
        parent_run, parent_job = parent
        facets["parent"] = {
            "_producer": PRODUCER,
            "_schemaURL": "https://openlineage.io/spec/facets/1-1-0/ParentRunFacet.json",
            "run": {"runId": str(parent_run)},
            "job": {"namespace": namespace, "name": parent_job},
        }
    return {
        "eventType": event_type,
        "eventTime": (at or BASE_TIME).isoformat(),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(run_id or uuid.uuid4()), "facets": facets},
        "job": {"namespace": namespace, "name": job, "facets": job_facets or {}},
        "inputs": [],
        "outputs": [],
    }


def error_facet(message: str) -> dict[str, Any]:
    """An ``errorMessage`` run facet."""
    return {
        "errorMessage": {
            "_producer": PRODUCER,
            "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json",
            "message": message,
            "programmingLanguage": "python",
        }
    }


def workflow_run(
    *,
    job: str = "daily_report",
    tasks: tuple[str, ...] = ("extract", "load"),
    start: datetime = BASE_TIME,
    fail_task: str | None = None,
    namespace: str = "airflow://etl-test",
) -> tuple[uuid.UUID, list[dict[str, Any]]]:
    """The events of one whole workflow run with its tasks, one minute apart."""
    run_id = uuid.uuid4()
    events = [event("START", run_id=run_id, job=job, at=start, namespace=namespace)]
    moment = start
    for task in tasks:
        task_run = uuid.uuid4()
        moment += timedelta(minutes=1)
        common = {"run_id": task_run, "job": f"{job}.{task}", "parent": (run_id, job)}
        events.append(event("START", at=moment, namespace=namespace, **common))
        moment += timedelta(minutes=1)
        if task == fail_task:
            events.append(
                event(
                    "FAIL", at=moment, namespace=namespace, run_facets=error_facet("boom"), **common
                )
            )
        else:
            events.append(event("COMPLETE", at=moment, namespace=namespace, **common))
    final = "FAIL" if fail_task else "COMPLETE"
    events.append(
        event(final, run_id=run_id, job=job, at=moment + timedelta(seconds=1), namespace=namespace)
    )
    return run_id, events
