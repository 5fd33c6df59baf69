"""Pieces the read queries share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case

from ebling.db.models import Namespace, Run, Workflow
from ebling.db.types import seconds_between

__all__ = ["duration_seconds", "escape_like", "page_of", "with_run_joins", "workflow_ref_columns"]


def duration_seconds(table: Any) -> Any:
    """A SQL expression for how long a run took; NULL while it has not ended."""
    return case(
        (table.ended_at.is_(None), None),
        else_=seconds_between(table.ended_at, table.started_at),
    )


def workflow_ref_columns() -> list[Any]:
    """The columns that name a workflow, labelled for ``WorkflowRef``."""
    return [
        Workflow.id.label("workflow_id"),
        Namespace.name.label("workflow_namespace"),
        Workflow.name.label("workflow_name"),
    ]


def escape_like(text: str) -> str:
    """Escape LIKE wildcards so a search for ``50%`` finds that text, not everything."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def page_of(rows: list[Any], limit: int) -> tuple[list[Any], bool]:
    """Split ``limit + 1`` fetched rows into the page and whether more follow."""
    return rows[:limit], len(rows) > limit


def with_run_joins(statement: Select[Any]) -> Select[Any]:
    """Join a runs query to its workflow and namespace."""
    return statement.join(Workflow, Workflow.id == Run.workflow_id).join(
        Namespace, Namespace.id == Workflow.namespace_id
    )
