"""The synchronous Ebling client."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from arcadia.client import _calls
from arcadia.client._base import DEFAULT_RETRIES, DEFAULT_TIMEOUT, ClientSettings
from arcadia.client._body import UploadData
from arcadia.client._calls import Attempts, Call, Pager, RowFilter, RowQuery, RunQuery
from arcadia.client.credentials import Credentials
from arcadia.client.errors import EblingError
from arcadia.client.models import Artifact, IngestSummary, ReportBatch, Run
from arcadia.client.retry import RetryPolicy

__all__ = ["EblingClient"]

T = TypeVar("T")
Item = TypeVar("Item")


class EblingClient(ClientSettings):
    """A client for Ebling's REST API, for code that is not async.

    Calls that are safe to repeat (reads, :meth:`send_lineage`, :meth:`save_report`) are
    retried with exponential backoff and jitter when Ebling cannot be reached, times out,
    answers 429 (after its ``Retry-After``) or a 5xx; :meth:`store_artifact` is retried only
    when its request never reached Ebling. Use it as a context manager, or call
    :meth:`close`, to release its connections.

    Args:
        base_url: Ebling's address, such as ``http://127.0.0.1:8080``.
        api_key: An Ebling API key; a shorthand for ``auth=ApiKey(api_key)``.
        auth: Credentials that produce the ``Authorization`` header (see
            :class:`~arcadia.client.Credentials`).
        timeout: Seconds to wait for Ebling at each step of a request (connecting,
            sending, reading), or an ``httpx.Timeout``.
        retries: Attempts after the first for calls that are safe to repeat, or a
            :class:`~arcadia.client.RetryPolicy`.

    Raises:
        ValueError: ``base_url`` is not an HTTP URL, or both ``api_key`` and ``auth`` are
            given.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        auth: Credentials | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int | RetryPolicy = DEFAULT_RETRIES,
    ) -> None:
        super().__init__(base_url, api_key=api_key, auth=auth, timeout=timeout, retries=retries)
        self._http = httpx.Client(**self.http_options())

    def close(self) -> None:
        """Close the client's connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def send_lineage(self, events: Sequence[Mapping[str, Any]]) -> IngestSummary:
        """Send OpenLineage run events in one request.

        Ebling stores a batch all or nothing, and an event it has already stored only once,
        so sending a batch again (a retry, a replayed outbox) is harmless. Ebling takes up to
        1,000 events a request unless configured otherwise.

        Args:
            events: OpenLineage 2-0-2 RunEvents as JSON-ready mappings.

        Returns:
            How many events Ebling received, stored, and already had.

        Raises:
            EblingRequestError: an event is invalid (422); ``errors`` lists each problem by
                the event's index and field, and nothing of the batch was stored.
            EblingAuthError: the credentials are wrong or lack the ``ingest`` role.
            EblingUnavailable: Ebling could not be reached, or failed, until the retries ran
                out.
        """
        if not events:
            return IngestSummary(received=0, stored=0, duplicates=0)
        return self._execute(_calls.send_lineage(events))

    def send_usage(self, records: Sequence[Mapping[str, Any]]) -> IngestSummary:
        """Send usage records in one request; a record's key is counted once, however often sent.

        :func:`arcadia.usage.record_usage` builds a record and keeps it in the outbox while
        Ebling is down; this is the plain call underneath.

        Args:
            records: Mappings with ``key``, ``metric``, ``quantity`` (a decimal string),
                ``occurred_at`` (RFC 3339 with offset), and optionally ``run_id``,
                ``account`` and ``attributes``.

        Returns:
            How many records Ebling received, stored, and already had.

        Raises:
            EblingRequestError: a record is invalid (422), or reuses a key with other
                content (409); nothing of the request was stored.
            EblingAuthError: the credentials are wrong or lack the ``ingest`` role.
            EblingUnavailable: Ebling could not be reached until the retries ran out.
        """
        if not records:
            return IngestSummary(received=0, stored=0, duplicates=0)
        return self._execute(_calls.send_usage(records))

    def save_report(
        self,
        report: str,
        data: UploadData,
        *,
        content_type: str = "text/csv",
        run_id: uuid.UUID | str | None = None,
        source_message_id: str | None = None,
        source_file_name: str | None = None,
    ) -> ReportBatch:
        """Append a file of rows to a report, creating the report if it is new.

        A file on disk is streamed, never read into memory whole. Ebling stores the same
        content sent to the same report once, answering with the earlier batch and
        ``duplicate=True``, so the upload is retried safely.

        Args:
            report: The report's name.
            data: The file: bytes, a ``Path``, or a file opened in binary mode (an
                unseekable stream is sent once, without retries).
            content_type: ``text/csv``, ``application/json``, ``application/x-ndjson`` or
                ``application/vnd.apache.parquet``.
            run_id: The run that produced the file.
            source_message_id: Where the file came from, such as an e-mail's Message-ID.
            source_file_name: The file's name; by default a ``Path``'s name.

        Returns:
            The batch, with the report as it is after the upload.

        Raises:
            EblingRequestError: the file is unreadable (422), its columns do not fit a
                report whose policy is ``reject`` (409), or it is too large (413).
            EblingAuthError: the credentials are wrong or may not write reports.
            EblingUnavailable: Ebling could not be reached, or failed, until the retries ran
                out.
        """
        call = _calls.save_report(
            report,
            data,
            content_type=content_type,
            run_id=run_id,
            source_message_id=source_message_id,
            source_file_name=source_file_name,
        )
        return self._execute(call)

    def store_artifact(
        self,
        name: str,
        data: UploadData,
        *,
        content_type: str,
        run_id: uuid.UUID | str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> Artifact:
        """Keep a file in Ebling as an artifact.

        Not retried once the request has reached Ebling: each upload creates an artifact,
        so a retry after a lost answer would record the file twice. On
        :class:`EblingUnavailable`, look the artifact up before uploading it again.

        Args:
            name: The file name it is stored and downloaded under.
            data: The file: bytes, a ``Path``, or a file opened in binary mode.
            content_type: Its media type, such as ``application/pdf``.
            run_id: The run that made it.
            labels: ``key: value`` labels to find it by.

        Returns:
            The artifact's metadata, with its size and SHA-256.

        Raises:
            EblingRequestError: the name or a label is invalid (422), or it is too large (413).
            EblingAuthError: the credentials are wrong or may not write artifacts.
            EblingUnavailable: Ebling could not be reached or failed.
        """
        call = _calls.store_artifact(
            name, data, content_type=content_type, run_id=run_id, labels=labels
        )
        return self._execute(call)

    def get_run(self, run_id: uuid.UUID | str) -> Run:
        """A workflow run with its task runs and merged run facets.

        Raises:
            EblingRequestError: no run has this id (404).
            EblingAuthError: the credentials are wrong or may not read monitoring.
            EblingUnavailable: Ebling could not be reached, or failed, until the retries ran
                out.
        """
        return self._execute(_calls.get_run(run_id))

    def list_runs(
        self,
        *,
        workflow_id: int | None = None,
        namespace: str | None = None,
        states: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int = 100,
    ) -> Iterator[Run]:
        """Every workflow run that matches, newest first, fetched a page at a time.

        Args:
            workflow_id: Only runs of this workflow.
            namespace: Only runs in this namespace (orchestrator instance).
            states: Only runs in one of these states (see :class:`RunState`).
            since: Only runs started at or after this time, which needs a time zone.
            until: Only runs started before this time, which needs a time zone.
            page_size: Runs per request, 1 to 500.

        Returns:
            An iterator that requests the next page when the previous one is used up;
            runs are not in ``task_runs`` or ``facets`` (``get_run`` has them).

        Raises:
            ValueError: ``page_size`` is out of range.
        """
        query = RunQuery(
            workflow_id=workflow_id,
            namespace=namespace,
            states=tuple(states or ()),
            since=since,
            until=until,
        )
        return self._walk(_calls.runs_pager(query, page_size=page_size))

    def report_rows(
        self,
        report: str,
        *,
        filters: Iterable[RowFilter] | None = None,
        sort: str | Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        limit: int | None = 100,
    ) -> Iterator[dict[str, Any]]:
        """Rows of a report, filtered and sorted by Ebling, fetched a page at a time.

        Args:
            report: The report's name.
            filters: Conditions all rows meet: ``(column, op, value)`` tuples or
                ``"column:op:value"`` strings, with op one of ``eq ne lt lte gt gte
                contains``.
            sort: Columns to sort by, ``"-column"`` for descending; a list or a
                comma-separated string.
            columns: Columns to return; all by default.
            limit: The most rows to return; ``None`` for every matching row.

        Returns:
            An iterator of rows as ``{column: value}`` dictionaries.

        Raises:
            ValueError: ``limit`` is below 1.
        """
        query = RowQuery.of(report, filters=filters, sort=sort, columns=columns)
        return self._walk(_calls.rows_pager(query, limit=limit))

    def health(self) -> bool:
        """Whether Ebling is up and its database and object store answer; never raises.

        Asks once, without retries, so it answers quickly when Ebling is down.
        """
        try:
            return self._execute(_calls.health())
        except EblingError:
            return False

    def _walk(self, pager: Pager[Item]) -> Iterator[Item]:
        while (call := pager.next_call()) is not None:
            yield from pager.take(self._execute(call))

    def _execute(self, call: Call[T]) -> T:
        attempts = Attempts(call, self.retry_policy)
        while True:
            attempts.begin()
            request = self._http.build_request(
                call.method,
                call.path,
                params=call.params,
                headers=call.request_headers(),
                content=call.body.sync_content() if call.body is not None else None,
            )
            try:
                response = self._http.send(request)
            except httpx.HTTPError as error:
                time.sleep(attempts.after_transport_error(error, request))
                continue
            delay = attempts.after_response(response)
            if delay is None:
                return _calls.answer(call, response, attempts=attempts.count)
            time.sleep(delay)
