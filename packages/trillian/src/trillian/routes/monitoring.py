"""Monitoring pages: the overview, the workflow list, one workflow, one run."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trillian.access import Permission
from trillian.charts import (
    durations_by_workflow,
    gantt_rows,
    infer_schedule,
    run_grid,
    state_series,
)
from trillian.ebling_client import EblingForbidden
from trillian.timeutil import rfc3339
from trillian.web import access_token, render, require, services, viewer_zone

__all__ = ["routes"]

#: Ranges the overview offers: how far back, and the width of a bar.
OVERVIEW_RANGES: dict[str, tuple[timedelta, str]] = {
    "24h": (timedelta(hours=24), "hour"),
    "7d": (timedelta(days=7), "hour"),
    "30d": (timedelta(days=30), "day"),
}
WORKFLOW_SORTS = ("name", "-name", "last_run_at", "-last_run_at")
WORKFLOWS_PER_PAGE = 25
#: Runs shown beside each workflow in the list, newest last.
RUNS_PER_WORKFLOW = 12
#: Runs in a workflow's grid; each costs one request for its task runs.
GRID_RUNS = 25
ACTIVE_STATES = frozenset({"RUNNING", "NEW"})


def _choice(request: Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(name) or default
    if value not in allowed:
        raise HTTPException(400, f"'{name}' must be one of {', '.join(allowed)}, not {value!r}.")
    return value


def _json(data: Any) -> str:
    # Embedded in <script type="application/json">: '<' escaped so no "</script>" can close it.
    return json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")


async def overview(request: Request) -> Response:
    """Runs today, success rate, running now, failing workflows, runs per hour, durations."""
    session = require(request, Permission.MONITORING)
    token = await access_token(request, session)
    ebling = services(request).ebling
    range_key = _choice(request, "range", tuple(OVERVIEW_RANGES), "24h")
    width, bucket = OVERVIEW_RANGES[range_key]
    now = datetime.now(UTC)
    since = now - width
    local_midnight = now.astimezone(viewer_zone(request)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )

    summary, today, recent, running = await asyncio.gather(
        ebling.get(
            "/overview",
            token=token,
            params={"since": rfc3339(since), "until": rfc3339(now), "bucket": bucket},
        ),
        ebling.get(
            "/overview",
            token=token,
            params={"since": rfc3339(local_midnight), "until": rfc3339(now), "bucket": "day"},
        ),
        ebling.get("/runs", token=token, params={"since": rfc3339(since), "limit": 500}),
        ebling.get("/runs", token=token, params={"state": "RUNNING", "limit": 20}),
    )
    return render(
        request,
        "overview.html",
        {
            "range": range_key,
            "ranges": list(OVERVIEW_RANGES),
            "summary": summary,
            "today": today,
            "running": running["items"],
            "states_chart": _json(state_series(summary)),
            "durations_chart": _json(durations_by_workflow(recent["items"])),
            "durations_sampled": recent["next_cursor"] is not None,
        },
    )


async def running_fragment(request: Request) -> Response:
    """The "running now" table alone, which the overview polls."""
    session = require(request, Permission.MONITORING)
    token = await access_token(request, session)
    running = await services(request).ebling.get(
        "/runs", token=token, params={"state": "RUNNING", "limit": 20}
    )
    return render(request, "partials/running.html", {"running": running["items"]})


async def workflows(request: Request) -> Response:
    """Workflows, searchable and filterable, each with the states of its latest runs."""
    session = require(request, Permission.MONITORING)
    token = await access_token(request, session)
    ebling = services(request).ebling
    query = request.query_params
    filters = {
        "q": query.get("q", "").strip(),
        "namespace": query.get("namespace", ""),
        "tag": query.get("tag", "").strip(),
        "last_state": query.get("last_state", ""),
        "sort": _choice(request, "sort", WORKFLOW_SORTS, "name"),
    }
    namespaces, page = await asyncio.gather(
        ebling.get("/namespaces", token=token),
        ebling.get(
            "/workflows",
            token=token,
            params={**filters, "limit": WORKFLOWS_PER_PAGE, "cursor": query.get("cursor")},
        ),
    )
    recent = await asyncio.gather(
        *(
            ebling.get(
                "/runs",
                token=token,
                params={"workflow_id": workflow["id"], "limit": RUNS_PER_WORKFLOW},
            )
            for workflow in page["items"]
        )
    )
    rows = [
        {"workflow": workflow, "runs": list(reversed(runs["items"]))}
        for workflow, runs in zip(page["items"], recent, strict=True)
    ]
    return render(
        request,
        "workflows.html",
        {
            "filters": filters,
            "namespaces": namespaces,
            "rows": rows,
            "next_cursor": page["next_cursor"],
            "paged": bool(query.get("cursor")),
        },
    )


async def workflow(request: Request) -> Response:
    """One workflow: its facts, a grid of runs by tasks, and run durations over time."""
    session = require(request, Permission.MONITORING)
    token = await access_token(request, session)
    ebling = services(request).ebling
    workflow_id = request.path_params["workflow_id"]
    days = int(_choice(request, "days", ("7", "30", "90"), "7"))
    now = datetime.now(UTC)

    detail, runs = await asyncio.gather(
        ebling.get(
            f"/workflows/{workflow_id}",
            token=token,
            params={"since": rfc3339(now - timedelta(days=days)), "until": rfc3339(now)},
        ),
        ebling.get("/runs", token=token, params={"workflow_id": workflow_id, "limit": 100}),
    )
    grid_runs = await asyncio.gather(
        *(ebling.get(f"/runs/{run['id']}", token=token) for run in runs["items"][:GRID_RUNS])
    )
    return render(
        request,
        "workflow.html",
        {
            "workflow": detail,
            "days": days,
            "runs": runs["items"],
            "grid": run_grid(detail["name"], list(grid_runs)),
            "schedule": infer_schedule(runs["items"]),
            "durations_chart": _json(durations_by_workflow(runs["items"])),
        },
    )


async def _run_outputs(
    request: Request, token: str, run_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The artifacts and report batches the run produced (empty where the roles forbid)."""
    ebling = services(request).ebling
    session = require(request)
    artifacts: list[dict[str, Any]] = []
    batches: list[dict[str, Any]] = []
    if session.can(Permission.ARTIFACTS):
        page = await ebling.get("/artifacts", token=token, params={"run_id": run_id, "limit": 100})
        artifacts = page["items"]
    if session.can(Permission.REPORTS):
        # Ebling lists batches per report only, so look through each report's recent batches.
        reports = await ebling.get("/reports", token=token, params={"limit": 50})
        pages = await asyncio.gather(
            *(
                ebling.get(f"/reports/{r['name']}/batches", token=token, params={"limit": 100})
                for r in reports["items"]
            )
        )
        for report, page in zip(reports["items"], pages, strict=True):
            batches += [
                {**batch, "report_name": report["name"]}
                for batch in page["items"]
                if batch.get("run_id") == run_id
            ]
    return artifacts, batches


async def _run_context(request: Request) -> dict[str, Any]:
    session = require(request, Permission.MONITORING)
    token = await access_token(request, session)
    ebling = services(request).ebling
    run_id = request.path_params["run_id"]
    run, events = await asyncio.gather(
        ebling.get(f"/runs/{run_id}", token=token),
        ebling.get(f"/runs/{run_id}/events", token=token, params={"limit": 500}),
    )
    try:
        artifacts, batches = await _run_outputs(request, token, run["id"])
    except EblingForbidden:
        artifacts, batches = [], []
    gantt = gantt_rows(run, now=datetime.now(UTC), workflow_name=run["workflow"]["name"])
    return {
        "run": run,
        "gantt": gantt,
        "events": [
            {**event, "pretty": json.dumps(event["payload"], indent=2, sort_keys=True)}
            for event in events["items"]
        ],
        "more_events": events["next_cursor"] is not None,
        "failed_tasks": [t for t in run["task_runs"] if t.get("error_message")],
        "artifacts": artifacts,
        "batches": batches,
        "live": run["state"] in ACTIVE_STATES
        or any(t["state"] in ACTIVE_STATES for t in run["task_runs"]),
    }


async def run_page(request: Request) -> Response:
    """One run: task runs on a timeline, errors in full, raw events, what it produced."""
    return render(request, "run.html", await _run_context(request))


async def run_live(request: Request) -> Response:
    """The changing part of a run's page, which the page polls while the run is active."""
    return render(request, "partials/run_live.html", await _run_context(request))


routes = [
    Route("/", overview, methods=["GET"]),
    Route("/fragments/running", running_fragment, methods=["GET"]),
    Route("/workflows", workflows, methods=["GET"]),
    Route("/workflows/{workflow_id:int}", workflow, methods=["GET"]),
    Route("/runs/{run_id:uuid}", run_page, methods=["GET"]),
    Route("/runs/{run_id:uuid}/live", run_live, methods=["GET"]),
]
