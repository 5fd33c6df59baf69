"""The example DAG on the production stack: mail from Dovecot over IMAP, Ebling on PostgreSQL,
and Ebling stopped in the middle of a run.
"""

from __future__ import annotations

import imaplib
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow_stack import (
    DAG_ID,
    NAMESPACE,
    REPO,
    Ebling,
    airflow_env,
    free_port,
    report_message,
    run_airflow,
)

IN_CI = os.environ.get("CI") == "true"


def _required(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    if IN_CI:
        pytest.fail(f"{name} is not set; CI must run this test (the test command sets it)")
    pytest.skip(f"{name} is not set (the README's test command sets it)")


@pytest.fixture
def postgres_url() -> str:
    server = _required("EBLING_TEST_POSTGRES_URL")
    name = f"ebling_airflow_{uuid.uuid4().hex[:10]}"
    # The workspace's Python has the PostgreSQL driver; Airflow's environment need not.
    create = (
        f"import psycopg; "
        f"psycopg.connect({server!r}, autocommit=True).execute('CREATE DATABASE {name}')"
    )
    subprocess.run([str(REPO / ".venv/bin/python"), "-c", create], check=True)  # noqa: S603
    return server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def imap() -> Iterator[imaplib.IMAP4]:
    host = _required("ARCADIA_TEST_IMAP_HOST")
    connection = imaplib.IMAP4(host, int(_required("ARCADIA_TEST_IMAP_PORT")))
    connection.login("user2", "pass2")
    # A folder of this test's own, so no other test's mail is in the way.
    folder = f"reports-{uuid.uuid4().hex[:8]}"
    connection.create(folder)
    connection.folder = folder  # type: ignore[attr-defined]
    yield connection
    connection.logout()


def deliver(imap: imaplib.IMAP4, day: int) -> None:
    imap.append(imap.folder, None, None, report_message(day))  # type: ignore[attr-defined]


def test_dovecot_postgres_and_an_ebling_outage(
    tmp_path: Path, postgres_url: str, imap: imaplib.IMAP4
) -> None:
    ebling = Ebling(home=tmp_path / "ebling", port=free_port(), database_url=postgres_url)
    ebling.start()
    env = airflow_env(tmp_path / "airflow", ebling, maildir=None)
    env["AIRFLOW_CONN_MONITORING_IMAP"] = json.dumps(
        {
            "conn_type": "imap",
            "host": os.environ["ARCADIA_TEST_IMAP_HOST"],
            "port": int(os.environ["ARCADIA_TEST_IMAP_PORT"]),
            "login": "user2",
            "password": "pass2",
            "extra": {"security": "none"},
        }
    )
    env["MONITORING_FOLDER"] = imap.folder  # type: ignore[attr-defined]
    try:
        run_airflow(env, "db", "migrate")
        deliver(imap, 1)
        run_airflow(env, "dags", "test", DAG_ID, "2026-12-01")

        # Ebling goes down; the DAG still succeeds, its events and its report wait.
        ebling.stop()
        deliver(imap, 2)
        run_airflow(env, "dags", "test", DAG_ID, "2026-12-02")

        # Ebling is back: the next run delivers what waited, in order, then its own.
        ebling.start()
        deliver(imap, 3)
        run_airflow(env, "dags", "test", DAG_ID, "2026-12-03")

        workflow = ebling.get("/api/v1/workflows", namespace=NAMESPACE)["items"][0]  # type: ignore[index]
        runs = ebling.get("/api/v1/runs", workflow_id=workflow["id"])["items"]  # type: ignore[index]
        assert len(runs) == 3
        assert {run["state"] for run in runs} == {"COMPLETED"}
        batches = ebling.get("/api/v1/reports/cpu/batches")["items"]  # type: ignore[index]
        files = {b["source_file_name"]: b["run_id"] for b in batches}
        assert sorted(files) == ["cpu_2026-12-01.csv", "cpu_2026-12-02.csv", "cpu_2026-12-03.csv"]
        assert set(files.values()) == {run["id"] for run in runs}
        assert ebling.get("/api/v1/reports/cpu")["row_count"] == 6  # type: ignore[index]
    finally:
        ebling.stop()
