"""save_reports: tabular attachments become report batches, other files artifacts."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from arcadia import EblingClient
from arcadia.client.errors import EblingUnavailable
from arcadia.client.models import Artifact, ReportBatch
from arcadia.email import Attachment
from arcadia.outbox import Outbox
from arcadia.reports import (
    OUTBOX_VARIABLE,
    RUN_ID_VARIABLE,
    SENDERS,
    report_name_for,
    save_file,
    save_reports,
)
from arcadia_server import FAST_RETRIES, EblingServer

CSV = b"host;cpu\nweb-1;12.5\nweb-2;97\n"


@pytest.mark.parametrize(
    ("filename", "report"),
    [
        ("cpu_2026-12-03.csv", "cpu"),
        ("disk-20261203T0600.csv", "disk"),
        ("Überwachung 2026-12-03.csv", "Uberwachung"),
        ("memory usage.csv", "memory_usage"),
        ("2026-12-03.csv", "attachments"),
    ],
)
def test_report_names_drop_extension_and_date(filename: str, report: str) -> None:
    assert report_name_for(filename) == report


def test_csv_attachment_goes_to_its_report_linked_to_run_and_message(
    client: EblingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = str(uuid.uuid4())
    monkeypatch.setenv(RUN_ID_VARIABLE, run_id)
    name = f"cpu{uuid.uuid4().hex[:8]}_2026-12-03.csv"
    attachment = Attachment(name, "application/octet-stream", CSV, "<m1@monitoring>")

    saved = save_reports(attachment, client=client)
    assert isinstance(saved, ReportBatch)
    assert saved.row_count == 2
    assert saved.duplicate is False
    assert str(saved.run_id) == run_id
    assert saved.source_message_id == "<m1@monitoring>"
    assert saved.source_file_name == name

    again = save_reports(attachment, client=client)
    assert isinstance(again, ReportBatch)
    assert again.duplicate is True
    rows = list(client.report_rows(report_name_for(name), sort=["-cpu"]))
    assert [row["host"] for row in rows] == ["web-2", "web-1"]


def test_other_attachments_become_artifacts(client: EblingClient) -> None:
    run_id = str(uuid.uuid4())
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    saved = save_reports(
        Attachment("chart.png", "image/png", png, "<m2@monitoring>"), client=client, run_id=run_id
    )
    assert isinstance(saved, Artifact)
    assert saved.size_bytes == len(png)
    assert saved.content_type == "image/png"
    assert str(saved.run_id) == run_id
    assert saved.labels == {"source": "email", "message_id": "<m2@monitoring>"}


def test_report_waits_in_the_outbox_while_ebling_is_down(
    own_ebling: EblingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own_ebling.start()
    key = own_ebling.admin_key
    own_ebling.stop()
    name = f"disk{uuid.uuid4().hex[:8]}.csv"
    attachment = Attachment(name, "text/csv", CSV, "<m3@monitoring>")
    run_id = str(uuid.uuid4())

    with EblingClient(own_ebling.url, api_key=key, retries=FAST_RETRIES) as down:
        # Without an outbox the caller learns that nothing was saved.
        monkeypatch.delenv(OUTBOX_VARIABLE, raising=False)
        with pytest.raises(EblingUnavailable):
            save_reports(attachment, client=down, run_id=run_id)

        monkeypatch.setenv(OUTBOX_VARIABLE, str(tmp_path / "outbox.sqlite"))
        assert save_reports(attachment, client=down, run_id=run_id) is None

    outbox = Outbox(tmp_path / "outbox.sqlite", senders=SENDERS)
    assert outbox.pending_count() == 1

    own_ebling.start()
    with EblingClient(own_ebling.url, api_key=key, retries=FAST_RETRIES) as up:
        report = outbox.deliver(up)
        assert (report.delivered, report.pending, report.error) == (1, 0, None)
        rows = list(up.report_rows(report_name_for(name), sort=["host"]))
    batches = httpx.get(
        f"{own_ebling.url}/api/v1/reports/{report_name_for(name)}/batches",
        headers={"Authorization": f"Bearer {key}"},
    ).json()["items"]
    assert [row["host"] for row in rows] == ["web-1", "web-2"]
    assert [(b["run_id"], b["source_message_id"]) for b in batches] == [(run_id, "<m3@monitoring>")]


def test_files_a_task_wrote_are_saved_by_kind(client: EblingClient, tmp_path: Path) -> None:
    run_id = str(uuid.uuid4())
    table = tmp_path / f"latency{uuid.uuid4().hex[:8]}_2026-12-03.csv"
    table.write_bytes(CSV)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.7 a scanned page")

    batch = save_file(table, client=client, run_id=run_id)
    artifact = save_file(scan, client=client, run_id=run_id, labels={"kind": "invoice"})

    assert isinstance(batch, ReportBatch)
    assert batch.report.name == report_name_for(table.name)
    assert (batch.row_count, batch.source_file_name, batch.source_message_id) == (
        2,
        table.name,
        None,
    )
    assert isinstance(artifact, Artifact)
    assert (artifact.content_type, artifact.labels) == ("application/pdf", {"kind": "invoice"})
    assert str(artifact.run_id) == run_id
