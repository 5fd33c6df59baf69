"""save_reports: tabular attachments become report batches, other files artifacts."""

from __future__ import annotations

import uuid

import pytest
from arcadia import EblingClient
from arcadia.client.models import Artifact, ReportBatch
from arcadia.email import Attachment
from arcadia.reports import RUN_ID_VARIABLE, report_name_for, save_reports

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
