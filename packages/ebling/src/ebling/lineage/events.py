"""OpenLineage run events (spec 2-0-2): parsing and validation of what producers send.

Only the fields Ebling projects are modelled; facets stay plain dictionaries, and the event
as it came is kept beside the model so nothing a producer sent is lost.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

__all__ = [
    "BatchProblem",
    "EventError",
    "EventType",
    "InvalidEvents",
    "JobIdentity",
    "ParentRunFacet",
    "ParsedEvent",
    "RunEvent",
    "parse_events",
]

_NAME = Field(min_length=1, max_length=1024)


class EventType(StrEnum):
    """The ``eventType`` values of OpenLineage 2-0-2."""

    START = "START"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    ABORT = "ABORT"
    FAIL = "FAIL"
    OTHER = "OTHER"


class _Model(BaseModel):
    # Unknown fields are allowed (the spec grows) but not modelled; the raw event keeps them.
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Facets(BaseModel):
    # Facets Ebling does not project are kept as they are, unvalidated.
    model_config = ConfigDict(extra="allow", frozen=True)


class JobIdentity(_Model):
    """A job named inside a facet."""

    namespace: str = _NAME
    name: str = _NAME


class RunIdentity(_Model):
    """A run named inside a facet."""

    runId: uuid.UUID


class ParentLink(_Model):
    """A run and its job, as the ``parent`` facet names them."""

    run: RunIdentity
    job: JobIdentity


class ParentRunFacet(ParentLink):
    """The ``parent`` run facet: this run is a task of another run. ``root`` names the top."""

    root: ParentLink | None = None


class NominalTimeRunFacet(_Model):
    """The ``nominalTime`` run facet: when the run was scheduled for."""

    nominalStartTime: AwareDatetime
    nominalEndTime: AwareDatetime | None = None


class ErrorMessageRunFacet(_Model):
    """The ``errorMessage`` run facet of a failed run."""

    message: str
    programmingLanguage: str | None = None
    stackTrace: str | None = None


class RunFacets(_Facets):
    """Run facets, with the ones that change a run's projected state validated."""

    parent: ParentRunFacet | None = None
    nominalTime: NominalTimeRunFacet | None = None
    errorMessage: ErrorMessageRunFacet | None = None


class RunRef(_Model):
    """The ``run`` of an event."""

    runId: uuid.UUID
    facets: RunFacets = Field(default_factory=RunFacets)


class JobRef(_Model):
    """The ``job`` of an event."""

    namespace: str = _NAME
    name: str = _NAME
    facets: dict[str, Any] = Field(default_factory=dict)


class RunEvent(_Model):
    """One OpenLineage RunEvent. ``eventType`` is optional in the spec; absent means OTHER."""

    eventType: EventType = EventType.OTHER
    eventTime: AwareDatetime
    producer: str = _NAME
    schemaURL: str = _NAME
    run: RunRef
    job: JobRef


@dataclass(frozen=True, slots=True)
class ParsedEvent:
    """A validated event beside the JSON object it was validated from (which is what is stored)."""

    event: RunEvent
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventError:
    """One problem with one event of a batch."""

    index: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The error as it appears in a problem document."""
        return {"index": self.index, "field": self.field, "message": self.message}


class BatchProblem(StrEnum):
    """Why a batch was refused: its syntax, its size, or the events in it."""

    SYNTAX = "syntax"
    SIZE = "size"
    CONTENT = "content"


class InvalidEvents(ValueError):
    """A batch that cannot be stored, with every problem found in it."""

    def __init__(
        self,
        errors: list[EventError],
        *,
        problem: BatchProblem = BatchProblem.CONTENT,
        summary: str | None = None,
    ) -> None:
        self.errors = errors
        self.problem = problem
        count = len(errors)
        self.summary = summary or f"{count} problem{'s' if count != 1 else ''} in the events sent."
        super().__init__(self.summary)


_BATCH = TypeAdapter(list[RunEvent])


def parse_events(body: bytes, *, max_events: int) -> list[ParsedEvent]:
    """Parse a request body holding one event object or a JSON array of them.

    Raises:
        InvalidEvents: the body is not JSON, holds more than ``max_events`` events, or any
            event breaks the spec. Nothing of such a batch may be stored.
    """
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidEvents(
            [EventError(-1, "", f"the body is not valid JSON: {error}")],
            problem=BatchProblem.SYNTAX,
            summary="The request body is not valid JSON.",
        ) from error

    items = document if isinstance(document, list) else [document]
    if not items:
        raise InvalidEvents(
            [EventError(-1, "", "the array holds no events")], summary="No events sent."
        )
    if len(items) > max_events:
        raise InvalidEvents(
            [
                EventError(
                    -1, "", f"{len(items)} events sent; send at most {max_events} per request"
                )
            ],
            problem=BatchProblem.SIZE,
            summary=f"Too many events in one request: {len(items)} > {max_events}.",
        )
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidEvents([EventError(index, "", "each event must be a JSON object")])

    try:
        events = _BATCH.validate_python(items)
    except ValidationError as error:
        raise InvalidEvents(_event_errors(error)) from error
    return [ParsedEvent(event, raw) for event, raw in zip(events, items, strict=True)]


def _event_errors(error: ValidationError) -> list[EventError]:
    found = []
    for detail in error.errors(include_url=False, include_input=False):
        index, *path = detail["loc"]
        field = ".".join(str(part) for part in path)
        found.append(EventError(int(index), field, detail["msg"]))
    return found
