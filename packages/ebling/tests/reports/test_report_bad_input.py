"""Files that are not tables: each refused with a message that says what and where."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest
from ebling.reports import InvalidTable, ReadLimits, TableFormat
from report_samples import convert_bytes


def refusal(tmp_path: Path, data: bytes, **kwargs: object) -> InvalidTable:
    with pytest.raises(InvalidTable) as raised:
        convert_bytes(tmp_path, data, **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "upload.batch.parquet").exists(), "a failed conversion leaves nothing"
    return raised.value


def test_a_row_with_more_fields_than_the_header(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"a,b\n1,2\n3,4\n5,6,7\n8,9\n")

    assert error.line == 4
    assert str(error) == "line 4: the row has 3 fields, but the header has 2"


def test_a_row_with_fewer_fields_than_the_header(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"a,b,c\n1,2,3\n4,5\n")

    assert str(error) == "line 3: the row has 2 fields, but the header has 3"


def test_a_ragged_row_deep_in_a_big_file_names_its_line(tmp_path: Path) -> None:
    rows = b"".join(b"%d,x\n" % i for i in range(100_000))

    error = refusal(tmp_path, b"a,b\n" + rows + b"1,2,3\n")

    assert error.line == 100_002


def test_line_numbers_count_lines_inside_quoted_values(tmp_path: Path) -> None:
    error = refusal(tmp_path, b'a,b\n1,"two\nlines"\n2,"x"\n3\n')

    assert error.line == 5


def test_an_unterminated_quote(tmp_path: Path) -> None:
    error = refusal(tmp_path, b'a,b\n1,2\n3,"open\n4,5\n6,7\n')

    assert str(error) == "line 3: a quoted value opens on this line and is never closed"


def test_an_unterminated_quote_in_the_first_field(tmp_path: Path) -> None:
    error = refusal(tmp_path, b'a,b\n1,2\n"3,x\n4,5\n')

    assert error.line == 3
    assert "never closed" in str(error)


def test_an_unterminated_quote_swallowing_a_big_file(tmp_path: Path) -> None:
    rows = b"".join(b"%d,x\n" % i for i in range(5_000))

    error = refusal(tmp_path, b'a,b\n1,"open\n' + rows, limits=ReadLimits(max_line_bytes=16 * 1024))

    assert error.line == 2
    assert "longer than 16 KiB; is a quoted value left open there?" in str(error)


def test_an_unterminated_quote_in_the_header(tmp_path: Path) -> None:
    error = refusal(tmp_path, b'a,"b\n1,2\n')

    assert str(error) == "line 1: a quoted value in the header is never closed"


def test_an_empty_file(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"")

    assert "the file is empty" in str(error)


def test_a_file_of_blank_lines(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"\n\r\n\n")

    assert "no header row" in str(error)


def test_a_ten_megabyte_line(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"a,b\n1,2\n" + b"x" * 10_000_000 + b",3\n4,5\n")

    assert str(error) == "line 3: the line is longer than 1 MiB"


def test_a_long_header(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"a" * 2_000_000 + b"\n1\n")

    assert str(error) == "line 1: the header is longer than 1 MiB"


def test_a_line_limit_can_be_set(tmp_path: Path) -> None:
    error = refusal(
        tmp_path, b"a\n1\n" + b"x" * 9000 + b"\n2\n", limits=ReadLimits(max_line_bytes=4096)
    )

    assert str(error) == "line 3: the line is longer than 4 KiB"


def test_too_many_columns(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(11)).encode()

    error = refusal(tmp_path, header + b"\n", limits=ReadLimits(max_columns=10))

    assert str(error) == "line 1: the header has 11 columns; at most 10 are allowed"


def test_duplicate_and_empty_header_names_are_named(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"id, name ,Name,,id\n1,2,3,4,5\n")

    message = str(error)
    assert message.startswith("line 1: the header cannot name columns: ")
    assert "column 'Name' repeats column 'name'" in message
    assert "column 4 has no name" in message
    assert "column 'id' repeats column 'id'" in message


def test_a_reserved_header_name(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"_row_id,a\n1,2\n")

    assert "'_row_id' is reserved" in str(error)


def test_bytes_not_valid_in_a_utf8_file(tmp_path: Path) -> None:
    # The file shows it is UTF-8 (the "é"), then has a byte UTF-8 cannot hold.
    error = refusal(tmp_path, "name\nCafé\nok\n".encode() + b"bad \xff byte\n")

    assert error.line == 4
    assert "byte 0xff is not valid utf-8" in str(error)
    assert "save the file as UTF-8" in str(error)


def test_bytes_not_valid_in_the_declared_encoding(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"name\nok\n\x81\n", encoding="cp1252")

    assert error.line == 3
    assert "byte 0x81 is not valid cp1252" in str(error)


def test_an_unknown_declared_encoding(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"a\n1\n", encoding="klingon")

    assert str(error) == "unknown text encoding 'klingon'"


def test_a_bad_declared_delimiter(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"a\n1\n", delimiter="ab")

    assert "must be one character" in str(error)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "a PNG image"),
        (b"%PDF-1.7\n", "a PDF document"),
        (gzip.compress(b"a,b\n1,2\n"), "a gzip archive"),
        (b"a,b\n1,\x002\n", "a binary file (it holds NUL bytes)"),
        (b"PAR1\x00\x00", "a Parquet file; send it with the format 'parquet'"),
    ],
)
def test_binary_files_are_not_csv(tmp_path: Path, data: bytes, kind: str) -> None:
    error = refusal(tmp_path, data)

    assert str(error) == f"this looks like {kind}, not CSV"


def test_a_spreadsheet_workbook_is_not_csv(tmp_path: Path) -> None:
    workbook = tmp_path / "book.xlsx"
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")

    error = refusal(tmp_path, workbook.read_bytes())

    assert "a zip archive (an .xlsx workbook is one)" in str(error)


def test_json_that_is_not_json(tmp_path: Path) -> None:
    error = refusal(tmp_path, b'{"a": 1}\n{"a": }\n', fmt=TableFormat.JSON)

    assert "the file is not valid JSON" in str(error)
    assert str(tmp_path) not in str(error), "the server's paths stay private"


def test_json_values_must_be_objects(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"[1, 2, 3]", fmt=TableFormat.JSON)

    assert str(error) == "every JSON value must be an object mapping column names to values"


def test_an_empty_json_file(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"  \n", fmt=TableFormat.JSON)

    assert "the file is empty" in str(error)


def test_json_in_utf16(tmp_path: Path) -> None:
    error = refusal(tmp_path, '[{"a": 1}]'.encode("utf-16"), fmt=TableFormat.JSON)

    assert str(error) == "the file is UTF-16; JSON must be UTF-8"


def test_a_csv_sent_as_parquet(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"a,b\n1,2\n", fmt=TableFormat.PARQUET)

    assert "this is not a Parquet file" in str(error)


def test_a_truncated_parquet_file(tmp_path: Path) -> None:
    error = refusal(tmp_path, b"PAR1" + b"\x01" * 100, fmt=TableFormat.PARQUET)

    assert "cannot be read as parquet" in str(error)
    assert str(tmp_path) not in str(error)


def test_an_invalid_table_message_is_built_from_its_fields() -> None:
    assert str(InvalidTable("bad value", line=1200, column="amount")) == (
        "line 1,200, column 'amount': bad value"
    )
    assert str(InvalidTable("empty")) == "empty"
