"""Reports over HTTP: the catalogue, ingesting batches, querying and exporting rows."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from ebling.api.dependencies import DbSession, require
from ebling.api.pagination import decode_cursor, encode_cursor
from ebling.api.problems import NotFound, ProblemError
from ebling.api.schemas import Page
from ebling.api.uploads import receive_upload
from ebling.auth.principal import Permission, Principal
from ebling.catalogue.reports import (
    REPORT_NAME_PATTERN,
    BatchSource,
    ReportNotFound,
    batch_files,
    create_report,
    delete_report,
    ingest_batch,
    ready_batches,
)
from ebling.db.engine import WRITE
from ebling.db.models import Report, ReportBatch
from ebling.reports.export import export_csv, export_parquet
from ebling.reports.query import InvalidQuery, RowFilter, SortKey, query_rows
from ebling.reports.reading import InvalidTable, TableFormat
from ebling.reports.schema import ColumnType, SchemaMismatch, SchemaPolicy, TableSchema

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Reader = Annotated[Principal, Depends(require(Permission.READ_REPORTS))]
Writer = Annotated[Principal, Depends(require(Permission.WRITE_REPORTS))]
Manager = Annotated[Principal, Depends(require(Permission.MANAGE_REPORTS))]
ReportName = Annotated[str, Field(pattern=REPORT_NAME_PATTERN.pattern)]

_FORMAT_OF_CONTENT_TYPE = {
    "text/csv": TableFormat.CSV,
    "application/csv": TableFormat.CSV,
    "text/plain": TableFormat.CSV,
    "application/json": TableFormat.JSON,
    "application/x-ndjson": TableFormat.JSON,
    "application/jsonl": TableFormat.JSON,
    "application/vnd.apache.parquet": TableFormat.PARQUET,
    "application/x-parquet": TableFormat.PARQUET,
}


class ColumnIn(BaseModel):
    """A column of a declared schema."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    type: ColumnType


class ReportCreate(BaseModel):
    """A new report; without ``columns`` the first batch decides them."""

    model_config = ConfigDict(extra="forbid")

    name: ReportName
    description: str | None = Field(default=None, max_length=2000)
    columns: list[ColumnIn] | None = Field(default=None, min_length=1)
    schema_policy: SchemaPolicy = SchemaPolicy.EVOLVE


class ReportUpdate(BaseModel):
    """What can change about a report after it is created."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=2000)
    schema_policy: SchemaPolicy | None = None


class ReportOut(BaseModel):
    """A report in the catalogue."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    columns: list[dict[str, str]] | None
    schema_policy: SchemaPolicy
    row_count: int
    batch_count: int
    created_at: datetime
    updated_at: datetime
    last_batch_at: datetime | None


class BatchOut(BaseModel):
    """One ingestion into a report."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    report_id: int
    format: str
    size_bytes: int
    row_count: int
    content_hash: str
    columns: list[dict[str, str]] | None
    schema_change: dict[str, Any] | None
    encoding: str | None
    delimiter: str | None
    run_id: uuid.UUID | None
    source_message_id: str | None
    source_file_name: str | None
    created_at: datetime
    created_by: str | None


class BatchResult(BaseModel):
    """What an upload did: the batch (or the earlier one with the same content)."""

    duplicate: bool
    batch: BatchOut
    report: ReportOut


class RowsPage(BaseModel):
    """A page of rows, with the report's columns for reading them."""

    columns: list[dict[str, str]]
    rows: list[dict[str, Any]]
    next_cursor: str | None


def _invalid(detail: str, **extra: Any) -> ProblemError:
    return ProblemError(detail, status=422, slug="invalid-request", **extra)


def _report(session: Session, name: str) -> Report:
    report = session.scalars(select(Report).where(Report.name == name)).first()
    if report is None:
        raise NotFound(f"No report is named '{name}'.")
    return report


@router.post("", status_code=201, summary="Create a report")
def create(session: DbSession, _: Manager, request: ReportCreate) -> ReportOut:
    """Create a report, optionally with declared columns and a schema policy."""
    schema = None
    if request.columns:
        names = [column.name for column in request.columns]
        if len(set(names)) != len(names):
            raise _invalid("Column names must be unique.")
        schema = TableSchema.from_json(
            [column.model_dump(mode="json") for column in request.columns]
        )
    session.connection(execution_options=WRITE)
    try:
        report = create_report(
            session,
            name=request.name,
            description=request.description,
            schema=schema,
            policy=request.schema_policy,
        )
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise ProblemError(
            f"A report named '{request.name}' exists already.", status=409, slug="conflict"
        ) from error
    return ReportOut.model_validate(report)


@router.get("", summary="List reports")
def list_reports(
    session: DbSession,
    _: Reader,
    q: Annotated[str | None, Query(max_length=200, description="Text in the name.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[ReportOut]:
    """Reports by name."""
    statement = select(Report)
    if q:
        statement = statement.where(Report.name.icontains(q, autoescape=True))
    if cursor is not None:
        (after,) = decode_cursor("reports", cursor, (str,))
        statement = statement.where(Report.name > after)
    found = list(session.scalars(statement.order_by(Report.name).limit(limit + 1)))
    items = [ReportOut.model_validate(report) for report in found[:limit]]
    next_cursor = encode_cursor("reports", [items[-1].name]) if len(found) > limit else None
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{name}", summary="One report")
def get_report(session: DbSession, _: Reader, name: str) -> ReportOut:
    """A report's columns, policy and totals."""
    return ReportOut.model_validate(_report(session, name))


@router.patch("/{name}", summary="Change a report")
def update_report(session: DbSession, _: Manager, name: str, request: ReportUpdate) -> ReportOut:
    """Change the description or the schema policy."""
    session.connection(execution_options=WRITE)
    report = _report(session, name)
    if request.description is not None:
        report.description = request.description
    if request.schema_policy is not None:
        report.schema_policy = request.schema_policy.value
    session.commit()
    return ReportOut.model_validate(report)


@router.delete("/{name}", status_code=204, summary="Delete a report")
def remove_report(request: Request, session: DbSession, _: Manager, name: str) -> Response:
    """Delete a report with all its batches and rows."""
    session.connection(execution_options=WRITE)
    try:
        delete_report(session, request.app.state.store, name)
    except ReportNotFound as error:
        raise NotFound(f"No report is named '{name}'.") from error
    session.commit()
    return Response(status_code=204)


def _table_format(request: Request, declared: TableFormat | None) -> TableFormat:
    if declared is not None:
        return declared
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    found = _FORMAT_OF_CONTENT_TYPE.get(content_type)
    if found is None:
        raise ProblemError(
            f"Cannot tell the file's format from Content-Type '{content_type or 'none'}'. Send "
            "text/csv, application/json, application/x-ndjson or application/vnd.apache.parquet, "
            "or pass ?format=csv|json|parquet.",
            status=415,
            slug="unsupported-media-type",
        )
    return found


@router.post(
    "/{name}/batches",
    status_code=201,
    summary="Append a file to a report",
    responses={200: {"description": "The same content was stored before; nothing changed."}},
)
async def upload_batch(
    request: Request,
    response: Response,
    session: DbSession,
    principal: Writer,
    name: str,
    format: Annotated[TableFormat | None, Query(description="Overrides Content-Type.")] = None,
    run_id: Annotated[uuid.UUID | None, Query(description="The run that sent it.")] = None,
    source_message_id: Annotated[str | None, Query(max_length=1000)] = None,
    source_file_name: Annotated[str | None, Query(max_length=1000)] = None,
) -> BatchResult:
    """Append the rows of a CSV, JSON or Parquet body; the report is created if new.

    CSV delimiter and encoding are sniffed, and column types inferred. A file whose columns
    differ from the report's is refused or evolves the schema, as the report's policy says,
    and the answer's ``schema_change`` tells which. The same file sent again is stored once.
    """
    if not REPORT_NAME_PATTERN.match(name):
        raise _invalid(
            "A report name is 1 to 200 letters, digits, '_', '.' or '-', starting with a "
            "letter or digit."
        )
    table_format = _table_format(request, format)
    settings = request.app.state.settings
    store = request.app.state.store
    source = BatchSource(run_id=run_id, message_id=source_message_id, file_name=source_file_name)

    async with receive_upload(request, limit=settings.max_upload_bytes) as upload:

        def ingest() -> BatchResult:
            try:
                outcome = ingest_batch(
                    session,
                    store,
                    report_name=name,
                    path=upload.path,
                    sha256=upload.sha256,
                    size=upload.size,
                    table_format=table_format,
                    source=source,
                    created_by=principal.subject,
                )
            except InvalidTable as error:
                raise ProblemError(
                    f"The file was not stored: {error}",
                    status=422,
                    slug="invalid-table",
                    errors=[{"line": error.line, "column": error.column, "message": str(error)}],
                ) from error
            except SchemaMismatch as error:
                raise ProblemError(
                    f"The file was not stored: {error}", status=409, slug="schema-mismatch"
                ) from error
            return BatchResult(
                duplicate=outcome.duplicate,
                batch=BatchOut.model_validate(outcome.batch),
                report=ReportOut.model_validate(outcome.report),
            )

        result = await run_in_threadpool(ingest)
    if result.duplicate:
        response.status_code = 200
    return result


@router.get("/{name}/batches", summary="A report's batches")
def list_batches(
    session: DbSession,
    _: Reader,
    name: str,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[BatchOut]:
    """Batches newest first, with their source, run and schema change."""
    report = _report(session, name)
    statement = select(ReportBatch).where(
        ReportBatch.report_id == report.id, ReportBatch.status == "ready"
    )
    if cursor is not None:
        (after,) = decode_cursor("batches", cursor, (int,))
        statement = statement.where(ReportBatch.id < after)
    found = list(session.scalars(statement.order_by(ReportBatch.id.desc()).limit(limit + 1)))
    items = [BatchOut.model_validate(batch) for batch in found[:limit]]
    next_cursor = encode_cursor("batches", [items[-1].id]) if len(found) > limit else None
    return Page(items=items, next_cursor=next_cursor)


def _parse_filters(values: list[str]) -> list[RowFilter]:
    filters = []
    for value in values:
        column, op, operand = [*value.split(":", 2), "", ""][:3]
        if not column or not op:
            raise _invalid(f"Filter {value!r} is not of the form column:op:value.")
        filters.append(RowFilter(column, op, operand))
    return filters


def _parse_sort(value: str | None) -> list[SortKey]:
    if not value:
        return []
    keys = []
    for part in value.split(","):
        part = part.strip()
        if part:
            keys.append(SortKey(part.lstrip("-"), descending=part.startswith("-")))
    return keys


def _parse_columns(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


class _RowQuery:
    """The query parameters shared by reading and exporting rows."""

    def __init__(
        self,
        columns: Annotated[str | None, Query(description="Comma-separated; default all.")] = None,
        filter: Annotated[
            list[str] | None,
            Query(description="column:op:value with op eq, ne, lt, lte, gt, gte, contains."),
        ] = None,
        sort: Annotated[
            str | None, Query(description="Comma-separated; '-' for descending.")
        ] = None,
    ) -> None:
        self.columns = _parse_columns(columns)
        self.filters = _parse_filters(filter or [])
        self.sort = _parse_sort(sort)
        self.sort_text = sort or ""


RowQuery = Annotated[_RowQuery, Depends()]


def _query_inputs(
    request: Request, session: Session, name: str
) -> tuple[Report, list[Path], TableSchema]:
    report = _report(session, name)
    settings = request.app.state.settings
    files = batch_files(
        request.app.state.store, ready_batches(session, report), settings.home / "cache"
    )
    schema = TableSchema.from_json(report.columns or [])
    return report, files, schema


@router.get("/{name}/rows", summary="Query a report's rows")
def read_rows(
    request: Request,
    session: DbSession,
    _: Reader,
    name: str,
    query: RowQuery,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> RowsPage:
    """Rows filtered, sorted and paged; columns as the report's current schema types them."""
    report, files, schema = _query_inputs(request, session, name)
    kind = f"rows:{report.id}:{query.sort_text}"
    after = None
    if cursor is not None:
        (after,) = decode_cursor(kind, cursor, (list,))
    try:
        page = query_rows(
            files,
            schema,
            columns=query.columns,
            filters=query.filters,
            sort=query.sort,
            limit=limit,
            after=after,
        )
    except InvalidQuery as error:
        raise _invalid(str(error)) from error
    next_cursor = encode_cursor(kind, [page.next_after]) if page.next_after is not None else None
    visible = query.columns or [column["name"] for column in report.columns or []]
    columns = [column for column in report.columns or [] if column["name"] in visible]
    return RowsPage(columns=columns, rows=page.rows, next_cursor=next_cursor)


@router.get(
    "/{name}/export",
    summary="Download a report",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
)
def export_rows(
    request: Request,
    session: DbSession,
    _: Reader,
    name: str,
    query: RowQuery,
    format: Literal["csv", "parquet"] = "csv",
) -> Response:
    """Every matching row as CSV (spreadsheet formulas neutralised) or Parquet."""
    report, files, schema = _query_inputs(request, session, name)
    options: dict[str, Any] = {
        "columns": query.columns,
        "filters": query.filters,
        "sort": query.sort,
    }
    disposition = f'attachment; filename="{report.name}.{format}"'
    try:
        if format == "csv":
            chunks: Iterator[bytes] = export_csv(files, schema, **options)
            first = next(chunks, b"")
            return StreamingResponse(
                _prepend(first, chunks),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": disposition},
            )
        scratch = Path(tempfile.mkdtemp(prefix="ebling-export-"))
        target = scratch / f"{report.name}.parquet"
        export_parquet(files, schema, target=target, **options)
    except InvalidQuery as error:
        raise _invalid(str(error)) from error
    return FileResponse(
        target,
        media_type="application/vnd.apache.parquet",
        headers={"Content-Disposition": disposition},
        background=BackgroundTask(_remove_tree, scratch),
    )


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
