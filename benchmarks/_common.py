"""What both benchmarks share: databases, an Ebling server to measure, timing and output.

The benchmarks drive a real Ebling (``python -m ebling serve``) over HTTP against a private
PostgreSQL that ``benchmarks/run.sh`` starts; nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import psycopg
from psycopg import sql

__all__ = [
    "BENCH_DIR",
    "DATA_DIR",
    "DEFAULT_POSTGRES_URL",
    "REPO_ROOT",
    "CpuMeter",
    "EblingServer",
    "LatencySummary",
    "MachineTimes",
    "ProcessTimes",
    "Progress",
    "create_api_key",
    "database_exists",
    "database_size_bytes",
    "database_url",
    "drop_and_create_database",
    "machine_description",
    "machine_times",
    "markdown_table",
    "percentile",
    "postmaster_pid",
    "process_times",
    "step",
    "write_results",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
# Git ignores this folder: the PostgreSQL data directory, server logs and results live here.
DATA_DIR = BENCH_DIR / ".data"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:55432"

# Upper bounds on every wait, so a broken server ends the run instead of hanging it.
SERVER_START_TIMEOUT_S = 120.0
SERVER_STOP_TIMEOUT_S = 30.0


def database_url(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server at ``server_url`` (which names no database)."""
    return f"{server_url.rstrip('/')}/{name}"


def drop_and_create_database(server_url: str, name: str) -> None:
    """Start ``name`` afresh: drop it (closing its connections) and create it empty."""
    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as connection:
        identifier = sql.Identifier(name)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(identifier))


def database_exists(server_url: str, name: str) -> bool:
    """Whether the server has a database called ``name``."""
    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return found.fetchone() is not None


def database_size_bytes(server_url: str, name: str) -> int:
    """The size of database ``name`` on disk, tables, indexes and TOAST together."""
    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as connection:
        size = connection.execute("SELECT pg_database_size(%s)", [name]).fetchone()
    if size is None or size[0] is None:
        raise LookupError(f"no database {name!r} on {server_url}")
    return int(size[0])


def create_api_key(url: str, home: Path, *, role: str, name: str) -> str:
    """A new API key with ``role``, made the way an operator would: ``ebling api-key create``."""
    completed = subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, "-m", "ebling", "api-key", "create", "--name", name, "--role", role],
        env=_ebling_environment(url, home),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return completed.stdout.strip().splitlines()[-1]


def _ebling_environment(url: str, home: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["EBLING_DATABASE_URL"] = url
    environment["EBLING_HOME"] = str(home)
    return environment


class EblingServer:
    """``ebling serve`` in a child process, for as long as the ``with`` block lasts.

    The server migrates the database on start, exactly as in production. Its log goes to a
    file, since a pipe nobody reads would fill up and stall it.
    """

    def __init__(self, url: str, *, home: Path, port: int, workers: int, log_path: Path) -> None:
        self.url = url
        self.home = home
        self.port = port
        self.workers = workers
        self.log_path = log_path
        self.base_url = f"http://127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id, which is also its process group's (None until started)."""
        return self._process.pid if self._process is not None else None

    def __enter__(self) -> EblingServer:
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "ebling", "serve", "--port", str(self.port)]
        command += ["--workers", str(self.workers)]
        with self.log_path.open("ab") as log:
            # A session of its own, so that stopping it also reaches the uvicorn workers.
            self._process = subprocess.Popen(  # noqa: S603 - fixed arguments
                command,
                env=_ebling_environment(self.url, self.home),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()

    def _wait_until_ready(self) -> None:
        # Readiness means every worker can reach the database, not just that a port is open.
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        process = self._process
        while process is not None and time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"ebling serve exited early; see {self.log_path}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"ebling serve was not ready in {SERVER_START_TIMEOUT_S:.0f} s")

    def _stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=SERVER_STOP_TIMEOUT_S)


# Keys of CpuMeter samples that hold one Ebling server process each, by process id.
SERVER_PROCESS = "ebling process "


@dataclass(frozen=True, slots=True)
class ProcessTimes:
    """One process's CPU seconds, from ``/proc/<pid>/stat``.

    ``reaped`` is the time of its children that have exited and been waited for, which the
    kernel adds to the parent (``cutime`` and ``cstime``).
    """

    pid: int
    parent: int
    group: int
    seconds: float
    reaped: float


def process_times() -> Iterator[ProcessTimes]:
    """Every running process's CPU seconds so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # The command name is in parentheses and may contain spaces; fields follow it.
        fields = stat[stat.rindex(")") + 2 :].split()
        yield ProcessTimes(
            pid=int(entry.name),
            parent=int(fields[1]),
            group=int(fields[2]),
            seconds=(int(fields[11]) + int(fields[12])) / ticks,
            reaped=(int(fields[13]) + int(fields[14])) / ticks,
        )


@dataclass(frozen=True, slots=True)
class MachineTimes:
    """CPU seconds of all cores together so far: busy (not idle, not waiting), and steal."""

    busy: float
    steal: float


def machine_times() -> MachineTimes:
    """The machine's CPU seconds so far, from the first line of ``/proc/stat``."""
    ticks = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal, in ticks of all cores together.
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]
    return MachineTimes(busy=(sum(values) - idle) / ticks, steal=values[7] / ticks)


class CpuMeter:
    """CPU seconds spent between two samples, by who spent them.

    Groups: the PostgreSQL server ``run.sh`` started (its postmaster and every child), the
    Ebling server (its process group), this process, and everything else on the machine,
    which on a shared machine shows whether something else competed for the cores. A process
    that exits between two samples takes its time with it, so keep connections open until
    the second sample.
    """

    def __init__(self, *, postmaster_pid: int | None, server_pgid: int | None) -> None:
        self.postmaster_pid = postmaster_pid
        self.server_pgid = server_pgid

    def sample(self) -> dict[str, float]:
        """CPU seconds used so far, by group, and ``machine`` for all cores together."""
        used = {"postgres": 0.0, "ebling server": 0.0, "benchmark": 0.0}
        own = os.getpid()
        for process in process_times():
            if self.postmaster_pid is not None and self.postmaster_pid in (
                process.pid,
                process.parent,
            ):
                used["postgres"] += process.seconds
            elif self.server_pgid is not None and process.group == self.server_pgid:
                used["ebling server"] += process.seconds
                used[f"{SERVER_PROCESS}{process.pid}"] = process.seconds
            elif process.pid == own:
                used["benchmark"] += process.seconds
        used["machine"] = machine_times().busy
        return used

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        """CPU seconds by group between two samples, with ``other`` for the rest."""
        spent = {group: after[group] - before.get(group, 0.0) for group in after}
        spent["other"] = spent["machine"] - sum(
            seconds
            for group, seconds in spent.items()
            if group != "machine" and not group.startswith(SERVER_PROCESS)
        )
        return spent

    @staticmethod
    def server_processes(spent: dict[str, float]) -> list[float]:
        """CPU seconds of each Ebling server process that did any work, busiest first."""
        processes = [s for group, s in spent.items() if group.startswith(SERVER_PROCESS)]
        # The supervisor and multiprocessing's helper barely run; leave them out.
        busy = [seconds for seconds in processes if seconds > 0.01 * sum(processes)]
        return sorted(busy, reverse=True)


def postmaster_pid(data_dir: Path) -> int | None:
    """The PostgreSQL server's process id, from its data directory, if it is running."""
    try:
        return int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class Progress:
    """Prints how far a long step has got, at most every ``every_s`` seconds, to stderr."""

    def __init__(self, label: str, *, total: int, unit: str, every_s: float = 2.0) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.every_s = every_s
        self.started = time.perf_counter()
        self._last_print = self.started
        self._last_done = -1

    def update(self, done: int) -> None:
        """Report ``done`` of ``total`` if enough time has passed since the last line."""
        now = time.perf_counter()
        if now - self._last_print >= self.every_s:
            self._last_print = now
            self._print(done, now)
            self._last_done = done

    def finish(self, done: int) -> float:
        """Print the final line (unless ``update`` just did) and return the step's seconds."""
        now = time.perf_counter()
        if done != self._last_done:
            self._print(done, now)
        return now - self.started

    def _print(self, done: int, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        share = 100 * done / self.total if self.total else 100.0
        print(
            f"  {self.label}: {done:,}/{self.total:,} {self.unit} ({share:.0f} %), "
            f"{done / elapsed:,.0f} {self.unit}/s, {elapsed:.0f} s",
            file=sys.stderr,
            flush=True,
        )


@contextmanager
def step(label: str) -> Iterator[None]:
    """Announce a step on stderr, and how long it took when it ends."""
    print(f"{label} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    yield
    print(f"{label}: done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


def percentile(ordered: Sequence[float], percent: float) -> float:
    """The ``percent`` percentile of sorted values, interpolating between ranks."""
    if not ordered:
        raise ValueError("no values to take a percentile of")
    rank = (len(ordered) - 1) * percent / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Latencies of one kind of request, in milliseconds."""

    name: str
    count: int
    p50_ms: float
    p95_ms: float
    max_ms: float

    @classmethod
    def of(cls, name: str, seconds: Sequence[float]) -> LatencySummary:
        """Summarise request durations given in seconds."""
        ordered = sorted(s * 1000 for s in seconds)
        return cls(
            name=name,
            count=len(ordered),
            p50_ms=percentile(ordered, 50),
            p95_ms=percentile(ordered, 95),
            max_ms=ordered[-1],
        )


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table, ready to paste into the README."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_description(server_url: str) -> dict[str, Any]:
    """The machine and PostgreSQL a result was measured on, to keep beside the figures."""
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as connection:
        version = connection.execute("SHOW server_version").fetchone()
        settings = connection.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
            [["fsync", "synchronous_commit", "shared_buffers", "max_wal_size"]],
        ).fetchall()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "ebling": ebling_revision(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_gib, 1),
        "python": platform.python_version(),
        "postgresql": version[0] if version else "unknown",
        "postgresql_settings": dict(settings),
    }


def ebling_revision() -> str:
    """The commit of the Ebling code measured, marked ``+changes`` if its files differ from it.

    ``run.sh`` names the revision itself when it measures a copy of an older commit.
    """
    if os.environ.get("EBLING_BENCH_REVISION"):
        return os.environ["EBLING_BENCH_REVISION"]
    import ebling  # here, so that the benchmarks' helpers load without Ebling installed

    source = Path(ebling.__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            cwd=source,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--", "."],  # noqa: S607 - git from PATH
            cwd=source,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"unknown ({source})"
    return f"{commit}{' +changes' if changes else ''} ({source})"


def write_results(name: str, results: dict[str, Any]) -> Path:
    """Save a benchmark's results as JSON under ``benchmarks/.data/results``."""
    path = DATA_DIR / "results" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return path
