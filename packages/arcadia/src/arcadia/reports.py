"""Saving what workflows receive: tabular attachments as report batches, the rest as artifacts.

``save_reports(attachment)`` is the one call a task needs. It works out the report from the
file's name, links the batch to the run it is part of and to the message it came with, and
leaves de-duplication to Ebling: saving the same file twice stores it once.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import PurePath
from typing import TYPE_CHECKING

from arcadia.client import EblingClient
from arcadia.client.models import Artifact, ReportBatch

if TYPE_CHECKING:
    from arcadia.email import Attachment

__all__ = ["RUN_ID_VARIABLE", "TABULAR_CONTENT_TYPES", "report_name_for", "save_reports"]

# Orchestrator integrations set this in a task's process to the id of the workflow run.
RUN_ID_VARIABLE = "ARCADIA_RUN_ID"

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


def save_reports(
    attachment: Attachment,
    *,
    report: str | None = None,
    client: EblingClient | None = None,
    run_id: str | None = None,
) -> ReportBatch | Artifact:
    """Save an attachment to Ebling: rows to a report, any other file as an artifact.

    Args:
        attachment: The file, as an e-mail source returned it.
        report: The report to append to; by default derived from the file name
            (:func:`report_name_for`).
        client: The client to use; by default one from ``EBLING_URL`` and ``EBLING_API_KEY``.
        run_id: The workflow run to link to; by default ``ARCADIA_RUN_ID``, which the
            orchestrator integrations set for each task.

    Returns:
        The report batch (``duplicate`` tells whether the file had been saved before), or
        the artifact.

    Raises:
        EblingError: Ebling refused the file, or could not be reached after retries.
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
    return client.save_report(
        report or report_name_for(attachment.filename),
        attachment.data,
        content_type=content_type,
        run_id=run_id,
        source_message_id=attachment.message_id,
        source_file_name=attachment.filename,
    )
