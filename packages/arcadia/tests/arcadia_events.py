"""OpenLineage run events for Arcadia's tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

PRODUCER = "https://example.org/tests/arcadia"
RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
START_TIME = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def run_event(
    event_type: str,
    run_id: uuid.UUID,
    *,
    job: str = "nightly_export",
    namespace: str = "airflow://arcadia-tests",
    at: datetime = START_TIME,
    parent: tuple[uuid.UUID, str] | None = None,
) -> dict[str, Any]:
    """One RunEvent; ``parent`` (run id, job name) makes it a task run of that run."""
    facets: dict[str, Any] = {}
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
        "eventTime": at.isoformat(),
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA,
        "run": {"runId": str(run_id), "facets": facets},
        "job": {"namespace": namespace, "name": job, "facets": {}},
        "inputs": [],
        "outputs": [],
    }


def finished_run(
    *,
    job: str = "nightly_export",
    namespace: str = "airflow://arcadia-tests",
    tasks: tuple[str, ...] = (),
    start: datetime = START_TIME,
) -> tuple[uuid.UUID, list[dict[str, Any]]]:
    """The events of one completed workflow run and its tasks, a minute apart."""
    run_id = uuid.uuid4()
    moment = start
    events = [run_event("START", run_id, job=job, namespace=namespace, at=moment)]
    for task in tasks:
        task_run = uuid.uuid4()
        for event_type in ("START", "COMPLETE"):
            moment += timedelta(minutes=1)
            events.append(
                run_event(
                    event_type,
                    task_run,
                    job=f"{job}.{task}",
                    namespace=namespace,
                    at=moment,
                    parent=(run_id, job),
                )
            )
    moment += timedelta(minutes=1)
    events.append(run_event("COMPLETE", run_id, job=job, namespace=namespace, at=moment))
    return run_id, events


def invalid_event() -> dict[str, Any]:
    """An event Ebling refuses: no eventTime, and an eventType the spec does not have."""
    event = run_event("START", uuid.uuid4())
    del event["eventTime"]
    event["eventType"] = "BEGIN"
    return event
