"""CSV dialects: delimiters, encodings, quoting, line endings and headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_samples import convert_bytes, convert_text, rows_of, types_of


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_detected(tmp_path: Path, delimiter: str) -> None:
    text = (
        f"id{delimiter}name{delimiter}note\n1{delimiter}a{delimiter}x\n2{delimiter}b{delimiter}y\n"
    )

    conversion, batch = convert_text(tmp_path, text)

    assert conversion.delimiter == delimiter
    assert types_of(conversion) == {"id": "int64", "name": "string", "note": "string"}
    assert rows_of(batch)[1]["name"] == "b"


def test_delimiter_detection_respects_quotes(tmp_path: Path) -> None:
    # Commas inside quoted values outnumber the semicolons that separate the fields.
    text = 'name;amount\n"Doe, Jane, Dr.";1,5\n"Roe, R.";2,25\n'

    conversion, batch = convert_text(tmp_path, text)

    assert conversion.delimiter == ";"
    assert [row["name"] for row in rows_of(batch)] == ["Doe, Jane, Dr.", "Roe, R."]
    assert types_of(conversion)["amount"] == "string"  # a decimal comma is not a number here


def test_a_single_column_file(tmp_path: Path) -> None:
    conversion, _ = convert_text(tmp_path, "host\nweb-1\nweb-2\n")

    assert types_of(conversion) == {"host": "string"}
    assert conversion.row_count == 2


def test_a_declared_delimiter_wins(tmp_path: Path) -> None:
    conversion, _ = convert_text(tmp_path, "a,b;c\n1,2;3\n", delimiter=";")

    assert conversion.delimiter == ";"
    assert types_of(conversion) == {"a,b": "string", "c": "int64"}


def test_utf8_with_byte_order_mark(tmp_path: Path) -> None:
    conversion, batch = convert_bytes(tmp_path, "\ufeffid,city\n1,Zürich\n".encode())

    assert conversion.encoding == "utf-8-sig"
    assert types_of(conversion) == {"id": "int64", "city": "string"}
    assert rows_of(batch)[0]["city"] == "Zürich"


def test_cp1252_is_detected(tmp_path: Path) -> None:
    text = "id;name;price\n1;Café;5 €\n2;Crème brûlée;7 €\n"

    conversion, batch = convert_bytes(tmp_path, text.encode("cp1252"))

    assert conversion.encoding == "cp1252"
    assert [row["name"] for row in rows_of(batch)] == ["Café", "Crème brûlée"]
    assert rows_of(batch)[0]["price"] == "5 €"


def test_latin1_accents_are_read(tmp_path: Path) -> None:
    text = "name\nMüller\nSørensen\nGarçon\n"

    _, batch = convert_bytes(tmp_path, text.encode("latin-1"))

    assert [row["name"] for row in rows_of(batch)] == ["Müller", "Sørensen", "Garçon"]


def test_a_legacy_byte_after_a_long_ascii_prefix_is_found(tmp_path: Path) -> None:
    # The first megabyte is plain ASCII; only row 60,000 shows the file is not UTF-8.
    rows = "".join(f"{i},plain\n" for i in range(60_000))
    data = ("id,name\n" + rows + "60000,Café\n").encode("cp1252")

    conversion, batch = convert_bytes(tmp_path, data)

    assert conversion.encoding == "cp1252"
    assert rows_of(batch)[-1]["name"] == "Café"


def test_utf16_with_byte_order_mark(tmp_path: Path) -> None:
    conversion, batch = convert_bytes(tmp_path, "id,name\n1,Ελένη\n2,李\n".encode("utf-16"))

    assert conversion.encoding.startswith("utf-16")
    assert [row["name"] for row in rows_of(batch)] == ["Ελένη", "李"]


def test_a_declared_encoding_is_used(tmp_path: Path) -> None:
    greeting = "\u041f\u0440\u0438\u0432\u0435\u0442"  # Russian, in Cyrillic letters
    data = f"name\n{greeting}\n".encode("koi8-r")

    conversion, batch = convert_bytes(tmp_path, data, encoding="koi8-r")

    assert conversion.encoding == "koi8-r"
    assert rows_of(batch)[0]["name"] == greeting


def test_quoted_values_with_delimiters_quotes_and_newlines(tmp_path: Path) -> None:
    text = 'id,comment\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n4,plain\n'

    conversion, batch = convert_text(tmp_path, text)

    assert conversion.row_count == 4
    assert [row["comment"] for row in rows_of(batch)] == ["a, b", 'say "hi"', "two\nlines", "plain"]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(tmp_path: Path, newline: str) -> None:
    conversion, batch = convert_text(tmp_path, newline.join(["a,b", "1,x", "2,y"]) + newline)

    assert conversion.row_count == 2
    assert rows_of(batch)[1] == {"a": 2, "b": "y", "_row_id": 1}


def test_header_names_are_cleaned_and_may_be_quoted(tmp_path: Path) -> None:
    conversion, _ = convert_text(tmp_path, ' id ,"total, EUR","multi\nline  cell"\n1,2,3\n')

    assert list(types_of(conversion)) == ["id", "total, EUR", "multi line cell"]


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    conversion, _ = convert_text(tmp_path, "\na,b\n\n1,2\n\n3,4\n\n")

    assert conversion.row_count == 2


def test_a_header_without_rows_is_an_empty_batch(tmp_path: Path) -> None:
    conversion, batch = convert_text(tmp_path, "id,name\n")

    assert conversion.row_count == 0
    assert types_of(conversion) == {"id": "string", "name": "string"}
    assert rows_of(batch) == []


def test_a_header_without_a_newline_is_an_empty_batch(tmp_path: Path) -> None:
    conversion, _ = convert_text(tmp_path, "id,name")

    assert conversion.row_count == 0
    assert list(types_of(conversion)) == ["id", "name"]


def test_an_odd_quote_inside_a_value_is_only_a_character(tmp_path: Path) -> None:
    conversion, batch = convert_text(tmp_path, 'screen,size\nwide,27"\nnarrow,24"\nmid,25"\n')

    assert conversion.row_count == 3
    assert rows_of(batch)[0]["size"] == '27"'
