"""Saving what workflows receive: tabular attachments as report batches, the rest as artifacts.

``save_reports(attachment)`` is the one call a task needs (``save_file(path)`` for a file it
wrote itself). It works out the report from the
file's name, links the batch to the run it is part of and to the message it came with, and
leaves de-duplication to Ebling: saving the same file twice stores it once.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import os
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from arcadia.client import EblingClient
from arcadia.client.errors import EblingUnavailable
from arcadia.client.models import Artifact, ReportBatch
from arcadia.outbox import OUTBOX_VARIABLE, Outbox, outbox_from_env

if TYPE_CHECKING:
    from arcadia.email import Attachment

__all__ = [
    "OUTBOX_VARIABLE",
    "REPORT",
    "RUN_ID_VARIABLE",
    "SENDERS",
    "TABULAR_CONTENT_TYPES",
    "report_name_for",
    "save_file",
    "save_reports",
]

log = logging.getLogger(__name__)

# Orchestrator integrations set this in a task's process: the id of the workflow run.
RUN_ID_VARIABLE = "ARCADIA_RUN_ID"

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


def _tabular_content_type(filename: str, content_type: str) -> str | None:
    extension = PurePath(filename).suffix.lower()
    if extension in _TABULAR_EXTENSIONS:
        return _TABULAR_EXTENSIONS[extension]
    return TABULAR_CONTENT_TYPES.get(content_type)


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
    return _save(
        attachment.filename,
        attachment.data,
        content_type=attachment.content_type or "application/octet-stream",
        report=report,
        source_message_id=attachment.message_id,
        labels={"source": "email", "message_id": attachment.message_id},
        client=client,
        run_id=run_id,
        outbox=outbox,
    )


def save_file(
    path: str | os.PathLike[str],
    *,
    report: str | None = None,
    content_type: str | None = None,
    labels: Mapping[str, str] | None = None,
    client: EblingClient | None = None,
    run_id: str | None = None,
    outbox: Outbox | None = None,
) -> ReportBatch | Artifact | None:
    """Save a file a task wrote: a CSV, JSON or Parquet file to a report, any other as an artifact.

    The same rules as :func:`save_reports`: the report is named after the file unless given,
    the file is linked to the run, and a report waits in the outbox while Ebling is down.

    Args:
        path: The file.
        report: The report to append to; by default derived from the file name.
        content_type: The file's media type; by default guessed from its extension.
        labels: ``key: value`` labels for an artifact, to find it by.
        client: The client to use; by default one from ``EBLING_URL`` and ``EBLING_API_KEY``.
        run_id: The workflow run to link to; by default ``ARCADIA_RUN_ID``.
        outbox: Where a report waits while Ebling is down; by default ``ARCADIA_OUTBOX``.

    Returns:
        The report batch, the artifact, or None when the report was left in the outbox.

    Raises:
        OSError: The file cannot be read.
        EblingError: As for :func:`save_reports`.
    """
    file = Path(path)
    guessed, _ = mimetypes.guess_type(file.name)
    return _save(
        file.name,
        file.read_bytes(),
        content_type=content_type or guessed or "application/octet-stream",
        report=report,
        source_message_id=None,
        labels=dict(labels or {}),
        client=client,
        run_id=run_id,
        outbox=outbox,
    )


def _save(
    filename: str,
    data: bytes,
    *,
    content_type: str,
    report: str | None,
    source_message_id: str | None,
    labels: dict[str, str],
    client: EblingClient | None,
    run_id: str | None,
    outbox: Outbox | None,
) -> ReportBatch | Artifact | None:
    client = client or EblingClient.from_env()
    run_id = run_id or os.environ.get(RUN_ID_VARIABLE) or None
    tabular_type = _tabular_content_type(filename, content_type)
    if tabular_type is None:
        return client.store_artifact(
            filename, data, content_type=content_type, run_id=run_id, labels=labels
        )
    payload = {
        "report": report or report_name_for(filename),
        "data": base64.b64encode(data).decode(),
        "content_type": tabular_type,
        "run_id": run_id,
        "source_message_id": source_message_id,
        "source_file_name": filename,
    }
    try:
        return _send_report(client, payload)
    except EblingUnavailable:
        outbox = outbox or outbox_from_env(SENDERS)
        if outbox is None:
            raise
        outbox.enqueue(REPORT, payload)
        log.warning("Ebling is unreachable; %s waits in %s", filename, outbox.path)
        return None
