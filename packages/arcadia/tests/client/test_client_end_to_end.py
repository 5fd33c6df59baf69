"""Every method of the synchronous client, against a real Ebling over HTTP."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from arcadia.client import (
    EblingClient,
    EblingConfigError,
    EblingRequestError,
    RunState,
)
from arcadia_events import START_TIME, finished_run, run_event
from arcadia_server import FAST_RETRIES, EblingServer, free_port


def test_sent_events_make_a_run_with_its_task_runs(client: EblingClient, namespace: str) -> None:
    run_id, events = finished_run(namespace=namespace, tasks=("extract", "load"))

    summary = client.send_lineage(events)

    assert (summary.received, summary.stored, summary.duplicates) == (6, 6, 0)
    run = client.get_run(run_id)
    assert run.id == run_id
    assert run.state == RunState.COMPLETED
    assert run.workflow.namespace == namespace
    assert run.workflow.name == "nightly_export"
    assert run.started_at == START_TIME
    assert run.duration_seconds == pytest.approx(5 * 60)
    assert run.event_count == 2
    assert run.task_runs is not None
    assert [task.task_name for task in run.task_runs] == [
        "nightly_export.extract",
        "nightly_export.load",
    ]
    assert all(task.state == RunState.COMPLETED for task in run.task_runs)


def test_events_sent_again_are_stored_once(client: EblingClient, namespace: str) -> None:
    _, events = finished_run(namespace=namespace)
    client.send_lineage(events)

    summary = client.send_lineage(events)

    assert (summary.stored, summary.duplicates) == (0, 2)


def test_a_large_batch_goes_compressed_and_arrives_whole(
    client: EblingClient, namespace: str
) -> None:
    runs = [finished_run(namespace=namespace, job=f"job_{i}") for i in range(300)]
    events = [event for _, run_events in runs for event in run_events]

    summary = client.send_lineage(events)

    assert summary.stored == 600
    assert client.get_run(runs[-1][0]).state == RunState.COMPLETED


def test_no_events_make_no_request(ebling: EblingServer) -> None:
    # No key: a request would be refused, so a result proves none was made.
    with EblingClient(ebling.url) as anonymous:
        summary = anonymous.send_lineage([])

    assert (summary.received, summary.stored, summary.duplicates) == (0, 0, 0)


def test_a_report_saved_from_disk_reads_back_filtered_and_sorted(
    client: EblingClient, report_name: str, tmp_path: Path
) -> None:
    run_id, events = finished_run()
    client.send_lineage(events)
    csv = tmp_path / "cpu_2026-12-03.csv"
    csv.write_text("host,usage\nalpha,91\nbeta,42\ngamma,97\ndelta,88\n")

    batch = client.save_report(report_name, csv, run_id=run_id, source_message_id="<m1@mail>")

    assert not batch.duplicate
    assert batch.row_count == 4
    assert batch.run_id == run_id
    assert batch.source_file_name == "cpu_2026-12-03.csv"
    assert batch.source_message_id == "<m1@mail>"
    assert batch.content_hash == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert batch.report.name == report_name
    assert [(c.name, c.type) for c in batch.columns] == [("host", "string"), ("usage", "int64")]

    rows = client.report_rows(report_name, filters=[("usage", "gt", 80)], sort="-usage")
    assert list(rows) == [
        {"host": "gamma", "usage": 97},
        {"host": "alpha", "usage": 91},
        {"host": "delta", "usage": 88},
    ]
    hosts = client.report_rows(
        report_name, filters=["host:contains:a"], sort=["host"], columns=["host"], limit=2
    )
    assert list(hosts) == [{"host": "alpha"}, {"host": "beta"}]


def test_the_same_file_saved_again_is_the_earlier_batch(
    client: EblingClient, report_name: str
) -> None:
    first = client.save_report(report_name, b"a,b\n1,2\n")

    again = client.save_report(report_name, io.BytesIO(b"a,b\n1,2\n"))

    assert again.duplicate
    assert again.id == first.id
    assert again.report.row_count == 1


def test_a_report_saved_as_json_lines(client: EblingClient, report_name: str) -> None:
    client.save_report(
        report_name,
        b'{"city": "Graz", "visits": 3}\n{"city": "Linz", "visits": 5}\n',
        content_type="application/x-ndjson",
    )

    assert list(client.report_rows(report_name, sort="city")) == [
        {"city": "Graz", "visits": 3},
        {"city": "Linz", "visits": 5},
    ]


def test_report_rows_follow_the_cursor_to_the_end(
    client: EblingClient, report_name: str, tmp_path: Path
) -> None:
    csv = tmp_path / "numbers.csv"
    csv.write_text("n\n" + "".join(f"{n}\n" for n in range(2_345)))
    client.save_report(report_name, csv)

    everything = list(client.report_rows(report_name, sort="n", limit=None))
    some = list(client.report_rows(report_name, sort="n", limit=1_500))

    assert [row["n"] for row in everything] == list(range(2_345))
    assert [row["n"] for row in some] == list(range(1_500))


def test_an_artifact_is_stored_with_its_name_type_labels_and_run(
    client: EblingClient, tmp_path: Path
) -> None:
    run_id, events = finished_run()
    client.send_lineage(events)
    scan = tmp_path / "invoice.pdf"
    scan.write_bytes(b"%PDF-1.7 " + bytes(range(256)) * 1_000)

    artifact = client.store_artifact(
        "invoice.pdf",
        scan,
        content_type="application/pdf",
        run_id=run_id,
        labels={"kind": "invoice", "customer": "acme"},
    )

    assert artifact.name == "invoice.pdf"
    assert artifact.content_type == "application/pdf"
    assert artifact.size_bytes == scan.stat().st_size
    assert artifact.sha256 == hashlib.sha256(scan.read_bytes()).hexdigest()
    assert artifact.labels == {"kind": "invoice", "customer": "acme"}
    assert artifact.run_id == run_id


def test_list_runs_pages_through_every_run_newest_first(
    client: EblingClient, namespace: str
) -> None:
    started = [START_TIME + timedelta(hours=hour) for hour in range(7)]
    run_ids = []
    for moment in started:
        run_id, events = finished_run(namespace=namespace, start=moment)
        run_ids.append(run_id)
        client.send_lineage(events)

    runs = list(client.list_runs(namespace=namespace, page_size=3))

    assert [run.id for run in runs] == run_ids[::-1]
    assert all(run.task_runs is None for run in runs)


def test_list_runs_filters_by_state_and_time(client: EblingClient, namespace: str) -> None:
    done, events = finished_run(namespace=namespace)
    client.send_lineage(events)
    running = uuid.uuid4()
    later = START_TIME + timedelta(days=1)
    client.send_lineage([run_event("START", running, namespace=namespace, at=later)])

    assert [r.id for r in client.list_runs(namespace=namespace, states=["RUNNING"])] == [running]
    assert [r.id for r in client.list_runs(namespace=namespace, until=later)] == [done]
    assert [r.id for r in client.list_runs(namespace=namespace, since=later)] == [running]


def test_list_runs_refuses_a_page_size_ebling_would_refuse(client: EblingClient) -> None:
    with pytest.raises(ValueError, match="page_size must be between 1 and 500"):
        client.list_runs(page_size=501)


def test_health_says_whether_ebling_answers(ebling: EblingServer) -> None:
    with EblingClient(ebling.url) as up:
        assert up.health()
    with EblingClient(f"http://127.0.0.1:{free_port()}", retries=FAST_RETRIES) as down:
        assert not down.health()


def test_from_env_reads_the_url_and_the_key(
    ebling: EblingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EBLING_URL", ebling.url)
    monkeypatch.setenv("EBLING_API_KEY", ebling.admin_key)
    run_id, events = finished_run()

    with EblingClient.from_env() as client:
        client.send_lineage(events)
        assert client.get_run(run_id).id == run_id
        assert str(client.base_url) == ebling.url


def test_from_env_without_a_url_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EBLING_URL", raising=False)

    with pytest.raises(EblingConfigError, match=r"EBLING_URL .* set it to Ebling's address"):
        EblingClient.from_env()


def test_an_unknown_run_is_a_404_request_error(client: EblingClient) -> None:
    with pytest.raises(EblingRequestError) as raised:
        client.get_run(uuid.uuid4())

    assert raised.value.status == 404
    assert raised.value.problem.type == "urn:ebling:problem:not-found"


def test_any_credentials_that_give_a_header_will_do(ebling: EblingServer) -> None:
    class Rotating:
        """Stands in for an OAuth2 provider: asked before every request, never cached."""

        def __init__(self) -> None:
            self.asked = 0

        def authorization(self) -> str:
            self.asked += 1
            return f"Bearer {ebling.admin_key}"

    credentials = Rotating()
    run_id, events = finished_run()
    with EblingClient(ebling.url, auth=credentials) as client:
        client.send_lineage(events)
        client.get_run(run_id)

    assert credentials.asked == 2
