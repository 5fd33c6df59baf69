"""JSON (array or lines) and Parquet uploads: the same batch files as from CSV."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ebling.reports import Column, ColumnType, TableFormat, TableSchema
from report_samples import convert_bytes, rows_of, types_of

RECORDS = [
    {
        "id": 1,
        "name": "a",
        "amount": 1.5,
        "ok": True,
        "day": "2024-01-02",
        "at": "2024-01-02T03:04:05Z",
    },
    {
        "id": 2,
        "name": None,
        "amount": 2,
        "ok": False,
        "day": "2024-01-03",
        "at": "2024-01-02T04:00:00+01:00",
    },
]


@pytest.mark.parametrize(
    "payload",
    [json.dumps(RECORDS), "\n".join(json.dumps(record) for record in RECORDS) + "\n"],
    ids=["array", "lines"],
)
def test_json_array_and_lines(tmp_path: Path, payload: str) -> None:
    conversion, batch = convert_bytes(
        tmp_path, payload.encode(), fmt=TableFormat.JSON, row_id_start=7
    )

    assert conversion.row_count == 2
    assert conversion.encoding is None
    assert types_of(conversion) == {
        "id": "int64",
        "name": "string",
        "amount": "float64",
        "ok": "boolean",
        "day": "date",
        "at": "timestamp",
    }
    first, second = rows_of(batch)
    assert first == {
        "id": 1,
        "name": "a",
        "amount": 1.5,
        "ok": True,
        "day": date(2024, 1, 2),
        "at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "_row_id": 7,
    }
    assert second["at"] == datetime(2024, 1, 2, 3, tzinfo=UTC)
    assert second["_row_id"] == 8


def test_json_nested_values_are_stored_as_json_text(tmp_path: Path) -> None:
    payload = (
        b'{"id": 1, "tags": ["a", "b"], "meta": {"k": 1}}\n{"id": 2, "tags": [], "meta": null}\n'
    )

    conversion, batch = convert_bytes(tmp_path, payload, fmt=TableFormat.JSON)

    assert types_of(conversion) == {"id": "int64", "tags": "string", "meta": "string"}
    first, second = rows_of(batch)
    assert json.loads(first["tags"]) == ["a", "b"]
    assert json.loads(first["meta"]) == {"k": 1}
    assert second["meta"] is None


def test_json_keys_missing_from_some_objects_are_null(tmp_path: Path) -> None:
    conversion, batch = convert_bytes(tmp_path, b'[{"a": 1}, {"b": "x"}]', fmt=TableFormat.JSON)

    assert types_of(conversion) == {"a": "int64", "b": "string"}
    assert [(row["a"], row["b"]) for row in rows_of(batch)] == [(1, None), (None, "x")]


def test_json_mixed_scalar_types_become_text(tmp_path: Path) -> None:
    conversion, batch = convert_bytes(tmp_path, b'{"v": 1}\n{"v": "x"}\n', fmt=TableFormat.JSON)

    assert types_of(conversion) == {"v": "string"}
    assert [row["v"] for row in rows_of(batch)] == ["1", "x"]


def test_an_empty_json_array_is_an_empty_batch_with_the_hint_columns(tmp_path: Path) -> None:
    hint = TableSchema((Column("id", ColumnType.INT64),))

    conversion, batch = convert_bytes(tmp_path, b" [ ] ", fmt=TableFormat.JSON, hint=hint)

    assert conversion.row_count == 0
    assert conversion.schema == hint
    assert rows_of(batch) == []


def test_json_hint_types_are_used_when_the_values_fit(tmp_path: Path) -> None:
    hint = TableSchema(
        (
            Column("amount", ColumnType.FLOAT64),
            Column("count", ColumnType.INT64),
            Column("code", ColumnType.INT64),
            Column("missing", ColumnType.DATE),
        )
    )
    payload = b'{"amount": 1, "count": "12", "code": "x", "missing": null}\n'

    conversion, batch = convert_bytes(tmp_path, payload, fmt=TableFormat.JSON, hint=hint)

    assert types_of(conversion) == {
        "amount": "float64",
        "count": "int64",
        "code": "string",
        "missing": "date",
    }
    assert rows_of(batch)[0]["count"] == 12


def test_json_keys_are_cleaned_like_csv_headers(tmp_path: Path) -> None:
    conversion, _ = convert_bytes(tmp_path, b'{" total  EUR ": 1}\n', fmt=TableFormat.JSON)

    assert list(types_of(conversion)) == ["total EUR"]


def test_parquet_types_map_to_report_types(tmp_path: Path) -> None:
    table = pa.table(
        {
            "small": pa.array([1, 2], pa.int16()),
            "ratio": pa.array([0.5, 1.5], pa.float32()),
            "price": pa.array([Decimal("1.25"), Decimal("2.50")], pa.decimal128(10, 2)),
            "flag": [True, None],
            "day": pa.array([date(2024, 1, 2), None], pa.date32()),
            "naive": pa.array([datetime(2024, 1, 2, 3), None], pa.timestamp("ms")),
            "zoned": pa.array(
                [datetime(2024, 1, 2, 3, tzinfo=UTC), None], pa.timestamp("ns", tz="Europe/Paris")
            ),
            "label": pa.array(["x", "y"]).dictionary_encode(),
            "items": pa.array([[1, 2], []], pa.list_(pa.int64())),
            "big": pa.array([2**64 - 1, 0], pa.uint64()),
        }
    )
    source = tmp_path / "upload.parquet"
    pq.write_table(table, source)

    conversion, batch = convert_bytes(tmp_path, source.read_bytes(), fmt=TableFormat.PARQUET)

    assert types_of(conversion) == {
        "small": "int64",
        "ratio": "float64",
        "price": "float64",
        "flag": "boolean",
        "day": "date",
        "naive": "timestamp",
        "zoned": "timestamp",
        "label": "string",
        "items": "string",
        "big": "string",
    }
    first = rows_of(batch)[0]
    assert first["price"] == 1.25
    assert first["naive"] == datetime(2024, 1, 2, 3, tzinfo=UTC)
    assert first["zoned"] == datetime(2024, 1, 2, 3, tzinfo=UTC)
    assert first["label"] == "x"
    assert json.loads(first["items"]) == [1, 2]
    assert first["big"] == str(2**64 - 1)
    assert first["_row_id"] == 0


def test_json_keys_and_types_first_seen_late_are_typed_on_every_row(tmp_path: Path) -> None:
    # DuckDB samples the first rows for types; this key and this string come after them.
    lines = [json.dumps({"id": i, "code": i}) for i in range(30_000)]
    lines.append(json.dumps({"id": 30_000, "code": "A-1", "late": True}))

    conversion, batch = convert_bytes(tmp_path, "\n".join(lines).encode(), fmt=TableFormat.JSON)

    assert types_of(conversion) == {"id": "int64", "code": "string", "late": "boolean"}
    last = rows_of(batch)[-1]
    assert (last["code"], last["late"]) == ("A-1", True)
    assert rows_of(batch)[0]["code"] == "0"
