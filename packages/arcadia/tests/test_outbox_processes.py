"""Processes sharing one outbox file lose nothing and send nothing twice.

Each test has an Ebling of its own, so that its metrics count this test's events only:
``stored`` must equal the distinct events, and ``duplicate`` shows whether an event was
ever sent twice (harmless, as Ebling stores it once, but the lease should prevent it).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from arcadia.client import EblingClient, RunState
from arcadia.outbox import LINEAGE, Outbox
from arcadia_events import finished_run
from arcadia_server import EblingServer

WORKER = Path(__file__).with_name("arcadia_outbox_worker.py")


def run_workers(server: EblingServer, outbox: Path, jobs: list[list[str]]) -> list[dict[str, Any]]:
    """Start one process per job at once, all beginning at the same moment; their reports."""
    start_at = str(time.time() + 2.0)
    common = [server.url, server.admin_key, str(outbox), start_at]
    processes = [
        subprocess.Popen(  # noqa: S603 - this interpreter and our own script
            [sys.executable, str(WORKER), job[0], *common, *job[1:]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for job in jobs
    ]
    reports = []
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


def lineage_counts(server: EblingServer) -> dict[str, float]:
    text = httpx.get(f"{server.url}/metrics").text
    pattern = r'^ebling_lineage_events_total\{outcome="(\w+)"\} ([0-9.e+]+)$'
    return {m[1]: float(m[2]) for m in re.finditer(pattern, text, flags=re.MULTILINE)}


def test_processes_emitting_into_one_outbox_deliver_every_event_once(
    own_ebling: EblingServer, tmp_path: Path
) -> None:
    own_ebling.start()
    path = tmp_path / "outbox.db"
    workers, runs = 3, 40

    reports = run_workers(
        own_ebling, path, [["emit", f"worker-{n}", str(runs)] for n in range(workers)]
    )

    assert all(report["error"] is None for report in reports)
    outbox = Outbox(path)
    # A worker whose last flush found the lease held left its events to the holder; any the
    # holder finished before seeing are delivered here.
    with EblingClient(own_ebling.url, api_key=own_ebling.admin_key) as client:
        outbox.deliver(client)
        namespaces = [f"airflow://worker-{n}" for n in range(workers)]
        found = [run for ns in namespaces for run in client.list_runs(namespace=ns)]
    assert (outbox.pending_count(), outbox.dead_letters()) == (0, [])
    assert len(found) == workers * runs
    assert {run.state for run in found} == {RunState.COMPLETED}
    assert {run.event_count for run in found} == {2}
    counts = lineage_counts(own_ebling)
    assert counts["stored"] == workers * runs * 2
    assert counts.get("duplicate", 0) == 0


def test_two_deliverers_on_one_file_never_send_an_event_twice(
    own_ebling: EblingServer, tmp_path: Path
) -> None:
    own_ebling.start()
    path = tmp_path / "outbox.db"
    runs = [finished_run(namespace="airflow://backlog", job=f"job_{n}") for n in range(1_000)]
    Outbox(path).enqueue_many(LINEAGE, [event for _, events in runs for event in events])

    reports = run_workers(own_ebling, path, [["deliver"], ["deliver"]])

    assert sum(report["delivered"] for report in reports) == 2_000
    assert Outbox(path).pending_count() == 0
    counts = lineage_counts(own_ebling)
    assert (counts["stored"], counts.get("duplicate", 0)) == (2_000, 0)
