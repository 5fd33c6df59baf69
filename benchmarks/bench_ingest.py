"""Ingestion speed: OpenLineage events per second through ``POST /api/v1/lineage``.

Runs against a fresh database on the PostgreSQL that ``run.sh`` starts:

1. one HTTP client, then two concurrent ones (one per server worker), each sending batches
   of 500 events of its own orchestrator's namespaces, in the order they happened;
2. the baseline, in this same process: the very rows Ebling writes for those batches
   (raw events, runs, task runs), written straight into scratch tables of the same shape with
   plain psycopg (``COPY`` and ``executemany``), one transaction per batch, as many
   connections as there were HTTP clients;
3. ``parse_events`` + ``store_events`` called in this process, each step of ``store_events``
   timed, then under cProfile, to show where a worker's time goes.

Usage: ``uv run --with httpx python benchmarks/bench_ingest.py --help`` (``run.sh`` does it).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from _common import (
    DATA_DIR,
    DEFAULT_POSTGRES_URL,
    CpuMeter,
    EblingServer,
    Progress,
    create_api_key,
    database_url,
    drop_and_create_database,
    machine_description,
    markdown_table,
    postmaster_pid,
    step,
    write_results,
)
from ebling.db.engine import WRITE, create_database_engine, session_factory
from ebling.lineage import store
from ebling.lineage.events import ParsedEvent, parse_events
from ebling.lineage.projection import RunPatch, project, root_run_id
from ebling.lineage.store import event_hash, store_events

PRODUCER = "https://github.com/apache/airflow/tree/providers-openlineage/2.7.0"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET_SCHEMA = "https://openlineage.io/spec/facets/1-0-1/{}.json"
TEAMS = ("finance", "sales", "marketing", "ops", "billing", "crm", "logistics", "support")
SUBJECTS = ("orders", "invoices", "customers", "payments", "shipments", "tickets", "leads")
ACTIONS = ("load", "sync", "export", "dedupe", "report", "reconcile", "score")
TASKS = ("extract", "validate", "clean", "enrich", "join", "aggregate", "load", "publish")
TARGET_EVENTS_PER_SECOND = 10_000
MEASURED_PHASES = ("one client", "two clients")
# The most events parse_events may accept from one body here; Ebling's own limit is a setting.
MAX_BATCH = 10_000
# An HTTP request with 500 events takes well under a second; anything near this is a hang.
REQUEST_TIMEOUT_S = 120.0


# --- Events -----------------------------------------------------------------------------


def _facet(schema: str, /, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": FACET_SCHEMA.format(schema), **fields}


@dataclass(frozen=True, slots=True)
class WorkflowSpec:
    """A DAG of one orchestrator: its namespace, name and job facets."""

    namespace: str
    name: str
    team: str
    tasks: tuple[str, ...]

    def job_facets(self) -> dict[str, Any]:
        """The job facets Airflow's OpenLineage provider sends with a DAG's events."""
        return {
            "jobType": _facet(
                "JobTypeJobFacet", processingType="BATCH", integration="AIRFLOW", jobType="DAG"
            ),
            "documentation": _facet(
                "DocumentationJobFacet", description=f"{self.name} for the {self.team} team"
            ),
            "ownership": _facet("OwnershipJobFacet", owners=[{"name": f"{self.team}-data"}]),
            "tags": _facet(
                "TagsJobFacet", tags=[{"key": "team", "value": self.team, "source": "AIRFLOW"}]
            ),
        }


def make_workflows(rng: random.Random, namespaces: Sequence[str], count: int) -> list[WorkflowSpec]:
    """``count`` distinct DAGs spread over ``namespaces``, each with 5 to 15 tasks."""
    workflows = []
    for index in range(count):
        team = rng.choice(TEAMS)
        name = f"{team}_{rng.choice(SUBJECTS)}_{rng.choice(ACTIONS)}_{index:04d}"
        task_count = rng.randint(5, 15)
        tasks = tuple(f"{TASKS[i % len(TASKS)]}_{i}" for i in range(task_count))
        workflows.append(WorkflowSpec(namespaces[index % len(namespaces)], name, team, tasks))
    return workflows


def _event(
    event_type: str,
    at: datetime,
    run: tuple[uuid.UUID, dict[str, Any]],
    job: tuple[str, str, dict[str, Any]],
    *,
    inputs: Sequence[dict[str, Any]] = (),
    outputs: Sequence[dict[str, Any]] = (),
) -> tuple[datetime, dict[str, Any]]:
    # (time, event): the time is kept beside the event to sort a stream without parsing.
    (run_id, run_facets), (namespace, name, job_facets) = run, job
    return at, {
        "eventType": event_type,
        "eventTime": at.isoformat(),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(run_id), "facets": run_facets},
        "job": {"namespace": namespace, "name": name, "facets": job_facets},
        "inputs": list(inputs),
        "outputs": list(outputs),
    }


def workflow_run_events(
    rng: random.Random, workflow: WorkflowSpec, start: datetime, *, fail: bool
) -> list[tuple[datetime, dict[str, Any]]]:
    """The events of one DAG run: the run's START, each task's START and end, the run's end.

    Tasks run one after another; a failing run fails at a random task and skips the rest.
    """
    run_id = uuid.uuid4()
    nominal = start.replace(second=0, microsecond=0)
    engine = _facet("ProcessingEngineRunFacet", version="3.1.0", name="Airflow")
    run = (
        run_id,
        {
            "nominalTime": _facet(
                "NominalTimeRunFacet",
                nominalStartTime=nominal.isoformat(),
                nominalEndTime=(nominal + timedelta(hours=1)).isoformat(),
            ),
            "processing_engine": engine,
        },
    )
    dag = (workflow.namespace, workflow.name, workflow.job_facets())
    events = [_event("START", start, run, dag)]

    link = {
        "run": {"runId": str(run_id)},
        "job": {"namespace": workflow.namespace, "name": workflow.name},
    }
    parent = _facet("ParentRunFacet", **link, root=link)
    task_job_facets = {
        "jobType": _facet(
            "JobTypeJobFacet", processingType="BATCH", integration="AIRFLOW", jobType="TASK"
        )
    }
    failing_task = rng.randrange(len(workflow.tasks)) if fail else -1
    moment = start
    for index, task in enumerate(workflow.tasks):
        facets = {
            "parent": parent,
            "processing_engine": engine,
            "airflow": {"taskInstance": {"try_number": 1, "pool": "default_pool"}},
        }
        task_run = (uuid.uuid4(), facets)
        task_job = (workflow.namespace, f"{workflow.name}.{task}", task_job_facets)
        moment += timedelta(seconds=rng.uniform(0.5, 5))
        events.append(_event("START", moment, task_run, task_job))

        moment += timedelta(seconds=rng.uniform(5, 120))
        if index == failing_task:
            error = _facet(
                "ErrorMessageRunFacet",
                message=f"{task} failed: connection reset by peer",
                programmingLanguage="python",
            )
            failed_run = (task_run[0], {**facets, "errorMessage": error})
            events.append(_event("FAIL", moment, failed_run, task_job))
            break
        # Every task reads or writes a table, as Airflow's SQL operators report.
        dataset = [{"namespace": "postgres://warehouse:5432", "name": f"{workflow.team}.{task}"}]
        reads, writes = (dataset, []) if index % 2 == 0 else ([], dataset)
        events.append(_event("COMPLETE", moment, task_run, task_job, inputs=reads, outputs=writes))

    moment += timedelta(seconds=1)
    events.append(_event("FAIL" if fail else "COMPLETE", moment, run, dag))
    return events


def event_stream(
    rng: random.Random,
    workflows: Sequence[WorkflowSpec],
    *,
    events: int,
    start: datetime,
    failure_rate: float = 0.05,
) -> list[dict[str, Any]]:
    """About ``events`` events of overlapping DAG runs, in the order they happened.

    A run starts every two seconds and lasts minutes, so a few hundred runs are in flight at
    once: a batch holds pieces of many runs, and most runs span several batches, which is
    what an orchestrator's outbox sends.
    """
    timed: list[tuple[datetime, dict[str, Any]]] = []
    moment = start
    while len(timed) < events:
        workflow = rng.choice(workflows)
        timed += workflow_run_events(rng, workflow, moment, fail=rng.random() < failure_rate)
        moment += timedelta(seconds=2)
    timed.sort(key=lambda pair: pair[0])
    return [event for _, event in timed[:events]]


def batches_of(events: Sequence[dict[str, Any]], size: int) -> list[bytes]:
    """JSON request bodies of ``size`` events each (the last may be shorter)."""
    return [orjson.dumps(list(events[i : i + size])) for i in range(0, len(events), size)]


# --- Measuring a phase ------------------------------------------------------------------


class SharedProgress(Progress):
    """A ``Progress`` that several threads add to."""

    def __init__(self, label: str, *, total: int, unit: str) -> None:
        super().__init__(label, total=total, unit=unit)
        self.done = 0
        self._lock = threading.Lock()

    def add(self, count: int) -> None:
        """Count ``count`` more units done."""
        with self._lock:
            self.done += count
            self.update(self.done)


@dataclass(frozen=True, slots=True)
class PhaseResult:
    """One measured phase: how many events, in how many seconds, at what CPU cost."""

    name: str
    clients: int
    events: int
    seconds: float
    cpu: dict[str, float]

    @property
    def events_per_second(self) -> float:
        """Throughput of the phase."""
        return self.events / self.seconds

    def cpu_ms_per_thousand(self, group: str) -> float:
        """CPU milliseconds ``group`` spent per 1,000 events."""
        return 1000 * self.cpu.get(group, 0.0) / (self.events / 1000)

    def as_dict(self) -> dict[str, Any]:
        """The phase as plain data, for the JSON results."""
        return {
            "name": self.name,
            "clients": self.clients,
            "events": self.events,
            "seconds": self.seconds,
            "events_per_second": self.events_per_second,
            "cpu_seconds": self.cpu,
        }


Job = Callable[[SharedProgress], int]


def run_phase(name: str, jobs: Sequence[Job], *, events: int, meter: CpuMeter) -> PhaseResult:
    """Run ``jobs`` at the same time, one thread each; time them and count the CPU they cost.

    Each job returns how many events it stored; the phase fails unless that adds up to
    ``events``, so a benchmark never reports the speed of dropping data.
    """
    progress = SharedProgress(name, total=events, unit="events")
    before = meter.sample()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        done = sum(pool.map(lambda job: job(progress), jobs))
    seconds = time.perf_counter() - started
    cpu = CpuMeter.spent(before, meter.sample())
    progress.finish(progress.done)
    if done != events:
        raise RuntimeError(f"{name}: {done} events stored, {events} expected")
    return PhaseResult(name=name, clients=len(jobs), events=events, seconds=seconds, cpu=cpu)


def event_count(bodies: Sequence[bytes]) -> int:
    """How many events the request bodies hold."""
    return sum(len(orjson.loads(body)) for body in bodies)


# --- Ebling over HTTP -------------------------------------------------------------------


def send_batches(base_url: str, key: str, bodies: Sequence[bytes], progress: SharedProgress) -> int:
    """POST each body to ``/api/v1/lineage`` in turn; return how many events were stored."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    # A new connection per request: uvicorn's workers share one listening socket, and a
    # kept-alive connection stays with the worker that accepted it, which for two clients is
    # often the same one (see the README). Connecting costs well under 1 % of a request.
    limits = httpx.Limits(max_keepalive_connections=0)
    stored = 0
    with httpx.Client(
        base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT_S, limits=limits
    ) as client:
        for body in bodies:
            response = client.post("/api/v1/lineage", content=body)
            if response.status_code != 200:
                raise RuntimeError(f"ingest answered {response.status_code}: {response.text}")
            summary = response.json()
            stored += int(summary["stored"])
            progress.add(int(summary["received"]))
    return stored


# --- The baseline: the same rows with plain psycopg ----------------------------------------

SCRATCH_TABLES = {
    "bench_lineage_events": "lineage_events",
    "bench_runs": "runs",
    "bench_task_runs": "task_runs",
}
EVENT_COLUMNS = "event_hash, run_id, root_run_id, event_type, event_time, received_at, payload"
RUN_COLUMNS = (
    "id",
    "workflow_id",
    "state",
    "state_seq",
    "started_at",
    "ended_at",
    "error_message",
    "nominal_start_time",
    "nominal_end_time",
    "try_number",
    "producer",
    "event_count",
    "created_at",
    "updated_at",
)


def _upsert_sql(table: str, columns: Sequence[str]) -> str:
    # A hand-written upsert: the new state wins and event counts add up. Ebling's picks the
    # newer of two states by state_seq and keeps first-heard values, which costs the
    # database a few comparisons per row, so this stays the floor for the same rows.
    placeholders = ", ".join(["%s"] * len(columns))
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "
        "ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
        "state_seq = excluded.state_seq, ended_at = excluded.ended_at, "
        "error_message = excluded.error_message, "
        f"event_count = {table}.event_count + excluded.event_count, "
        "updated_at = excluded.updated_at"
    )


@dataclass(frozen=True, slots=True)
class BaselineBatch:
    """One request's worth of rows, ready for the database."""

    events: list[tuple[Any, ...]]
    runs: list[tuple[Any, ...]]
    task_runs: list[tuple[Any, ...]]


def baseline_batches(
    bodies: Sequence[bytes], workflow_ids: dict[tuple[str, str], int]
) -> list[BaselineBatch]:
    """The rows Ebling writes for each body, computed ahead so the baseline times only writes.

    Ebling's own parser and projection make the rows, so both sides write the same rows.
    """
    batches = []
    for body in bodies:
        parsed = parse_events(body, max_events=MAX_BATCH)
        projection = project(parsed_event.event for parsed_event in parsed)
        events = [_event_row(parsed_event) for parsed_event in parsed]
        runs = [_run_row(patch, workflow_ids) for patch in projection.runs.values()]
        tasks = [
            (*_run_row(patch, workflow_ids), patch.root_run_id, patch.task_name)
            for patch in projection.task_runs.values()
        ]
        batches.append(BaselineBatch(events=events, runs=runs, task_runs=tasks))
    return batches


def _event_row(parsed: ParsedEvent) -> tuple[Any, ...]:
    event = parsed.event
    return (
        event_hash(parsed.raw),
        event.run.runId,
        root_run_id(event),
        event.eventType.value,
        event.eventTime,
        orjson.dumps(parsed.raw).decode(),
    )


def _run_row(patch: RunPatch, workflow_ids: dict[tuple[str, str], int]) -> tuple[Any, ...]:
    # The scratch tables have no foreign keys, so a workflow id only has to be consistent.
    key = (patch.workflow.namespace, patch.workflow.name)
    workflow_id = workflow_ids.setdefault(key, len(workflow_ids) + 1)
    return (
        patch.id,
        workflow_id,
        patch.state.value,
        patch.state_seq,
        patch.started_at,
        patch.ended_at,
        patch.error_message,
        patch.nominal_start_time,
        patch.nominal_end_time,
        patch.try_number,
        patch.producer,
        patch.event_count,
    )


def create_scratch_tables(url: str) -> None:
    """Empty tables shaped like Ebling's: columns, defaults, keys and indexes, no FKs."""
    with psycopg.connect(url, autocommit=True) as connection:
        for scratch, original in SCRATCH_TABLES.items():
            connection.execute(f"DROP TABLE IF EXISTS {scratch}")
            connection.execute(f"CREATE TABLE {scratch} (LIKE {original} INCLUDING ALL)")


def write_baseline(
    connection: psycopg.Connection[Any],
    batches: Sequence[BaselineBatch],
    progress: SharedProgress,
) -> int:
    """Write each batch in a transaction of its own, as Ebling does per request."""
    upsert_runs = _upsert_sql("bench_runs", RUN_COLUMNS)
    upsert_tasks = _upsert_sql("bench_task_runs", (*RUN_COLUMNS, "run_id", "task_name"))
    copy_events = f"COPY bench_lineage_events ({EVENT_COLUMNS}) FROM STDIN"
    written = 0
    with connection.cursor() as cursor:
        for batch in batches:
            now = datetime.now(UTC)
            with connection.transaction():
                with cursor.copy(copy_events) as copy:
                    for digest, run_id, root, kind, at, payload in batch.events:
                        copy.write_row((digest, run_id, root, kind, at, now, payload))
                cursor.executemany(upsert_runs, [(*row, now, now) for row in batch.runs])
                tasks = [(*row[:12], now, now, *row[12:]) for row in batch.task_runs]
                cursor.executemany(upsert_tasks, tasks)
            written += len(batch.events)
            progress.add(len(batch.events))
    return written


# --- Where a worker's time goes ---------------------------------------------------------

# The steps of store_events, timed by wrapping the module's own functions (the names are
# looked up in ebling.lineage.store at call time, so a wrapper sees every call).
STORE_STEPS = {
    "event_hash": "hash each event (canonical JSON + blake2b)",
    "_insert_raw_events": "insert raw events (ON CONFLICT DO NOTHING RETURNING)",
    "project": "fold events into patches",
    "_upsert_workflows": "upsert namespaces + workflows",
    "_upsert_runs": "upsert runs + task runs",
    "_refresh_last_runs": "refresh each workflow's last run",
}


@contextmanager
def timed_store_steps(totals: dict[str, float]) -> Iterator[None]:
    """Add the wall time of each step of ``store_events`` to ``totals`` while active."""
    originals = {name: getattr(store, name) for name in STORE_STEPS if hasattr(store, name)}

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals[name] = totals.get(name, 0.0) + time.perf_counter() - started

        return wrapper

    for name, function in originals.items():
        setattr(store, name, timed(name, function))
    try:
        yield
    finally:
        for name, function in originals.items():
            setattr(store, name, function)


def break_down_store_events(
    url: str, bodies: Sequence[bytes], meter: CpuMeter
) -> tuple[PhaseResult, list[list[str]]]:
    """Parse and store ``bodies`` in this process (no HTTP, one thread), timing each step."""
    engine = create_database_engine(url, pool_size=1)
    sessions = session_factory(engine)
    totals: dict[str, float] = {}
    stored = 0
    before = meter.sample()
    started = time.perf_counter()
    with timed_store_steps(totals):
        for body in bodies:
            moment = time.perf_counter()
            parsed = parse_events(body, max_events=MAX_BATCH)
            totals["parse"] = totals.get("parse", 0.0) + time.perf_counter() - moment
            with sessions() as session:
                session.connection(execution_options=WRITE)
                moment = time.perf_counter()
                stored += store_events(session, parsed).stored
                totals["store"] = totals.get("store", 0.0) + time.perf_counter() - moment
                moment = time.perf_counter()
                session.commit()
                totals["commit"] = totals.get("commit", 0.0) + time.perf_counter() - moment
    seconds = time.perf_counter() - started
    cpu = CpuMeter.spent(before, meter.sample())
    engine.dispose()

    steps = [("parse", "parse_events: JSON + pydantic validation"), ("store", "store_events")]
    steps += [(name, f"  {label}") for name, label in STORE_STEPS.items()]
    steps.append(("commit", "commit (WAL flush)"))
    timed_parts = sum(totals.get(name, 0.0) for name in STORE_STEPS)
    totals["rest"] = totals.get("store", 0.0) - timed_parts
    steps.insert(-1, ("rest", "  the rest of store_events"))
    table = [
        [
            label,
            f"{1000 * totals.get(name, 0.0) / len(bodies):.1f}",
            f"{100 * totals.get(name, 0.0) / seconds:.0f} %",
        ]
        for name, label in steps
    ]
    result = PhaseResult(
        name="in-process, no HTTP", clients=1, events=stored, seconds=seconds, cpu=cpu
    )
    return result, table


def profile_store_events(url: str, bodies: Sequence[bytes]) -> str:
    """The 40 functions with the most time of their own while parsing and storing ``bodies``."""
    engine = create_database_engine(url, pool_size=1)
    sessions = session_factory(engine)
    profiler = cProfile.Profile()
    profiler.enable()
    for body in bodies:
        parsed = parse_events(body, max_events=MAX_BATCH)
        with sessions() as session:
            session.connection(execution_options=WRITE)
            store_events(session, parsed)
            session.commit()
    profiler.disable()
    engine.dispose()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(40)
    return text.getvalue()


# --- Main ---------------------------------------------------------------------------------


def checkpoint(url: str) -> None:
    """Write dirty pages out now, so no phase pays for a checkpoint the one before caused."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CHECKPOINT")


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES_URL, help="server URL, no database")
    parser.add_argument("--pg-data", type=Path, default=DATA_DIR / "pg", help="its data directory")
    parser.add_argument("--database", default="ebling_bench_ingest")
    parser.add_argument("--port", type=int, default=18431, help="port for ebling serve")
    parser.add_argument("--workers", type=int, default=2, help="ebling serve --workers")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--events", type=int, default=60_000, help="events per client per phase")
    parser.add_argument("--workflows", type=int, default=1_000, help="workflows per client")
    parser.add_argument("--profile-events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261203)
    return parser.parse_args(argv)


def generate_streams(args: argparse.Namespace) -> tuple[dict[str, list[list[bytes]]], float]:
    """Request bodies for every phase, and the average size of an event in bytes.

    Each client is one orchestrator with namespaces and workflows of its own, as two Airflow
    deployments reporting to one Ebling would be; every phase sends runs no other has sent.
    """
    rng = random.Random(args.seed)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    fleets = [
        make_workflows(rng, [f"airflow://etl-{client}-{n}" for n in range(2)], args.workflows)
        for client in range(2)
    ]
    sizes = {"warm-up": 10 * args.batch_size, "one client": args.events}
    sizes |= {"two clients": args.events, "in-process": args.profile_events}
    sizes["cProfile"] = args.profile_events // 2
    clients = {"warm-up": 1, "one client": 1, "two clients": 2, "in-process": 1, "cProfile": 1}
    streams = {
        phase: [
            batches_of(event_stream(rng, fleet, events=size, start=start), args.batch_size)
            for fleet in fleets[: clients[phase]]
        ]
        for phase, size in sizes.items()
    }
    bodies = streams["one client"][0]
    event_bytes = sum(len(body) for body in bodies) / event_count(bodies)
    return streams, event_bytes


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ingestion benchmark, print its results as Markdown and save them as JSON."""
    args = parse_arguments(argv)
    url = database_url(args.postgres, args.database)
    home = DATA_DIR / "ebling-home-ingest"
    with step("generating events"):
        streams, event_bytes = generate_streams(args)
    with step("making the baseline's rows with Ebling's parser and projection"):
        workflow_ids: dict[tuple[str, str], int] = {}
        prepared = {
            phase: [baseline_batches(stream, workflow_ids) for stream in streams[phase]]
            for phase in MEASURED_PHASES
        }
    # This process now holds millions of objects. Frozen, the garbage collector skips them;
    # otherwise it would walk them again and again, and charge that to what is measured.
    gc.collect()
    gc.freeze()

    drop_and_create_database(args.postgres, args.database)
    log_path = DATA_DIR / "logs" / "ebling-ingest.log"
    phases: list[PhaseResult] = []
    server = EblingServer(url, home=home, port=args.port, workers=args.workers, log_path=log_path)
    with server:
        meter = CpuMeter(postmaster_pid=postmaster_pid(args.pg_data), server_pgid=server.pid)
        key = create_api_key(url, home, role="ingest", name="bench-ingest")

        def sender(bodies: Sequence[bytes]) -> Job:
            return lambda progress: send_batches(server.base_url, key, bodies, progress)

        warm = streams["warm-up"]
        run_phase("warm-up", [sender(warm[0])], events=event_count(warm[0]), meter=meter)
        create_scratch_tables(url)
        for phase in MEASURED_PHASES:
            bodies = streams[phase]
            events = sum(event_count(stream) for stream in bodies)
            checkpoint(url)
            jobs = [sender(stream) for stream in bodies]
            phases.append(run_phase(f"HTTP, {phase}", jobs, events=events, meter=meter))

            checkpoint(url)
            # Connections open before and close after the phase, so their CPU time counts.
            connections = [psycopg.connect(url) for _ in prepared[phase]]
            try:
                jobs = [
                    partial(write_baseline, connection, batches)
                    for connection, batches in zip(connections, prepared[phase], strict=True)
                ]
                name = f"psycopg baseline, {phase}"
                phases.append(run_phase(name, jobs, events=events, meter=meter))
            finally:
                for connection in connections:
                    connection.close()

    checkpoint(url)
    meter = CpuMeter(postmaster_pid=postmaster_pid(args.pg_data), server_pgid=None)
    with step("timing the steps of parse_events + store_events in-process"):
        in_process, steps = break_down_store_events(url, streams["in-process"][0], meter)
    phases.append(in_process)
    with step("profiling parse_events + store_events with cProfile"):
        profile = profile_store_events(url, streams["cProfile"][0])
    profile_path = DATA_DIR / "results" / "ingest-profile.txt"
    profile_path.parent.mkdir(parents=True, exist_ok=True)
    profile_path.write_text(profile)

    report(args, phases, steps, event_bytes, profile_path)
    return 0


def report(
    args: argparse.Namespace,
    phases: Sequence[PhaseResult],
    steps: list[list[str]],
    event_bytes: float,
    profile_path: Path,
) -> None:
    """Print the results as Markdown and save them as JSON."""
    by_name = {phase.name: phase for phase in phases}
    cores = os.cpu_count() or 1
    rows = []
    for phase in phases:
        ratio = ""
        if phase.name.startswith("HTTP, "):
            baseline = by_name[phase.name.replace("HTTP", "psycopg baseline")]
            ratio = f"{phase.events_per_second / baseline.events_per_second:.2f}"
        busy = 100 * phase.cpu["machine"] / (phase.seconds * cores)
        split = ""
        if phase.name.startswith("HTTP"):
            workers = CpuMeter.server_processes(phase.cpu)
            split = " / ".join(f"{100 * w / sum(workers):.0f}" for w in workers)
        cpu = " / ".join(
            f"{phase.cpu_ms_per_thousand(group):.0f}"
            for group in ("ebling server", "benchmark", "postgres", "other")
        )
        rows.append(
            [
                phase.name,
                f"{phase.events:,}",
                f"{phase.seconds:.1f}",
                f"**{phase.events_per_second:,.0f}**",
                ratio,
                f"{busy:.0f} %",
                cpu,
                split,
            ]
        )
    header = [
        "phase",
        "events",
        "seconds",
        "events/s",
        "HTTP / baseline",
        "CPU busy",
        "CPU ms per 1,000 events: server / this process / PostgreSQL / other",
        "server CPU by process, %",
    ]
    print()
    print(markdown_table(header, rows))
    print(
        f"\nBatches of {args.batch_size}; an event is {event_bytes:,.0f} bytes of JSON on average."
    )
    print()
    print(markdown_table(["step (in-process, one thread)", "ms per batch", "share of wall"], steps))
    # What the measured CPU cost per event allows when the cores do nothing else: a ceiling
    # that holds even when other work on the machine spoiled the wall-clock figures.
    http = by_name["HTTP, two clients"]
    cost_ms = sum(http.cpu_ms_per_thousand(g) for g in ("ebling server", "benchmark", "postgres"))
    print(
        f"\nHTTP with two clients costs {cost_ms:,.0f} CPU ms per 1,000 events (server, client "
        f"and PostgreSQL), so {cores} idle cores could carry at most "
        f"{cores * 1_000_000 / cost_ms:,.0f} events/s."
    )
    best = max(phase.events_per_second for phase in phases if phase.name.startswith("HTTP"))
    verdict = "meets" if best >= TARGET_EVENTS_PER_SECOND else "misses"
    print(
        f"\nBest HTTP throughput: {best:,.0f} events/s, which {verdict} the target of "
        f"{TARGET_EVENTS_PER_SECOND:,}. The cProfile listing is in {profile_path}."
    )
    saved = write_results(
        "ingest",
        {
            "machine": machine_description(args.postgres),
            "batch_size": args.batch_size,
            "event_bytes": event_bytes,
            "phases": [phase.as_dict() for phase in phases],
            "store_steps": steps,
        },
    )
    print(f"Results saved to {saved}.")


if __name__ == "__main__":
    sys.exit(main())
