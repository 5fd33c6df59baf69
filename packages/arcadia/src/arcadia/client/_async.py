"""The asynchronous Ebling client: the synchronous one's methods, awaited."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
import httpx

from arcadia.client import _calls
from arcadia.client._base import DEFAULT_RETRIES, DEFAULT_TIMEOUT, ClientSettings
from arcadia.client._body import UploadData
from arcadia.client._calls import Attempts, Call, Pager, RowFilter, RowQuery, RunQuery
from arcadia.client.credentials import Credentials
from arcadia.client.errors import EblingError
from arcadia.client.models import Artifact, IngestSummary, ReportBatch, Run
from arcadia.client.retry import RetryPolicy

__all__ = ["AsyncEblingClient"]

T = TypeVar("T")
Item = TypeVar("Item")


class AsyncEblingClient(ClientSettings):
    """A client for Ebling's REST API, for asyncio (or trio) code.

    It has :class:`~arcadia.client.EblingClient`'s methods, arguments, results, errors and
    retries; each is awaited, and the lists are async iterators. Files are read from disk
    in worker threads, so an upload never blocks the event loop. Use it as an async
    context manager, or await :meth:`aclose`.

    Args:
        base_url: Ebling's address, such as ``http://127.0.0.1:8080``.
        api_key: An Ebling API key; a shorthand for ``auth=ApiKey(api_key)``.
        auth: Credentials that produce the ``Authorization`` header; ones that also have
            ``authorization_async()`` are awaited.
        timeout: Seconds to wait for Ebling at each step of a request, or an
            ``httpx.Timeout``.
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
        self._http = httpx.AsyncClient(**self.http_options())

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def send_lineage(self, events: Sequence[Mapping[str, Any]]) -> IngestSummary:
        """Send OpenLineage run events in one request; see ``EblingClient.send_lineage``."""
        if not events:
            return IngestSummary(received=0, stored=0, duplicates=0)
        return await self._execute(_calls.send_lineage(events))

    async def send_usage(self, records: Sequence[Mapping[str, Any]]) -> IngestSummary:
        """Send usage records in one request; see ``EblingClient.send_usage``."""
        if not records:
            return IngestSummary(received=0, stored=0, duplicates=0)
        return await self._execute(_calls.send_usage(records))

    async def save_report(
        self,
        report: str,
        data: UploadData,
        *,
        content_type: str = "text/csv",
        run_id: uuid.UUID | str | None = None,
        source_message_id: str | None = None,
        source_file_name: str | None = None,
    ) -> ReportBatch:
        """Append a file of rows to a report; see ``EblingClient.save_report``."""
        call = _calls.save_report(
            report,
            data,
            content_type=content_type,
            run_id=run_id,
            source_message_id=source_message_id,
            source_file_name=source_file_name,
        )
        return await self._execute(call)

    async def store_artifact(
        self,
        name: str,
        data: UploadData,
        *,
        content_type: str,
        run_id: uuid.UUID | str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> Artifact:
        """Keep a file in Ebling as an artifact; see ``EblingClient.store_artifact``."""
        call = _calls.store_artifact(
            name, data, content_type=content_type, run_id=run_id, labels=labels
        )
        return await self._execute(call)

    async def get_run(self, run_id: uuid.UUID | str) -> Run:
        """A workflow run with its task runs; see ``EblingClient.get_run``."""
        return await self._execute(_calls.get_run(run_id))

    def list_runs(
        self,
        *,
        workflow_id: int | None = None,
        namespace: str | None = None,
        states: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int = 100,
    ) -> AsyncIterator[Run]:
        """Every matching workflow run, newest first; see ``EblingClient.list_runs``.

        Use it with ``async for``.
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
    ) -> AsyncIterator[dict[str, Any]]:
        """Rows of a report; see ``EblingClient.report_rows``. Use it with ``async for``."""
        query = RowQuery.of(report, filters=filters, sort=sort, columns=columns)
        return self._walk(_calls.rows_pager(query, limit=limit))

    async def health(self) -> bool:
        """Whether Ebling is up and ready; asks once and never raises."""
        try:
            return await self._execute(_calls.health())
        except EblingError:
            return False

    async def _walk(self, pager: Pager[Item]) -> AsyncIterator[Item]:
        while (call := pager.next_call()) is not None:
            for item in pager.take(await self._execute(call)):
                yield item

    async def _execute(self, call: Call[T]) -> T:
        attempts = Attempts(call, self.retry_policy)
        while True:
            attempts.begin()
            request = self._http.build_request(
                call.method,
                call.path,
                params=call.params,
                headers=call.request_headers(),
                content=call.body.async_content() if call.body is not None else None,
            )
            try:
                response = await self._http.send(request)
            except httpx.HTTPError as error:
                await anyio.sleep(attempts.after_transport_error(error, request))
                continue
            delay = attempts.after_response(response)
            if delay is None:
                return _calls.answer(call, response, attempts=attempts.count)
            await anyio.sleep(delay)
