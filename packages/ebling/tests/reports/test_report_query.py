"""Reading a report's rows over its batch files: casts, filters, sorting, keyset pages."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import pytest
from ebling.reports import (
    Column,
    ColumnType,
    InvalidQuery,
    ReportError,
    RowFilter,
    SortKey,
    TableReadError,
    TableSchema,
    count_rows,
    query_rows,
)
from report_samples import ReportBuilder


@pytest.fixture
def report(tmp_path: Path) -> ReportBuilder:
    """Three batches whose schema evolves: 'amount' widens, 'region' and 'seen' arrive late."""
    builder = ReportBuilder(tmp_path)
    builder.append_csv("id,host,amount\n1,web-1,10\n2,web-2,\n3,DB-1,30\n")
    builder.append_csv("id,host,amount,region\n4,web-3,2.5,eu\n5,,-7.25,us\n")
    builder.append_csv(
        "id,host,amount,region,seen\n"
        "6,cache-1,10,eu,2024-03-01T12:00:00Z\n"
        "7,web-1,,,2024-03-02T00:00:00+02:00\n"
    )
    return builder


def all_rows(report: ReportBuilder, **kwargs: Any) -> list[dict[str, Any]]:
    return query_rows(report.files, report.current, limit=1000, **kwargs).rows


def test_files_with_older_schemas_read_with_the_current_types(report: ReportBuilder) -> None:
    assert report.current.to_json() == [
        {"name": "id", "type": "int64"},
        {"name": "host", "type": "string"},
        {"name": "amount", "type": "float64"},
        {"name": "region", "type": "string"},
        {"name": "seen", "type": "timestamp"},
    ]

    rows = all_rows(report, sort=[SortKey("id")])

    assert rows[0] == {"id": 1, "host": "web-1", "amount": 10.0, "region": None, "seen": None}
    assert rows[3]["amount"] == 2.5
    assert rows[6] == {
        "id": 7,
        "host": "web-1",
        "amount": None,
        "region": None,
        "seen": "2024-03-01T22:00:00Z",
    }
    assert isinstance(rows[0]["amount"], float)


def test_an_int_file_read_as_string_after_evolving(tmp_path: Path) -> None:
    builder = ReportBuilder(tmp_path)
    builder.append_csv("code,day\n1,2024-01-02\n2,2024-01-03\n")
    builder.append_csv("code,day\nA-7,2024-01-04T06:30:00Z\n")

    rows = query_rows(builder.files, builder.current, sort=[SortKey("day")]).rows

    assert builder.current.to_json() == [
        {"name": "code", "type": "string"},
        {"name": "day", "type": "timestamp"},
    ]
    assert rows == [
        {"code": "1", "day": "2024-01-02T00:00:00Z"},
        {"code": "2", "day": "2024-01-03T00:00:00Z"},
        {"code": "A-7", "day": "2024-01-04T06:30:00Z"},
    ]


@pytest.mark.parametrize(
    ("row_filter", "ids"),
    [
        (RowFilter("host", "eq", "web-1"), [1, 7]),
        (RowFilter("host", "ne", "web-1"), [2, 3, 4, 5, 6]),
        (RowFilter("amount", "lt", "10"), [4, 5]),
        (RowFilter("amount", "lte", 10), [1, 4, 5, 6]),
        (RowFilter("amount", "gt", "2.5"), [1, 3, 6]),
        (RowFilter("amount", "gte", 2.5), [1, 3, 4, 6]),
        (RowFilter("host", "contains", "WEB"), [1, 2, 4, 7]),
        (RowFilter("host", "contains", "db"), [3]),
        (RowFilter("region", "eq", None), [1, 2, 3, 7]),
        (RowFilter("region", "ne", None), [4, 5, 6]),
        (RowFilter("seen", "gte", "2024-03-01T23:00:00+01:00"), [7]),
        (RowFilter("seen", "lt", "2024-03-02"), [6, 7]),
        (RowFilter("id", "eq", "3"), [3]),
    ],
)
def test_filters(report: ReportBuilder, row_filter: RowFilter, ids: list[int]) -> None:
    rows = all_rows(report, filters=[row_filter], sort=[SortKey("id")])

    assert [row["id"] for row in rows] == ids
    assert count_rows(report.files, report.current, filters=[row_filter]) == len(ids)


def test_filters_combine(report: ReportBuilder) -> None:
    filters = [RowFilter("host", "contains", "web"), RowFilter("amount", "gt", 0)]

    assert [row["id"] for row in all_rows(report, filters=filters)] == [1, 4]


def test_boolean_and_date_filters(tmp_path: Path) -> None:
    builder = ReportBuilder(tmp_path)
    builder.append_csv("ok,day\ntrue,2024-01-01\nfalse,2024-01-02\n,2024-01-03\n")

    def matching(row_filter: RowFilter) -> list[str]:
        return [row["day"] for row in all_rows(builder, filters=[row_filter])]

    assert matching(RowFilter("ok", "eq", "TRUE")) == ["2024-01-01"]
    assert matching(RowFilter("ok", "eq", False)) == ["2024-01-02"]
    assert matching(RowFilter("day", "gt", "2024-01-01")) == ["2024-01-02", "2024-01-03"]


@pytest.mark.parametrize(
    ("row_filter", "message"),
    [
        (
            RowFilter("nope", "eq", "1"),
            "unknown filter column 'nope'; the report's columns are 'id'",
        ),
        (RowFilter("id", "like", "1"), "unknown filter operator 'like'; use one of eq, ne, lt"),
        (
            RowFilter("id", "eq", "ten"),
            "filter value 'ten' does not fit column 'id' (int64): expected a whole number",
        ),
        (RowFilter("amount", "gt", "1,5"), "does not fit column 'amount' (float64)"),
        (RowFilter("seen", "gt", "2024-03-01T10:00:00"), "expected a time with an offset"),
        (RowFilter("id", "eq", True), "does not fit column 'id'"),
        (RowFilter("id", "contains", "1"), "'contains' needs a text value and a string column"),
        (RowFilter("id", "lt", None), "filter lt on column 'id' needs a value"),
    ],
)
def test_bad_filters_are_explained(
    report: ReportBuilder, row_filter: RowFilter, message: str
) -> None:
    with pytest.raises(InvalidQuery) as raised:
        query_rows(report.files, report.current, filters=[row_filter])

    assert message in str(raised.value)


def test_sorting_by_several_keys_with_nulls_last(report: ReportBuilder) -> None:
    ascending = all_rows(report, sort=[SortKey("region"), SortKey("amount", descending=True)])
    descending = all_rows(report, sort=[SortKey("region", descending=True), SortKey("amount")])

    # Within a key, rows tie-break by arrival (_row_id); nulls come last either way.
    assert [row["id"] for row in ascending] == [6, 4, 5, 3, 1, 2, 7]
    assert [row["id"] for row in descending] == [5, 4, 6, 1, 3, 2, 7]


def test_column_selection(report: ReportBuilder) -> None:
    rows = all_rows(
        report,
        columns=["amount", "id"],
        sort=[SortKey("host")],
        filters=[RowFilter("id", "lte", 2)],
    )

    assert rows == [{"amount": 10.0, "id": 1}, {"amount": None, "id": 2}]
    assert list(rows[0]) == ["amount", "id"]


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (["id", "id"], "selected twice"),
        (["zzz"], "unknown selected column 'zzz'"),
        ([], "at least one"),
    ],
)
def test_bad_column_selections(report: ReportBuilder, columns: list[str], message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        query_rows(report.files, report.current, columns=columns)


def test_bad_sorts_and_limits(report: ReportBuilder) -> None:
    with pytest.raises(InvalidQuery, match="unknown sort column 'x'"):
        query_rows(report.files, report.current, sort=[SortKey("x")])
    with pytest.raises(InvalidQuery, match="appears twice"):
        query_rows(
            report.files, report.current, sort=[SortKey("id"), SortKey("id", descending=True)]
        )
    with pytest.raises(InvalidQuery, match="limit must be at least 1"):
        query_rows(report.files, report.current, limit=0)


def test_a_cursor_from_another_sort_is_refused(report: ReportBuilder) -> None:
    page = query_rows(report.files, report.current, sort=[SortKey("id")], limit=2)
    assert page.next_after is not None

    with pytest.raises(InvalidQuery, match="does not belong to this sort"):
        query_rows(report.files, report.current, limit=2, after=page.next_after)
    with pytest.raises(InvalidQuery, match="cursor value 'x' does not fit column 'id'"):
        query_rows(report.files, report.current, sort=[SortKey("id")], after=["x", 1])


def walk(report: ReportBuilder, sort: list[SortKey], limit: int, **kwargs: Any) -> list[int]:
    """Every page in turn; the ids in the order they came."""
    seen: list[int] = []
    after = None
    for _ in range(1000):
        page = query_rows(
            report.files, report.current, sort=sort, limit=limit, after=after, **kwargs
        )
        seen += [row["id"] for row in page.rows]
        if page.next_after is None:
            return seen
        after = page.next_after
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize(
    "sort",
    [
        [],
        [SortKey("region")],
        [SortKey("region", descending=True), SortKey("amount")],
        [SortKey("amount", descending=True), SortKey("seen")],
        [SortKey("seen", descending=True), SortKey("host")],
    ],
    ids=["row id", "nullable asc", "nullable desc then asc", "float desc then time", "time desc"],
)
@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_cursor_pages_visit_every_row_once_in_order(
    report: ReportBuilder, sort: list[SortKey], limit: int
) -> None:
    expected = [row["id"] for row in all_rows(report, sort=sort)]

    assert walk(report, sort, limit) == expected
    assert sorted(expected) == [1, 2, 3, 4, 5, 6, 7]


def test_cursor_pages_over_random_data_with_many_ties_and_nulls(tmp_path: Path) -> None:
    rng = random.Random(5)
    builder = ReportBuilder(tmp_path)
    for batch in range(3):
        lines = ["id,group,score,day"]
        for i in range(200):
            group = rng.choice(["a", "b", "c", ""])
            score = rng.choice(["", "1", "2.5", "-3", "NaN", "inf"])
            day = rng.choice(["", "2024-01-01", "2024-01-02"])
            lines.append(f"{batch * 1000 + i},{group},{score},{day}")
        builder.append_csv("\n".join(lines) + "\n")
    sort = [SortKey("group", descending=True), SortKey("score"), SortKey("day", descending=True)]

    expected = [row["id"] for row in all_rows(builder, sort=sort)]
    walked = walk(builder, sort, limit=17, filters=[RowFilter("id", "ne", 5)])

    assert walked == [i for i in expected if i != 5]
    assert len(set(walked)) == 599


def test_a_page_from_json_values_only(report: ReportBuilder) -> None:
    page = query_rows(report.files, report.current, sort=[SortKey("seen")], limit=1)

    assert page.next_after == ["2024-03-01T12:00:00Z", 5]


def test_no_files_is_an_empty_page(report: ReportBuilder) -> None:
    assert query_rows([], report.current).rows == []
    assert count_rows([], report.current) == 0


def test_a_declared_column_no_file_has_reads_as_null(report: ReportBuilder) -> None:
    declared = TableSchema((*report.current.columns, Column("owner", ColumnType.STRING)))

    rows = query_rows(
        report.files, declared, filters=[RowFilter("owner", "eq", None)], limit=100
    ).rows

    assert len(rows) == 7
    assert rows[0]["owner"] is None


def test_odd_column_names_are_quoted_safely(tmp_path: Path) -> None:
    builder = ReportBuilder(tmp_path)
    builder.append_csv('"we""ird",select,"a b; DROP TABLE x"\n1,2,3\n')

    rows = query_rows(builder.files, builder.current, sort=[SortKey('we"ird')]).rows

    assert rows == [{'we"ird': 1, "select": 2, "a b; DROP TABLE x": 3}]


def test_a_missing_batch_file_is_a_read_error(report: ReportBuilder) -> None:
    with pytest.raises(TableReadError, match="could not be read"):
        query_rows([*report.files, report.files[0].with_name("gone.parquet")], report.current)


def test_queries_from_many_threads(report: ReportBuilder) -> None:
    failures: list[BaseException] = []
    expected = all_rows(report, sort=[SortKey("amount")])

    def read() -> None:
        try:
            for _ in range(20):
                assert all_rows(report, sort=[SortKey("amount")]) == expected
        except (AssertionError, ReportError) as error:
            failures.append(error)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
