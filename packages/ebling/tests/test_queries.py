"""The read API: filters, sorting, cursors, statistics and the overview."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from event_factories import BASE_TIME, event, workflow_run
from fastapi.testclient import TestClient


@pytest.fixture
def loaded(client: TestClient, ingest_headers: dict[str, str]) -> dict[str, list[uuid.UUID]]:
    """Three workflows over three days: 'billing' fails once, 'cleanup' is still running."""
    runs: dict[str, list[uuid.UUID]] = {"daily_report": [], "billing": [], "cleanup": []}
    batch = []
    for day in range(3):
        start = BASE_TIME + timedelta(days=day)
        run_id, events = workflow_run(job="daily_report", start=start)
        runs["daily_report"].append(run_id)
        batch += events
        fail = "charge" if day == 2 else None
        run_id, events = workflow_run(
            job="billing",
            tasks=("charge",),
            start=start + timedelta(hours=1),
            fail_task=fail,
            namespace="dagster://finance",
        )
        runs["billing"].append(run_id)
        batch += events
    cleanup = uuid.uuid4()
    tags = {"tags": {"tags": [{"key": "maintenance"}]}}
    batch.append(
        event(
            "START",
            run_id=cleanup,
            job="cleanup",
            at=BASE_TIME + timedelta(days=2, hours=5),
            job_facets=tags,
        )
    )
    runs["cleanup"].append(cleanup)
    response = client.post("/api/v1/lineage", json=batch, headers=ingest_headers)
    assert response.status_code == 200, response.text
    return runs


def get(client: TestClient, headers: dict[str, str], path: str, **params: object) -> dict:
    response = client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def names(page: dict) -> list[str]:
    return [item["name"] for item in page["items"]]


def test_workflow_filters(client: TestClient, viewer_headers: dict[str, str], loaded: dict) -> None:
    h = viewer_headers
    assert names(get(client, h, "/api/v1/workflows")) == ["billing", "cleanup", "daily_report"]
    assert names(get(client, h, "/api/v1/workflows", namespace="dagster://finance")) == ["billing"]
    assert names(get(client, h, "/api/v1/workflows", last_state="FAILED")) == ["billing"]
    assert names(get(client, h, "/api/v1/workflows", last_state="RUNNING")) == ["cleanup"]
    assert names(get(client, h, "/api/v1/workflows", tag="maintenance")) == ["cleanup"]
    assert names(get(client, h, "/api/v1/workflows", q="REPO")) == ["daily_report"]
    assert names(get(client, h, "/api/v1/workflows", q="%")) == []
    assert names(get(client, h, "/api/v1/workflows", name="billing")) == ["billing"]
    assert names(get(client, h, "/api/v1/workflows", sort="-name")) == [
        "daily_report",
        "cleanup",
        "billing",
    ]
    assert names(get(client, h, "/api/v1/workflows", sort="-last_run_at")) == [
        "cleanup",
        "billing",
        "daily_report",
    ]


@pytest.mark.parametrize("sort", ["name", "-name", "last_run_at", "-last_run_at"])
def test_workflow_cursor_walks_every_item_once(
    client: TestClient, viewer_headers: dict[str, str], loaded: dict, sort: str
) -> None:
    everything = names(get(client, viewer_headers, "/api/v1/workflows", sort=sort))
    walked, cursor = [], None
    for _ in range(10):
        page = get(
            client,
            viewer_headers,
            "/api/v1/workflows",
            sort=sort,
            limit=1,
            **({"cursor": cursor} if cursor else {}),
        )
        walked += names(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == everything


def test_runs_filters_and_pagination(
    client: TestClient, viewer_headers: dict[str, str], loaded: dict
) -> None:
    h = viewer_headers
    all_runs = get(client, h, "/api/v1/runs", limit=500)["items"]
    assert len(all_runs) == 7
    starts = [run["started_at"] for run in all_runs]
    assert starts == sorted(starts, reverse=True)

    failed = get(client, h, "/api/v1/runs", state="FAILED")["items"]
    assert [run["id"] for run in failed] == [str(loaded["billing"][2])]
    assert failed[0]["workflow"]["name"] == "billing"

    both = get(client, h, "/api/v1/runs", state=["FAILED", "RUNNING"])["items"]
    assert len(both) == 2

    workflow_id = failed[0]["workflow"]["id"]
    assert len(get(client, h, "/api/v1/runs", workflow_id=workflow_id)["items"]) == 3
    assert len(get(client, h, "/api/v1/runs", namespace="airflow://etl-test")["items"]) == 4

    day_two = get(
        client,
        h,
        "/api/v1/runs",
        since=(BASE_TIME + timedelta(days=1)).isoformat(),
        until=(BASE_TIME + timedelta(days=2)).isoformat(),
    )["items"]
    assert {run["workflow"]["name"] for run in day_two} == {"daily_report", "billing"}
    assert len(day_two) == 2

    walked, cursor = [], None
    for _ in range(10):
        page = get(client, h, "/api/v1/runs", limit=3, **({"cursor": cursor} if cursor else {}))
        walked += [run["id"] for run in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == [run["id"] for run in all_runs]


def test_workflow_statistics(
    client: TestClient, viewer_headers: dict[str, str], loaded: dict
) -> None:
    billing = get(client, viewer_headers, "/api/v1/workflows", name="billing")["items"][0]
    detail = get(
        client,
        viewer_headers,
        f"/api/v1/workflows/{billing['id']}",
        since=BASE_TIME.isoformat(),
        until=(BASE_TIME + timedelta(days=3)).isoformat(),
    )
    stats = detail["stats"]
    assert stats["runs"] == 3
    assert stats["runs_by_state"] == {"COMPLETED": 2, "FAILED": 1}
    assert stats["success_rate"] == pytest.approx(2 / 3)
    # Each billing run: one task of two minutes, then one second to finish.
    assert stats["duration_p50_seconds"] == pytest.approx(121)
    assert stats["duration_p95_seconds"] == pytest.approx(121)
    assert detail["last_run"]["state"] == "FAILED"

    empty = get(
        client,
        viewer_headers,
        f"/api/v1/workflows/{billing['id']}",
        since="2020-01-01T00:00:00Z",
        until="2020-01-02T00:00:00Z",
    )["stats"]
    assert empty["runs"] == 0
    assert empty["success_rate"] is None
    assert empty["duration_p50_seconds"] is None


def test_run_events_are_raw_and_in_time_order(
    client: TestClient, viewer_headers: dict[str, str], loaded: dict
) -> None:
    run_id = loaded["daily_report"][0]
    events = get(client, viewer_headers, f"/api/v1/runs/{run_id}/events")["items"]
    assert len(events) == 6  # the run's START and COMPLETE, two events for each of two tasks
    times = [e["event_time"] for e in events]
    assert times == sorted(times)
    assert events[0]["payload"]["producer"] == "https://example.org/tests/ebling"
    assert events[0]["payload"]["inputs"] == []

    first = get(client, viewer_headers, f"/api/v1/runs/{run_id}/events", limit=4)
    rest = get(client, viewer_headers, f"/api/v1/runs/{run_id}/events", cursor=first["next_cursor"])
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in events]


def test_overview(client: TestClient, viewer_headers: dict[str, str], loaded: dict) -> None:
    overview = get(
        client,
        viewer_headers,
        "/api/v1/overview",
        since=BASE_TIME.isoformat(),
        until=(BASE_TIME + timedelta(days=3)).isoformat(),
        bucket="day",
    )
    assert overview["runs"] == 7
    assert overview["runs_by_state"] == {"COMPLETED": 5, "FAILED": 1, "RUNNING": 1}
    assert overview["running_now"] == 1
    assert overview["success_rate"] == pytest.approx(5 / 6)
    assert [point["bucket"] for point in overview["series"]] == [
        "2026-11-02T00:00:00Z",
        "2026-11-03T00:00:00Z",
        "2026-11-04T00:00:00Z",
        "2026-11-05T00:00:00Z",  # the range ends at 06:00 that day
    ]
    assert overview["series"][2]["counts"] == {"COMPLETED": 1, "FAILED": 1, "RUNNING": 1}
    assert overview["top_failing"][0]["workflow"]["name"] == "billing"
    assert overview["top_failing"][0]["failures"] == 1

    hourly = get(
        client,
        viewer_headers,
        "/api/v1/overview",
        since=BASE_TIME.isoformat(),
        until=(BASE_TIME + timedelta(hours=2)).isoformat(),
    )
    assert len(hourly["series"]) == 2
    assert hourly["series"][0]["counts"] == {"COMPLETED": 1}
    assert hourly["series"][1]["counts"] == {"COMPLETED": 1}


def test_namespaces(client: TestClient, viewer_headers: dict[str, str], loaded: dict) -> None:
    namespaces = get(client, viewer_headers, "/api/v1/namespaces")
    assert [(n["name"], n["workflow_count"]) for n in namespaces] == [
        ("airflow://etl-test", 2),
        ("dagster://finance", 1),
    ]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/api/v1/runs", {"cursor": "bm9wZQ"}, 400),
        ("/api/v1/runs", {"cursor": "!!!"}, 400),
        ("/api/v1/workflows", {"cursor": "bm9wZQ"}, 400),
        ("/api/v1/runs", {"limit": 0}, 422),
        ("/api/v1/runs", {"limit": 501}, 422),
        ("/api/v1/runs", {"state": "DONE"}, 422),
        ("/api/v1/runs", {"since": "2026-01-01T00:00:00"}, 422),
        ("/api/v1/workflows", {"sort": "size"}, 422),
        (
            "/api/v1/overview",
            {"since": "2020-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            422,
        ),
        (
            "/api/v1/overview",
            {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            422,
        ),
        ("/api/v1/workflows/999999", {}, 404),
        ("/api/v1/runs/6f2b2a38-0000-4000-8000-000000000000", {}, 404),
        ("/api/v1/runs/6f2b2a38-0000-4000-8000-000000000000/events", {}, 404),
        ("/api/v1/runs/not-a-uuid", {}, 422),
        ("/api/v1/nothing-here", {}, 404),
    ],
)
def test_bad_queries_are_problems(
    client: TestClient, viewer_headers: dict[str, str], path: str, params: dict, status: int
) -> None:
    response = client.get(path, params=params, headers=viewer_headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]


def test_cursor_of_one_list_is_refused_by_another(
    client: TestClient, viewer_headers: dict[str, str], loaded: dict
) -> None:
    cursor = get(client, viewer_headers, "/api/v1/workflows", limit=1)["next_cursor"]
    response = client.get("/api/v1/runs", params={"cursor": cursor}, headers=viewer_headers)
    assert response.status_code == 400
