"""Trillian's pages with a year of history behind them: each page's server time at p95.

1. Load (or, with ``--reuse``, keep) the query benchmark's data set: ``--runs`` runs
   (1,000,000 by default) and about ten task runs each, in PostgreSQL, loaded by
   ``bench_queries.load``.
2. Start ``ebling serve`` on it and ``trillian serve`` on that, upload one report of 20,000
   rows, and sign in to Trillian with an admin API key through its own sign-in form.
3. Request each page one at a time, ``--repeat`` times with parameters drawn at random, and
   read Trillian's ``Server-Timing`` header: the time from the request reaching Trillian to
   its answer starting, every Ebling call of the page included. The client's wall time is
   reported beside it.

The target is a p95 under 300 ms for every page. Results go to
``benchmarks/.data/results/trillian.json``.

Usage: ``uv run --with httpx python benchmarks/bench_trillian.py --help``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import bench_queries
import httpx
from _common import (
    DATA_DIR,
    DEFAULT_POSTGRES_URL,
    EblingServer,
    LatencySummary,
    create_api_key,
    database_exists,
    database_url,
    drop_and_create_database,
    machine_description,
    markdown_table,
    step,
    write_results,
)

TARGET_MS = 300.0
REPORT_ROWS = 20_000
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class TrillianServer:
    """``trillian serve`` in a child process, pointed at an Ebling."""

    def __init__(self, ebling_url: str, *, port: int, log_path: Path) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self.port = port
        self.ebling_url = ebling_url
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> TrillianServer:
        environment = {
            **os.environ,
            "TRILLIAN_EBLING_URL": self.ebling_url,
            "TRILLIAN_PUBLIC_URL": self.base_url,
        }
        command = [str(Path(sys.executable).parent / "trillian"), "serve", "--port", str(self.port)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - fixed arguments
                command, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"trillian serve exited early; see {self.log_path}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"trillian serve did not answer within 60 s; see {self.log_path}")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)


def sign_in(client: httpx.Client, key: str) -> None:
    """Sign in through Trillian's form with an API key, as a browser would."""
    form = client.get("/login")
    token = _CSRF.search(form.text)
    if token is None:
        raise RuntimeError("Trillian's sign-in page has no CSRF token")
    answer = client.post("/login/api-key", data={"api_key": key, "csrf_token": token.group(1)})
    if answer.status_code != 303:
        raise RuntimeError(f"signing in failed: {answer.status_code} {answer.text[:300]}")


def upload_report(ebling_url: str, key: str) -> None:
    """A report of sensor readings, so the report pages have rows to page, sort and chart."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lines = ["sensor,measured_at,temperature,humidity"]
    for index in range(REPORT_ROWS):
        at = (start + timedelta(minutes=15 * (index // 8))).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f"s-{index % 8},{at},{15 + (index % 97) / 7:.2f},{30 + index % 60}")
    answer = httpx.post(
        f"{ebling_url}/api/v1/reports/bench_sensors/batches",
        content=("\n".join(lines) + "\n").encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "text/csv"},
        timeout=300,
    )
    answer.raise_for_status()


@dataclass(frozen=True, slots=True)
class PageCase:
    """One page, and the paths to request it with."""

    name: str
    paths: list[str]


def page_cases(samples: bench_queries.Samples, rng: random.Random, repeat: int) -> list[PageCase]:
    """The pages to measure, ``repeat`` requests each."""

    def pick(values: Sequence[Any]) -> Any:
        return values[rng.randrange(len(values))]

    def path(base: str, **query: Any) -> str:
        return f"{base}?{urlencode(query, doseq=True)}" if query else base

    def cases() -> Iterator[PageCase]:
        yield PageCase("floor: /healthz", ["/healthz"] * repeat)
        yield PageCase("overview, 24 h", ["/"] * repeat)
        yield PageCase("overview, 7 days", [path("/", range="7d")] * repeat)
        yield PageCase("overview, 30 days", [path("/", range="30d")] * repeat)
        yield PageCase("workflows, first page", ["/workflows"] * repeat)
        yield PageCase(
            "workflows, search and sort",
            [
                path("/workflows", q=pick(samples.search_terms), sort="-last_run_at")
                for _ in range(repeat)
            ],
        )
        yield PageCase(
            "workflows, last run failed", [path("/workflows", last_state="FAILED")] * repeat
        )
        yield PageCase(
            "a workflow (grid of 25 runs)",
            [f"/workflows/{pick(samples.workflow_ids)}" for _ in range(repeat)],
        )
        yield PageCase(
            "a run (timeline, events, outputs)",
            [f"/runs/{pick(samples.run_ids)}" for _ in range(repeat)],
        )
        yield PageCase("running now (polled fragment)", ["/fragments/running"] * repeat)
        yield PageCase("reports", ["/reports"] * repeat)
        yield PageCase("a report (table and chart)", ["/reports/bench_sensors"] * repeat)
        yield PageCase(
            "a report, filtered and sorted",
            [
                path(
                    "/reports/bench_sensors",
                    filter=f"sensor:eq:s-{rng.randrange(8)}",
                    sort="-temperature",
                )
                for _ in range(repeat)
            ],
        )
        yield PageCase("API keys", ["/admin/api-keys"] * repeat)
        yield PageCase("audit log", ["/admin/audit"] * repeat)

    return list(cases())


@dataclass(frozen=True, slots=True)
class PageResult:
    """How one page went: Trillian's own time, and the client's."""

    name: str
    server: LatencySummary
    wall: LatencySummary


def measure(client: httpx.Client, case: PageCase) -> PageResult:
    """Request every path of ``case`` after a few untimed ones, one at a time."""
    for warm_up in case.paths[:3]:
        client.get(warm_up)
    server, wall = [], []
    for page in case.paths:
        started = time.perf_counter()
        answer = client.get(page)
        elapsed = time.perf_counter() - started
        if answer.status_code != 200:
            raise RuntimeError(f"{page} answered {answer.status_code}: {answer.text[:300]}")
        timing = answer.headers.get("server-timing", "")
        match = re.fullmatch(r"app;dur=([0-9.]+)", timing)
        if match is None:
            raise RuntimeError(f"{page} has no Server-Timing header")
        server.append(float(match.group(1)) / 1000)
        wall.append(elapsed)
    return PageResult(
        name=case.name,
        server=LatencySummary.of(case.name, server),
        wall=LatencySummary.of(case.name, wall),
    )


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES_URL, help="server URL, no database")
    parser.add_argument(
        "--database", default="ebling_bench_queries", help="shared with bench_queries"
    )
    parser.add_argument("--runs", type=int, default=1_000_000, help="runs in the data set")
    parser.add_argument("--workflows", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=40, help="timed requests per page")
    parser.add_argument("--ebling-port", type=int, default=18442)
    parser.add_argument("--trillian-port", type=int, default=18443)
    parser.add_argument("--workers", type=int, default=2, help="ebling serve --workers")
    parser.add_argument("--reuse", action="store_true", help="keep a loaded data set")
    parser.add_argument("--seed", type=int, default=20261203)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Load or reuse the data, measure every page, print and save the results."""
    args = parse_arguments(argv)
    url = database_url(args.postgres, args.database)
    dataset = None
    if args.reuse and database_exists(args.postgres, args.database):
        dataset = bench_queries.loaded_dataset(url)
        if dataset is not None and dataset.runs != args.runs:
            print(f"the loaded data has {dataset.runs:,} runs, not {args.runs:,}", file=sys.stderr)
            dataset = None
    if dataset is None:
        drop_and_create_database(args.postgres, args.database)
        started = time.perf_counter()
        dataset = bench_queries.load(url, args)
        print(f"loaded in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    rng = random.Random(args.seed)
    samples = bench_queries.sample_data(url, rng, args.repeat)
    home = DATA_DIR / "ebling-home-trillian"
    logs = DATA_DIR / "logs"
    results = []
    with EblingServer(
        url,
        home=home,
        port=args.ebling_port,
        workers=args.workers,
        log_path=logs / "ebling-trillian.log",
    ) as ebling:
        key = create_api_key(url, home, role="admin", name="bench-trillian")
        with step(f"uploading a report of {REPORT_ROWS:,} rows"):
            upload_report(ebling.base_url, key)
        with (
            TrillianServer(
                ebling.base_url, port=args.trillian_port, log_path=logs / "trillian.log"
            ) as trillian,
            httpx.Client(base_url=trillian.base_url, timeout=120) as client,
        ):
            sign_in(client, key)
            cases = page_cases(samples, rng, args.repeat)
            for number, case in enumerate(cases, start=1):
                result = measure(client, case)
                results.append(result)
                print(
                    f"  [{number}/{len(cases)}] {case.name}: server p50 "
                    f"{result.server.p50_ms:.1f} ms, p95 {result.server.p95_ms:.1f} ms",
                    file=sys.stderr,
                )

    rows = [
        [
            r.name,
            f"{r.server.p50_ms:.0f}",
            f"{r.server.p95_ms:.0f}",
            f"{r.wall.p95_ms:.0f}",
            "—"
            if r.name.startswith("floor")
            else ("yes" if r.server.p95_ms < TARGET_MS else "**no**"),
        ]
        for r in results
    ]
    table = markdown_table(
        ["page", "server p50 ms", "server p95 ms", "client p95 ms", f"p95 < {TARGET_MS:.0f} ms"],
        rows,
    )
    print(
        f"\n{dataset.runs:,} runs, {dataset.task_runs:,} task runs, "
        f"{dataset.workflows:,} workflows; {args.repeat} requests per page\n\n{table}"
    )
    path = write_results(
        "trillian",
        {
            "dataset": {
                "runs": dataset.runs,
                "task_runs": dataset.task_runs,
                "workflows": dataset.workflows,
            },
            "repeat": args.repeat,
            "machine": machine_description(args.postgres),
            "pages": [
                {"name": r.name, "server": asdict(r.server), "wall": asdict(r.wall)}
                for r in results
            ],
        },
    )
    print(f"results saved to {path}", file=sys.stderr)
    failed = [
        r.name for r in results if not r.name.startswith("floor") and r.server.p95_ms >= TARGET_MS
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
