"""The report engine's public surface: what each module exports, and nothing private."""

from __future__ import annotations

import importlib

import ebling.reports
import pytest

MODULES = ["errors", "schema", "reading", "query", "export"]


@pytest.mark.parametrize("name", MODULES)
def test_each_module_declares_what_it_exports(name: str) -> None:
    module = importlib.import_module(f"ebling.reports.{name}")

    assert module.__all__, f"{name} exports nothing"
    for exported in module.__all__:
        assert hasattr(module, exported), f"{name}.__all__ names a missing {exported}"
        assert not exported.startswith("_")


def test_the_package_exports_the_engine() -> None:
    assert set(ebling.reports.__all__) == {
        "ROW_ID_COLUMN",
        "Column",
        "ColumnType",
        "Conversion",
        "FilterOp",
        "InvalidQuery",
        "InvalidSchema",
        "InvalidTable",
        "ReadLimits",
        "ReportError",
        "RowFilter",
        "RowPage",
        "SchemaChange",
        "SchemaMismatch",
        "SchemaPolicy",
        "SortKey",
        "TableFormat",
        "TableReadError",
        "TableSchema",
        "convert_to_parquet",
        "count_rows",
        "export_csv",
        "export_parquet",
        "query_rows",
        "reconcile",
    }


def test_every_error_is_a_report_error() -> None:
    from ebling.reports import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.ReportError)
