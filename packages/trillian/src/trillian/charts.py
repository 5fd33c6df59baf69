"""Turning Ebling's answers into the data the pages' charts and timelines draw."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from trillian.templating import STATES, parse_time

__all__ = [
    "durations_by_workflow",
    "gantt_rows",
    "infer_schedule",
    "run_grid",
    "state_series",
]


def _epoch_ms(value: str | None) -> int | None:
    moment = parse_time(value)
    return None if moment is None else int(moment.timestamp() * 1000)


def state_series(overview: dict[str, Any]) -> dict[str, Any]:
    """Runs per state per bucket, as one series per state for a stacked bar chart."""
    buckets = overview.get("series", [])
    return {
        "x": [_epoch_ms(bucket["bucket"]) for bucket in buckets],
        "series": {
            state: [bucket["counts"].get(state, 0) for bucket in buckets] for state in STATES
        },
    }


def durations_by_workflow(runs: list[dict[str, Any]]) -> dict[str, list[list[float]]]:
    """[start (epoch ms), duration (s)] points of finished runs, per workflow name."""
    points: dict[str, list[list[float]]] = defaultdict(list)
    for run in sorted(runs, key=lambda r: r["started_at"]):
        started = _epoch_ms(run["started_at"])
        if run.get("duration_seconds") is None or started is None:
            continue
        name = run["workflow"]["name"] if "workflow" in run else "runs"
        points[name].append([started, round(float(run["duration_seconds"]), 3)])
    return dict(points)


def short_task_name(task_name: str, workflow_name: str) -> str:
    """A task's name without its workflow's prefix (``dag.task`` becomes ``task``)."""
    prefix = workflow_name + "."
    return task_name[len(prefix) :] if task_name.startswith(prefix) else task_name


def run_grid(workflow_name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Runs (oldest first, as columns) by tasks (rows, in the order they first ran).

    Each cell is the task run of that task in that run, or ``None`` where the run has none.
    """
    columns = sorted(runs, key=lambda run: run["started_at"])
    tasks: list[str] = []
    cells: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for run in columns:
        for task_run in run.get("task_runs", []):
            name = short_task_name(task_run["task_name"], workflow_name)
            if name not in tasks:
                tasks.append(name)
            cells[name][run["id"]] = task_run
    rows = [
        {"task": task, "cells": [cells[task].get(run["id"]) for run in columns]} for task in tasks
    ]
    return {"runs": columns, "rows": rows}


def gantt_rows(run: dict[str, Any], *, now: datetime, workflow_name: str) -> dict[str, Any] | None:
    """Each task run's bar as a share of the run's span, for an SVG timeline.

    A task still running reaches to ``now``. ``None`` when the run has no timed task runs.
    """
    task_runs = [t for t in run.get("task_runs", []) if t.get("started_at")]
    if not task_runs:
        return None
    starts = [parse_time(t["started_at"]) for t in task_runs]
    ends = [parse_time(t.get("ended_at")) or now for t in task_runs]
    span_start = min(s for s in starts if s is not None)
    span_end = max(max(ends), span_start + timedelta(seconds=1))
    span = (span_end - span_start).total_seconds()
    rows = []
    for task_run, start, end in zip(task_runs, starts, ends, strict=True):
        if start is None:
            continue
        offset = (start - span_start).total_seconds() / span * 100
        width = max((end - start).total_seconds() / span * 100, 0.4)
        rows.append(
            {
                "name": short_task_name(task_run["task_name"], workflow_name),
                "task_run": task_run,
                "x": round(offset, 3),
                "width": round(min(width, 100 - offset), 3),
            }
        )
    return {"rows": rows, "start": span_start, "end": span_end, "seconds": span}


def infer_schedule(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """How often runs were due, from their nominal start times: a cadence and the last one.

    Orchestrators do not all report their schedule, but OpenLineage's ``nominalTime`` facet
    says when each run was due; the typical gap between those is the cadence.
    """
    moments = sorted(
        m for m in (parse_time(run.get("nominal_start_time")) for run in runs) if m is not None
    )
    if len(moments) < 3:
        return None
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(moments)]
    typical = statistics.median(gaps)
    if typical <= 0:
        return None
    cadence = None
    for seconds, name in ((3600, "hourly"), (86_400, "daily"), (604_800, "weekly")):
        if abs(typical - seconds) <= seconds * 0.05:
            cadence = name
    if cadence is None:
        hours = typical / 3600
        cadence = f"about every {hours:.1f} h" if hours >= 1 else f"every {typical / 60:.0f} min"
    return {"cadence": cadence, "last": moments[-1]}
