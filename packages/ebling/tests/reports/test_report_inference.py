"""Typing CSV columns over the whole file, and what each type accepts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from ebling.reports import Column, ColumnType, ReadLimits, TableSchema
from report_samples import convert_text, rows_of, types_of


def test_each_type_is_inferred(tmp_path: Path) -> None:
    text = (
        "id,name,amount,ok,day,at\n"
        "1,alpha,1.5,true,2024-01-02,2024-01-02T03:04:05Z\n"
        "2,beta,-2,FALSE,2024-02-29,2024-01-02 03:04:05.250+01:00\n"
    )

    conversion, batch = convert_text(tmp_path, text)

    assert types_of(conversion) == {
        "id": "int64",
        "name": "string",
        "amount": "float64",
        "ok": "boolean",
        "day": "date",
        "at": "timestamp",
    }
    first, second = rows_of(batch)
    assert first["amount"] == 1.5
    assert second["ok"] is False
    assert second["day"] == date(2024, 2, 29)
    assert second["at"] == datetime(2024, 1, 2, 2, 4, 5, 250000, tzinfo=UTC)


def test_a_timestamp_without_offset_is_utc_and_mixing_both_works(tmp_path: Path) -> None:
    conversion, batch = convert_text(
        tmp_path, "at\n2024-05-01T10:00:00\n2024-05-01T10:00:00+02:00\n2024-05-01\n"
    )

    assert types_of(conversion) == {"at": "timestamp"}
    assert [row["at"] for row in rows_of(batch)] == [
        datetime(2024, 5, 1, 10, tzinfo=UTC),
        datetime(2024, 5, 1, 8, tzinfo=UTC),
        datetime(2024, 5, 1, tzinfo=UTC),
    ]


def test_a_late_value_widens_the_type_instead_of_failing(tmp_path: Path) -> None:
    # Far beyond the first block (one block is at most 64 KiB here), in every column.
    rows = "".join(f"{i},{i},2024-01-01,{i}\n" for i in range(50_000))
    text = "count,amount,day,code\n" + rows + "7,7.25,2024-01-01T12:00:00Z,not-a-number\n"

    conversion, batch = convert_text(tmp_path, text, limits=ReadLimits(max_line_bytes=64 * 1024))

    assert types_of(conversion) == {
        "count": "int64",
        "amount": "float64",
        "day": "timestamp",
        "code": "string",
    }
    assert conversion.row_count == 50_001
    last = rows_of(batch)[-1]
    assert last["amount"] == 7.25
    assert last["code"] == "not-a-number"
    assert rows_of(batch)[3]["code"] == "3"


def test_nulls_do_not_decide_a_type(tmp_path: Path) -> None:
    text = "a,b,c\n,NA,\nN/A,,\n5,NULL,\n,x,\n"

    conversion, batch = convert_text(tmp_path, text)

    assert types_of(conversion) == {"a": "int64", "b": "string", "c": "string"}
    assert [row["a"] for row in rows_of(batch)] == [None, None, 5, None]
    assert [row["b"] for row in rows_of(batch)] == [None, None, None, "x"]


def test_white_space_around_values_is_trimmed_for_typed_columns(tmp_path: Path) -> None:
    conversion, batch = convert_text(tmp_path, "n,s\n  12 , a \n   ,b\n")

    assert types_of(conversion) == {"n": "int64", "s": "string"}
    assert [(row["n"], row["s"]) for row in rows_of(batch)] == [(12, " a "), (None, "b")]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["01234", "12345"], "string"),  # postcodes keep their leading zeros
        (["0.5", "1.25"], "float64"),
        (["0", "10"], "int64"),
        (["12345678901234567890"], "string"),  # would not fit int64, would round as float
        (["true", "false", "True"], "boolean"),
        (["1", "0"], "int64"),
        (["yes", "no"], "string"),
        (["2024-02-30"], "string"),
        (["2024-01-02", "x"], "string"),
        (["1", "2024-01-02"], "string"),
        (["+5", "-5"], "float64"),
    ],
)
def test_what_each_type_accepts(tmp_path: Path, values: list[str], expected: str) -> None:
    conversion, _ = convert_text(tmp_path, "v\n" + "\n".join(values) + "\n")

    assert types_of(conversion) == {"v": expected}


def test_hint_types_are_used_when_the_values_fit(tmp_path: Path) -> None:
    hint = TableSchema(
        (
            Column("amount", ColumnType.FLOAT64),
            Column("code", ColumnType.STRING),
            Column("empty", ColumnType.DATE),
            Column("at", ColumnType.TIMESTAMP),
            Column("count", ColumnType.INT64),
        )
    )

    conversion, batch = convert_text(
        tmp_path,
        "amount,code,empty,at,count,extra\n1,007,,2024-01-02,x,1\n2,8,,2024-01-03,y,2\n",
        hint=hint,
    )

    # 'count' does not fit its hint: it keeps its own type, for reconcile to judge.
    assert types_of(conversion) == {
        "amount": "float64",
        "code": "string",
        "empty": "date",
        "at": "timestamp",
        "count": "string",
        "extra": "int64",
    }
    first = rows_of(batch)[0]
    assert first["amount"] == 1.0
    assert first["code"] == "007"
    assert first["at"] == datetime(2024, 1, 2, tzinfo=UTC)


def test_a_column_of_only_nulls_is_string_without_a_hint(tmp_path: Path) -> None:
    conversion, _ = convert_text(tmp_path, "a,b\n1,\n2,\n")

    assert types_of(conversion) == {"a": "int64", "b": "string"}


def test_row_ids_are_numbered_from_the_start_given(tmp_path: Path) -> None:
    _, batch = convert_text(tmp_path, "a\nx\ny\nz\n", row_id_start=1000)

    assert [row["_row_id"] for row in rows_of(batch)] == [1000, 1001, 1002]
