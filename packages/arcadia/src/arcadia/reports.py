"""Saving what workflows receive: tabular attachments as report batches, the rest as artifacts.

``save_reports(attachment)`` is the one call a task needs. It works out the report from the
file's name, links the batch to the run it is part of and to the message it came with, and
leaves de-duplication to Ebling: saving the same file twice stores it once.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import unicodedata
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from arcadia.client import EblingClient
from arcadia.client.errors import EblingUnavailable
from arcadia.client.models import Artifact, ReportBatch
from arcadia.outbox import Outbox

if TYPE_CHECKING:
    from arcadia.email import Attachment

__all__ = [
    "OUTBOX_VARIABLE",
    "REPORT",
    "RUN_ID_VARIABLE",
    "SENDERS",
    "TABULAR_CONTENT_TYPES",
    "report_name_for",
    "save_reports",
]

log = logging.getLogger(__name__)

# Orchestrator integrations set these in a task's process: the id of the workflow run, and
# the outbox a report waits in while Ebling cannot be reached.
RUN_ID_VARIABLE = "ARCADIA_RUN_ID"
OUTBOX_VARIABLE = "ARCADIA_OUTBOX"

# The outbox kind of a report file waiting for Ebling.
REPORT = "report"

TABULAR_CONTENT_TYPES = {
    "text/csv": "text/csv",
    "application/csv": "text/csv",
    "application/vnd.ms-excel": "text/csv",  # what many mail clients call a .csv file
    "application/json": "application/json",
    "application/x-ndjson": "application/x-ndjson",
    "application/vnd.apache.parquet": "application/vnd.apache.parquet",
}
_TABULAR_EXTENSIONS = {
    ".csv": "text/csv",
    ".tsv": "text/csv",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".ndjson": "application/x-ndjson",
    ".parquet": "application/vnd.apache.parquet",
}

# A date or time stamped onto a daily file's name: cpu_2026-12-03.csv, disk-20261203T0600.csv.
_DATE_SUFFIX = re.compile(r"[_\-. ]*\d{4}-?\d{2}-?\d{2}([T_\-]?\d{2,6})?$")
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_.-]+")


def report_name_for(filename: str) -> str:
    """The report a file belongs to: its name without extension and date stamp.

    ``cpu_2026-12-03.csv`` and ``cpu_2026-12-04.csv`` both go to ``cpu``, so each day's
    file becomes one more batch of the same table.
    """
    stem = _DATE_SUFFIX.sub("", PurePath(filename).stem)
    # Report names are ASCII; keep letters recognisable (Ü becomes U) rather than dropping them.
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    name = _NOT_ALLOWED.sub("_", ascii_stem).strip("_.-")
    return name[:200] or "attachments"


def _tabular_content_type(attachment: Attachment) -> str | None:
    extension = PurePath(attachment.filename).suffix.lower()
    if extension in _TABULAR_EXTENSIONS:
        return _TABULAR_EXTENSIONS[extension]
    return TABULAR_CONTENT_TYPES.get(attachment.content_type)


def _send_report(client: EblingClient, payload: dict[str, Any]) -> ReportBatch:
    return client.save_report(
        payload["report"],
        base64.b64decode(payload["data"]),
        content_type=payload["content_type"],
        run_id=payload["run_id"],
        source_message_id=payload["source_message_id"],
        source_file_name=payload["source_file_name"],
    )


# What an Outbox needs to deliver the reports save_reports leaves in it.
SENDERS = {REPORT: _send_report}


def save_reports(
    attachment: Attachment,
    *,
    report: str | None = None,
    client: EblingClient | None = None,
    run_id: str | None = None,
    outbox: Outbox | None = None,
) -> ReportBatch | Artifact | None:
    """Save an attachment to Ebling: rows to a report, any other file as an artifact.

    Saving a report is safe to repeat (Ebling stores the same file once per report), so if
    Ebling cannot be reached the file waits in the outbox and goes out with its next
    delivery; the workflow goes on.

    Args:
        attachment: The file, as an e-mail source returned it.
        report: The report to append to; by default derived from the file name
            (:func:`report_name_for`).
        client: The client to use; by default one from ``EBLING_URL`` and ``EBLING_API_KEY``.
        run_id: The workflow run to link to; by default ``ARCADIA_RUN_ID``, which the
            orchestrator integrations set for each task.
        outbox: Where a report waits while Ebling is down; by default the one named by
            ``ARCADIA_OUTBOX``. Without one, an unreachable Ebling raises.

    Returns:
        The report batch (``duplicate`` tells whether the file had been saved before), the
        artifact, or None when the report was left in the outbox.

    Raises:
        EblingError: Ebling refused the file, or could not be reached and there is no outbox
            (artifacts are never queued: each upload makes a new artifact).
    """
    client = client or EblingClient.from_env()
    run_id = run_id or os.environ.get(RUN_ID_VARIABLE) or None
    content_type = _tabular_content_type(attachment)
    if content_type is None:
        return client.store_artifact(
            attachment.filename,
            attachment.data,
            content_type=attachment.content_type or "application/octet-stream",
            run_id=run_id,
            labels={"source": "email", "message_id": attachment.message_id},
        )
    payload = {
        "report": report or report_name_for(attachment.filename),
        "data": base64.b64encode(attachment.data).decode(),
        "content_type": content_type,
        "run_id": run_id,
        "source_message_id": attachment.message_id,
        "source_file_name": attachment.filename,
    }
    try:
        return _send_report(client, payload)
    except EblingUnavailable:
        if outbox is None:
            path = os.environ.get(OUTBOX_VARIABLE)
            if not path:
                raise
            outbox = Outbox(path, senders=SENDERS)
        outbox.enqueue(REPORT, payload)
        log.warning("Ebling is unreachable; %s waits in %s", attachment.filename, outbox.path)
        return None
