"""The report catalogue: reports, their batches, and how a file becomes a batch.

A batch goes through three short steps so that no database transaction is held while a
large file is converted or uploaded:

1. register it as ``pending`` (which gives it an id, and so its rows their ids);
2. convert the file to Parquet and put it in the object store, outside any transaction;
3. under a lock on the report, reconcile the batch's schema with the report's and mark the
   batch ``ready``. Only ready batches are read.

If step 2 or 3 fails, the pending row and any stored file are removed again: nothing of a
refused batch remains. The same content is ready at most once per report (a unique index),
which also settles two uploads of one file racing each other.
"""

from __future__ import annotations

import logging
import re
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ebling.db.engine import WRITE
from ebling.db.models import Report, ReportBatch
from ebling.reports.reading import TableFormat, convert_to_parquet
from ebling.reports.schema import SchemaChange, SchemaPolicy, TableSchema, reconcile
from ebling.storage import LocalObjectStore, ObjectStore

__all__ = [
    "REPORT_NAME_PATTERN",
    "BatchOutcome",
    "BatchSource",
    "ReportNotFound",
    "batch_files",
    "batch_key",
    "create_report",
    "delete_report",
    "ingest_batch",
    "ready_batches",
]

log = logging.getLogger(__name__)

REPORT_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")

# Row ids are the batch id in the high bits and the row's position in the low ones, so
# every row of a report has a stable, unique id for cursors without a global counter.
_ROWS_PER_BATCH_BITS = 32


class ReportNotFound(LookupError):
    """No report has that name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no report is named {name!r}")


@dataclass(frozen=True, slots=True)
class BatchSource:
    """Where a batch came from: the run that sent it, and for e-mail the message and file."""

    run_id: uuid.UUID | None = None
    message_id: str | None = None
    file_name: str | None = None


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """A stored batch, or the earlier batch with the same content, and what its schema did."""

    batch: ReportBatch
    report: Report
    duplicate: bool
    change: SchemaChange | None


def batch_key(report_id: int, batch_id: int) -> str:
    """Where a batch's Parquet file lives in the object store."""
    return f"reports/{report_id}/batches/{batch_id}.parquet"


def create_report(
    session: Session,
    *,
    name: str,
    description: str | None = None,
    schema: TableSchema | None = None,
    policy: SchemaPolicy = SchemaPolicy.EVOLVE,
) -> Report:
    """Add a report to the catalogue; the caller commits (a duplicate name fails there)."""
    now = datetime.now(UTC)
    report = Report(
        name=name,
        description=description,
        columns=schema.to_json() if schema else None,
        schema_policy=policy.value,
        row_count=0,
        batch_count=0,
        created_at=now,
        updated_at=now,
    )
    session.add(report)
    session.flush()
    return report


def _report_for_update(session: Session, name: str) -> Report | None:
    return session.scalars(select(Report).where(Report.name == name).with_for_update()).first()


def ingest_batch(
    session: Session,
    store: ObjectStore,
    *,
    report_name: str,
    path: Path,
    sha256: str,
    size: int,
    table_format: TableFormat,
    source: BatchSource,
    created_by: str | None,
) -> BatchOutcome:
    """Turn the file at ``path`` into a ready batch of report ``report_name``.

    The report is created on its first batch (schema policy ``evolve``). Commits as it goes.

    Raises:
        InvalidTable: the file cannot be read as ``table_format``.
        SchemaMismatch: the report's policy is ``reject`` and the columns differ.
    """
    session.connection(execution_options=WRITE)
    report = _report_for_update(session, report_name) or create_report(session, name=report_name)
    earlier = session.scalars(
        select(ReportBatch).where(
            ReportBatch.report_id == report.id,
            ReportBatch.content_hash == sha256,
            ReportBatch.status == "ready",
        )
    ).first()
    if earlier is not None:
        session.commit()
        return BatchOutcome(batch=earlier, report=report, duplicate=True, change=None)

    # The report's columns guide the reading: a column that fits is read as the report's
    # type (an all-empty column stays numeric rather than becoming text), and one that does
    # not keeps its own type for reconcile to judge under the report's policy.
    hint = TableSchema.from_json(report.columns) if report.columns else None

    batch = ReportBatch(
        report_id=report.id,
        status="pending",
        content_hash=sha256,
        format=table_format.value,
        size_bytes=size,
        run_id=source.run_id,
        source_message_id=source.message_id,
        source_file_name=source.file_name,
        created_at=datetime.now(UTC),
        created_by=created_by,
    )
    session.add(batch)
    session.commit()

    # Captured now: after a rollback, reading them from the objects would query the database
    # outside the write transaction that _discard must open.
    batch_id, key = batch.id, batch_key(report.id, batch.id)
    try:
        return _convert_and_commit(
            session, store, report_name, batch, path, table_format, key, hint
        )
    except BaseException:
        session.rollback()
        _discard(session, store, batch_id, key)
        raise


def _convert_and_commit(
    session: Session,
    store: ObjectStore,
    report_name: str,
    batch: ReportBatch,
    path: Path,
    table_format: TableFormat,
    key: str,
    hint: TableSchema | None,
) -> BatchOutcome:
    with tempfile.TemporaryDirectory(prefix="ebling-batch-") as scratch:
        target = Path(scratch) / "batch.parquet"
        conversion = convert_to_parquet(
            path,
            table_format,
            target,
            schema_hint=hint,
            row_id_start=batch.id << _ROWS_PER_BATCH_BITS,
        )
        store.put_file(key, target, content_type="application/vnd.apache.parquet")

    session.connection(execution_options=WRITE)
    report = _report_for_update(session, report_name)
    if report is None:
        raise ReportNotFound(report_name)
    current = TableSchema.from_json(report.columns) if report.columns else None
    if current is not None and conversion.row_count == 0:
        # An empty batch (say, a JSON []) says nothing about columns; it changes none.
        change = SchemaChange(schema=current)
    else:
        change = reconcile(current, conversion.schema, SchemaPolicy(report.schema_policy))

    now = datetime.now(UTC)
    batch.status = "ready"
    batch.object_key = key
    batch.row_count = conversion.row_count
    batch.columns = conversion.schema.to_json()
    batch.schema_change = _change_summary(change)
    batch.encoding = getattr(conversion, "encoding", None)
    batch.delimiter = getattr(conversion, "delimiter", None)
    try:
        session.flush()
    except IntegrityError:
        # The same content became ready in a concurrent upload: that one stands.
        batch_id, report_id, content_hash = batch.id, batch.report_id, batch.content_hash
        session.rollback()
        _discard(session, store, batch_id, key)
        earlier = session.scalars(
            select(ReportBatch).where(
                ReportBatch.report_id == report_id,
                ReportBatch.content_hash == content_hash,
                ReportBatch.status == "ready",
            )
        ).one()
        report = session.get(Report, report_id)
        assert report is not None  # noqa: S101 - it has a ready batch
        return BatchOutcome(batch=earlier, report=report, duplicate=True, change=None)

    report.columns = change.schema.to_json()
    report.row_count += conversion.row_count
    report.batch_count += 1
    report.last_batch_at = now
    report.updated_at = now
    session.commit()
    return BatchOutcome(batch=batch, report=report, duplicate=False, change=change)


def _change_summary(change: SchemaChange) -> dict[str, Any]:
    return {
        "evolved": change.evolved,
        "added": list(change.added),
        "missing": list(change.missing),
        "retyped": list(change.retyped),
    }


def _discard(session: Session, store: ObjectStore, batch_id: int, key: str) -> None:
    try:
        store.delete(key)
    finally:
        session.connection(execution_options=WRITE)
        pending = session.get(ReportBatch, batch_id)
        if pending is not None and pending.status == "pending":
            session.delete(pending)
        session.commit()


def ready_batches(session: Session, report: Report) -> list[ReportBatch]:
    """The batches whose rows make up the report, oldest first."""
    return list(
        session.scalars(
            select(ReportBatch)
            .where(ReportBatch.report_id == report.id, ReportBatch.status == "ready")
            .order_by(ReportBatch.id)
        )
    )


def batch_files(store: ObjectStore, batches: list[ReportBatch], cache_dir: Path) -> list[Path]:
    """Local paths of the batches' Parquet files, to query them.

    A local store's files are read where they are. From S3 they are downloaded once into
    ``cache_dir``: batch files never change after they are written, so a cached copy is
    never stale.
    """
    paths = []
    for batch in batches:
        assert batch.object_key is not None  # noqa: S101 - ready batches have files
        if isinstance(store, LocalObjectStore):
            paths.append(store.root / batch.object_key)
            continue
        cached = cache_dir / batch.object_key
        if not cached.exists():
            store.download(batch.object_key, cached)
        paths.append(cached)
    return paths


def delete_report(session: Session, store: ObjectStore, name: str) -> None:
    """Remove a report, its batches and their files. The caller commits."""
    report = _report_for_update(session, name)
    if report is None:
        raise ReportNotFound(name)
    for batch in session.scalars(select(ReportBatch).where(ReportBatch.report_id == report.id)):
        if batch.object_key:
            store.delete(batch.object_key)
        session.delete(batch)
    session.delete(report)
    session.flush()
