"""Report schemas: their JSON form, name rules, and reconciling a batch with its report."""

from __future__ import annotations

import pytest
from ebling.reports import (
    Column,
    ColumnType,
    InvalidSchema,
    SchemaMismatch,
    SchemaPolicy,
    TableSchema,
    reconcile,
)
from ebling.reports.schema import common_supertype, is_safe_cast

S = ColumnType.STRING
I = ColumnType.INT64  # noqa: E741 - reads as the type's initial, like S, F and D
F = ColumnType.FLOAT64
B = ColumnType.BOOLEAN
D = ColumnType.DATE
T = ColumnType.TIMESTAMP


def schema(**columns: ColumnType) -> TableSchema:
    return TableSchema(tuple(Column(name, kind) for name, kind in columns.items()))


def test_json_form_round_trips() -> None:
    original = schema(id=I, name=S, amount=F, ok=B, day=D, at=T)

    data = original.to_json()

    assert data[0] == {"name": "id", "type": "int64"}
    assert TableSchema.from_json(data) == original


def test_from_json_lists_every_problem() -> None:
    with pytest.raises(InvalidSchema) as raised:
        TableSchema.from_json([{"name": "a", "type": "int32"}, {"type": "string"}, "x"])

    message = str(raised.value)
    assert "column 'a' has type 'int32'; use one of 'string', 'int64'" in message
    assert "column 2 needs a 'name'" in message
    assert "column 3 needs a 'name'" in message


def test_from_json_needs_a_list() -> None:
    with pytest.raises(InvalidSchema, match="expected a list"):
        TableSchema.from_json({"columns": []})


@pytest.mark.parametrize(
    ("names", "problem"),
    [
        (["a", "A"], "column 'A' repeats column 'a' (names are compared ignoring letter case)"),
        (["a", "a"], "column 'a' repeats column 'a'"),
        (["a", " "], "column 2 has no name"),
        (["_row_id"], "column name '_row_id' is reserved"),
        (["x" * 256], "longer than 255 characters"),
        (["a\nb"], "control character"),
    ],
)
def test_names_are_checked(names: list[str], problem: str) -> None:
    with pytest.raises(InvalidSchema) as raised:
        TableSchema(tuple(Column(name, S) for name in names))

    assert problem in str(raised.value)


@pytest.mark.parametrize(
    ("source", "target", "safe"),
    [
        (I, F, True),
        (D, T, True),
        (I, S, True),
        (T, S, True),
        (B, S, True),
        (F, I, False),
        (T, D, False),
        (S, I, False),
        (B, I, False),
    ],
)
def test_safe_casts(source: ColumnType, target: ColumnType, safe: bool) -> None:
    assert is_safe_cast(source, target) is safe


@pytest.mark.parametrize(
    ("first", "second", "common"),
    [(I, F, F), (F, I, F), (D, T, T), (T, D, T), (I, B, S), (D, F, S), (S, I, S), (I, I, I)],
)
def test_common_supertype(first: ColumnType, second: ColumnType, common: ColumnType) -> None:
    assert common_supertype(first, second) == common


def test_first_batch_sets_the_schema() -> None:
    incoming = schema(id=I, name=S)

    change = reconcile(None, incoming, SchemaPolicy.REJECT)

    assert change.schema == incoming
    assert (change.added, change.missing, change.retyped, change.evolved) == ((), (), (), False)


def test_declared_schema_is_the_current_one_for_the_first_batch() -> None:
    declared = schema(id=I, amount=F)

    change = reconcile(declared, schema(id=I, amount=I), SchemaPolicy.REJECT)

    assert change.schema == declared
    assert not change.evolved


@pytest.mark.parametrize("policy", list(SchemaPolicy))
def test_safely_castable_types_are_compatible(policy: SchemaPolicy) -> None:
    current = schema(amount=F, at=T, note=S)

    change = reconcile(current, schema(amount=I, at=D, note=B), policy)

    assert change.schema == current
    assert not change.evolved
    assert change.retyped == ()


def test_reject_names_every_difference_and_the_fix() -> None:
    current = schema(id=I, amount=I, owner=S)

    with pytest.raises(SchemaMismatch) as raised:
        reconcile(current, schema(id=I, amount=S, region=S), SchemaPolicy.REJECT)

    message = str(raised.value)
    assert "column 'amount' was int64, this batch has string" in message
    assert "column 'region' is new" in message
    assert "column 'owner' is missing from this batch" in message
    assert "set the report's schema policy to 'evolve'" in message
    assert raised.value.evolvable
    assert len(raised.value.differences) == 3


def test_evolve_adds_keeps_and_widens() -> None:
    current = schema(id=I, amount=I, day=D, code=I, owner=S)

    change = reconcile(
        current, schema(id=I, amount=F, day=T, code=B, region=S), SchemaPolicy.EVOLVE
    )

    assert change.schema == schema(id=I, amount=F, day=T, code=S, owner=S, region=S)
    assert change.added == ("region",)
    assert change.missing == ("owner",)
    assert change.retyped == ("amount", "day", "code")
    assert change.evolved


def test_evolve_with_only_missing_columns_does_not_change_the_schema() -> None:
    current = schema(id=I, owner=S)

    change = reconcile(current, schema(id=I), SchemaPolicy.EVOLVE)

    assert change.schema == current
    assert change.missing == ("owner",)
    assert not change.evolved


@pytest.mark.parametrize("policy", list(SchemaPolicy))
def test_a_name_differing_only_in_case_is_refused_under_either_policy(
    policy: SchemaPolicy,
) -> None:
    with pytest.raises(SchemaMismatch) as raised:
        reconcile(schema(Amount=F), schema(amount=F), policy)

    message = str(raised.value)
    assert (
        "column 'amount' differs from the report's column 'Amount' only in letter case" in message
    )
    assert "rename the columns" in message
    assert not raised.value.evolvable
