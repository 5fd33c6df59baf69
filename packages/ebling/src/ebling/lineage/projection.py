"""From OpenLineage events to the state of runs: a pure, order-independent merge.

Every field of a projected run is combined with a rule that does not care in which order
events arrive (newest wins by event time, earliest start, first known value, a sum), so a
batch can be folded into a ``RunPatch`` here and the patch merged into the stored row by the
database with the same rules (see ``ebling.lineage.store``). Replays are excluded before
this point, which is what keeps ``event_count`` exact.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ebling.lineage.events import EventType, JobIdentity, RunEvent

__all__ = [
    "TERMINAL_STATES",
    "Projection",
    "RunPatch",
    "RunState",
    "WorkflowPatch",
    "event_seq",
    "project",
    "root_run_id",
]


class RunState(StrEnum):
    """The state of a run or task run as Ebling shows it."""

    NEW = "NEW"  # known only because one of its tasks reported
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"


TERMINAL_STATES = frozenset({RunState.COMPLETED, RunState.FAILED, RunState.ABORTED})

_STATE_OF_EVENT = {
    EventType.START: RunState.RUNNING,
    EventType.RUNNING: RunState.RUNNING,
    EventType.COMPLETE: RunState.COMPLETED,
    EventType.ABORT: RunState.ABORTED,
    EventType.FAIL: RunState.FAILED,
}

# Breaks ties between events stamped with the same microsecond: a run that starts and ends
# within one tick has ended, and one reported both failed and complete at once has failed.
_RANK_OF_EVENT = {
    EventType.START: 1,
    EventType.RUNNING: 2,
    EventType.COMPLETE: 3,
    EventType.ABORT: 4,
    EventType.FAIL: 5,
}
_RANKS = 8
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def event_seq(event: RunEvent) -> int:
    """The ordering key of a state-bearing event: its time in microseconds, then its rank.

    A single integer so that the database compares it as cheaply as Python does.
    """
    delta = event.eventTime - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros * _RANKS + _RANK_OF_EVENT.get(event.eventType, 0)


@dataclass(slots=True)
class RunPatch:
    """What a set of events says about one run or task run."""

    id: uuid.UUID
    workflow: JobIdentity
    task_name: str | None = None  # set for task runs
    root_run_id: uuid.UUID | None = None  # the workflow run a task run belongs to
    state: RunState = RunState.NEW
    state_seq: int = 0
    started_at: datetime | None = None
    ended_at: datetime | None = None
    error_message: str | None = None
    nominal_start_time: datetime | None = None
    nominal_end_time: datetime | None = None
    try_number: int | None = None
    producer: str | None = None
    event_count: int = 0

    def absorb(self, event: RunEvent) -> None:
        """Fold one event into the patch (events may come in any order)."""
        self.event_count += 1
        self.note_seen_at(event.eventTime)
        self.producer = self.producer or event.producer
        facets = event.run.facets
        if facets.nominalTime and self.nominal_start_time is None:
            self.nominal_start_time = facets.nominalTime.nominalStartTime
            self.nominal_end_time = facets.nominalTime.nominalEndTime
        if self.try_number is None:
            self.try_number = _try_number(facets.model_extra or {})

        state = _STATE_OF_EVENT.get(event.eventType)
        seq = event_seq(event)
        if state is None or seq <= self.state_seq:
            return
        self.state = state
        self.state_seq = seq
        self.ended_at = event.eventTime if state in TERMINAL_STATES else None
        self.error_message = facets.errorMessage.message if facets.errorMessage else None

    def note_seen_at(self, moment: datetime) -> None:
        """A run is taken to have started no later than anything heard of it."""
        if self.started_at is None or moment < self.started_at:
            self.started_at = moment


@dataclass(slots=True)
class WorkflowPatch:
    """What a set of events says about one workflow: the newest job facets win."""

    identity: JobIdentity
    job_facets: dict[str, Any] = field(default_factory=dict)
    facets_seq: int = 0

    @property
    def description(self) -> str | None:
        """The job's ``documentation`` facet, if it has one."""
        documentation = self.job_facets.get("documentation")
        if isinstance(documentation, dict) and isinstance(documentation.get("description"), str):
            return str(documentation["description"])
        return None

    @property
    def owners(self) -> list[str]:
        """Names from the job's ``ownership`` facet."""
        ownership = self.job_facets.get("ownership")
        owners = ownership.get("owners") if isinstance(ownership, dict) else None
        if not isinstance(owners, list):
            return []
        return [str(o["name"]) for o in owners if isinstance(o, dict) and o.get("name")]

    @property
    def tags(self) -> list[str]:
        """Tags from the job's ``tags`` facet: ``key``, or ``key:value`` when they differ."""
        facet = self.job_facets.get("tags")
        tags = facet.get("tags") if isinstance(facet, dict) else None
        if not isinstance(tags, list):
            return []
        found = []
        for tag in tags:
            if not isinstance(tag, dict) or not tag.get("key"):
                continue
            key, value = str(tag["key"]), tag.get("value")
            found.append(key if value in (None, "", key) else f"{key}:{value}")
        return sorted(set(found))

    def absorb(self, event: RunEvent) -> None:
        """Keep the job facets of the newest event that has any."""
        seq = event_seq(event)
        if event.job.facets and seq > self.facets_seq:
            self.job_facets = event.job.facets
            self.facets_seq = seq


@dataclass(slots=True)
class Projection:
    """The patches one batch of new events makes, keyed for the upserts that apply them."""

    workflows: dict[tuple[str, str], WorkflowPatch] = field(default_factory=dict)
    runs: dict[uuid.UUID, RunPatch] = field(default_factory=dict)
    task_runs: dict[uuid.UUID, RunPatch] = field(default_factory=dict)


def root_run_id(event: RunEvent) -> uuid.UUID:
    """The workflow run an event belongs to: its own run, or the top of its parents."""
    parent = event.run.facets.parent
    if parent is None:
        return event.run.runId
    return (parent.root or parent).run.runId


def project(events: Iterable[RunEvent]) -> Projection:
    """Fold events into per-workflow, per-run and per-task-run patches.

    A run whose ``parent`` facet names another run is a task run of that run's workflow. If
    the parent's own events have not arrived yet, the parent is created as a NEW run so the
    task run has something to belong to.
    """
    projection = Projection()
    for event in events:
        parent = event.run.facets.parent
        if parent is None:
            workflow = JobIdentity(namespace=event.job.namespace, name=event.job.name)
            _workflow_patch(projection, workflow).absorb(event)
            run = _run_patch(projection.runs, event.run.runId, workflow)
            run.absorb(event)
            continue

        # Nested tasks (a task of a task group) report to the top of the tree when they can.
        top = parent.root or parent
        workflow = top.job
        _workflow_patch(projection, workflow)
        parent_run = _run_patch(projection.runs, top.run.runId, workflow)
        parent_run.note_seen_at(event.eventTime)

        task_run = _run_patch(projection.task_runs, event.run.runId, workflow)
        task_run.task_name = event.job.name
        task_run.root_run_id = parent_run.id
        task_run.absorb(event)
    return projection


def _workflow_patch(projection: Projection, workflow: JobIdentity) -> WorkflowPatch:
    key = (workflow.namespace, workflow.name)
    patch = projection.workflows.get(key)
    if patch is None:
        patch = projection.workflows[key] = WorkflowPatch(workflow)
    return patch


def _run_patch(
    patches: dict[uuid.UUID, RunPatch], run_id: uuid.UUID, workflow: JobIdentity
) -> RunPatch:
    patch = patches.get(run_id)
    if patch is None:
        patch = patches[run_id] = RunPatch(run_id, workflow)
    return patch


def _try_number(facets: dict[str, Any]) -> int | None:
    # Airflow's OpenLineage provider reports the try in its own run facet; other producers
    # have no such notion and leave it empty.
    airflow = facets.get("airflow")
    if isinstance(airflow, dict):
        task_instance = airflow.get("taskInstance")
        if isinstance(task_instance, dict) and isinstance(task_instance.get("try_number"), int):
            return int(task_instance["try_number"])
    return None
