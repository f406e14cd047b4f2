"""Readers: encodings, header matching, row errors, truncation, XLSX, streaming."""

from __future__ import annotations

import csv
import datetime as dt
import doctest
import inspect
import io
import re
import tracemalloc
from pathlib import Path

import openpyxl
import pytest

from carbonkg.errors import LoadError, RowError
from carbonkg.loaders import readers
from carbonkg.loaders.readers import header_signature, is_unnamed, normalise_name, open_table, require_columns

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "data" / "registry-exports"
SYNTHETIC = ROOT / "tests" / "data" / "synthetic"
ALL_FILES = sorted(EXPORTS.glob("*/*.csv"))


def load_error(exc_info: pytest.ExceptionInfo[LoadError]) -> list[RowError]:
    return exc_info.value.errors


def csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Independent reading with the csv module, dropping unnamed columns."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        records = list(csv.reader(fh))
    header = records[0]
    keep = [(i, h) for i, h in enumerate(header) if h.strip() and not h.startswith("Unnamed: ")]
    rows = [{h: (rec[i] if i < len(rec) else "") for i, h in keep} for rec in records[1:] if rec]
    return header, rows


def test_doctests() -> None:
    result = doctest.testmod(readers, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 8 and result.failed == 0


# --------------------------------------------------------------------- real exports


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(EXPORTS).as_posix())
def test_every_real_export_reads_like_the_csv_module(path: Path) -> None:
    table = open_table(path)
    header, expected = csv_rows(path)
    assert table.header == header
    assert table.encoding == "utf-8" and table.format == "csv"
    rows = list(table.rows())
    assert [n for n, _ in rows] == list(range(1, len(expected) + 1))
    assert [row for _, row in rows] == expected
    assert all(not is_unnamed(c) for c in table.columns)


def test_real_row_counts_match_the_readme() -> None:
    readme = (EXPORTS / "README.md").read_text(encoding="utf-8")
    counts = dict(re.findall(r"^\| ([\w./-]+\.csv) \| (\d+) \|", readme, flags=re.MULTILINE))
    assert len(counts) == len(ALL_FILES) == 24
    for rel, count in counts.items():
        assert sum(1 for _ in open_table(EXPORTS / rel).rows()) == int(count), rel


def test_header_signatures_tell_the_exports_apart() -> None:
    signatures = {header_signature(open_table(p).header) for p in ALL_FILES}
    assert len(signatures) == len(ALL_FILES)


def test_acr_double_space_header_matches_single_space() -> None:
    cancellations = open_table(EXPORTS / "american-carbon-registry/cancellations.csv")
    retirements = open_table(EXPORTS / "american-carbon-registry/retirements.csv")
    assert cancellations.column("Status Effective (GMT)") == "Status Effective  (GMT)"
    assert retirements.column("status effective  (gmt)") == "Status Effective (GMT)"
    assert "Unnamed: 31" in cancellations.header and "Unnamed: 31" not in cancellations.columns
    mapping = require_columns(cancellations, ["Status Effective (GMT)", "Credit Serial Numbers"])
    assert mapping == {"Status Effective (GMT)": "Status Effective  (GMT)", "Credit Serial Numbers": "Credit Serial Numbers"}


def test_art_program_country_and_trailing_space_names() -> None:
    art = open_table(EXPORTS / "art-trees/projects.csv")
    assert art.column("Program Country") == "Program  Country"
    acr = open_table(EXPORTS / "american-carbon-registry/projects.csv")
    assert acr.column("Total Number of Credits Registered") == "Total Number of Credits Registered "


def test_rows_stream_and_can_be_read_twice() -> None:
    table = open_table(EXPORTS / "verra/transactions.csv")
    assert inspect.isgenerator(table.rows())
    assert list(table) == list(table.rows())


# ------------------------------------------------------------------------ encodings


def _real_bytes(rel: str = "verra/projects.csv") -> bytes:
    return (EXPORTS / rel).read_bytes()


def test_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _real_bytes())
    table = open_table(path)
    assert table.encoding == "utf-8-sig"
    assert table.header[0] == "ID"
    assert list(table.rows()) == list(open_table(EXPORTS / "verra/projects.csv").rows())


def test_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "cp1252.csv"
    path.write_bytes("Account Holder,Price\nSociété Générale,€5 – “net”\n".encode("cp1252"))
    table = open_table(path)
    assert table.encoding == "cp1252"
    assert list(table.rows()) == [(1, {"Account Holder": "Société Générale", "Price": "€5 – “net”"})]


def test_utf8_is_preferred_when_both_decode(tmp_path: Path) -> None:
    path = tmp_path / "utf8.csv"
    path.write_bytes("Name\nSociété\n".encode())
    table = open_table(path)
    assert table.encoding == "utf-8"
    assert list(table.rows()) == [(1, {"Name": "Société"})]


def test_utf8_split_across_read_chunks(tmp_path: Path) -> None:
    """A multi-byte character straddling the 64 KiB scan boundary is still UTF-8."""
    path = tmp_path / "straddle.csv"
    head = b"Name\n" + b"a" * (readers._CHUNK - len(b"Name\n") - 1)
    path.write_bytes(head + "é\n".encode())
    assert open_table(path).encoding == "utf-8"


def test_neither_utf8_nor_cp1252() -> None:
    path = SYNTHETIC / "undecodable.csv"
    with pytest.raises(LoadError) as info:
        open_table(path)
    assert str(info.value) == f"{path}: is neither UTF-8 (byte 0x81 at offset 12) nor Windows-1252 (byte 0x81 at offset 12) text"
    assert load_error(info) == [RowError(str(path), None, None, None, "is neither UTF-8 (byte 0x81 at offset 12) nor Windows-1252 (byte 0x81 at offset 12) text")]


def test_nul_bytes(tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes("ID,Name\n1,x\n".encode("utf-16"))
    with pytest.raises(LoadError) as info:
        open_table(path)
    assert str(info.value) == f"{path}: contains NUL bytes (byte offset 3): not a text CSV (UTF-16 or binary?)"


def test_incomplete_utf8_at_end_falls_back_to_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_bytes(b"Name\nab\xc3")  # first byte of a two-byte UTF-8 sequence, then EOF
    table = open_table(path)
    assert table.encoding == "cp1252"
    assert list(table.rows()) == [(1, {"Name": "abÃ"})]


# -------------------------------------------------------------------- empty files


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(LoadError) as info:
        open_table(path)
    assert str(info.value) == f"{path}: file is empty"


def test_blank_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_bytes(b"\n\r\n   \n")
    with pytest.raises(LoadError) as info:
        open_table(path)
    assert str(info.value) == f"{path}: has no header row (only blank lines)"


def test_header_only_is_valid_with_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_bytes(b"Vintage,Quantity\n")
    table = open_table(path)
    assert table.header == ["Vintage", "Quantity"]
    assert list(table.rows()) == []


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(LoadError) as info:
        open_table(path)
    assert str(info.value) == f"{path}: cannot be read (No such file or directory)"


# ------------------------------------------------------------------------- headers


def test_reordered_and_extra_columns(tmp_path: Path) -> None:
    source = EXPORTS / "gold-standard/retirements.csv"
    header, rows = csv_rows(source)
    new_header = ["Extra Column", *reversed(header)]
    path = tmp_path / "reordered.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(new_header)
        for row in rows:
            writer.writerow(["extra", *(row[h] for h in reversed(header))])
    table = open_table(path)
    wanted = ["Serial Number", "Quantity", "Vintage", "Retirement Date"]
    mapping = require_columns(table, wanted)
    original = open_table(source)
    for (n1, a), (n2, b) in zip(table.rows(), original.rows(), strict=True):
        assert n1 == n2
        assert {k: a[mapping[k]] for k in wanted} == {k: b[k] for k in wanted}
        assert a["Extra Column"] == "extra"


def test_unnamed_trailing_columns_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "unnamed.csv"
    path.write_text("A,B,Unnamed: 2,,Unnamed: 4\n1,2,,,\n3,4\n", encoding="utf-8")
    table = open_table(path)
    assert table.columns == ["A", "B"]
    assert list(table.rows()) == [(1, {"A": "1", "B": "2"}), (2, {"A": "3", "B": "4"})]


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Vintage,Quantity,Vintage", "appears more than once in the header (columns 1 and 3)"),
        ("Status Effective (GMT),x,status effective  (gmt)", "appears more than once in the header (columns 1 and 3)"),
        ("A, a ,B,A", "appears more than once in the header (columns 1, 2 and 4)"),
    ],
)
def test_duplicate_header(tmp_path: Path, header: str, reason: str) -> None:
    path = tmp_path / "dupe.csv"
    path.write_text(header + "\n1,2,3,4\n", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        open_table(path)
    first = header.split(",")[0]
    assert load_error(info) == [RowError(str(path), None, first, None, reason)]
    assert str(info.value) == f"{path}, column {first!r}: {reason}"


def test_two_duplicated_names_are_both_reported(tmp_path: Path) -> None:
    path = tmp_path / "dupes.csv"
    path.write_text("A,B,A,B,,\n", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        open_table(path)
    assert [(e.column, e.reason) for e in load_error(info)] == [
        ("A", "appears more than once in the header (columns 1 and 3)"),
        ("B", "appears more than once in the header (columns 2 and 4)"),
    ]


def test_normalise_name_and_signature() -> None:
    assert normalise_name(" Status Effective  (GMT) ") == "status effective (gmt)"
    assert normalise_name("Program\tCountry") == "program country"
    assert is_unnamed("  ") and is_unnamed("Unnamed: 19") and is_unnamed("unnamed:3")
    assert not is_unnamed("Unnamed column")
    assert header_signature(["B", "A ", "Unnamed: 2"]) == header_signature(["a", "b"]) == frozenset({"a", "b"})


# ---------------------------------------------------------------- require_columns


def test_require_columns_with_aliases_and_optional(tmp_path: Path) -> None:
    table = open_table(EXPORTS / "climate-action-reserve/retirements.csv")
    mapping = require_columns(
        table,
        ["serial", "quantity", "Vintage"],
        {"serial": ["Credit Serial Numbers", "Offset Credit Serial Numbers"], "quantity": ["Quantity of Offset Credits"]},
        optional=["Retirement Reason Details", "Retired on Behalf of"],
    )
    assert mapping == {
        "serial": "Offset Credit Serial Numbers",
        "quantity": "Quantity of Offset Credits",
        "Vintage": "Vintage",
        "Retirement Reason Details": "Retirement Reason Details",
    }


def test_require_columns_missing_message(tmp_path: Path) -> None:
    path = tmp_path / "few.csv"
    path.write_text("Vintage,Quantity,Unnamed: 2\n2025,3,\n", encoding="utf-8")
    table = open_table(path)
    with pytest.raises(LoadError) as info:
        require_columns(table, ["Vintage", "Serial Number", "Project ID"], {"Serial Number": ["Credit Serial Numbers"]})
    assert str(info.value) == (
        f"{path}: missing required columns 'Serial Number' (or 'Credit Serial Numbers'), 'Project ID' "
        "(expected: 'Vintage', 'Serial Number', 'Project ID'; found: 'Vintage', 'Quantity')"
    )
    assert load_error(info)[0].row is None


# ------------------------------------------------------------------------ row shapes


def test_short_rows_extra_cells_and_unnamed_values() -> None:
    path = SYNTHETIC / "apx_like_rows.csv"
    table = open_table(path)
    assert table.columns == ["Credit Serial Numbers", "Quantity of Credits", "Status Effective  (GMT)"]
    errors: list[RowError] = []
    rows = list(table.rows(errors))
    assert [n for n, _ in rows] == [1, 2, 5]
    assert rows[1] == (2, {"Credit Serial Numbers": "ACR-XX-1-2025-1-11 to 15", "Quantity of Credits": "5", "Status Effective  (GMT)": ""})
    assert errors == [
        RowError(str(path), 3, "#5", "surplus", "is in a cell beyond the header's 4 columns"),
        RowError(str(path), 4, "Unnamed: 3", "stray note", "is in a column without a name"),
    ]
    assert str(errors[0]) == f"{path}, row 3, column '#5': 'surplus' is in a cell beyond the header's 4 columns"
    assert str(errors[1]) == f"{path}, row 4, column 'Unnamed: 3': 'stray note' is in a column without a name"


def test_row_error_raises_without_an_error_list() -> None:
    path = SYNTHETIC / "apx_like_rows.csv"
    seen = []
    with pytest.raises(LoadError) as info:
        for n, _ in open_table(path).rows():
            seen.append(n)
    assert seen == [1, 2]
    assert str(info.value) == f"{path}, row 3, column '#5': 'surplus' is in a cell beyond the header's 4 columns"


def test_value_under_an_empty_header_in_the_middle(tmp_path: Path) -> None:
    path = tmp_path / "gap.csv"
    path.write_text("A,,C\n1,,3\n4,x,6\n", encoding="utf-8")
    errors: list[RowError] = []
    assert list(open_table(path).rows(errors)) == [(1, {"A": "1", "C": "3"})]
    assert errors == [RowError(str(path), 2, "#2", "x", "is in a column without a name")]


def test_truncated_file() -> None:
    path = SYNTHETIC / "truncated_quote.csv"
    table = open_table(path)
    seen = []
    with pytest.raises(LoadError) as info:
        for n, row in table.rows():
            seen.append((n, row["Note"]))
    assert seen == [(1, "ok")]
    assert load_error(info) == [
        RowError(str(path), 2, None, None, "ends inside a quoted cell (unterminated quote: is the file truncated?)")
    ]
    assert str(info.value) == f"{path}, row 2: ends inside a quoted cell (unterminated quote: is the file truncated?)"


def test_malformed_quoting(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('A,B\n1,2\n3,"x"y\n', encoding="utf-8")
    with pytest.raises(LoadError) as info:
        list(open_table(path).rows())
    assert str(info.value) == f"{path}, row 2: is not well-formed CSV (',' expected after '\"', near line 3)"


def test_blank_lines_are_skipped_and_not_counted(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("A\n\n1\n\n2\n\n", encoding="utf-8")
    assert list(open_table(path).rows()) == [(1, {"A": "1"}), (2, {"A": "2"})]


def test_quoted_newlines_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "crlf.csv"
    path.write_bytes(b'A,B\r\n"line one\r\nline two",2\r\n3,4\r\n')
    assert list(open_table(path).rows()) == [(1, {"A": "line one\r\nline two", "B": "2"}), (2, {"A": "3", "B": "4"})]


def test_table_error_helper() -> None:
    table = open_table(EXPORTS / "verra/projects.csv")
    err = table.error(4, "ID", "x", "is not a number")
    assert str(err) == f"{EXPORTS / 'verra/projects.csv'}, row 4, column 'ID': 'x' is not a number"


# ----------------------------------------------------------------------------- XLSX

_INT = re.compile(r"-?[1-9]\d{0,14}|0")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def _native(text: str) -> object:
    """What a spreadsheet would hold for a CSV cell: numbers and dates as typed values."""
    if _INT.fullmatch(text):
        return int(text)
    if _ISO_DATE.fullmatch(text):
        return dt.date.fromisoformat(text)
    if _ISO_DATETIME.fullmatch(text) and not text.endswith("00:00:00"):
        return dt.datetime.fromisoformat(text)
    return text


@pytest.mark.parametrize(
    "rel", ["arb/nc-arboc_issuance_sheet3.csv", "cercarbono/retirements.csv", "american-carbon-registry/cancellations.csv"]
)
def test_xlsx_round_trip_from_a_real_csv(tmp_path: Path, rel: str) -> None:
    source = EXPORTS / rel
    with source.open(encoding="utf-8", newline="") as fh:
        records = list(csv.reader(fh))
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("export")
    ws.append(records[0])
    typed = 0
    for record in records[1:]:
        cells = [_native(c) for c in record]
        typed += sum(not isinstance(c, str) for c in cells)
        ws.append([None if c == "" else c for c in cells])
    wb.create_sheet("second sheet, ignored").append(["nothing"])
    path = tmp_path / (source.stem + ".xlsx")
    wb.save(path)
    assert typed > 50  # the workbook really holds numbers and dates

    table = open_table(path)
    assert table.format == "xlsx" and table.encoding is None
    original = open_table(source)
    assert table.header[: len(original.columns)] == original.header[: len(original.columns)]
    assert table.columns == original.columns
    assert list(table.rows()) == list(original.rows())


def test_xlsx_cell_conversion(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["int", "float", "whole float", "date", "datetime", "bool", "text", "empty", None])
    ws.append([2019, 2765.37, 79565.0, dt.date(2026, 4, 3), dt.datetime(2022, 2, 24, 20, 20, 59), True, " x ", None, None])
    ws.append([None] * 9)  # blank row: skipped
    ws.append([1])
    path = tmp_path / "cells.xlsx"
    wb.save(path)
    table = open_table(path)
    assert table.header == ["int", "float", "whole float", "date", "datetime", "bool", "text", "empty"]
    assert list(table.rows()) == [
        (1, {"int": "2019", "float": "2765.37", "whole float": "79565", "date": "2026-04-03",
             "datetime": "2022-02-24 20:20:59", "bool": "True", "text": " x ", "empty": ""}),
        (2, {"int": "1", "float": "", "whole float": "", "date": "", "datetime": "", "bool": "", "text": "", "empty": ""}),
    ]


def test_xlsx_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"this is not a zip file")
    with pytest.raises(LoadError) as info:
        open_table(bad)
    assert str(info.value).startswith(f"{bad}: is not a readable XLSX workbook (")
    empty = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(empty)
    with pytest.raises(LoadError) as info:
        open_table(empty)
    assert str(info.value) == f"{empty}: has no header row (only blank lines)"
    dupe = tmp_path / "dupe.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Vintage", "vintage "])
    wb.save(dupe)
    with pytest.raises(LoadError, match=r"appears more than once in the header \(columns 1 and 2\)"):
        open_table(dupe)


def test_xlsx_extension_check_is_case_insensitive(tmp_path: Path) -> None:
    path = tmp_path / "UPPER.XLSX"
    wb = openpyxl.Workbook()
    wb.active.append(["A"])
    wb.active.append([1])
    wb.save(path)
    assert list(open_table(path).rows()) == [(1, {"A": "1"})]


def test_xlsx_saved_under_a_csv_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "really.csv"
    wb = openpyxl.Workbook()
    wb.active.append(["A"])
    wb.save(path)
    with pytest.raises(LoadError, match="contains NUL bytes"):
        open_table(path)


# ------------------------------------------------------------------------ streaming


def test_csv_rows_stream_in_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    line = "ACR-US-1185-2025-3078-1 to 85847,85847,11/3/2025 7:10:41 PM,Some account holder name\n"
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("Serial,Quantity,Date,Holder\n")
        buf = io.StringIO()
        for _ in range(60_000):
            buf.write(line)
        fh.write(buf.getvalue())
    size = path.stat().st_size
    assert size > 5_000_000
    tracemalloc.start()
    try:
        table = open_table(path)
        count = sum(1 for _ in table.rows())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 60_000
    assert peak < size / 5  # far below the file size: nothing holds the whole file
