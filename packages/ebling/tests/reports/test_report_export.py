"""Exports: CSV streamed with spreadsheet formulas neutralised, and Parquet round trips."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from ebling.reports import (
    InvalidQuery,
    RowFilter,
    SortKey,
    TableFormat,
    export_csv,
    export_parquet,
    query_rows,
)
from report_samples import ReportBuilder, convert_bytes


@pytest.fixture
def report(tmp_path: Path) -> ReportBuilder:
    builder = ReportBuilder(tmp_path)
    builder.append_csv(
        "id,note,amount,ok,day,at\n"
        '1,=HYPERLINK("http://x"),-3.5,true,2024-01-02,2024-01-02T03:04:05Z\n'
        "2,+cmd,2,false,,2024-01-02T03:04:05.5Z\n"
        "3,-2+3,,,2024-01-04,\n"
        "4,@SUM(A1),1e20,true,2024-01-05,2024-01-05T00:00:00+01:00\n"
        '5,"\ttab",0,,,\n'
        '6,"plain, with comma",7,,,\n'
        '7,"say ""hi""",8,,,\n'
    )
    return builder


def exported_rows(report: ReportBuilder, **kwargs: object) -> list[list[str]]:
    data = b"".join(export_csv(report.files, report.current, **kwargs))  # type: ignore[arg-type]
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_csv_export_neutralises_formulas_in_text_only(report: ReportBuilder) -> None:
    rows = exported_rows(report, sort=[SortKey("id")])

    assert rows[0] == ["id", "note", "amount", "ok", "day", "at"]
    notes = [row[1] for row in rows[1:]]
    assert notes == [
        '\'=HYPERLINK("http://x")',
        "'+cmd",
        "'-2+3",
        "'@SUM(A1)",
        "'\ttab",
        "plain, with comma",
        'say "hi"',
    ]
    amounts = [row[2] for row in rows[1:]]
    assert amounts == ["-3.5", "2", "", "1e+20", "0", "7", "8"]  # numbers are never prefixed


def test_csv_export_writes_times_in_utc_and_nulls_empty(report: ReportBuilder) -> None:
    rows = exported_rows(report, sort=[SortKey("id")], columns=["ok", "day", "at"])

    assert rows[1] == ["true", "2024-01-02", "2024-01-02T03:04:05.000000Z"]
    assert rows[2] == ["false", "", "2024-01-02T03:04:05.500000Z"]
    assert rows[4] == ["true", "2024-01-05", "2024-01-04T23:00:00.000000Z"]
    assert rows[5] == ["", "", ""]


def test_csv_export_filters_sorts_and_selects(report: ReportBuilder) -> None:
    rows = exported_rows(
        report,
        columns=["amount", "id"],
        filters=[RowFilter("amount", "gte", 0)],
        sort=[SortKey("amount", descending=True)],
    )

    assert rows == [
        ["amount", "id"],
        ["1e+20", "4"],
        ["8", "7"],
        ["7", "6"],
        ["2", "2"],
        ["0", "5"],
    ]


def test_csv_export_of_nothing_is_the_header(report: ReportBuilder) -> None:
    assert exported_rows(report, filters=[RowFilter("id", "gt", 100)]) == [
        ["id", "note", "amount", "ok", "day", "at"]
    ]
    assert b"".join(export_csv([], report.current, columns=["id"])) == b'"id"\n'


def test_csv_export_neutralises_header_names(tmp_path: Path) -> None:
    builder = ReportBuilder(tmp_path)
    builder.append_csv("=cmd,n\nx,1\n")

    assert exported_rows(builder)[0] == ["'=cmd", "n"]


def test_csv_export_streams_in_chunks(tmp_path: Path) -> None:
    builder = ReportBuilder(tmp_path)
    builder.append_csv("id,text\n" + "".join(f"{i},row {i}\n" for i in range(150_000)))

    chunks = list(export_csv(builder.files, builder.current))

    assert len(chunks) > 2
    assert all(len(chunk) < 8 << 20 for chunk in chunks)
    assert b"".join(chunks).count(b"\n") == 150_001


def test_a_bad_export_query_raises_before_streaming(report: ReportBuilder) -> None:
    with pytest.raises(InvalidQuery):
        export_csv(report.files, report.current, filters=[RowFilter("nope", "eq", 1)])
    with pytest.raises(InvalidQuery):
        export_parquet(
            report.files, report.current, sort=[SortKey("nope")], target=report.directory / "x"
        )


def test_parquet_export_round_trips_as_a_batch(report: ReportBuilder, tmp_path: Path) -> None:
    target = tmp_path / "export.parquet"

    export_parquet(
        report.files, report.current, sort=[SortKey("id", descending=True)], target=target
    )

    table = pq.read_table(target)
    assert table.column_names == ["id", "note", "amount", "ok", "day", "at"]
    assert table.column("id").to_pylist() == [7, 6, 5, 4, 3, 2, 1]
    assert str(table.schema.field("at").type) == "timestamp[us, tz=UTC]"

    conversion, batch = convert_bytes(
        tmp_path, target.read_bytes(), fmt=TableFormat.PARQUET, name="again"
    )
    assert conversion.schema == report.current
    again = query_rows([batch], conversion.schema, sort=[SortKey("id")], limit=100).rows
    assert again == query_rows(report.files, report.current, sort=[SortKey("id")], limit=100).rows


def test_parquet_export_of_selected_filtered_rows(report: ReportBuilder, tmp_path: Path) -> None:
    target = tmp_path / "export.parquet"

    export_parquet(
        report.files,
        report.current,
        columns=["note"],
        filters=[RowFilter("note", "contains", "HI")],
        target=target,
    )

    assert pq.read_table(target).to_pylist() == [{"note": 'say "hi"'}]
