"""What goes wrong with a report's data, each error building its message from its fields.

Every error here except ``TableReadError`` is the caller's to fix (an HTTP 4xx);
``TableReadError`` means stored batch files could not be read, which is the server's fault.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "InvalidQuery",
    "InvalidSchema",
    "InvalidTable",
    "ReportError",
    "SchemaMismatch",
    "TableReadError",
]


class ReportError(Exception):
    """Base class of every error the report engine raises."""


class InvalidTable(ReportError):
    """An uploaded file is not a table Ebling can read.

    Args:
        problem: what is wrong, as a sentence fragment that reads after the location.
        line: the 1-based line of the file where the problem is, when known.
        column: the column the problem is in, when known.
    """

    def __init__(self, problem: str, *, line: int | None = None, column: str | None = None):
        self.problem = problem
        self.line = line
        self.column = column
        where = []
        if line is not None:
            where.append(f"line {line:,}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {problem}" if where else problem)


class InvalidSchema(ReportError):
    """A declared schema (or its JSON form) is not valid.

    Args:
        problems: each thing that is wrong with it.
    """

    def __init__(self, problems: Sequence[str]):
        self.problems = tuple(problems)
        super().__init__("invalid schema: " + "; ".join(self.problems))


class SchemaMismatch(ReportError):
    """A batch's columns differ from the report's schema in a way the schema policy refuses.

    Args:
        differences: one sentence per differing column.
        evolvable: whether the report's ``evolve`` policy would have accepted the batch.
    """

    def __init__(self, differences: Sequence[str], *, evolvable: bool):
        self.differences = tuple(differences)
        self.evolvable = evolvable
        fix = (
            "send a file that matches, or set the report's schema policy to 'evolve'"
            if evolvable
            else "rename the columns in the file"
        )
        super().__init__(
            "this batch does not match the report's schema: "
            + "; ".join(self.differences)
            + f". To fix it, {fix}."
        )


class InvalidQuery(ReportError):
    """A query names an unknown column, an unknown operator, or a value of the wrong type.

    Args:
        problem: what is wrong and, where it helps, what is allowed.
    """

    def __init__(self, problem: str):
        self.problem = problem
        super().__init__(problem)


class TableReadError(ReportError):
    """Stored batch files could not be read (missing, corrupt, or not what the schema says).

    Args:
        problem: what the query engine reported.
    """

    def __init__(self, problem: str):
        self.problem = problem
        super().__init__(f"the report's stored data could not be read: {problem}")
