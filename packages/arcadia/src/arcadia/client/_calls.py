"""Everything about a call to Ebling that does not depend on sync or async I/O.

Each endpoint is a function returning a :class:`Call`: what to send, how to read the
answer, and whether sending it again is safe. :class:`Attempts` decides, after each try,
whether to wait and try again or to raise; :class:`Pager` walks cursors. The two clients
only send requests and sleep, each in its own way, so the logic exists once.
"""

from __future__ import annotations

import email.utils
import enum
import gzip
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from arcadia.client._body import Body, UploadData
from arcadia.client.errors import EblingAuthError, EblingRequestError, EblingUnavailable, Problem
from arcadia.client.models import Artifact, IngestSummary, ReportBatch, Run
from arcadia.client.retry import RetryPolicy

log = logging.getLogger(__name__)

T = TypeVar("T")
Item = TypeVar("Item")

RowFilter = str | tuple[str, str, object]

# Ebling's list endpoints cap their page sizes at these.
MAX_RUNS_PAGE = 500
MAX_ROWS_PAGE = 1000

# Compressing a small batch costs more than the bytes it saves.
_GZIP_ABOVE_BYTES = 4 * 1024

_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# Errors raised before a byte of the request left: the request was certainly not processed.
_UNSENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class RetryMode(enum.Enum):
    """When a call may be sent again."""

    IDEMPOTENT = "idempotent"
    """On any transient failure: Ebling gives the same result however often it is sent."""

    UNSENT = "unsent"
    """Only when the request never reached Ebling (the connection failed)."""

    NEVER = "never"
    """Never: one attempt, whatever happens."""


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One request to Ebling and how to read its answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: tuple[tuple[str, str], ...] = ()
    body: Body | None = None
    retry: RetryMode = RetryMode.IDEMPOTENT

    def request_headers(self) -> dict[str, str]:
        """The headers the call needs beyond the client's: its body's type and size."""
        return dict(self.body.headers) if self.body is not None else {}


@dataclass(frozen=True, slots=True)
class Page(Generic[Item]):
    """One page of a list, and the cursor of the next."""

    items: list[Item]
    next_cursor: str | None


def url_of(request: httpx.Request) -> str:
    """The request's URL without its query, for messages."""
    return str(request.url.copy_with(query=None))


class Attempts:
    """The attempts of one call: whether a failure is retried, and after how long."""

    def __init__(self, call: Call[Any], policy: RetryPolicy) -> None:
        self.call = call
        self.policy = policy
        self.count = 0

    def begin(self) -> None:
        """Count an attempt about to be made."""
        self.count += 1

    def after_transport_error(self, error: httpx.HTTPError, request: httpx.Request) -> float:
        """Seconds to wait before trying again after ``error``.

        Raises:
            EblingUnavailable: the call may not, or may no longer, be retried.
        """
        reason = _describe_transport_error(error)
        retryable = isinstance(error, httpx.TransportError) and (
            self.call.retry is RetryMode.IDEMPOTENT
            or (self.call.retry is RetryMode.UNSENT and isinstance(error, _UNSENT_ERRORS))
        )
        if not (retryable and self._may_retry()):
            raise EblingUnavailable(
                request.method, url_of(request), attempts=self.count, reason=reason
            ) from error
        return self._wait(request, reason, None)

    def after_response(self, response: httpx.Response) -> float | None:
        """Seconds to wait before trying again, or ``None`` if ``response`` is the answer."""
        status = response.status_code
        if status not in _RETRY_STATUSES or self.call.retry is not RetryMode.IDEMPOTENT:
            return None
        retry_after = retry_after_seconds(response)
        if not self._may_retry() or (retry_after or 0) > self.policy.max_delay:
            return None
        return self._wait(response.request, f"{status} {response.reason_phrase}", retry_after)

    def _may_retry(self) -> bool:
        body = self.call.body
        return self.count <= self.policy.retries and (body is None or body.replayable)

    def _wait(self, request: httpx.Request, reason: str, retry_after: float | None) -> float:
        delay = self.policy.delay(self.count) if retry_after is None else retry_after
        log.warning(
            "Ebling did not accept %s %s (%s); retrying in %.1f s, attempt %d of %d",
            request.method,
            url_of(request),
            reason,
            delay,
            self.count + 1,
            self.policy.retries + 1,
        )
        return delay


def _describe_transport_error(error: httpx.HTTPError) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds, if there is a valid one."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - time.time())


def answer(call: Call[T], response: httpx.Response, *, attempts: int) -> T:
    """The result of ``call`` from Ebling's final ``response``.

    Raises:
        EblingUnavailable: Ebling failed (5xx), was too busy (429, 408), or answered with
            something that is not its JSON.
        EblingAuthError: 401 or 403.
        EblingRequestError: any other 4xx.
    """
    request = response.request
    status = response.status_code
    if status < 400:
        try:
            return call.parse(response)
        except (ValueError, KeyError, TypeError) as error:
            raise EblingUnavailable(
                request.method,
                url_of(request),
                attempts=attempts,
                status=status,
                reason=f"the answer is not Ebling's JSON ({type(error).__name__}: {error}); "
                "is the URL Ebling's?",
            ) from error

    problem = _problem_of(response)
    if status >= 500 or status in _RETRY_STATUSES:
        reason = f"{status} {problem.title}"
        if problem.detail:
            reason += f": {problem.detail}"
        raise EblingUnavailable(
            request.method,
            url_of(request),
            attempts=attempts,
            reason=reason,
            status=status,
            retry_after=retry_after_seconds(response),
        )
    if status in (401, 403):
        raise EblingAuthError(request.method, url_of(request), problem)
    raise EblingRequestError(request.method, url_of(request), problem)


def _problem_of(response: httpx.Response) -> Problem:
    try:
        document = response.json()
    except ValueError:
        return Problem.from_text(response.status_code, response.text)
    if not isinstance(document, Mapping):
        return Problem.from_text(response.status_code, response.text)
    return Problem.from_json(response.status_code, document)


# The endpoints. Each returns the Call; the clients send it.


def send_lineage(events: Sequence[Mapping[str, Any]]) -> Call[IngestSummary]:
    """``POST /api/v1/lineage`` with a JSON array of events, gzip-compressed when large.

    Retried: Ebling keys each event by a hash of its content, so a batch sent twice is
    stored once.
    """
    payload = json.dumps(list(events), separators=(",", ":"), ensure_ascii=False).encode()
    encoding = None
    if len(payload) > _GZIP_ABOVE_BYTES:
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
        encoding = "gzip"
    body = Body(payload, content_type="application/json", content_encoding=encoding)
    return Call(
        "POST",
        "api/v1/lineage",
        lambda response: IngestSummary.from_json(response.json()),
        body=body,
    )


def send_usage(records: Sequence[Mapping[str, Any]]) -> Call[IngestSummary]:
    """``POST /api/v1/usage`` with a JSON array of usage records.

    Retried: each record carries the key its sender chose, and Ebling counts a key once.
    """
    payload = json.dumps(list(records), separators=(",", ":"), ensure_ascii=False).encode()
    return Call(
        "POST",
        "api/v1/usage",
        lambda response: IngestSummary.from_json(response.json()),
        body=Body(payload, content_type="application/json"),
    )


def save_report(
    report: str,
    data: UploadData,
    *,
    content_type: str,
    run_id: uuid.UUID | str | None,
    source_message_id: str | None,
    source_file_name: str | None,
) -> Call[ReportBatch]:
    """``POST /api/v1/reports/{report}/batches`` with the file as the body.

    Retried: Ebling stores the same content sent to the same report once. A file from
    disk is named by its file name unless ``source_file_name`` says otherwise.
    """
    if source_file_name is None and isinstance(data, Path):
        source_file_name = data.name
    params = _params(
        run_id=run_id, source_message_id=source_message_id, source_file_name=source_file_name
    )
    return Call(
        "POST",
        f"api/v1/reports/{_segment(report)}/batches",
        lambda response: ReportBatch.from_json(response.json()),
        params=params,
        body=Body(data, content_type=content_type),
    )


def store_artifact(
    name: str,
    data: UploadData,
    *,
    content_type: str,
    run_id: uuid.UUID | str | None,
    labels: Mapping[str, str] | None,
) -> Call[Artifact]:
    """``POST /api/v1/artifacts`` with the file as the body.

    Not retried once sent: the bytes are stored once, but each request makes a new
    artifact, so a retry after a lost answer would record the file twice.
    """
    params = _params(name=name, run_id=run_id)
    params += tuple(("label", f"{key}:{value}") for key, value in (labels or {}).items())
    return Call(
        "POST",
        "api/v1/artifacts",
        lambda response: Artifact.from_json(response.json()),
        params=params,
        body=Body(data, content_type=content_type),
        retry=RetryMode.UNSENT,
    )


def get_run(run_id: uuid.UUID | str) -> Call[Run]:
    """``GET /api/v1/runs/{id}``: a run with its task runs."""
    return Call(
        "GET",
        f"api/v1/runs/{_segment(str(run_id))}",
        lambda response: Run.from_json(response.json()),
    )


@dataclass(frozen=True, slots=True)
class RunQuery:
    """The filters of ``GET /api/v1/runs``."""

    workflow_id: int | None = None
    namespace: str | None = None
    states: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None

    def params(self) -> tuple[tuple[str, str], ...]:
        """The query parameters."""
        found = _params(
            workflow_id=self.workflow_id,
            namespace=self.namespace,
            since=self.since,
            until=self.until,
        )
        return found + tuple(("state", str(state)) for state in self.states)


def list_runs(query: RunQuery, *, cursor: str | None, limit: int) -> Call[Page[Run]]:
    """``GET /api/v1/runs``: one page of runs, newest first."""
    params = query.params() + _params(limit=limit, cursor=cursor)
    return Call("GET", "api/v1/runs", _page_parser("items", Run.from_json), params=params)


@dataclass(frozen=True, slots=True)
class RowQuery:
    """The filters, sort and columns of ``GET /api/v1/reports/{name}/rows``."""

    report: str
    filters: tuple[str, ...] = ()
    sort: str | None = None
    columns: str | None = None

    @classmethod
    def of(
        cls,
        report: str,
        *,
        filters: Iterable[RowFilter] | None,
        sort: str | Sequence[str] | None,
        columns: Sequence[str] | None,
    ) -> RowQuery:
        """Build the query from the client's arguments."""
        return cls(
            report=report,
            filters=tuple(_row_filter(each) for each in filters or ()),
            sort=sort if isinstance(sort, str) or sort is None else ",".join(sort),
            columns=",".join(columns) if columns else None,
        )


def report_rows(query: RowQuery, *, cursor: str | None, limit: int) -> Call[Page[dict[str, Any]]]:
    """``GET /api/v1/reports/{name}/rows``: one page of rows."""
    params = _params(columns=query.columns, sort=query.sort, limit=limit, cursor=cursor)
    params += tuple(("filter", each) for each in query.filters)
    return Call(
        "GET",
        f"api/v1/reports/{_segment(query.report)}/rows",
        _page_parser("rows", dict),
        params=params,
    )


def health() -> Call[bool]:
    """``GET /readyz``, once: true when Ebling's database and object store answer."""
    return Call("GET", "readyz", lambda response: True, retry=RetryMode.NEVER)


class Pager(Generic[Item]):
    """Walks a list endpoint page by page, stopping after ``limit`` items if given."""

    def __init__(
        self,
        page_call: Callable[[str | None, int], Call[Page[Item]]],
        *,
        page_size: int,
        limit: int | None = None,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be 1 or more, or None for all, not {limit}.")
        self._page_call = page_call
        self._page_size = page_size
        self._remaining = limit
        self._cursor: str | None = None
        self._done = False

    def next_call(self) -> Call[Page[Item]] | None:
        """The call for the next page, or ``None`` when there is none."""
        if self._done:
            return None
        size = self._page_size
        if self._remaining is not None:
            size = min(size, self._remaining)
        return self._page_call(self._cursor, size)

    def take(self, page: Page[Item]) -> list[Item]:
        """The items of ``page`` to hand out; remembers where the next page starts."""
        items = page.items
        if self._remaining is not None:
            items = items[: self._remaining]
            self._remaining -= len(items)
        self._cursor = page.next_cursor
        # An empty page with a cursor would loop forever; Ebling never sends one, but a
        # stuck loop is a poor way to find out.
        self._done = page.next_cursor is None or self._remaining == 0 or not page.items
        return items


def runs_pager(query: RunQuery, *, page_size: int) -> Pager[Run]:
    """Every run matching ``query``, newest first."""
    _check_page_size(page_size, MAX_RUNS_PAGE)
    return Pager(
        lambda cursor, size: list_runs(query, cursor=cursor, limit=size), page_size=page_size
    )


def rows_pager(query: RowQuery, *, limit: int | None) -> Pager[dict[str, Any]]:
    """At most ``limit`` rows matching ``query`` (all with ``None``), in pages Ebling allows."""
    return Pager(
        lambda cursor, size: report_rows(query, cursor=cursor, limit=size),
        page_size=MAX_ROWS_PAGE,
        limit=limit,
    )


def _check_page_size(page_size: int, most: int) -> None:
    if not 1 <= page_size <= most:
        raise ValueError(f"page_size must be between 1 and {most}, not {page_size}.")


def _page_parser(key: str, read: Callable[[Any], Item]) -> Callable[[httpx.Response], Page[Item]]:
    def parse(response: httpx.Response) -> Page[Item]:
        document = response.json()
        return Page([read(item) for item in document[key]], document.get("next_cursor"))

    return parse


def _segment(value: str) -> str:
    # Names become one path segment; a '/' or '..' in one must not reach another endpoint.
    return quote(value, safe="")


def _params(**values: object) -> tuple[tuple[str, str], ...]:
    return tuple((name, _text(value)) for name, value in values.items() if value is not None)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _row_filter(value: RowFilter) -> str:
    if isinstance(value, str):
        return value
    column, op, operand = value
    return f"{column}:{op}:{_text(operand)}"
