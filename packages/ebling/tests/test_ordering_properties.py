"""Property: however events are duplicated, shuffled and split into batches, every run ends
in the state that the events' order in time gives.

The oracle replays the distinct events sorted by time, the way a reader of the log would;
the system under test sees them in any order, in any number of batches, some sent twice.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from ebling.db.engine import WRITE, session_factory
from ebling.db.models import LineageEvent, Namespace, Run, TaskRun, Workflow
from ebling.lineage.events import parse_events
from ebling.lineage.store import store_events
from event_factories import BASE_TIME, error_facet, event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select

STATE_OF = {
    "START": "RUNNING",
    "RUNNING": "RUNNING",
    "COMPLETE": "COMPLETED",
    "FAIL": "FAILED",
    "ABORT": "ABORTED",
}
TIE_ORDER = ["OTHER", "START", "RUNNING", "COMPLETE", "ABORT", "FAIL"]
WORKFLOW_RUNS = [uuid.UUID(int=i + 1) for i in range(2)]
TASK_RUNS = [uuid.UUID(int=100 + i) for i in range(3)]


@dataclass(frozen=True)
class Spec:
    run: uuid.UUID
    parent: uuid.UUID | None
    event_type: str
    minute: int

    def as_event(self) -> dict[str, Any]:
        job = "wf" if self.parent is None else "wf.task"
        facets = error_facet(f"failed at {self.minute}") if self.event_type == "FAIL" else None
        return event(
            self.event_type,
            run_id=self.run,
            job=job,
            at=BASE_TIME + timedelta(minutes=self.minute),
            parent=(self.parent, "wf") if self.parent else None,
            run_facets=facets,
        )


def specs() -> st.SearchStrategy[Spec]:
    workflow_event = st.builds(
        Spec,
        st.sampled_from(WORKFLOW_RUNS),
        st.none(),
        st.sampled_from(TIE_ORDER),
        st.integers(0, 5),
    )
    task_event = st.builds(
        lambda run, parent, kind, minute: Spec(run, parent, kind, minute),
        st.sampled_from(TASK_RUNS),
        st.sampled_from(WORKFLOW_RUNS),
        st.sampled_from(TIE_ORDER),
        st.integers(0, 5),
    )
    return st.one_of(workflow_event, task_event)


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[Spec], list[list[Spec]]]:
    """Distinct events, then how they are delivered: shuffled, some twice, in batches."""
    distinct = draw(st.lists(specs(), min_size=1, max_size=12, unique=True))
    # A task run has one parent; keep the first parent drawn for each task run.
    parent_of: dict[uuid.UUID, uuid.UUID | None] = {}
    distinct = [
        Spec(s.run, parent_of.setdefault(s.run, s.parent), s.event_type, s.minute) for s in distinct
    ]
    distinct = list(dict.fromkeys(distinct))
    repeated = distinct + draw(st.lists(st.sampled_from(distinct), max_size=6))
    order = draw(st.permutations(repeated))
    cuts = sorted(draw(st.lists(st.integers(1, max(1, len(order) - 1)), max_size=3, unique=True)))
    bounds = [0, *cuts, len(order)]
    batches = [order[a:b] for a, b in itertools.pairwise(bounds) if order[a:b]]
    return distinct, batches


@dataclass
class Expected:
    state: str = "NEW"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    error_message: str | None = None
    event_count: int = 0


def replay_in_time_order(distinct: list[Spec]) -> dict[uuid.UUID, Expected]:
    expected: dict[uuid.UUID, Expected] = {}
    for spec in sorted(distinct, key=lambda s: (s.minute, TIE_ORDER.index(s.event_type))):
        at = BASE_TIME + timedelta(minutes=spec.minute)
        run = expected.setdefault(spec.run, Expected())
        run.event_count += 1
        run.started_at = min(run.started_at or at, at)
        if spec.parent is not None:
            parent = expected.setdefault(spec.parent, Expected())
            parent.started_at = min(parent.started_at or at, at)
        if spec.event_type in STATE_OF:
            run.state = STATE_OF[spec.event_type]
            run.ended_at = at if run.state in ("COMPLETED", "FAILED", "ABORTED") else None
            run.error_message = f"failed at {spec.minute}" if spec.event_type == "FAIL" else None
    return expected


def clear(engine: Engine) -> None:
    with session_factory(engine)() as session:
        for table in (LineageEvent, TaskRun, Run, Workflow, Namespace):
            session.execute(delete(table))
        session.commit()


def deliver(engine: Engine, batches: list[list[Spec]]) -> int:
    stored = 0
    sessions = session_factory(engine)
    for batch in batches:
        body = orjson.dumps([spec.as_event() for spec in batch])
        with sessions() as session:
            session.connection(execution_options=WRITE)
            stored += store_events(session, parse_events(body, max_events=1000)).stored
            session.commit()
    return stored


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(delivery=deliveries())
def test_final_state_follows_event_time(
    engine: Engine, delivery: tuple[list[Spec], list[list[Spec]]]
) -> None:
    distinct, batches = delivery
    clear(engine)

    assert deliver(engine, batches) == len(distinct)

    expected = replay_in_time_order(distinct)
    with session_factory(engine)() as session:
        rows = [*session.scalars(select(Run)), *session.scalars(select(TaskRun))]
        stored_events = len(list(session.scalars(select(LineageEvent.id))))
    assert stored_events == len(distinct)
    actual = {
        row.id: Expected(
            row.state, row.started_at, row.ended_at, row.error_message, row.event_count
        )
        for row in rows
    }
    assert actual == expected
