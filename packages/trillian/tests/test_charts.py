"""Turning Ebling's answers into grids, timelines and schedules; formatting for people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from trillian.charts import gantt_rows, infer_schedule, run_grid, state_series
from trillian.templating import format_duration, time_tag

T0 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def task(name: str, start: float, end: float | None, state: str = "COMPLETED") -> dict[str, object]:
    return {
        "task_name": f"etl.{name}",
        "state": state,
        "started_at": at(start),
        "ended_at": at(end) if end is not None else None,
        "duration_seconds": (end - start) * 60 if end is not None else None,
    }


def test_the_grid_has_runs_oldest_first_and_tasks_in_order_of_first_run() -> None:
    newer = {
        "id": "b",
        "started_at": at(60),
        "task_runs": [task("load", 60, 61), task("extra", 61, 62)],
    }
    older = {
        "id": "a",
        "started_at": at(0),
        "task_runs": [task("extract", 0, 1), task("load", 1, 2)],
    }
    grid = run_grid("etl", [newer, older])
    assert [run["id"] for run in grid["runs"]] == ["a", "b"]
    assert [row["task"] for row in grid["rows"]] == ["extract", "load", "extra"]
    extract = grid["rows"][0]["cells"]
    assert extract[0]["state"] == "COMPLETED"
    assert extract[1] is None  # the newer run had no extract


def test_the_timeline_places_bars_by_share_of_the_run() -> None:
    run = {
        "task_runs": [
            task("extract", 0, 10),
            task("load", 10, 40),
            task("wait", 40, None, "RUNNING"),
        ]
    }
    gantt = gantt_rows(run, now=T0 + timedelta(minutes=50), workflow_name="etl")
    assert gantt is not None
    bars = {row["name"]: (row["x"], row["width"]) for row in gantt["rows"]}
    assert bars["extract"] == (0, 20)
    assert bars["load"] == (20, 60)
    assert bars["wait"] == (80, 20)  # running: reaches to now
    assert gantt["seconds"] == 50 * 60


def test_a_run_without_task_runs_has_no_timeline() -> None:
    assert gantt_rows({"task_runs": []}, now=T0, workflow_name="etl") is None


def test_a_daily_schedule_is_recognised_from_nominal_times() -> None:
    runs = [{"nominal_start_time": at(day * 1440)} for day in range(5)]
    schedule = infer_schedule(runs)
    assert schedule is not None
    assert schedule["cadence"] == "daily"
    assert schedule["last"] == T0 + timedelta(days=4)


def test_an_irregular_cadence_is_described_and_too_few_runs_give_none() -> None:
    runs = [{"nominal_start_time": at(step * 150)} for step in range(4)]
    assert infer_schedule(runs) == {
        "cadence": "about every 2.5 h",
        "last": T0 + timedelta(minutes=450),
    }
    assert infer_schedule(runs[:2]) is None
    assert infer_schedule([{"nominal_start_time": None}] * 5) is None


def test_state_series_has_one_series_per_state() -> None:
    overview = {
        "series": [{"bucket": at(0), "counts": {"FAILED": 2}}, {"bucket": at(60), "counts": {}}]
    }
    data = state_series(overview)
    assert data["series"]["FAILED"] == [2, 0]
    assert data["series"]["COMPLETED"] == [0, 0]
    assert len(data["x"]) == 2


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0.25, "250 ms"),
        (12.44, "12.4 s"),
        (185, "3 min 5 s"),
        (3600, "1 h"),
        (7440, "2 h 4 min"),
        (200_000, "2 d 7 h"),
    ],
)
def test_durations_read_at_a_glance(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_times_are_sent_as_utc_for_the_browser_to_convert() -> None:
    html = str(time_tag("2026-12-01T06:00:00Z"))
    assert 'datetime="2026-12-01T06:00:00Z"' in html
    assert ">2026-12-01 06:00 UTC<" in html
    assert "—" in str(time_tag(None))
