"""A report's columns and their types, and how a new batch's columns are reconciled with them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ebling.reports.errors import InvalidSchema, SchemaMismatch

__all__ = [
    "MAX_COLUMN_NAME_LENGTH",
    "ROW_ID_COLUMN",
    "Column",
    "ColumnType",
    "InvalidSchema",
    "SchemaChange",
    "SchemaMismatch",
    "SchemaPolicy",
    "TableSchema",
    "clean_column_name",
    "column_name_problems",
    "common_supertype",
    "is_safe_cast",
    "reconcile",
]

ROW_ID_COLUMN = "_row_id"
"""The column every batch file carries besides its data: a row's stable identity."""

MAX_COLUMN_NAME_LENGTH = 255


class ColumnType(StrEnum):
    """The types a report column can have. Timestamps are instants, kept in UTC."""

    STRING = "string"
    INT64 = "int64"
    FLOAT64 = "float64"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"


class SchemaPolicy(StrEnum):
    """What a report does with a batch whose columns differ from its schema."""

    REJECT = "reject"
    EVOLVE = "evolve"


@dataclass(frozen=True)
class Column:
    """One named, typed column."""

    name: str
    type: ColumnType


@dataclass(frozen=True)
class TableSchema:
    """The ordered columns of a report or of one batch.

    Raises:
        InvalidSchema: a name is empty, too long, reserved, holds control characters, or
            repeats another ignoring letter case (the query engine matches names that way).
    """

    columns: tuple[Column, ...]

    def __post_init__(self) -> None:
        problems = column_name_problems([column.name for column in self.columns])
        if problems:
            raise InvalidSchema(problems)

    @property
    def names(self) -> tuple[str, ...]:
        """The column names, in order."""
        return tuple(column.name for column in self.columns)

    def get(self, name: str) -> Column | None:
        """The column called ``name`` (exactly), or None."""
        return next((column for column in self.columns if column.name == name), None)

    def to_json(self) -> list[dict[str, str]]:
        """The JSON form: ``[{"name": ..., "type": ...}, ...]``, in column order."""
        return [{"name": column.name, "type": str(column.type)} for column in self.columns]

    @classmethod
    def from_json(cls, data: object) -> TableSchema:
        """Build a schema from its JSON form, as ``to_json`` writes it or a user declares it.

        Raises:
            InvalidSchema: the shape, a type or a name is wrong; every problem is listed.
        """
        if not isinstance(data, list):
            raise InvalidSchema(['expected a list of {"name": ..., "type": ...} objects'])

        allowed = ", ".join(repr(str(t)) for t in ColumnType)
        problems: list[str] = []
        columns: list[Column] = []
        for index, entry in enumerate(data):
            name = entry.get("name") if isinstance(entry, Mapping) else None
            type_name = entry.get("type") if isinstance(entry, Mapping) else None
            if not isinstance(name, str):
                problems.append(f"column {index + 1} needs a 'name' that is text")
            elif type_name not in set(ColumnType):
                problems.append(f"column {name!r} has type {type_name!r}; use one of {allowed}")
            else:
                columns.append(Column(name, ColumnType(type_name)))
        if problems:
            raise InvalidSchema(problems)
        return cls(tuple(columns))


def clean_column_name(raw: str) -> str:
    """A file's column name as a report's: trimmed, each run of white space made one space.

    A spreadsheet's header cell may hold a line break; as a column name it is a space.
    """
    return " ".join(raw.split())


def column_name_problems(names: Sequence[str]) -> list[str]:
    """Every reason the given column names cannot be a report's columns (empty if none)."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for position, name in enumerate(names, start=1):
        if not name.strip():
            problems.append(f"column {position} has no name")
            continue
        if len(name) > MAX_COLUMN_NAME_LENGTH:
            problems.append(
                f"column {position}'s name is longer than {MAX_COLUMN_NAME_LENGTH} characters"
            )
        if any(ord(char) < 32 or ord(char) == 127 for char in name):
            problems.append(f"column {name!r} has a control character in its name")
        if name.lower() == ROW_ID_COLUMN:
            problems.append(f"column name {name!r} is reserved; rename the column")
        folded = name.lower()
        if folded in seen:
            earlier = seen[folded]
            problems.append(
                f"column {name!r} repeats column {earlier!r}"
                + (" (names are compared ignoring letter case)" if earlier != name else "")
            )
        else:
            seen[folded] = name
    return problems


# Which incoming type reads as which report type without losing anything.
_SAFE_CASTS: frozenset[tuple[ColumnType, ColumnType]] = frozenset(
    {
        (ColumnType.INT64, ColumnType.FLOAT64),
        (ColumnType.DATE, ColumnType.TIMESTAMP),
    }
)


def is_safe_cast(source: ColumnType, target: ColumnType) -> bool:
    """Whether values of ``source`` type read as ``target`` type with nothing lost."""
    return source == target or target == ColumnType.STRING or (source, target) in _SAFE_CASTS


def common_supertype(first: ColumnType, second: ColumnType) -> ColumnType:
    """The narrowest type both types read as: the same type, float64, timestamp, else string."""
    if is_safe_cast(first, second):
        return second
    if is_safe_cast(second, first):
        return first
    return ColumnType.STRING


@dataclass(frozen=True)
class SchemaChange:
    """What a batch does to its report's schema.

    Attributes:
        schema: the report's schema once this batch is stored.
        added: columns this batch brings that the report did not have (older rows read null).
        missing: report columns this batch lacks (its rows read null there).
        retyped: columns whose batch type did not read safely as the report's type, and which
            were widened to a common type.
        evolved: whether ``schema`` differs from the report's schema before this batch.
    """

    schema: TableSchema
    added: tuple[str, ...] = field(default=())
    missing: tuple[str, ...] = field(default=())
    retyped: tuple[str, ...] = field(default=())
    evolved: bool = False


def reconcile(
    current: TableSchema | None, incoming: TableSchema, policy: SchemaPolicy
) -> SchemaChange:
    """Reconcile a batch's schema with its report's schema under the report's policy.

    The first batch of a report without a declared schema sets the schema. A batch column
    whose type reads safely as the report's type (int64 as float64, date as timestamp,
    anything as string) matches. Otherwise, with ``reject`` the batch is refused; with
    ``evolve`` new columns are added, missing ones kept, and a retyped column widened to the
    common type of both (float64, timestamp, or else string).

    Args:
        current: the report's schema (declared, or set by earlier batches); None if neither.
        incoming: the batch's own schema, as conversion inferred it.
        policy: the report's schema policy.

    Raises:
        SchemaMismatch: ``reject`` and any difference; or, under either policy, a new column
            named like an existing one but for letter case, which the query engine could not
            tell apart.
    """
    if current is None:
        return SchemaChange(schema=incoming)

    known = {column.name: column.type for column in current.columns}
    folded = {name.lower(): name for name in known}
    arriving = {column.name: column.type for column in incoming.columns}
    added = tuple(name for name in arriving if name not in known)
    missing = tuple(name for name in known if name not in arriving)
    retyped = tuple(
        name
        for name, kind in arriving.items()
        if name in known and not is_safe_cast(kind, known[name])
    )
    case_clashes = [(name, folded[name.lower()]) for name in added if name.lower() in folded]

    if case_clashes or (policy == SchemaPolicy.REJECT and (added or missing or retyped)):
        differences = [
            f"column {name!r} differs from the report's column {existing!r} only in letter case"
            for name, existing in case_clashes
        ]
        if policy == SchemaPolicy.REJECT:
            differences += _describe(known, arriving, added, missing, retyped, case_clashes)
        raise SchemaMismatch(differences, evolvable=not case_clashes)

    columns = [
        Column(name, common_supertype(kind, arriving[name]) if name in retyped else kind)
        for name, kind in known.items()
    ]
    columns += [Column(name, arriving[name]) for name in added]
    return SchemaChange(
        schema=TableSchema(tuple(columns)),
        added=added,
        missing=missing,
        retyped=retyped,
        evolved=bool(added or retyped),
    )


def _describe(
    known: Mapping[str, ColumnType],
    arriving: Mapping[str, ColumnType],
    added: Iterable[str],
    missing: Iterable[str],
    retyped: Iterable[str],
    case_clashes: Iterable[tuple[str, str]],
) -> list[str]:
    clashing = {name for pair in case_clashes for name in pair}
    return (
        [f"column {n!r} was {known[n]}, this batch has {arriving[n]}" for n in retyped]
        + [f"column {n!r} is new" for n in added if n not in clashing]
        + [f"column {n!r} is missing from this batch" for n in missing if n not in clashing]
    )
