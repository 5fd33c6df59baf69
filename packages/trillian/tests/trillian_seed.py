"""Runs, a report and an artifact for the tests, sent to Ebling over its public API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

PRODUCER = "https://example.org/trillian-tests"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
IDS = uuid.UUID("0b7c7f39-61a2-4c1e-8d53-3a4f3b5f9d11")
FAILURE = (
    "Traceback (most recent call last):\n"
    '  File "load.py", line 12, in load\n'
    "    raise ValueError(error)\n"
    "ValueError: the warehouse refused 3 rows: column 'amount' is not a number"
)


@dataclass(frozen=True)
class Seeded:
    """What the tests look for."""

    failed_run_id: str
    running_run_id: str
    report_run_id: str
    running_namespace: str
    report_name: str
    artifact_name: str


def event(
    event_type: str,
    at: datetime,
    run_id: uuid.UUID,
    namespace: str,
    job: str,
    *,
    parent: uuid.UUID | None = None,
    parent_job: str | None = None,
    error: str | None = None,
    nominal: datetime | None = None,
    job_facets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One OpenLineage run event."""
    facets: dict[str, Any] = {}
    if parent is not None:
        facets["parent"] = {
            "run": {"runId": str(parent)},
            "job": {"namespace": namespace, "name": parent_job},
        }
    if error is not None:
        facets["errorMessage"] = {"message": error, "programmingLanguage": "python"}
    if nominal is not None:
        facets["nominalTime"] = {"nominalStartTime": nominal.isoformat()}
    return {
        "eventType": event_type,
        "eventTime": at.isoformat(),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(run_id), "facets": facets},
        "job": {"namespace": namespace, "name": job, "facets": job_facets or {}},
        "inputs": [],
        "outputs": [],
    }


def periodic_runs(
    namespace: str,
    name: str,
    tasks: list[tuple[str, int]],
    *,
    count: int,
    first: datetime,
    every: timedelta,
    fail_on: set[int],
    owners: list[str],
    tags: list[str],
) -> tuple[list[dict[str, Any]], dict[int, uuid.UUID]]:
    """Events of ``count`` runs, ``every`` apart, the last at ``first``; runs are numbered
    1 (the latest) to ``count``, and those numbered in ``fail_on`` fail."""
    job_facets = {
        "documentation": {"description": f"The {name.replace('_', ' ')} pipeline."},
        "ownership": {"owners": [{"name": owner} for owner in owners]},
        "tags": {"tags": [{"key": t, "value": t, "source": "tests"} for t in tags]},
    }
    events: list[dict[str, Any]] = []
    run_ids: dict[int, uuid.UUID] = {}
    for number in range(count, 0, -1):
        start = first - every * (number - 1)
        run_id = uuid.uuid5(IDS, f"{namespace}/{name}/{start.isoformat()}")
        run_ids[number] = run_id
        events.append(
            event("START", start, run_id, namespace, name, nominal=start, job_facets=job_facets)
        )
        moment = start
        failed = number in fail_on
        for index, (task, minutes) in enumerate(tasks):
            task_id = uuid.uuid5(run_id, task)
            job = f"{name}.{task}"
            events.append(
                event("START", moment, task_id, namespace, job, parent=run_id, parent_job=name)
            )
            moment += timedelta(minutes=minutes + number % 3, seconds=13 * index + number)
            last = index == len(tasks) - 1
            kind = "FAIL" if failed and last else "COMPLETE"
            error = FAILURE if failed and last else None
            events.append(
                event(
                    kind,
                    moment,
                    task_id,
                    namespace,
                    job,
                    parent=run_id,
                    parent_job=name,
                    error=error,
                )
            )
        events.append(event("FAIL" if failed else "COMPLETE", moment, run_id, namespace, name))
    return events, run_ids


def sensor_csv(start: datetime) -> bytes:
    """Readings of three sensors every hour for two days."""
    lines = ["sensor,measured_at,temperature,humidity"]
    for hour in range(48):
        for index, sensor in enumerate(("s-1", "s-2", "s-3")):
            at = (start + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")
            temperature = 18 + index * 2 + (hour % 12) * 0.5
            lines.append(f"{sensor},{at},{temperature:.1f},{40 + (hour * 7 + index) % 30}")
    return ("\n".join(lines) + "\n").encode()


def seed(ebling_url: str, admin_key: str) -> Seeded:
    """Send the test data; returns the ids the tests navigate to."""
    now = datetime.now(UTC)
    yesterday = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    sales, sales_ids = periodic_runs(
        "airflow://tests",
        "nightly_sales_etl",
        [("extract", 4), ("transform", 9), ("load", 3)],
        count=10,
        first=yesterday + timedelta(hours=1),
        every=timedelta(days=1),
        fail_on={3},
        owners=["data-team"],
        tags=["sales", "nightly"],
    )
    invoices, _ = periodic_runs(
        "dagster://tests",
        "invoice_ingestion",
        [("fetch", 2), ("classify", 6), ("record_usage", 1)],
        count=10,
        first=yesterday + timedelta(hours=2),
        every=timedelta(days=1),
        fail_on={1, 6},
        owners=["finance-data"],
        tags=["documents"],
    )
    # Hourly runs over the last day and a half, so that the overview has something to show
    # whatever the hour the tests run at.
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    hourly, _ = periodic_runs(
        "airflow://tests",
        "hourly_metrics",
        [("collect", 1), ("aggregate", 2)],
        count=36,
        first=this_hour - timedelta(hours=1),
        every=timedelta(hours=1),
        fail_on={4, 5, 19},
        owners=["ops-team"],
        tags=["metrics"],
    )
    namespace = "prefect://tests"
    running = uuid.uuid5(IDS, f"running/{now.isoformat()}")
    live = running_run_events(namespace, running, now)
    headers = {"Authorization": f"Bearer {admin_key}"}
    with httpx.Client(base_url=ebling_url, headers=headers, timeout=60) as client:
        client.post("/api/v1/lineage", json=sales + invoices + hourly + live).raise_for_status()
        report_run = str(sales_ids[2])
        client.post(
            "/api/v1/reports/sensor_readings/batches",
            params={"run_id": report_run, "source_file_name": "sensors.csv"},
            content=sensor_csv(now - timedelta(days=2)),
            headers={"Content-Type": "text/csv"},
        ).raise_for_status()
        client.post(
            "/api/v1/artifacts",
            params={"name": "load-summary.txt", "run_id": report_run, "label": "kind:summary"},
            content=b"144 rows loaded\n",
            headers={"Content-Type": "text/plain"},
        ).raise_for_status()
    return Seeded(
        failed_run_id=str(sales_ids[3]),
        running_run_id=str(running),
        report_run_id=report_run,
        running_namespace=namespace,
        report_name="sensor_readings",
        artifact_name="load-summary.txt",
    )


def running_run_events(namespace: str, run_id: uuid.UUID, now: datetime) -> list[dict[str, Any]]:
    """A run in progress: started two minutes ago, its first task done, its second running."""
    first, second = uuid.uuid5(run_id, "extract"), uuid.uuid5(run_id, "score")
    started = now - timedelta(minutes=2)
    job = "live_scoring"
    return [
        event("START", started, run_id, namespace, job),
        event("START", started, first, namespace, f"{job}.extract", parent=run_id, parent_job=job),
        event(
            "COMPLETE",
            started + timedelta(seconds=40),
            first,
            namespace,
            f"{job}.extract",
            parent=run_id,
            parent_job=job,
        ),
        event(
            "START",
            started + timedelta(seconds=41),
            second,
            namespace,
            f"{job}.score",
            parent=run_id,
            parent_job=job,
        ),
    ]


def start_running_run(ebling_url: str, admin_key: str, namespace: str) -> str:
    """Report a new run in progress; returns its id."""
    now = datetime.now(UTC)
    run_id = uuid.uuid4()
    headers = {"Authorization": f"Bearer {admin_key}"}
    httpx.post(
        f"{ebling_url}/api/v1/lineage",
        json=running_run_events(namespace, run_id, now),
        headers=headers,
        timeout=30,
    ).raise_for_status()
    return str(run_id)


def finish_running_run(ebling_url: str, admin_key: str, namespace: str, run_id: str) -> None:
    """Complete a run that ``start_running_run`` began, as its orchestrator would."""
    now = datetime.now(UTC)
    running = uuid.UUID(run_id)
    second = uuid.uuid5(running, "score")
    job = "live_scoring"
    events = [
        event("COMPLETE", now, second, namespace, f"{job}.score", parent=running, parent_job=job),
        event("COMPLETE", now, running, namespace, job),
    ]
    headers = {"Authorization": f"Bearer {admin_key}"}
    httpx.post(
        f"{ebling_url}/api/v1/lineage", json=events, headers=headers, timeout=30
    ).raise_for_status()
