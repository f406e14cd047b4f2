"""Open registry exports (CSV or XLSX) as streaming tables whose columns are found by name.

:func:`open_table` reads a file *unchanged*:

* CSV in UTF-8 (with or without BOM) or Windows-1252. The encoding is decided by one streaming
  pass over the bytes: strict UTF-8 first, else strict cp1252; a file that decodes under neither,
  or contains NUL bytes (UTF-16, binary), is refused with a :class:`~carbonkg.errors.LoadError`.
* XLSX (first sheet, read-only mode), each cell turned into the text a CSV export would have:
  whole numbers without ``.0``, dates as ISO ``YYYY-MM-DD`` (``YYYY-MM-DD HH:MM:SS`` if a time
  is set), booleans as ``True``/``False``, empty cells as ``""``.

Columns are matched by *normalised* name (strip, collapse whitespace runs, casefold), so ACR's
``'Status Effective  (GMT)'`` and ``'Status Effective (GMT)'`` are one column. Columns without a
name (empty, or pandas' ``Unnamed: N``) are ignored; a name that appears twice is an error.

Rows stream as ``(rownum, {header: value})`` with ``rownum`` counting data rows from 1 (the
header is not counted; blank lines are skipped and not counted). Short rows are padded with
``""``. A non-empty cell beyond the header, or under a column without a name, is a row error.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
>>> _ = p.write_bytes(b"\\xef\\xbb\\xbfID,Status Effective  (GMT),Unnamed: 2\\n1,1/22/2026 7:12:08 PM,\\n")
>>> t = open_table(p)
>>> t.encoding, t.header
('utf-8-sig', ['ID', 'Status Effective  (GMT)', 'Unnamed: 2'])
>>> require_columns(t, ["id", "Status Effective (GMT)"])
{'id': 'ID', 'Status Effective (GMT)': 'Status Effective  (GMT)'}
>>> list(t.rows())
[(1, {'ID': '1', 'Status Effective  (GMT)': '1/22/2026 7:12:08 PM'})]
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from carbonkg.errors import LoadError, RowError

__all__ = [
    "Table",
    "header_signature",
    "is_unnamed",
    "normalise_name",
    "open_table",
    "require_columns",
]

_CHUNK = 1 << 16
#: CSV field-size limit used while reading (Cercarbono cells hold whole JSON-like documents).
FIELD_SIZE_LIMIT = 1 << 27
_UNNAMED_RE = re.compile(r"unnamed: ?\d+(?:_level_\d+)?")
_XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})


def normalise_name(name: str) -> str:
    """Normalise a header name for lookup: strip, collapse whitespace runs, casefold.

    >>> normalise_name("  Status Effective  (GMT) ") == normalise_name("status effective (gmt)")
    True
    """
    return " ".join(name.split()).casefold()


def is_unnamed(name: str) -> bool:
    """True for a column without a name: empty, or pandas' ``Unnamed: N``.

    >>> is_unnamed(""), is_unnamed("Unnamed: 31"), is_unnamed("Vintage")
    (True, True, False)
    """
    key = normalise_name(name)
    return not key or _UNNAMED_RE.fullmatch(key) is not None


def header_signature(header: Iterable[str]) -> frozenset[str]:
    """The set of normalised names of the named columns, for recognising an export by header.

    >>> sorted(header_signature(["Vintage ", "Serial  Number", "Unnamed: 2", ""]))
    ['serial number', 'vintage']
    >>> header_signature(["Vintage", "Serial Number"]) <= header_signature(["Serial Number", "Vintage", "X"])
    True
    """
    return frozenset(normalise_name(h) for h in header if not is_unnamed(h))


def _file_error(path: str, reason: str, *, row: int | None = None, column: str | None = None) -> LoadError:
    return LoadError([RowError(file=path, row=row, column=column, value=None, reason=reason)])


class Table:
    """A readable export: ``path``, ``header`` (names as in the file), ``encoding``, ``rows()``.

    ``encoding`` is ``'utf-8'``, ``'utf-8-sig'`` (UTF-8 with BOM) or ``'cp1252'`` for CSV and
    ``None`` for XLSX. Iterating a table is the same as calling :meth:`rows`; every call reads
    the file again from the start, streaming.
    """

    __slots__ = ("path", "header", "encoding", "format", "_names", "_keep")

    def __init__(self, path: Path, header: list[str], encoding: str | None, fmt: str) -> None:
        self.path = path
        self.header = header
        self.encoding = encoding
        self.format = fmt
        # normalised name -> position, for named columns only; duplicates are refused.
        names: dict[str, int] = {}
        dupes: dict[str, list[int]] = {}
        for i, name in enumerate(header):
            if is_unnamed(name):
                continue
            key = normalise_name(name)
            if key in names:
                dupes.setdefault(key, [names[key]]).append(i)
            else:
                names[key] = i
        if dupes:
            errors = []
            for positions in dupes.values():
                where = ", ".join(str(p + 1) for p in positions[:-1]) + f" and {positions[-1] + 1}"
                errors.append(
                    RowError(
                        file=str(path),
                        row=None,
                        column=header[positions[0]],
                        value=None,
                        reason=f"appears more than once in the header (columns {where})",
                    )
                )
            raise LoadError(errors)
        self._names = names
        self._keep = [(i, header[i]) for i in sorted(names.values())]

    def __repr__(self) -> str:
        return f"Table({str(self.path)!r}, format={self.format!r}, encoding={self.encoding!r}, columns={len(self._keep)})"

    @property
    def columns(self) -> list[str]:
        """Header names of the named columns, in file order (unnamed columns left out)."""
        return [name for _, name in self._keep]

    def column(self, name: str) -> str | None:
        """The header name as written in the file for ``name`` (matched normalised), or ``None``."""
        i = self._names.get(normalise_name(name))
        return None if i is None else self.header[i]

    def error(self, row: int | None, column: str | None, value: str | None, reason: str) -> RowError:
        """A :class:`RowError` about this table's file."""
        return RowError(file=str(self.path), row=row, column=column, value=value, reason=reason)

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        return self.rows()

    def rows(self, errors: list[RowError] | None = None) -> Iterator[tuple[int, dict[str, str]]]:
        """Yield ``(rownum, {header name: cell text})`` for every data row, streaming.

        A row with a non-empty cell beyond the header or under an unnamed column is bad: if
        ``errors`` is given, its :class:`RowError` is appended there and the row skipped;
        otherwise :class:`LoadError` is raised at that row. Malformed CSV (such as an
        unterminated quote at the end of a truncated file) always raises :class:`LoadError`.
        """
        records = self._records()
        next(records, None)  # header
        width = len(self.header)
        keep = self._keep
        named = {i for i, _ in keep}
        rownum = 0
        for cells in records:
            rownum += 1
            problem = None
            n = len(cells)
            if n > width:
                for j in range(width, n):
                    if cells[j].strip():
                        problem = self.error(
                            rownum, f"#{j + 1}", cells[j], f"is in a cell beyond the header's {width} columns"
                        )
                        break
            if problem is None and len(named) != width:
                for j in range(min(n, width)):
                    if j not in named and cells[j].strip():
                        problem = self.error(
                            rownum, self.header[j] or f"#{j + 1}", cells[j], "is in a column without a name"
                        )
                        break
            if problem is not None:
                if errors is None:
                    raise LoadError([problem])
                errors.append(problem)
                continue
            if n >= width:
                yield rownum, {name: cells[i] for i, name in keep}
            else:
                yield rownum, {name: (cells[i] if i < n else "") for i, name in keep}

    # ---------------------------------------------------------------- record streams

    def _records(self) -> Iterator[list[str]]:
        """Non-blank records (header first) as lists of strings."""
        if self.format == "xlsx":
            yield from _xlsx_records(self.path)
        else:
            yield from _csv_records(self.path, self.encoding or "utf-8")


def _csv_records(path: Path, encoding: str) -> Iterator[list[str]]:
    if csv.field_size_limit() < FIELD_SIZE_LIMIT:
        csv.field_size_limit(FIELD_SIZE_LIMIT)
    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, strict=True)
        datarow = 0  # data rows read so far (header excluded), for error messages
        seen_header = False
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                row = datarow + 1 if seen_header else None
                reason = str(exc)
                if "unexpected end of data" in reason:
                    reason = "ends inside a quoted cell (unterminated quote: is the file truncated?)"
                else:
                    reason = f"is not well-formed CSV ({reason}, near line {reader.line_num})"
                raise _file_error(str(path), reason, row=row) from None
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank line
            if seen_header:
                datarow += 1
            seen_header = True
            yield record


def _cell_text(value: object) -> str:
    """The text a CSV export would hold for an XLSX cell value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _xlsx_records(path: Path) -> Iterator[list[str]]:
    import openpyxl  # imported lazily: CSV-only runs never pay for it

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for bad files
        raise _file_error(str(path), f"is not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    try:
        if not wb.worksheets:
            return
        for values in wb.worksheets[0].iter_rows(values_only=True):
            cells = [_cell_text(v) for v in values]
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                yield cells
    finally:
        wb.close()


def _detect_encoding(path: Path) -> str:
    """Scan the bytes once: NUL bytes are refused; strict UTF-8 first, then strict cp1252."""
    spath = str(path)
    utf8 = codecs.getincrementaldecoder("utf-8")("strict")
    cp1252 = codecs.getincrementaldecoder("cp1252")("strict")
    utf8_ok = cp_ok = True
    utf8_err = cp_err = ""
    offset = 0
    bom = False
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            if offset == 0:
                bom = chunk.startswith(codecs.BOM_UTF8)
            nul = chunk.find(b"\x00")
            if nul >= 0:
                raise _file_error(
                    spath, f"contains NUL bytes (byte offset {offset + nul}): not a text CSV (UTF-16 or binary?)"
                )
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError as exc:
                    utf8_ok = False
                    utf8_err = f"byte 0x{chunk[exc.start]:02x} at offset {offset + exc.start}"
            if cp_ok:
                try:
                    cp1252.decode(chunk)
                except UnicodeDecodeError as exc:
                    cp_ok = False
                    cp_err = f"byte 0x{chunk[exc.start]:02x} at offset {offset + exc.start}"
            offset += len(chunk)
    if offset == 0:
        raise _file_error(spath, "file is empty")
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
            utf8_err = "an incomplete multi-byte sequence at the end"
    if utf8_ok:
        return "utf-8-sig" if bom else "utf-8"
    if cp_ok:
        return "cp1252"
    raise _file_error(spath, f"is neither UTF-8 ({utf8_err}) nor Windows-1252 ({cp_err}) text")


def open_table(path: str | os.PathLike[str]) -> Table:
    """Open a CSV or XLSX export and read its header; rows are read later, streaming.

    Raises :class:`LoadError` for an empty file (0 bytes: ``"file is empty"``), a file without a
    header row, undecodable or NUL-containing text, an unreadable workbook, malformed CSV in the
    header, or a header naming one column twice. A header-only file is valid (no rows).
    """
    p = Path(path)
    spath = str(p)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise _file_error(spath, f"cannot be read ({exc.strerror or exc})") from None
    if not p.is_file():
        raise _file_error(spath, "is not a file")
    if size == 0:
        raise _file_error(spath, "file is empty")
    if p.suffix.lower() in _XLSX_SUFFIXES:
        encoding, fmt = None, "xlsx"
        records = _xlsx_records(p)
    else:
        encoding, fmt = _detect_encoding(p), "csv"
        records = _csv_records(p, encoding)
    try:
        first = next(records, None)
    finally:
        records.close()  # release the file (or workbook) now, not at garbage collection
    if first is None:
        raise _file_error(spath, "has no header row (only blank lines)")
    return Table(p, list(first), encoding, fmt)


def require_columns(
    table: Table,
    required: Iterable[str],
    aliases: Mapping[str, Sequence[str]] | None = None,
    *,
    optional: Iterable[str] = (),
) -> dict[str, str]:
    """Map each canonical column name to the header name as written in ``table``.

    A column is found under its canonical name or, failing that, under the first of its
    ``aliases`` present (all matched normalised). Missing ``optional`` columns are left out of
    the result; a missing required column is a :class:`LoadError` listing the expected columns
    and the columns found.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("Vintage,Quantity of Offset Credits\\n2025,5\\n", encoding="utf-8")
    >>> require_columns(open_table(p), ["vintage", "quantity"], {"quantity": ["Quantity of Offset Credits"]})
    {'vintage': 'Vintage', 'quantity': 'Quantity of Offset Credits'}
    >>> require_columns(open_table(p), ["Vintage", "Serial Number"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    carbonkg.errors.LoadError: ...: missing required column 'Serial Number' (expected: 'Vintage', 'Serial Number'; found: 'Vintage', 'Quantity of Offset Credits')
    """
    aliases = aliases or {}
    required = list(required)
    found: dict[str, str] = {}
    missing: list[str] = []
    for group, is_required in ((required, True), (list(optional), False)):
        for canonical in group:
            for candidate in (canonical, *aliases.get(canonical, ())):
                actual = table.column(candidate)
                if actual is not None:
                    found[canonical] = actual
                    break
            else:
                if is_required:
                    missing.append(canonical)
    if missing:
        def describe(name: str) -> str:
            alts = aliases.get(name, ())
            return repr(name) + (f" (or {', '.join(repr(a) for a in alts)})" if alts else "")

        plural = "s" if len(missing) > 1 else ""
        reason = (
            f"missing required column{plural} {', '.join(describe(m) for m in missing)} "
            f"(expected: {', '.join(repr(r) for r in required)}; "
            f"found: {', '.join(repr(c) for c in table.columns)})"
        )
        raise _file_error(str(table.path), reason)
    return found
