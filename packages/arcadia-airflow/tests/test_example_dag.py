"""The user's DAG, run by Airflow 3 as ``airflow dags test`` does, reporting to a live Ebling."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow_stack import (
    DAG_ID,
    NAMESPACE,
    Ebling,
    airflow_env,
    free_port,
    monitoring_mail,
    run_airflow,
)


@pytest.fixture
def ebling(tmp_path: Path) -> Iterator[Ebling]:
    server = Ebling(home=tmp_path / "ebling", port=free_port())
    server.start()
    yield server
    server.stop()


def test_example_dag_saves_reports_and_reports_its_runs(tmp_path: Path, ebling: Ebling) -> None:
    maildir = tmp_path / "mail"
    monitoring_mail(maildir, 1)
    monitoring_mail(maildir, 2)
    monitoring_mail(maildir, 3, sender="someone@elsewhere.example")  # the filter ignores it
    env = airflow_env(tmp_path / "airflow", ebling, maildir)
    run_airflow(env, "db", "migrate")

    result = run_airflow(env, "dags", "test", DAG_ID)
    assert "Failed to import plugin" not in result.stdout + result.stderr

    workflows = ebling.get("/api/v1/workflows", namespace=NAMESPACE)["items"]  # type: ignore[index]
    assert [w["name"] for w in workflows] == [DAG_ID]
    runs = ebling.get("/api/v1/runs", workflow_id=workflows[0]["id"])["items"]  # type: ignore[index]
    assert len(runs) == 1
    run = ebling.get(f"/api/v1/runs/{runs[0]['id']}")
    assert run["state"] == "COMPLETED"  # type: ignore[index]
    tasks = {t["task_name"]: t["state"] for t in run["task_runs"]}  # type: ignore[index]
    assert tasks == {
        f"{DAG_ID}.wait_for_monitoring_reports_email": "COMPLETED",
        f"{DAG_ID}.get_monitoring_reports_email": "COMPLETED",
        f"{DAG_ID}.save_csv_in_database": "COMPLETED",
    }

    batches = ebling.get("/api/v1/reports/cpu/batches")["items"]  # type: ignore[index]
    assert sorted(b["source_file_name"] for b in batches) == [
        "cpu_2026-12-01.csv",
        "cpu_2026-12-02.csv",
    ]
    assert {b["run_id"] for b in batches} == {runs[0]["id"]}
    rows = ebling.get("/api/v1/reports/cpu/rows", sort="cpu_percent")["rows"]  # type: ignore[index]
    assert [row["cpu_percent"] for row in rows] == [1.5, 2.5, 41, 42]

    # The next day brings one new message: only that one is saved.
    monitoring_mail(maildir, 4)
    run_airflow(env, "dags", "test", DAG_ID, "2026-12-04")
    batches = ebling.get("/api/v1/reports/cpu/batches")["items"]  # type: ignore[index]
    assert len(batches) == 3
    assert len(ebling.get("/api/v1/runs", workflow_id=workflows[0]["id"])["items"]) == 2  # type: ignore[index]
