"""The official openlineage-python client reports to Ebling over HTTP with an API key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from ebling.settings import Settings
from live_server import serve
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import error_message_run, parent_run
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpCompression,
    HttpConfig,
    HttpTransport,
)

PRODUCER = "https://example.org/tests/openlineage-client"


@pytest.mark.parametrize("compression", [None, HttpCompression.GZIP])
def test_official_client_over_http(
    settings: Settings,
    ingest_headers: dict[str, str],
    viewer_headers: dict[str, str],
    compression: HttpCompression | None,
) -> None:
    api_key = ingest_headers["Authorization"].removeprefix("Bearer ")
    dag_run = str(uuid.uuid4())
    task_run = str(uuid.uuid4())
    now = datetime.now(UTC)

    with serve(settings) as base_url:
        config = HttpConfig(
            url=base_url,
            auth=ApiKeyTokenProvider({"apiKey": api_key}),
            compression=compression,
        )
        client = OpenLineageClient(transport=HttpTransport(config))
        namespace = "airflow://etl-prod"
        dag = Job(namespace=namespace, name="monitoring_reports")
        parent = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=dag_run),
            job=parent_run.Job(namespace=namespace, name="monitoring_reports"),
        )
        task = Job(namespace=namespace, name="monitoring_reports.save_csv")
        failure = error_message_run.ErrorMessageRunFacet(
            message="CSV has no header row", programmingLanguage="python"
        )

        def run_event(state: RunState, run: Run, job: Job) -> RunEvent:
            return RunEvent(
                eventType=state, eventTime=now.isoformat(), run=run, job=job, producer=PRODUCER
            )

        for event in (
            run_event(RunState.START, Run(runId=dag_run), dag),
            run_event(RunState.START, Run(runId=task_run, facets={"parent": parent}), task),
            run_event(
                RunState.FAIL,
                Run(runId=task_run, facets={"parent": parent, "errorMessage": failure}),
                task,
            ),
            run_event(RunState.FAIL, Run(runId=dag_run), dag),
        ):
            client.emit(event)

        runs = httpx.get(f"{base_url}/api/v1/runs", headers=viewer_headers).json()["items"]
        run = httpx.get(f"{base_url}/api/v1/runs/{dag_run}", headers=viewer_headers).json()

    assert [r["id"] for r in runs] == [dag_run]
    assert run["state"] == "FAILED"
    assert run["workflow"] == {
        "id": run["workflow"]["id"],
        "namespace": namespace,
        "name": "monitoring_reports",
    }
    assert run["producer"] == PRODUCER
    assert len(run["task_runs"]) == 1
    assert run["task_runs"][0]["state"] == "FAILED"
    assert run["task_runs"][0]["error_message"] == "CSV has no header row"
