"""Reports: the list, one report as a table with a chart, downloads; artifact downloads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from trillian.access import Permission
from trillian.ebling_client import EblingError
from trillian.web import access_token, render, require, services

__all__ = ["routes"]

ROWS_PER_PAGE = 50
#: Points drawn in a report's chart; beyond that the chart says it shows the first ones.
CHART_POINTS = 1000
FILTER_OPERATORS = {
    "eq": "=",
    "ne": "≠",
    "lt": "<",
    "lte": "≤",
    "gt": ">",
    "gte": "≥",
    "contains": "contains",
}
#: Lines in one chart when it is split by a text column; more would be unreadable.
CHART_SERIES = 12
NUMERIC_TYPES = frozenset({"int64", "float64"})
TEXT_TYPES = frozenset({"string", "boolean"})
TIME_TYPES = frozenset({"timestamp", "date"})
#: Headers of Ebling's export worth passing on to the browser.
PASSED_HEADERS = ("content-type", "content-disposition", "content-length", "etag")


async def report_list(request: Request) -> Response:
    """Every report, searchable by name."""
    session = require(request, Permission.REPORTS)
    token = await access_token(request, session)
    q = request.query_params.get("q", "").strip()
    page = await services(request).ebling.get(
        "/reports",
        token=token,
        params={"q": q, "limit": 100, "cursor": request.query_params.get("cursor")},
    )
    return render(
        request,
        "reports/list.html",
        {"reports": page["items"], "q": q, "next_cursor": page["next_cursor"]},
    )


def _filters(request: Request) -> list[dict[str, str]]:
    """The filters of the query string, plus the one the filter form adds."""
    found = []
    for value in request.query_params.getlist("filter"):
        column, _, rest = value.partition(":")
        op, _, operand = rest.partition(":")
        found.append({"column": column, "op": op, "value": operand, "raw": value})
    new_column = request.query_params.get("add_column")
    new_op = request.query_params.get("add_op", "eq")
    if new_column:
        if new_op not in FILTER_OPERATORS:
            raise HTTPException(400, f"Unknown filter operator {new_op!r}.")
        operand = request.query_params.get("add_value", "")
        raw = f"{new_column}:{new_op}:{operand}"
        found.append({"column": new_column, "op": new_op, "value": operand, "raw": raw})
    return found


@dataclass(frozen=True, slots=True)
class ChartAxes:
    """What a report's chart draws: ``y`` over ``x``, one line per value of ``by``."""

    x: str | None
    y: str | None
    by: str | None
    numeric: list[str]
    texts: list[str]


def _chart_axes(request: Request, columns: list[dict[str, str]]) -> ChartAxes:
    numeric = [c["name"] for c in columns if c["type"] in NUMERIC_TYPES]
    times = [c["name"] for c in columns if c["type"] in TIME_TYPES]
    texts = [c["name"] for c in columns if c["type"] in TEXT_TYPES]
    y = request.query_params.get("y") or (numeric[0] if numeric else None)
    x = request.query_params.get("x") or (times[0] if times else None)
    by = request.query_params.get("by") or None
    if y is not None and y not in numeric:
        raise HTTPException(400, f"Column {y!r} is not numeric; chart one of {numeric}.")
    if x is not None and x not in times:
        raise HTTPException(400, f"Column {x!r} holds no times; use one of {times}.")
    if by is not None and by not in texts:
        raise HTTPException(400, f"Split the chart by a text column ({texts}), not {by!r}.")
    return ChartAxes(x=x, y=y, by=by, numeric=numeric, texts=texts)


def _chart(x: str, y: str, by: str | None, answer: dict[str, Any]) -> dict[str, Any]:
    """Points per line: one line, or one per value of the split column ``by``."""
    lines: dict[str, list[list[Any]]] = {}
    dropped = False
    for row in answer["rows"]:
        if row[x] is None:
            continue
        name = str(row[by]) if by else y
        if name not in lines and len(lines) >= CHART_SERIES:
            dropped = True
            continue
        lines.setdefault(name, []).append([row[x], row[y]])
    return {
        "x": x,
        "y": y,
        "by": by,
        "lines": lines,
        "truncated": answer["next_cursor"] is not None,
        "dropped": dropped,
    }


async def report_page(request: Request) -> Response:
    """One report: its rows filtered, sorted and paged, and a numeric column over time."""
    session = require(request, Permission.REPORTS)
    token = await access_token(request, session)
    ebling = services(request).ebling
    name = request.path_params["name"]
    filters = _filters(request)
    sort = request.query_params.get("sort", "")
    params: dict[str, Any] = {"filter": [f["raw"] for f in filters], "sort": sort}

    report = await ebling.get(f"/reports/{name}", token=token)
    columns = report.get("columns") or []
    axes = _chart_axes(request, columns)
    chart_request = None
    x, y = axes.x, axes.y
    if x is not None and y is not None:
        wanted = ",".join(c for c in (x, y, axes.by) if c)
        chart_request = ebling.get(
            f"/reports/{name}/rows",
            token=token,
            params={**params, "columns": wanted, "sort": x, "limit": CHART_POINTS},
        )
    rows_request = ebling.get(
        f"/reports/{name}/rows",
        token=token,
        params={**params, "limit": ROWS_PER_PAGE, "cursor": request.query_params.get("cursor")},
    )
    if chart_request is not None:
        rows, chart_rows = await asyncio.gather(rows_request, chart_request)
    else:
        rows, chart_rows = await rows_request, None

    chart = None
    if chart_rows is not None and x is not None and y is not None:
        chart = _chart(x, y, axes.by, chart_rows)
    base_query = {
        "filter": [f["raw"] for f in filters],
        "sort": sort or None,
        "x": axes.x,
        "y": axes.y,
        "by": axes.by,
    }
    return render(
        request,
        "reports/report.html",
        {
            "report": report,
            "columns": rows["columns"],
            "rows": rows["rows"],
            "next_cursor": rows["next_cursor"],
            "paged": bool(request.query_params.get("cursor")),
            "filters": filters,
            "operators": FILTER_OPERATORS,
            "sort": sort,
            "base_query": base_query,
            "numeric_columns": axes.numeric,
            "text_columns": axes.texts,
            "chart": chart,
            "chart_json": json.dumps(chart).replace("<", "\\u003c") if chart else None,
        },
    )


async def _proxy(request: Request, path: str, params: dict[str, Any]) -> Response:
    """Stream an Ebling download to the browser with the person's token, never buffering it."""
    session = require(request)
    token = await access_token(request, session)
    stack = AsyncExitStack()
    try:
        upstream = await stack.enter_async_context(
            services(request).ebling.stream(path, token=token, params=params)
        )
    except EblingError:
        await stack.aclose()
        raise
    headers = {k: upstream.headers[k] for k in PASSED_HEADERS if k in upstream.headers}
    if "content-encoding" in upstream.headers:
        # httpx hands the body on decoded, so the encoded length no longer applies.
        headers.pop("content-length", None)

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_bytes():
                yield chunk
        finally:
            await stack.aclose()

    media_type = headers.pop("content-type", "application/octet-stream")
    return StreamingResponse(body(), media_type=media_type, headers=headers)


async def report_download(request: Request) -> Response:
    """The report's matching rows as CSV or Parquet, streamed from Ebling."""
    require(request, Permission.REPORTS)
    fmt = request.query_params.get("format", "csv")
    if fmt not in ("csv", "parquet"):
        raise HTTPException(400, f"Download as csv or parquet, not {fmt!r}.")
    params = {
        "format": fmt,
        "filter": [f["raw"] for f in _filters(request)],
        "sort": request.query_params.get("sort", ""),
    }
    return await _proxy(request, f"/reports/{request.path_params['name']}/export", params)


async def artifact_download(request: Request) -> Response:
    """An artifact's content, streamed from Ebling."""
    require(request, Permission.ARTIFACTS)
    return await _proxy(request, f"/artifacts/{request.path_params['artifact_id']}/content", {})


routes = [
    Route("/reports", report_list, methods=["GET"]),
    Route("/reports/{name}", report_page, methods=["GET"]),
    Route("/reports/{name}/download", report_download, methods=["GET"]),
    Route("/artifacts/{artifact_id:int}/content", artifact_download, methods=["GET"]),
]
