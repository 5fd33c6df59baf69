"""Reports over HTTP: a 1,000,000-row CSV in, filtered and sorted pages of 100 rows out.

1. Generate a CSV of monitoring checks (10 columns: times, host names, a category, floats,
   integers, free text with quotes and commas), about 100 MB for a million rows.
2. Start a fresh ``ebling serve`` (one worker, SQLite catalogue and a local folder store by
   default), stream the file to ``POST /api/v1/reports/{name}/batches`` and time the request;
   read the serving process's memory (``VmRSS`` before, ``VmHWM`` after) from ``/proc``.
3. The baseline, in this same run: ``COPY ... FROM STDIN (FORMAT csv, HEADER)`` of the same
   file into a PostgreSQL table of the types Ebling inferred (plus an identity ``row_id``,
   the counterpart of Ebling's ``_row_id``).
4. Read pages of 100 rows through ``GET /api/v1/reports/{name}/rows`` (first pages, and pages
   reached by following ``next_cursor``), then the same queries, with the same ordering and
   keyset conditions, on the PostgreSQL table: first without an index, then with one
   B-tree per query on its sort columns and ``row_id``.

PostgreSQL runs with fsync on. Without ``--postgres`` a private server is started with
``scripts/services/postgres.sh`` (``PG_DURABLE=1``) and stopped at the end. Everything listens
on 127.0.0.1 only.

Usage: ``uv run --with httpx python benchmarks/bench_reports.py --help``.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import httpx
import psycopg
from _common import (
    DATA_DIR,
    REPO_ROOT,
    EblingServer,
    LatencySummary,
    Progress,
    database_url,
    drop_and_create_database,
    machine_description,
    machine_times,
    markdown_table,
    postmaster_pid,
    process_times,
    step,
    write_results,
)
from psycopg import sql

REPORT_NAME = "monitoring-checks"
TABLE_NAME = "monitoring_checks"
BASELINE_DATABASE = "ebling_bench_reports_baseline"
CATALOGUE_DATABASE = "ebling_bench_reports"
TARGET_INGEST_S = 10.0
TARGET_PEAK_MIB = 300.0  # /proc counts memory in KiB; so does the target
TARGET_P95_MS = 100.0
# Generous bounds on every wait: a stuck server ends the run instead of hanging it.
UPLOAD_TIMEOUT_S = 600.0
REQUEST_TIMEOUT_S = 60.0
WARM_UP_REQUESTS = 3
MB = 1_000_000
MIB = 1 << 20

# Ebling's column types and the PostgreSQL types that hold the same values.
POSTGRES_TYPES = {
    "string": "text",
    "int64": "bigint",
    "float64": "double precision",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamptz",
}
# Ebling's filter operators in SQL, but for ``contains``.
COMPARISONS = {"eq": "=", "ne": "IS DISTINCT FROM", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}

# --- The data ------------------------------------------------------------------------------

HEADER = (
    "checked_at",
    "host",
    "datacenter",
    "category",
    "check_name",
    "value",
    "cpu_percent",
    "memory_mb",
    "status",
    "message",
)
ROLES = ("web", "api", "db", "cache", "worker", "lb")
DATACENTERS = ("fra1", "ams3", "lon1", "nyc2", "sfo3", "sgp1")
CHECKS = {
    "disk": ("disk:/", "disk:/var", "disk:/data"),
    "cpu": ("load1", "load5", "cpu.steal"),
    "memory": ("mem.used", "swap.used"),
    "network": ("net.rx_mbps", "net.tx_mbps", "tcp.retrans"),
    "http": ("http.p95_ms", "http.5xx_rate"),
    "process": ("proc.count", "proc.zombies"),
}
SERVICES = ("nginx", "postgres", "redis", "celery", "haproxy", "node_exporter")
HOSTS_PER_ROLE = 64


def _message(rng: random.Random, status: str, check: str, value: float) -> str:
    """A check's output as Nagios-style plugins word it: commas and quotes included."""
    if status == "ok":
        return f"OK - {check} {value:.1f}"
    if rng.random() < 0.3:
        service = rng.choice(SERVICES)
        restarts = rng.randint(2, 9)
        return f'{status.upper()} - process "{service}" restarted {restarts} times, last exit 137'
    return (
        f"{status.upper()} - {check} at {value:.1f}, threshold {90 if status == 'warning' else 95}"
    )


def write_monitoring_csv(path: Path, *, rows: int, seed: int) -> int:
    """Write ``rows`` monitoring checks over a week, in time order, and return the file's size.

    Values are drawn from a fixed seed, so every run measures the same file. About 5 % of the
    rows have ``cpu_percent`` of 90 or more, 1 in 500 has no ``value`` (an empty cell).
    """
    rng = random.Random(seed)
    start = datetime(2026, 11, 26, tzinfo=UTC)
    step_us = 7 * 86_400 * 1_000_000 // max(rows, 1)
    hosts = [
        f"{role}-{number}.{rng.choice(DATACENTERS)}"
        for role in ROLES
        for number in range(1, HOSTS_PER_ROLE + 1)
    ]
    web_hosts = [host for host in hosts if host.startswith("web-")]
    categories = list(CHECKS)
    progress = Progress("writing the CSV", total=rows, unit="rows")

    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(HEADER)
        chunk: list[tuple[Any, ...]] = []
        for index in range(rows):
            # Web servers are the most numerous, as in most fleets.
            host = rng.choice(web_hosts) if rng.random() < 0.3 else rng.choice(hosts)
            category = rng.choice(categories)
            check = rng.choice(CHECKS[category])
            spike = rng.random() < 0.07
            cpu = rng.uniform(85, 100) if spike else rng.betavariate(2, 6) * 100
            value = round(rng.uniform(0, 100) if not spike else rng.uniform(80, 100), 2)
            roll = rng.random()
            status = "critical" if roll < 0.03 else "warning" if roll < 0.10 else "ok"
            checked_at = start + timedelta(microseconds=index * step_us + rng.randrange(1000))
            chunk.append(
                (
                    checked_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    host,
                    host.rsplit(".", 1)[1],
                    category,
                    check,
                    "" if rng.random() < 0.002 else value,
                    f"{cpu:.1f}",
                    rng.randrange(512, 65_536),
                    status,
                    _message(rng, status, check, value),
                )
            )
            if len(chunk) == 10_000:
                writer.writerows(chunk)
                chunk.clear()
                progress.update(index + 1)
        writer.writerows(chunk)
    progress.finish(rows)
    return path.stat().st_size


# --- Processes and servers -----------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


def serving_pid(root: int) -> int:
    """The Python process that serves requests, in the process tree that starts at ``root``.

    ``ebling serve --workers 1`` serves in its own process; a launcher in front of it (such
    as ``uv run``) is not Python and is skipped, whatever its depth.
    """
    pending = [root]
    while pending:
        pid = pending.pop(0)
        try:
            executable = Path(f"/proc/{pid}/exe").resolve().name
        except OSError:
            executable = ""
        if executable.startswith("python"):
            return pid
        pending.extend(_children(pid))
    raise LookupError(f"no Python process under pid {root}")


def process_memory(pid: int) -> dict[str, int]:
    """``VmRSS`` (resident now) and ``VmHWM`` (resident at most, ever) of ``pid``, in bytes."""
    memory = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            memory[name] = int(value.split()[0]) * 1024
    return memory


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds ``pid`` has used, all its threads together."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def private_postgres(data_dir: Path) -> Iterator[str]:
    """A durable PostgreSQL server of this run's own, started and stopped by ``postgres.sh``.

    Yields:
        The server's URL, without a database.
    """
    script = REPO_ROOT / "scripts" / "services" / "postgres.sh"
    port = free_port()
    environment = {**os.environ, "PG_DURABLE": "1"}
    # postgres.sh runs the server as the 'postgres' user, which must reach the directory.
    data_dir.parent.chmod(0o755)
    subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [str(script), "start", str(data_dir), str(port)], env=environment, check=True, timeout=300
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [str(script), "stop", str(data_dir)], check=False, timeout=120
        )


# --- Ingestion -----------------------------------------------------------------------------


class _ProgressReader:
    """A file for httpx to stream that reports bytes sent and when the last was read.

    httpx streams an object with ``read`` in chunks, and takes Content-Length from its
    ``fileno``, so the request is not chunked.
    """

    def __init__(self, file: IO[bytes], progress: Progress) -> None:
        self._file = file
        self._progress = progress
        self.sent = 0
        self.finished_at: float | None = None

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self.sent += len(chunk)
        self._progress.update(self.sent // MB)
        if not chunk and self.finished_at is None:
            self.finished_at = time.perf_counter()
        return chunk

    def fileno(self) -> int:
        return self._file.fileno()

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(1 << 16):
            yield chunk


@dataclass
class IngestResult:
    """One upload of the CSV file to Ebling."""

    rows: int
    file_bytes: int
    seconds: float
    sending_seconds: float
    server_cpu_seconds: float
    rss_before_bytes: int
    peak_before_bytes: int
    peak_after_bytes: int
    rss_after_bytes: int
    columns: list[dict[str, str]]
    status_code: int

    @property
    def rows_per_second(self) -> float:
        """Rows ingested per second of the whole request."""
        return self.rows / self.seconds


def upload_csv(base_url: str, key: str, path: Path, *, server_pid: int) -> IngestResult:
    """Stream the CSV file to a new report and time the request, first byte to answer.

    Raises:
        RuntimeError: Ebling did not store the batch, or stored another number of rows.
    """
    size = path.stat().st_size
    progress = Progress("sending the CSV", total=size // MB, unit="MB")
    before = process_memory(server_pid)
    cpu_before = cpu_seconds(server_pid)

    with path.open("rb") as file:
        reader = _ProgressReader(file, progress)
        started = time.perf_counter()
        response = httpx.post(
            f"{base_url}/api/v1/reports/{REPORT_NAME}/batches",
            content=reader,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "text/csv"},
            timeout=UPLOAD_TIMEOUT_S,
        )
        seconds = time.perf_counter() - started
    sent_at = reader.finished_at or time.perf_counter()

    after = process_memory(server_pid)
    if response.status_code != 201:
        raise RuntimeError(f"the upload answered {response.status_code}: {response.text[:500]}")
    batch = response.json()["batch"]
    return IngestResult(
        rows=int(batch["row_count"]),
        file_bytes=size,
        seconds=seconds,
        sending_seconds=sent_at - started,
        server_cpu_seconds=cpu_seconds(server_pid) - cpu_before,
        rss_before_bytes=before["VmRSS"],
        peak_before_bytes=before["VmHWM"],
        peak_after_bytes=after["VmHWM"],
        rss_after_bytes=after["VmRSS"],
        columns=response.json()["report"]["columns"],
        status_code=response.status_code,
    )


def copy_into_postgres(url: str, path: Path, columns: Sequence[dict[str, str]]) -> float:
    """Load the CSV file with ``COPY FROM STDIN`` into a new table; return the seconds taken.

    The table has the types Ebling inferred and an identity ``row_id``, which numbers rows in
    file order as Ebling's ``_row_id`` does. The time runs from sending ``COPY`` to the commit,
    the way the upload's runs from the first byte sent to the answer.
    """
    names = [column["name"] for column in columns]
    definitions = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c["name"]), sql.SQL(POSTGRES_TYPES[c["type"]]))
        for c in columns
    )
    table = sql.Identifier(TABLE_NAME)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        connection.execute(
            sql.SQL("CREATE TABLE {} (row_id bigint GENERATED ALWAYS AS IDENTITY, {})").format(
                table, definitions
            )
        )
    copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER)").format(
        table, sql.SQL(", ").join(sql.Identifier(name) for name in names)
    )
    size = path.stat().st_size
    progress = Progress("COPY into PostgreSQL", total=size // MB, unit="MB")

    with psycopg.connect(url) as connection, path.open("rb") as file:
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(copy) as writer:
            sent = 0
            while chunk := file.read(1 << 20):
                writer.write(chunk)
                sent += len(chunk)
                progress.update(sent // MB)
        connection.commit()
        seconds = time.perf_counter() - started
    progress.finish(size // MB)
    return seconds


# --- Queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryCase:
    """A page of rows to read: Ebling's filters and sort, and how many pages to follow."""

    name: str
    filters: tuple[tuple[str, str, str], ...]
    sort: tuple[tuple[str, bool], ...]  # (column, descending)
    pages: int = 1  # 1: the first page; n: the first, then n - 1 by cursor (the ones timed)

    @property
    def sort_text(self) -> str:
        """The ``sort`` query parameter."""
        return ",".join(f"{'-' if descending else ''}{name}" for name, descending in self.sort)

    def params(self, cursor: str | None) -> httpx.QueryParams:
        """The query string of one page."""
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("filter", ":".join(condition)) for condition in self.filters
        ]
        params += [("sort", self.sort_text), ("limit", str(PAGE_ROWS))]
        if cursor is not None:
            params.append(("cursor", cursor))
        return httpx.QueryParams(params)


PAGE_ROWS = 100
BASE_CASES = (
    QueryCase(
        "cpu_percent >= 90, newest first", (("cpu_percent", "gte", "90"),), (("checked_at", True),)
    ),
    QueryCase(
        "host contains 'web-4', by cpu_percent",
        (("host", "contains", "web-4"),),
        (("cpu_percent", False),),
    ),
    QueryCase(
        "category = disk, by -value, host",
        (("category", "eq", "disk"),),
        (("value", True), ("host", False)),
    ),
)
CURSOR_PAGES = 6  # the first page and 5 more by next_cursor
MIN_ROWS = 20_000


def query_cases() -> list[QueryCase]:
    """Each query's first page, then the same query followed through 5 more pages."""
    followed = [
        QueryCase(f"{case.name}, pages 2-{CURSOR_PAGES}", case.filters, case.sort, CURSOR_PAGES)
        for case in BASE_CASES
    ]
    return [*BASE_CASES, *followed]


@dataclass
class CaseResult:
    """Latencies of one query case in Ebling, and of the same query on PostgreSQL."""

    name: str
    ebling: LatencySummary
    postgres_without_index: LatencySummary
    postgres_with_index: LatencySummary


@dataclass
class TimedPages:
    """How long each timed page took, and the hosts of the first page read (to compare)."""

    seconds: list[float]
    first_page_hosts: list[str]


# Reads one page after a position (None: the first page); answers the seconds the read took,
# the page's hosts, and the position of its last row.
PageReader = Callable[[Any], tuple[float, list[str], Any]]


def time_pages(case: QueryCase, read_page: PageReader, *, repeat: int) -> TimedPages:
    """Time ``repeat`` page reads of ``case`` after ``WARM_UP_REQUESTS`` untimed ones.

    A case of one page times its first page. A case of several walks them from the first,
    each page after the position the one before it ended at, and times all but the first;
    it walks again until ``repeat`` pages are timed.
    """
    timed: list[float] = []
    first_hosts: list[str] | None = None
    warm_up = WARM_UP_REQUESTS
    while len(timed) < repeat:
        position = None
        for page in range(case.pages):
            seconds, hosts, position = read_page(position)
            if first_hosts is None:
                first_hosts = hosts
            if page == 0 and case.pages > 1:
                continue  # the way to the cursor pages, not one of them
            if warm_up:
                warm_up -= 1
            elif len(timed) < repeat:
                timed.append(seconds)
    return TimedPages(timed, first_hosts or [])


def ebling_page_reader(client: httpx.Client, case: QueryCase) -> PageReader:
    """Pages of ``case`` through ``GET /rows``; positions are ``next_cursor`` values."""

    def read_page(cursor: str | None) -> tuple[float, list[str], str | None]:
        started = time.perf_counter()
        response = client.get(f"/api/v1/reports/{REPORT_NAME}/rows", params=case.params(cursor))
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{case.name}: {response.status_code} {response.text[:300]}")
        body = response.json()
        if len(body["rows"]) != PAGE_ROWS:
            raise RuntimeError(f"{case.name}: a page of {len(body['rows'])} rows")
        return seconds, [row["host"] for row in body["rows"]], body["next_cursor"]

    return read_page


def _postgres_where(
    case: QueryCase, types: dict[str, str]
) -> tuple[list[sql.Composable], list[Any]]:
    """Ebling's filters in SQL: values cast to the column's type, ``contains`` ignores case."""
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    for column, op, value in case.filters:
        name = sql.Identifier(column)
        if op == "contains":
            conditions.append(sql.SQL("strpos(lower({}), lower(%s)) > 0").format(name))
        else:
            kind = sql.SQL(POSTGRES_TYPES[types[column]])
            comparison = sql.SQL(COMPARISONS[op])
            conditions.append(sql.SQL("{} {} %s::{}").format(name, comparison, kind))
        params.append(value)
    return conditions, params


def _postgres_keyset(
    case: QueryCase, types: dict[str, str], after: Sequence[Any]
) -> tuple[sql.Composable, list[Any]]:
    """The rows after ``after`` (sort values, then ``row_id``), as Ebling's keyset clause has it.

    Nulls sort last: after a value come the values beyond it, then the nulls.
    """
    clause: sql.Composable = sql.SQL("row_id > %s")
    params: list[Any] = [after[-1]]
    for (column, descending), value in zip(reversed(case.sort), reversed(after[:-1]), strict=True):
        name = sql.Identifier(column)
        if value is None:
            clause = sql.SQL("({} IS NULL AND {})").format(name, clause)
            continue
        kind = sql.SQL(POSTGRES_TYPES[types[column]])
        beyond = sql.SQL("<" if descending else ">")
        clause = sql.SQL("({0} {1} %s::{2} OR {0} IS NULL OR ({0} = %s::{2} AND {3}))").format(
            name, beyond, kind, clause
        )
        params = [value, value, *params]
    return clause, params


def _sort_keys(case: QueryCase) -> sql.Composable:
    """``ORDER BY`` keys as Ebling's: each sort column with nulls last, then ``row_id``."""
    keys = [
        sql.SQL("{} {} NULLS LAST").format(sql.Identifier(column), sql.SQL(direction))
        for column, direction in ((c, "DESC" if d else "ASC") for c, d in case.sort)
    ]
    return sql.SQL(", ").join([*keys, sql.SQL("row_id")])


def postgres_page_reader(
    connection: psycopg.Connection[tuple[Any, ...]], case: QueryCase, types: dict[str, str]
) -> PageReader:
    """Pages of ``case`` from the PostgreSQL table; positions are the last row's sort values.

    Like Ebling, it fetches every column and one row more than the page, to know whether
    another page follows. The time is of executing and fetching, over TCP on 127.0.0.1.
    """
    names = ["row_id", *HEADER]
    sort_positions = [names.index(column) for column, _ in case.sort]
    host_position = names.index("host")

    def read_page(after: list[Any] | None) -> tuple[float, list[str], list[Any]]:
        conditions, params = _postgres_where(case, types)
        if after is not None:
            keyset, keyset_params = _postgres_keyset(case, types, after)
            conditions.append(keyset)
            params += keyset_params
        where = sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("true")
        query = sql.SQL("SELECT * FROM {} WHERE {} ORDER BY {} LIMIT %s").format(
            sql.Identifier(TABLE_NAME), where, _sort_keys(case)
        )
        started = time.perf_counter()
        rows = connection.execute(query, [*params, PAGE_ROWS + 1]).fetchall()
        seconds = time.perf_counter() - started
        if len(rows) != PAGE_ROWS + 1:
            raise RuntimeError(f"{case.name}: PostgreSQL answered {len(rows)} rows")
        last = rows[PAGE_ROWS - 1]
        hosts = [row[host_position] for row in rows[:PAGE_ROWS]]
        return seconds, hosts, [*(last[p] for p in sort_positions), last[0]]

    return read_page


def create_sort_indexes(url: str) -> dict[str, float]:
    """One B-tree per base query, on its ``ORDER BY`` keys; the seconds each took to build."""
    seconds = {}
    table = sql.Identifier(TABLE_NAME)
    with psycopg.connect(url, autocommit=True) as connection:
        for number, case in enumerate(BASE_CASES, start=1):
            index = sql.Identifier(f"{TABLE_NAME}_sort_{number}")
            started = time.perf_counter()
            connection.execute(
                sql.SQL("CREATE INDEX {} ON {} ({})").format(index, table, _sort_keys(case))
            )
            seconds[f"({case.sort_text}, row_id)"] = time.perf_counter() - started
        connection.execute(sql.SQL("ANALYZE {}").format(table))
    return seconds


# --- The run -------------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--rows", type=_row_count, default=1_000_000, help="rows in the CSV file (20,000 or more)"
    )
    parser.add_argument("--repeat", type=int, default=50, help="timed requests per query case")
    parser.add_argument(
        "--postgres", help="a PostgreSQL server URL without a database; default: start one"
    )
    parser.add_argument(
        "--pg-data", type=Path, help="that server's data directory, to count its CPU time"
    )
    parser.add_argument(
        "--catalogue",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="Ebling's own database; the rows go to its object store (a folder) either way",
    )
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument(
        "--keep", action="store_true", help="keep the CSV, Ebling's home and PostgreSQL's data"
    )
    return parser.parse_args(argv)


def _row_count(text: str) -> int:
    rows = int(text)
    # Fewer rows leave the queries too few matches for six full pages of 100.
    if rows < MIN_ROWS:
        raise argparse.ArgumentTypeError(f"--rows must be at least {MIN_ROWS:,}, not {rows:,}")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the CSV, ingest it and query it in Ebling and PostgreSQL; print and save."""
    args = parse_arguments(argv)
    work = Path(tempfile.mkdtemp(prefix="ebling-bench-reports-"))
    print(f"working in {work}", file=sys.stderr)
    try:
        with ExitStack() as stack:
            return run(args, work, stack)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


class PhaseMeter:
    """Wall time, and CPU seconds by who spent them, of each measured phase.

    Groups: the Ebling server (its process group), PostgreSQL (the postmaster and its
    children), this process, and ``other``: the rest of the machine's busy time, which on a
    shared machine shows whether something else competed for the cores. The time of a
    process that exits during a phase (a parallel query worker, say) is kept: the kernel adds
    it to its parent's ``cutime`` and ``cstime`` when the parent reaps it. Time the
    hypervisor gave to other guests (``steal``) is counted apart.

    Args:
        server_pgid: the Ebling server's process group.
        postmaster: the PostgreSQL server's process id, if known; if not, its time counts
            as ``other``.
    """

    def __init__(self, *, server_pgid: int, postmaster: int | None) -> None:
        self.server_pgid = server_pgid
        self.postmaster = postmaster
        self.phases: dict[str, dict[str, float]] = {}

    def sample(self) -> dict[str, float]:
        """CPU seconds used so far: by group, ``busy`` and ``steal`` for the whole machine."""
        used = {"ebling server": 0.0, "postgres": 0.0, "benchmark": 0.0}
        own = os.getpid()
        for process in process_times():
            if process.pid == self.postmaster:
                used["postgres"] += process.seconds + process.reaped
            elif self.postmaster is not None and process.parent == self.postmaster:
                used["postgres"] += process.seconds
            elif process.group == self.server_pgid:
                used["ebling server"] += process.seconds + process.reaped
            elif process.pid == own:
                used["benchmark"] += process.seconds
        machine = machine_times()
        # Steal is counted apart here, not as busy time of this machine.
        used["busy"] = machine.busy - machine.steal
        used["steal"] = machine.steal
        return used

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Measure the ``with`` block as phase ``name``."""
        before = self.sample()
        started = time.perf_counter()
        yield
        wall = time.perf_counter() - started
        after = self.sample()
        spent = {group: after[group] - before[group] for group in after}
        ours = spent["ebling server"] + spent["postgres"] + spent["benchmark"]
        self.phases[name] = {"wall": wall, **spent, "other": spent.pop("busy") - ours}

    def share(self, name: str, group: str) -> float:
        """The share of the machine's cores that ``group`` used during phase ``name``."""
        phase = self.phases[name]
        return phase[group] / (phase["wall"] * (os.cpu_count() or 1))


def run(args: argparse.Namespace, work: Path, stack: ExitStack) -> int:
    """The benchmark proper; the servers it starts stop when ``stack`` closes."""
    csv_path = work / "checks.csv"
    with step(f"generating {args.rows:,} rows"):
        size = write_monitoring_csv(csv_path, rows=args.rows, seed=args.seed)
    print(f"  {size / MB:.1f} MB", file=sys.stderr)

    if args.postgres:
        postgres, pg_data = args.postgres, args.pg_data
    else:
        pg_data = work / "pg"
        postgres = stack.enter_context(private_postgres(pg_data))
    drop_and_create_database(postgres, BASELINE_DATABASE)
    baseline_url = database_url(postgres, BASELINE_DATABASE)
    home = work / "home"
    if args.catalogue == "postgres":
        drop_and_create_database(postgres, CATALOGUE_DATABASE)
        catalogue_url = database_url(postgres, CATALOGUE_DATABASE)
    else:
        catalogue_url = f"sqlite:///{home / 'ebling.db'}"

    with step("starting ebling serve (1 worker)"):
        log_path = DATA_DIR / "logs" / "ebling-reports.log"
        server = EblingServer(
            catalogue_url, home=home, port=free_port(), workers=1, log_path=log_path
        )
        stack.enter_context(server)
        assert server.pid is not None  # noqa: S101 - it has started
        pid = serving_pid(server.pid)
        key = (home / "admin-api-key").read_text().strip()
    postmaster = postmaster_pid(pg_data) if pg_data else None
    meter = PhaseMeter(server_pgid=server.pid, postmaster=postmaster)

    with step("ingesting over HTTP"), meter.phase("ingest"):
        ingest = upload_csv(server.base_url, key, csv_path, server_pid=pid)
    if ingest.rows != args.rows:
        raise RuntimeError(f"Ebling stored {ingest.rows:,} rows of {args.rows:,}")
    print(
        f"  {ingest.seconds:.2f} s, {ingest.rows_per_second:,.0f} rows/s, "
        f"server peak {ingest.peak_after_bytes / MIB:.0f} MiB",
        file=sys.stderr,
    )

    with step("COPY into PostgreSQL"), meter.phase("copy"):
        copy_seconds = copy_into_postgres(baseline_url, csv_path, ingest.columns)
    with step("VACUUM ANALYZE the PostgreSQL table"):
        started = time.perf_counter()
        with psycopg.connect(baseline_url, autocommit=True) as connection:
            connection.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(TABLE_NAME)))
        analyze_seconds = time.perf_counter() - started

    cases = query_cases()
    ebling: list[TimedPages] = []
    headers = {"Authorization": f"Bearer {key}"}
    with (
        step("querying Ebling"),
        meter.phase("ebling queries"),
        httpx.Client(
            base_url=server.base_url, headers=headers, timeout=REQUEST_TIMEOUT_S
        ) as client,
    ):
        # The first read after the upload opens DuckDB and reads the file's footer.
        first_query_ms = ebling_page_reader(client, cases[0])(None)[0] * 1000
        for case in cases:
            ebling.append(time_pages(case, ebling_page_reader(client, case), repeat=args.repeat))
            summary = LatencySummary.of(case.name, ebling[-1].seconds)
            print(
                f"  {case.name}: p50 {summary.p50_ms:.1f} ms, p95 {summary.p95_ms:.1f} ms",
                file=sys.stderr,
            )
    peak_after_queries = process_memory(pid)["VmHWM"]

    types = {column["name"]: column["type"] for column in ingest.columns}
    without_index: list[TimedPages] = []
    with_index: list[TimedPages] = []
    with psycopg.connect(baseline_url, autocommit=True) as connection:
        with step("querying PostgreSQL without indexes"), meter.phase("postgres queries"):
            for case, timed in zip(cases, ebling, strict=True):
                reader = postgres_page_reader(connection, case, types)
                without_index.append(time_pages(case, reader, repeat=args.repeat))
                if without_index[-1].first_page_hosts != timed.first_page_hosts:
                    raise RuntimeError(f"{case.name}: PostgreSQL's first page is not Ebling's")
        with step("indexing the sort columns"):
            index_seconds = create_sort_indexes(baseline_url)
        with step("querying PostgreSQL with indexes"), meter.phase("indexed queries"):
            for case in cases:
                reader = postgres_page_reader(connection, case, types)
                with_index.append(time_pages(case, reader, repeat=args.repeat))

    results = [
        CaseResult(
            name=case.name,
            ebling=LatencySummary.of(case.name, ebling[number].seconds),
            postgres_without_index=LatencySummary.of(case.name, without_index[number].seconds),
            postgres_with_index=LatencySummary.of(case.name, with_index[number].seconds),
        )
        for number, case in enumerate(cases)
    ]
    report(
        args,
        postgres=postgres,
        size=size,
        ingest=ingest,
        copy_seconds=copy_seconds,
        analyze_seconds=analyze_seconds,
        index_seconds=index_seconds,
        first_query_ms=first_query_ms,
        peak_after_queries=peak_after_queries,
        results=results,
        meter=meter,
    )
    return 0


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _latency(summary: LatencySummary) -> str:
    return f"{summary.p50_ms:.1f} / {summary.p95_ms:.1f}"


def report(
    args: argparse.Namespace,
    *,
    postgres: str,
    size: int,
    ingest: IngestResult,
    copy_seconds: float,
    analyze_seconds: float,
    index_seconds: dict[str, float],
    first_query_ms: float,
    peak_after_queries: int,
    results: list[CaseResult],
    meter: PhaseMeter,
) -> None:
    """Print the results as Markdown and save them as JSON."""
    ingest_met = _met(ingest.seconds < TARGET_INGEST_S)
    ingest_rows = [
        [
            "Ebling: POST /reports/{name}/batches",
            f"{ingest.seconds:.2f}",
            f"{ingest.rows_per_second:,.0f}",
            f"< {TARGET_INGEST_S:.0f} s: {ingest_met}",
        ],
        [
            "PostgreSQL: COPY FROM STDIN",
            f"{copy_seconds:.2f}",
            f"{ingest.rows / copy_seconds:,.0f}",
            f"Ebling / COPY = {ingest.seconds / copy_seconds:.2f}",
        ],
    ]
    peak = ingest.peak_after_bytes
    peak_met = _met(peak < TARGET_PEAK_MIB * MIB)
    memory_rows = [
        ["before the upload", _mib(ingest.rss_before_bytes), _mib(ingest.peak_before_bytes)],
        [
            "after the upload",
            _mib(ingest.rss_after_bytes),
            f"{_mib(peak)} (< {TARGET_PEAK_MIB:.0f}: {peak_met})",
        ],
        ["after the queries", "", _mib(peak_after_queries)],
    ]
    query_rows = [
        [
            result.name,
            _latency(result.ebling),
            _met(result.ebling.p95_ms < TARGET_P95_MS),
            _latency(result.postgres_without_index),
            _latency(result.postgres_with_index),
        ]
        for result in results
    ]
    indexes = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in index_seconds.items())
    groups = ("ebling server", "postgres", "benchmark", "other", "steal")
    cpu_rows = [
        [name, f"{phase['wall']:.1f}", *(f"{100 * meter.share(name, g):.0f} %" for g in groups)]
        for name, phase in meter.phases.items()
    ]

    print(f"\n{ingest.rows:,} rows, {size / MB:.1f} MB of CSV")
    print(markdown_table(["ingestion", "seconds", "rows/s", "target"], ingest_rows))
    print(
        f"\nThe request: {ingest.sending_seconds:.2f} s to send the body, "
        f"{ingest.seconds - ingest.sending_seconds:.2f} s more to the answer; "
        f"the server used {ingest.server_cpu_seconds:.1f} CPU s.\n"
    )
    print(markdown_table(["server process", "VmRSS MiB", "VmHWM MiB"], memory_rows))
    print(f"\nPostgreSQL: VACUUM ANALYZE {analyze_seconds:.1f} s; indexes built: {indexes}")
    print(
        f"Pages of {PAGE_ROWS} rows, {args.repeat} timed each after {WARM_UP_REQUESTS} untimed; "
        f"the first query after the upload took {first_query_ms:.0f} ms."
    )
    header = [
        "query",
        "Ebling p50 / p95 ms",
        f"p95 < {TARGET_P95_MS:.0f} ms",
        "PostgreSQL, no index",
        "PostgreSQL, index",
    ]
    print(markdown_table(header, query_rows))
    print("\nShares of the machine's cores by phase; 'other' competed with the measurement:")
    print(markdown_table(["phase", "seconds", *groups], cpu_rows))

    path = write_results(
        "reports",
        {
            "machine": machine_description(postgres),
            "arguments": vars(args),
            "csv_bytes": size,
            "ingest": asdict(ingest),
            "ingest_rows_per_second": ingest.rows_per_second,
            "copy_seconds": copy_seconds,
            "ratio_ebling_to_copy": ingest.seconds / copy_seconds,
            "analyze_seconds": analyze_seconds,
            "index_seconds": index_seconds,
            "first_query_ms": first_query_ms,
            "server_peak_after_queries_bytes": peak_after_queries,
            "queries": [asdict(result) for result in results],
            "cpu_seconds_by_phase": meter.phases,
        },
    )
    print(f"\nresults saved in {path}", file=sys.stderr)


def _mib(size: int) -> str:
    return f"{size / MIB:.0f}"


if __name__ == "__main__":
    sys.exit(main())
