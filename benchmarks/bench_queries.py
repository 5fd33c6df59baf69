"""Query speed over HTTP with a year of history: 1,000,000 runs and ~10,000,000 task runs.

1. Load (unless ``--reuse`` finds a loaded database): migrate an empty database with Ebling,
   drop the keys and indexes of ``runs`` and ``task_runs``, ``COPY`` generated rows into
   ``namespaces``, ``workflows``, ``runs`` and ``task_runs``, build the keys and indexes again
   exactly as the migration defined them, and ``VACUUM ANALYZE``.
2. Measure: start ``ebling serve``, and with a viewer API key send each kind of request the
   dashboard makes, one at a time, and report p50 and p95 of the time to the full answer.

The data's "now" is the moment it was loaded; every time window is taken relative to it, so a
database reused days later answers the same questions.

Usage: ``uv run --with httpx python benchmarks/bench_queries.py --help`` (``run.sh`` does it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import psycopg
from _common import (
    DATA_DIR,
    DEFAULT_POSTGRES_URL,
    CpuMeter,
    EblingServer,
    LatencySummary,
    Progress,
    create_api_key,
    database_exists,
    database_size_bytes,
    database_url,
    drop_and_create_database,
    machine_description,
    markdown_table,
    postmaster_pid,
    step,
    write_results,
)
from ebling.db import migrate
from ebling.db.engine import create_database_engine
from psycopg import sql

YEAR_S = 365 * 86_400
PRODUCER = "https://github.com/apache/airflow/tree/providers-openlineage/2.7.0"
NAMESPACES = (
    "airflow://etl-prod",
    "airflow://etl-eu",
    "airflow://reporting",
    "dagster://analytics",
    "prefect://ops",
)
TEAMS = ("finance", "sales", "marketing", "ops", "billing", "crm", "logistics", "support", "hr")
SUBJECTS = ("orders", "invoices", "customers", "payments", "shipments", "tickets", "leads")
ACTIONS = ("load", "sync", "export", "dedupe", "report", "reconcile", "score", "archive")
TASK_STEPS = ("extract", "validate", "clean", "enrich", "join", "aggregate", "load", "publish")
# Ranks of event types in state_seq, as ebling.lineage.projection orders them.
RANK = {"RUNNING": 1, "COMPLETED": 3, "ABORTED": 4, "FAILED": 5}
# The run and task-run tables whose keys and indexes are dropped for the load and rebuilt.
BULK_TABLES = ("runs", "task_runs")
REQUEST_TIMEOUT_S = 60.0
TARGETS_MS = {"runs": 50.0, "overview": 200.0}


# --- The data set -------------------------------------------------------------------------


@dataclass(slots=True)
class Dataset:
    """What was loaded and how long it took; kept in the database beside the data."""

    reference: datetime  # the data's "now": runs started in the year before it
    runs: int = 0
    task_runs: int = 0
    workflows: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> str:
        """The data set as a JSON document."""
        document = asdict(self)
        document["reference"] = self.reference.isoformat()
        return json.dumps(document)

    @classmethod
    def from_json(cls, text: str) -> Dataset:
        """Read back what ``to_json`` wrote."""
        document = json.loads(text)
        document["reference"] = datetime.fromisoformat(document["reference"])
        return cls(**document)


@dataclass(frozen=True, slots=True)
class WorkflowPlan:
    """One generated workflow: its name, tasks and how often its runs fail."""

    id: int
    namespace_id: int
    name: str
    team: str
    tasks: tuple[str, ...]
    failure_rate: float


@dataclass(slots=True)
class RunPlan:
    """Every run of the year, in start order, as parallel lists (a million small objects
    would cost more memory and time than the rows themselves)."""

    starts: list[int]  # seconds after the start of the year
    workflows: list[int]
    durations: list[int]  # seconds; -1 for a run that never ended (stuck RUNNING)
    states: list[str]
    ids: str  # 32 hex digits per run


def plan_workflows(rng: random.Random, count: int) -> list[WorkflowPlan]:
    """``count`` workflows over the namespaces; most rarely fail, a fifth are flaky."""
    plans = []
    for index in range(count):
        team = rng.choice(TEAMS)
        name = f"{team}_{rng.choice(SUBJECTS)}_{rng.choice(ACTIONS)}_{index:04d}"
        tasks = tuple(
            f"{name}.{TASK_STEPS[i % len(TASK_STEPS)]}_{i}" for i in range(rng.randint(6, 15))
        )
        # 80 % fail 1.5 % of the time, 20 % fail 19 %: about 5 % overall.
        failure_rate = 0.19 if rng.random() < 0.2 else 0.015
        namespace_id = 1 + index % len(NAMESPACES)
        plans.append(WorkflowPlan(index + 1, namespace_id, name, team, tasks, failure_rate))
    return plans


def plan_runs(rng: random.Random, workflows: Sequence[WorkflowPlan], count: int) -> RunPlan:
    """``count`` runs over the year before the reference time, in the order they started.

    How often a workflow runs is skewed (log-normal): a few run every few minutes, many daily
    or weekly. A run lasts minutes (log-normal, median 10), so those that started in the last
    hour or so are still RUNNING; a few hundred older ones are stuck RUNNING.
    """
    weights = [rng.lognormvariate(0, 1.3) for _ in workflows]
    chosen = rng.choices(range(len(workflows)), weights=weights, k=count)
    starts = [int(rng.random() * YEAR_S) for _ in range(count)]
    order = sorted(range(count), key=starts.__getitem__)
    plan = RunPlan(
        starts=[starts[i] for i in order],
        workflows=[chosen[i] for i in order],
        durations=[],
        states=[],
        ids=os.urandom(16 * count).hex(),
    )
    for start, workflow in zip(plan.starts, plan.workflows, strict=True):
        duration = min(max(int(rng.lognormvariate(6.4, 0.8)), 30), 6 * 3600)
        roll = rng.random()
        if start + duration > YEAR_S:
            state = "RUNNING"
        elif roll < 0.0002:
            state, duration = "RUNNING", -1
        elif roll < 0.005:
            state = "ABORTED"
        elif roll < 0.005 + workflows[workflow].failure_rate:
            state = "FAILED"
        else:
            state = "COMPLETED"
        plan.durations.append(duration)
        plan.states.append(state)
    return plan


class TimeText:
    """Seconds after the start of the year, written as PostgreSQL reads a timestamptz.

    Formatting a datetime per row would dominate the load; the text of each minute is made
    once and the seconds appended.
    """

    def __init__(self, year_start: datetime, *, minutes: int) -> None:
        self.epoch = int(year_start.timestamp())
        self._minutes = [
            (year_start + timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M") for m in range(minutes)
        ]

    def __call__(self, offset: int) -> str:
        """The timestamp ``offset`` seconds into the year."""
        minute, second = divmod(offset, 60)
        return f"{self._minutes[minute]}:{second:02d}+00"

    def minute(self, offset: int) -> str:
        """The start of the minute ``offset`` falls in (a nominal schedule time)."""
        return f"{self._minutes[offset // 60]}:00+00"

    def seq(self, offset: int, state: str) -> int:
        """The ``state_seq`` of the event that set ``state`` at ``offset``."""
        return (self.epoch + offset) * 1_000_000 * 8 + RANK[state]


def run_rows(
    plan: RunPlan,
    workflows: Sequence[WorkflowPlan],
    times: TimeText,
    rng: random.Random,
    first: int,
    last: int,
) -> tuple[list[str], list[str]]:
    """COPY text lines for runs ``first``..``last`` and for all their task runs."""
    runs, tasks = [], []
    null = "\\N"
    for index in range(first, last):
        run_id = plan.ids[32 * index : 32 * index + 32]
        start, duration, state = plan.starts[index], plan.durations[index], plan.states[index]
        workflow = workflows[plan.workflows[index]]
        # Tasks split the run's time one after another. A failed run stops at a random task;
        # a running one has started only the tasks whose time has come; a stuck one, one.
        count = len(workflow.tasks)
        span = duration if duration > 0 else 3600
        stop = count - 1
        if state in ("FAILED", "ABORTED"):
            stop = rng.randrange(count)
        elif duration < 0:
            stop = 0

        started = times(start)
        ended = times(start + duration) if state != "RUNNING" else null
        moment = start + duration if state != "RUNNING" else start
        error = f"{workflow.tasks[stop]} failed" if state == "FAILED" else null
        runs.append(
            f"{run_id}\t{workflow.id}\t{state}\t{times.seq(moment, state)}\t{started}\t{ended}\t"
            f"{times.minute(start)}\t{null}\t{null}\t{error}\t{PRODUCER}\t"
            f"{1 if state == 'RUNNING' else 2}\t{started}\t{ended if ended != null else started}\n"
        )
        task_ids = os.urandom(16 * (stop + 1)).hex()
        for number in range(stop + 1):
            task_start = start + span * number // count
            task_end = start + span * (number + 1) // count - 1
            if task_start > YEAR_S:
                break
            if number == stop and state != "COMPLETED":
                task_state = "RUNNING" if state == "RUNNING" else state
            else:
                task_state = "COMPLETED"
            if task_state == "RUNNING" or task_end > YEAR_S:
                task_state, task_ended, seq_at = "RUNNING", null, task_start
            else:
                task_ended, seq_at = times(task_end), task_end
            task_error = (
                f"{workflow.tasks[number]}: exit code 1" if task_state == "FAILED" else null
            )
            task_started = times(task_start)
            tasks.append(
                f"{run_id}\t{workflow.tasks[number]}\t{task_ids[32 * number : 32 * number + 32]}\t"
                f"{workflow.id}\t{task_state}\t{times.seq(seq_at, task_state)}\t{task_started}\t"
                f"{task_ended}\t{null}\t{null}\t1\t{task_error}\t{PRODUCER}\t"
                f"{1 if task_state == 'RUNNING' else 2}\t{task_started}\t"
                f"{task_ended if task_ended != null else task_started}\n"
            )
    return runs, tasks


# --- Loading ----------------------------------------------------------------------------

RUN_COLUMNS = (
    "id, workflow_id, state, state_seq, started_at, ended_at, nominal_start_time, "
    "nominal_end_time, try_number, error_message, producer, event_count, created_at, updated_at"
)
TASK_COLUMNS = (
    "run_id, task_name, id, workflow_id, state, state_seq, started_at, ended_at, "
    "nominal_start_time, nominal_end_time, try_number, error_message, producer, event_count, "
    "created_at, updated_at"
)
WORKFLOW_COLUMNS = (
    "id, namespace_id, name, description, tags, owners, job_facets, facets_seq, last_run_id, "
    "last_run_state, last_run_at, created_at, updated_at"
)


@dataclass(frozen=True, slots=True)
class SchemaObject:
    """A key, index or foreign key as the migration made it, to drop and make again."""

    table: str
    name: str
    definition: str  # CREATE INDEX ... or a constraint's definition
    kind: str  # "index", "primary", "foreign"

    def drop(self) -> sql.Composed:
        """The statement that removes it."""
        if self.kind == "index":
            return sql.SQL("DROP INDEX {}").format(sql.Identifier(self.name))
        return sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            sql.Identifier(self.table), sql.Identifier(self.name)
        )

    def create(self) -> sql.SQL | sql.Composed:
        """The statement that makes it again."""
        if self.kind == "index":
            return sql.SQL(self.definition)  # from pg_get_indexdef
        return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
            sql.Identifier(self.table), sql.Identifier(self.name)
        ) + sql.SQL(self.definition)  # from pg_get_constraintdef


def bulk_schema_objects(connection: psycopg.Connection[Any]) -> list[SchemaObject]:
    """The keys, indexes and foreign keys of runs and task runs, in the order to drop them.

    Read from the catalogue, so that what is rebuilt is exactly what the migration made.
    """
    constraints = connection.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
        FROM pg_constraint c
        WHERE c.contype IN ('p', 'f') AND c.conrelid::regclass::text = ANY(%s)
        """,
        [list(BULK_TABLES)],
    ).fetchall()
    constraint_names = {name for _, name, _, _ in constraints}
    indexes = connection.execute(
        "SELECT tablename, indexname, indexdef FROM pg_indexes "
        "WHERE schemaname = 'public' AND tablename = ANY(%s)",
        [list(BULK_TABLES)],
    ).fetchall()
    # Foreign keys go first (task_runs' references runs' primary key), then plain indexes,
    # then primary keys, whose indexes belong to their constraints.
    objects = [
        SchemaObject(table, name, definition, "foreign")
        for table, name, definition, kind in constraints
        if kind == "f"
    ]
    objects += [
        SchemaObject(table, name, definition, "index")
        for table, name, definition in indexes
        if name not in constraint_names
    ]
    objects += [
        SchemaObject(table, name, definition, "primary")
        for table, name, definition, kind in constraints
        if kind == "p"
    ]
    return objects


def load(url: str, args: argparse.Namespace) -> Dataset:
    """Generate the data set and load it into a freshly migrated database."""
    rng = random.Random(args.seed)
    reference = datetime.now(UTC).replace(second=0, microsecond=0)
    dataset = Dataset(reference=reference)
    timings = dataset.seconds

    with step("migrating the empty database"):
        started = time.perf_counter()
        engine = create_database_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        timings["migrate"] = time.perf_counter() - started

    with step("planning workflows and runs"):
        started = time.perf_counter()
        workflows = plan_workflows(rng, args.workflows)
        plan = plan_runs(rng, workflows, args.runs)
        year_start = reference - timedelta(seconds=YEAR_S)
        # A day past the year covers ends of runs that started just before the reference.
        times = TimeText(year_start, minutes=YEAR_S // 60 + 24 * 60)
        timings["plan"] = time.perf_counter() - started

    with psycopg.connect(url, autocommit=True) as connection:
        objects = bulk_schema_objects(connection)
        with step(f"dropping {len(objects)} keys and indexes of runs and task runs"):
            for schema_object in objects:
                connection.execute(schema_object.drop())

    started = time.perf_counter()
    copy_reference_data(url, workflows, plan, times)
    dataset.workflows = len(workflows)
    dataset.runs, dataset.task_runs = copy_runs(url, workflows, plan, times, rng)
    timings["copy"] = time.perf_counter() - started

    with psycopg.connect(url, autocommit=True) as connection:
        # The index builds sort millions of rows; give them memory to do it in one pass.
        connection.execute("SET maintenance_work_mem = '1GB'")
        started = time.perf_counter()
        for schema_object in reversed(objects):
            with step(f"building {schema_object.table}.{schema_object.name}"):
                connection.execute(schema_object.create())
        timings["keys and indexes"] = time.perf_counter() - started

        with step("VACUUM ANALYZE"):
            # What autovacuum would have done by the time such history had piled up: fresh
            # statistics, and a visibility map that allows index-only scans.
            started = time.perf_counter()
            for table in ("namespaces", "workflows", *BULK_TABLES):
                connection.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
            timings["vacuum analyze"] = time.perf_counter() - started

        connection.execute("CREATE TABLE bench_dataset (document text NOT NULL)")
        connection.execute("INSERT INTO bench_dataset VALUES (%s)", [dataset.to_json()])
    return dataset


def copy_reference_data(
    url: str, workflows: Sequence[WorkflowPlan], plan: RunPlan, times: TimeText
) -> None:
    """COPY the namespaces and workflows, each workflow with its newest run already set."""
    newest: dict[int, int] = {}
    for index, position in enumerate(plan.workflows):
        newest[position] = index  # runs are in start order, so the last one seen is newest
    created = times(0)
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        with cursor.copy("COPY namespaces (id, name, created_at) FROM STDIN") as copy:
            for number, name in enumerate(NAMESPACES, start=1):
                copy.write_row((number, name, created))
        with cursor.copy(f"COPY workflows ({WORKFLOW_COLUMNS}) FROM STDIN") as copy:
            for position, workflow in enumerate(workflows):
                last = newest.get(position)
                facets = {
                    "documentation": {"description": f"{workflow.name} for {workflow.team}"},
                    "ownership": {"owners": [{"name": f"{workflow.team}-data"}]},
                }
                copy.write_row(
                    (
                        workflow.id,
                        workflow.namespace_id,
                        workflow.name,
                        f"{workflow.name} for {workflow.team}",
                        json.dumps([f"team:{workflow.team}"]),
                        json.dumps([f"{workflow.team}-data"]),
                        json.dumps(facets),
                        times.seq(0, "RUNNING"),
                        None if last is None else plan.ids[32 * last : 32 * last + 32],
                        None if last is None else plan.states[last],
                        None if last is None else times(plan.starts[last]),
                        created,
                        created,
                    )
                )
        for table in ("namespaces", "workflows"):
            cursor.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), max(id)) FROM {}").format(
                    sql.Literal(table), sql.Identifier(table)
                )
            )
        connection.commit()


def copy_runs(
    url: str,
    workflows: Sequence[WorkflowPlan],
    plan: RunPlan,
    times: TimeText,
    rng: random.Random,
) -> tuple[int, int]:
    """COPY every run and task run, generated in chunks; return how many of each.

    Two connections stream at once, one per table, so PostgreSQL parses task runs while this
    process is making the next chunk.
    """
    total = len(plan.starts)
    chunk = 20_000
    progress = Progress("runs loaded", total=total, unit="runs")
    task_count = 0
    with (
        psycopg.connect(url) as runs_connection,
        psycopg.connect(url) as tasks_connection,
        runs_connection.cursor().copy(f"COPY runs ({RUN_COLUMNS}) FROM STDIN") as runs_copy,
        tasks_connection.cursor().copy(f"COPY task_runs ({TASK_COLUMNS}) FROM STDIN") as tasks_copy,
    ):
        for first in range(0, total, chunk):
            last = min(first + chunk, total)
            runs, tasks = run_rows(plan, workflows, times, rng, first, last)
            runs_copy.write("".join(runs))
            tasks_copy.write("".join(tasks))
            task_count += len(tasks)
            progress.update(last)
    seconds = progress.finish(total)
    print(f"  {task_count:,} task runs in {seconds:.0f} s", file=sys.stderr)
    return total, task_count


def loaded_dataset(url: str) -> Dataset | None:
    """The data set a previous run loaded into ``url``, if it finished loading."""
    with psycopg.connect(url, autocommit=True) as connection:
        found = connection.execute("SELECT to_regclass('bench_dataset')").fetchone()
        if found is None or found[0] is None:
            return None
        row = connection.execute("SELECT document FROM bench_dataset").fetchone()
    return Dataset.from_json(row[0]) if row else None


# --- Measuring ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Samples:
    """Real ids and names from the data, for requests that need them."""

    workflow_ids: list[int]
    run_ids: list[str]
    namespaces: list[str]
    search_terms: list[str]


def sample_data(url: str, rng: random.Random, count: int) -> Samples:
    """``count`` of each kind of sample, drawn at random from the loaded data."""
    with psycopg.connect(url, autocommit=True) as connection:
        workflow_ids = [row[0] for row in connection.execute("SELECT id FROM workflows")]
        run_ids = [
            str(row[0])
            for row in connection.execute(
                "SELECT id FROM runs TABLESAMPLE SYSTEM (1) REPEATABLE (%s) LIMIT %s",
                [rng.randrange(1_000_000), count * 10],
            )
        ]
        namespaces = [row[0] for row in connection.execute("SELECT name FROM namespaces")]
    return Samples(
        workflow_ids=rng.sample(workflow_ids, min(count, len(workflow_ids))),
        run_ids=rng.sample(run_ids, min(count, len(run_ids))),
        namespaces=namespaces,
        search_terms=[*SUBJECTS, *TEAMS],
    )


@dataclass(frozen=True, slots=True)
class QueryCase:
    """One kind of request, with a path for each repetition."""

    name: str
    paths: list[str]
    target_ms: float | None = None


def iso(moment: datetime) -> str:
    """RFC 3339 with a Z, as a dashboard would put it in a query string."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def query_cases(
    dataset: Dataset, samples: Samples, rng: random.Random, repeat: int, next_pages: list[str]
) -> list[QueryCase]:
    """The requests to measure, ``repeat`` of each, with parameters drawn at random."""
    now = dataset.reference

    def path(base: str, **query: Any) -> str:
        return f"{base}?{urlencode(query, doseq=True)}" if query else base

    def pick(values: Sequence[Any]) -> Any:
        return values[rng.randrange(len(values))]

    def day_window() -> dict[str, str]:
        # A day somewhere in the year: old windows sit deep in the indexes.
        end = now - timedelta(days=rng.uniform(0, 364))
        return {"since": iso(end - timedelta(days=1)), "until": iso(end)}

    def cases() -> Iterator[QueryCase]:
        runs, overview = TARGETS_MS["runs"], TARGETS_MS["overview"]
        # Floors: the HTTP stack alone, then with authentication and a trivial query.
        yield QueryCase("floor: /healthz (no auth, no database)", ["/healthz"] * repeat)
        yield QueryCase("floor: namespaces (auth + a tiny query)", ["/api/v1/namespaces"] * repeat)
        yield QueryCase(
            "(a) runs of a workflow, FAILED, limit 50",
            [
                path(
                    "/api/v1/runs", workflow_id=pick(samples.workflow_ids), state="FAILED", limit=50
                )
                for _ in range(repeat)
            ],
            runs,
        )
        yield QueryCase(
            "(a) runs, state=RUNNING", [path("/api/v1/runs", state="RUNNING")] * repeat, runs
        )
        yield QueryCase(
            "(a) runs, since/until a day",
            [path("/api/v1/runs", **day_window()) for _ in range(repeat)],
            runs,
        )
        yield QueryCase(
            "(a) runs, next page (next_cursor)",
            [pick(next_pages) for _ in range(repeat)],
            runs,
        )
        yield QueryCase("(a) runs, no filter", [path("/api/v1/runs")] * repeat, runs)
        yield QueryCase(
            "(a) runs, one namespace, FAILED",
            [
                path("/api/v1/runs", namespace=pick(samples.namespaces), state="FAILED")
                for _ in range(repeat)
            ],
            runs,
        )
        yield QueryCase(
            "(b) workflows, q=..&sort=-last_run_at",
            [
                path("/api/v1/workflows", q=pick(samples.search_terms), sort="-last_run_at")
                for _ in range(repeat)
            ],
        )
        yield QueryCase(
            "(b) workflows, last_state=FAILED",
            [path("/api/v1/workflows", last_state="FAILED", sort="-last_run_at")] * repeat,
        )
        yield QueryCase("(b) workflows, sort=name", [path("/api/v1/workflows")] * repeat)
        week = {"since": iso(now - timedelta(days=7)), "until": iso(now)}
        yield QueryCase(
            "(c) one workflow, 7-day stats",
            [
                path(f"/api/v1/workflows/{pick(samples.workflow_ids)}", **week)
                for _ in range(repeat)
            ],
        )
        yield QueryCase(
            "(d) one run with its task runs",
            [path(f"/api/v1/runs/{pick(samples.run_ids)}") for _ in range(repeat)],
        )
        day = {"since": iso(now - timedelta(hours=24)), "until": iso(now), "bucket": "hour"}
        yield QueryCase(
            "(e) overview, 24 h hourly", [path("/api/v1/overview", **day)] * repeat, overview
        )
        month = {"since": iso(now - timedelta(days=30)), "until": iso(now), "bucket": "day"}
        yield QueryCase(
            "(e) overview, 30 days daily", [path("/api/v1/overview", **month)] * repeat, overview
        )
        year = {"since": iso(now - timedelta(days=365)), "until": iso(now), "bucket": "day"}
        yield QueryCase(
            "(e) overview, 365 days daily (no target)",
            [path("/api/v1/overview", **year)] * max(3, repeat // 10),
        )

    return list(cases())


def second_pages(
    client: httpx.Client, dataset: Dataset, rng: random.Random, count: int
) -> list[str]:
    """Paths of second pages: a day window's filters again, with its first page's cursor.

    A cursor marks a position only; the client repeats the filters, as a dashboard does.
    """
    paths = []
    for _ in range(count):
        end = dataset.reference - timedelta(days=rng.uniform(0, 364))
        query = {"since": iso(end - timedelta(days=1)), "until": iso(end)}
        page = get_json(client, f"/api/v1/runs?{urlencode(query)}")
        if page["next_cursor"]:
            paths.append(f"/api/v1/runs?{urlencode(query | {'cursor': page['next_cursor']})}")
    if not paths:
        raise RuntimeError("no page of runs had a next_cursor; is the data loaded?")
    return paths


def get_json(client: httpx.Client, path: str) -> Any:
    """GET ``path`` and return its JSON, failing loudly on anything but 200."""
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text[:500]}")
    return response.json()


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The latencies of one case, and how busy other work kept the machine meanwhile."""

    case: QueryCase
    latency: LatencySummary
    others_cpu_share: float  # of all cores, by processes neither Ebling nor PostgreSQL


def measure(client: httpx.Client, case: QueryCase, *, warm_up: int, meter: CpuMeter) -> CaseResult:
    """Time each request of ``case`` from sending it to having read all of the answer."""
    for path in case.paths[:warm_up]:
        get_json(client, path)
    durations = []
    before = meter.sample()
    started_case = time.perf_counter()
    for path in case.paths:
        started = time.perf_counter()
        get_json(client, path)
        durations.append(time.perf_counter() - started)
    elapsed = time.perf_counter() - started_case
    spent = CpuMeter.spent(before, meter.sample())
    share = spent["other"] / (elapsed * (os.cpu_count() or 1))
    return CaseResult(case, LatencySummary.of(case.name, durations), share)


# --- Main ---------------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES_URL, help="server URL, no database")
    parser.add_argument("--pg-data", type=Path, default=DATA_DIR / "pg", help="its data directory")
    parser.add_argument("--database", default="ebling_bench_queries")
    parser.add_argument("--port", type=int, default=18432, help="port for ebling serve")
    parser.add_argument("--workers", type=int, default=2, help="ebling serve --workers")
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--workflows", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=100, help="timed requests per case")
    parser.add_argument(
        "--reuse", action="store_true", help="keep a database an earlier run loaded completely"
    )
    parser.add_argument("--seed", type=int, default=20261203)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Load (or reuse) the data, measure each case over HTTP, print and save the results."""
    args = parse_arguments(argv)
    url = database_url(args.postgres, args.database)
    home = DATA_DIR / "ebling-home-queries"

    dataset = None
    if args.reuse and database_exists(args.postgres, args.database):
        dataset = loaded_dataset(url)
        if dataset is not None and dataset.runs != args.runs:
            print(f"the loaded data has {dataset.runs:,} runs, not {args.runs:,}", file=sys.stderr)
            dataset = None
    if dataset is None:
        drop_and_create_database(args.postgres, args.database)
        started = time.perf_counter()
        dataset = load(url, args)
        print(f"loaded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        reused = False
    else:
        print(
            f"reusing the data loaded for {dataset.reference:%Y-%m-%d %H:%M} UTC", file=sys.stderr
        )
        reused = True
    sizes = table_sizes(url)

    rng = random.Random(args.seed)
    samples = sample_data(url, rng, args.repeat)
    log_path = DATA_DIR / "logs" / "ebling-queries.log"
    results = []
    with EblingServer(
        url, home=home, port=args.port, workers=args.workers, log_path=log_path
    ) as server:
        key = create_api_key(url, home, role="viewer", name="bench-viewer")
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(
            base_url=server.base_url, headers=headers, timeout=REQUEST_TIMEOUT_S
        ) as client:
            next_pages = second_pages(client, dataset, rng, 20)
            cases = query_cases(dataset, samples, rng, args.repeat, next_pages)
            meter = CpuMeter(postmaster_pid=postmaster_pid(args.pg_data), server_pgid=server.pid)
            for number, case in enumerate(cases, start=1):
                result = measure(client, case, warm_up=min(5, len(case.paths)), meter=meter)
                results.append(result)
                print(
                    f"  [{number}/{len(cases)}] {case.name}: p50 {result.latency.p50_ms:.1f} ms, "
                    f"p95 {result.latency.p95_ms:.1f} ms",
                    file=sys.stderr,
                )

    report(args, dataset, reused, sizes, results)
    return 0


def table_sizes(url: str) -> dict[str, int]:
    """Bytes on disk of each loaded table with its indexes, and of the whole database."""
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relname = ANY(%s) AND relkind = 'r'",
            [["namespaces", "workflows", *BULK_TABLES]],
        ).fetchall()
        database = connection.execute("SELECT current_database()").fetchone()
    sizes = {name: int(size) for name, size in rows}
    if database is not None:
        server_url = url.rsplit("/", 1)[0]
        sizes["database"] = database_size_bytes(server_url, database[0])
    return sizes


def report(
    args: argparse.Namespace,
    dataset: Dataset,
    reused: bool,
    sizes: dict[str, int],
    results: list[CaseResult],
) -> None:
    """Print the results as Markdown and save them as JSON."""
    rows = []
    for result in results:
        case, summary, others = result.case, result.latency, result.others_cpu_share
        verdict = ""
        if case.target_ms is not None:
            met = "met" if summary.p95_ms < case.target_ms else "**missed**"
            verdict = f"< {case.target_ms:.0f} ms: {met}"
        rows.append(
            [
                case.name,
                summary.count,
                f"{summary.p50_ms:.1f}",
                f"{summary.p95_ms:.1f}",
                f"{summary.max_ms:.1f}",
                verdict,
                f"{max(0.0, 100 * others):.0f} %",  # sampling jitter can dip below 0
            ]
        )
    print()
    print(
        markdown_table(
            ["request", "n", "p50 ms", "p95 ms", "max ms", "p95 target", "others' CPU"], rows
        )
    )

    load_rows = [[name, f"{seconds:.0f}"] for name, seconds in dataset.seconds.items()]
    load_rows.append(["total", f"{sum(dataset.seconds.values()):.0f}"])
    origin = "earlier (reused)" if reused else "by this run"
    print(
        f"\n{dataset.runs:,} runs, {dataset.task_runs:,} task runs, "
        f"{dataset.workflows:,} workflows; loaded {origin}.\n"
    )
    print(markdown_table(["load step", "seconds"], load_rows))
    print()
    print(
        markdown_table(
            ["table", "size on disk (with indexes)"],
            [[name, f"{size / 2**30:.2f} GiB"] for name, size in sizes.items()],
        )
    )
    saved = write_results(
        "queries",
        {
            "machine": machine_description(args.postgres),
            "dataset": json.loads(dataset.to_json()),
            "reused": reused,
            "sizes_bytes": sizes,
            "requests": [
                asdict(result.latency)
                | {"target_ms": result.case.target_ms, "others_cpu_share": result.others_cpu_share}
                for result in results
            ],
        },
    )
    print(f"Results saved to {saved}.")


if __name__ == "__main__":
    sys.exit(main())
