"""Report a week of sample workflow runs to Ebling, as an orchestrator would.

Three workflows run daily at fixed hours; one of them fails now and then. Each run of the
monitoring workflow also saves the day's CSV report, linked to its run. Run ids, times and
files are derived from the workflow and the day, so sending the same week again stores
nothing new: Ebling recognises every event and every file as a duplicate.

    python report_sample_runs.py --url http://127.0.0.1:8080 --api-key ebl_...
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

PRODUCER = "https://github.com/automation-platform/examples/openlineage"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
NAMESPACE_IDS = uuid.UUID("5a0f8d8e-2f39-4b59-9a43-4a1f4f6e8c11")

WORKFLOWS: list[dict[str, Any]] = [
    {
        "namespace": "airflow://etl-prod",
        "name": "monitoring_system_report_automation",
        "hour": 6,
        "tasks": [
            ("wait_for_monitoring_reports_email", 4),
            ("get_monitoring_reports_email", 1),
            ("save_csv_in_database", 3),
        ],
        "description": "Saves the monitoring system's daily CSV reports from e-mail.",
        "owners": ["ops-team"],
        "tags": ["reports", "email"],
        "fails_on": set(),
    },
    {
        "namespace": "dagster://finance",
        "name": "invoice_ingestion",
        "hour": 2,
        "tasks": [("fetch_invoices", 6), ("classify_documents", 12), ("record_usage", 1)],
        "description": "Classifies scanned invoices and records their usage.",
        "owners": ["finance-data"],
        "tags": ["documents"],
        "fails_on": {3},  # days ago
    },
    {
        "namespace": "prefect://analytics",
        "name": "warehouse_refresh",
        "hour": 4,
        "tasks": [("extract", 9), ("transform", 15), ("load", 5)],
        "description": "Refreshes the analytics warehouse.",
        "owners": ["analytics"],
        "tags": ["warehouse"],
        "fails_on": {1, 5},
    },
]


def _event(
    event_type: str,
    at: datetime,
    run_id: uuid.UUID,
    namespace: str,
    job: str,
    *,
    run_facets: dict[str, Any] | None = None,
    job_facets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventTime": at.isoformat(),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(run_id), "facets": run_facets or {}},
        "job": {"namespace": namespace, "name": job, "facets": job_facets or {}},
        "inputs": [],
        "outputs": [],
    }


def workflow_events(workflow: dict[str, Any], day: datetime, days_ago: int) -> list[dict[str, Any]]:
    """The events of one run of ``workflow`` on ``day``, with its tasks one after another."""
    namespace, name = workflow["namespace"], workflow["name"]
    start = day.replace(hour=workflow["hour"])
    run_id = uuid.uuid5(NAMESPACE_IDS, f"{namespace}/{name}/{start.date()}")
    job_facets = {
        "documentation": {"description": workflow["description"]},
        "ownership": {"owners": [{"name": owner} for owner in workflow["owners"]]},
        "tags": {
            "tags": [{"key": tag, "value": tag, "source": "example"} for tag in workflow["tags"]]
        },
    }
    nominal = {"nominalTime": {"nominalStartTime": start.isoformat()}}
    events = [
        _event("START", start, run_id, namespace, name, run_facets=nominal, job_facets=job_facets)
    ]

    failing = days_ago in workflow["fails_on"]
    moment = start
    parent = {
        "run": {"runId": str(run_id)},
        "job": {"namespace": namespace, "name": name},
    }
    for index, (task, minutes) in enumerate(workflow["tasks"]):
        task_id = uuid.uuid5(run_id, task)
        task_job = f"{name}.{task}"
        events.append(
            _event("START", moment, task_id, namespace, task_job, run_facets={"parent": parent})
        )
        moment += timedelta(minutes=minutes, seconds=7 * index)
        if failing and index == len(workflow["tasks"]) - 1:
            error = {
                "message": f"{task} failed: upstream file was empty",
                "programmingLanguage": "python",
            }
            facets = {"parent": parent, "errorMessage": error}
            events.append(_event("FAIL", moment, task_id, namespace, task_job, run_facets=facets))
            events.append(_event("FAIL", moment, run_id, namespace, name))
            return events
        events.append(
            _event("COMPLETE", moment, task_id, namespace, task_job, run_facets={"parent": parent})
        )
    events.append(_event("COMPLETE", moment, run_id, namespace, name))
    return events


def sample_events(now: datetime, days: int = 7) -> list[dict[str, Any]]:
    """A week of runs up to ``now``; runs that would end in the future are left out."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    events = []
    for days_ago in range(days, -1, -1):
        day = today - timedelta(days=days_ago)
        for workflow in WORKFLOWS:
            run = workflow_events(workflow, day, days_ago)
            if datetime.fromisoformat(run[-1]["eventTime"]) <= now:
                events += run
    return events


def monitoring_csv(day: datetime) -> bytes:
    """The CSV a monitoring system would mail for ``day``: one row per host and hour."""
    lines = ["host;checked_at;cpu_percent;memory_percent;status"]
    for hour in range(24):
        for index, host in enumerate(("web-1", "web-2", "db-1", "cache-1")):
            moment = day.replace(hour=hour)
            cpu = (hour * 7 + index * 13 + day.day * 3) % 100
            memory = 40 + (hour * 3 + index * 11) % 55
            status = "alert" if cpu > 90 else "ok"
            lines.append(f"{host};{moment.isoformat()};{cpu}.{index};{memory};{status}")
    return ("\r\n".join(lines) + "\r\n").encode()


def send_reports(client: httpx.Client, events: list[dict[str, Any]]) -> tuple[int, int]:
    """Save the CSV of every monitoring run among ``events``; (stored, already known)."""
    stored = known = 0
    monitoring = WORKFLOWS[0]["name"]
    for event in events:
        if event["job"]["name"] != monitoring or event["eventType"] != "COMPLETE":
            continue
        day = datetime.fromisoformat(event["eventTime"]).replace(hour=0, minute=0, second=0)
        name = f"cpu_{day.date()}.csv"
        response = client.post(
            "/api/v1/reports/monitoring_cpu/batches",
            params={"run_id": event["run"]["runId"], "source_file_name": name},
            content=monitoring_csv(day),
            headers={"Content-Type": "text/csv"},
        )
        response.raise_for_status()
        if response.json()["duplicate"]:
            known += 1
        else:
            stored += 1
    return stored, known


def main() -> int:
    """Send the sample week and print what Ebling stored."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="Ebling's base URL")
    parser.add_argument("--api-key", required=True, help="a key with the ingest or admin role")
    args = parser.parse_args()

    events = sample_events(datetime.now(UTC))
    headers = {"Authorization": f"Bearer {args.api_key}"}
    with httpx.Client(base_url=args.url, headers=headers, timeout=30) as client:
        response = client.post("/api/v1/lineage", json=events)
        if response.is_error:
            status = response.status_code
            print(f"Ebling refused the events ({status}): {response.text}", file=sys.stderr)
            return 1
        summary = response.json()
        stored, known = summary["stored"], summary["duplicates"]
        print(f"Sample runs sent: {stored} events stored, {known} already known.")
        files, known_files = send_reports(client, events)
        print(f"Sample reports sent: {files} CSV files stored, {known_files} already known.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
