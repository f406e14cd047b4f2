"""Loading files: detect the registry and table, parse every row, then hand the triples to the
store as one unit.

A file is all or nothing. Rows are parsed into a temporary N-Triples file (memory stays flat
whatever the file size); if any row is bad, the file is rejected with every row error (capped)
and the store is not touched; otherwise the store swaps the file's graph in one step
(see :mod:`carbonkg.store`). A file whose checksum equals the loaded version is skipped.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from carbonkg import __version__, iris
from carbonkg.errors import LoadError, RowError, UsageError
from carbonkg.loaders import emit as E
from carbonkg.loaders.base import Emitter, Row, TableSpec, Uninterpreted
from carbonkg.loaders.emit import A, T, TripleWriter
from carbonkg.loaders.readers import Table, header_signature, normalise_name, open_table, require_columns
from carbonkg.store import EmbeddedStore

log = logging.getLogger(__name__)

#: how many row errors a rejected file reports one by one; the rest are counted
MAX_REPORTED_ERRORS = 50
SUFFIXES = (".csv", ".xlsx", ".xlsm")


@dataclass
class FileResult:
    path: Path
    status: str  # loaded | skipped | rejected
    registry: str | None = None
    table: str | None = None
    rows: int = 0
    triples: int = 0
    seconds: float = 0.0
    errors: list[RowError] = field(default_factory=list)
    more_errors: int = 0
    uninterpreted: Uninterpreted = field(default_factory=Uninterpreted)
    graph: str | None = None


class LoadRun:
    """One invocation of the loaders: a prov:Activity recorded in every graph it writes."""

    def __init__(self, *, started: datetime | None = None, run_id: str | None = None) -> None:
        self.started = started or datetime.now(timezone.utc).replace(microsecond=0)
        self.iri = iris.load_run(run_id or f"{self.started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}")


def all_specs() -> list[TableSpec]:
    from carbonkg.loaders import TABLE_SPECS

    return list(TABLE_SPECS)


def detect_spec(table: Table, *, registry: str | None = None, kind: str | None = None) -> TableSpec:
    """The table spec whose identifying columns the header has (the most specific one wins)."""
    specs = [s for s in all_specs() if (registry is None or s.registry == registry) and (kind is None or s.table == kind)]
    if registry is not None and kind is not None:
        if not specs:
            raise UsageError(f"no loader for registry {registry!r} and table {kind!r}")
        return specs[0]
    signature = header_signature(table.header)
    matches = []
    for spec in specs:
        needed = {normalise_name(c) for c in spec.identifying_columns}
        if needed <= signature:
            matches.append((len(needed), spec))
    if not matches:
        known = ", ".join(sorted(s.key for s in specs))
        raise LoadError([RowError(str(table.path), None, None, None,
                                  f"has a header that matches no known registry export ({known}); "
                                  "name one with --registry and --table")])
    matches.sort(key=lambda m: -m[0])
    best = [s for n, s in matches if n == matches[0][0]]
    if len(best) > 1:
        raise LoadError([RowError(str(table.path), None, None, None,
                                  "has a header that fits several exports ("
                                  + ", ".join(s.key for s in best) + "); name one with --registry and --table")])
    return best[0]


def file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named, and the export files found below folders named, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            yield path


def _write_provenance(out: Emitter, spec: TableSpec, path: Path, sha: str, size: int, table: Table, run: LoadRun) -> None:
    add = out.add
    export = E.iri(out.export_iri)
    dataset = E.iri(iris.entity(spec.registry, "dataset", spec.registry))
    add(export, A, T.RegistryExport)
    add(export, A, E.DCAT_DISTRIBUTION)
    add(export, A, E.CSVW_TABLE)
    add(export, T.fileName, E.literal(path.name))
    add(export, T.sha256, E.literal(sha))
    add(export, E.DCAT_BYTE_SIZE, E.integer(size))
    add(export, T.recordedIn, out.registry_token)
    add(export, T.tableKind, E.iri(iris.concept("table-kind", spec.table)))
    add(export, E.DCAT_MEDIA_TYPE, E.literal("text/csv" if table.format == "csv" else
                                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    if table.encoding:
        add(export, T.encoding, E.literal(table.encoding))
    add(export, E.PROV_GENERATED_BY, E.iri(run.iri))
    add(dataset, A, E.DCAT_DATASET)
    add(dataset, E.DCAT_DISTRIBUTION_OF, export)
    add(dataset, E.DCTERMS_PUBLISHER, out.registry_token)
    run_token = E.iri(run.iri)
    add(run_token, A, T.LoadRun)
    add(run_token, T.loaderVersion, E.literal(__version__))
    add(run_token, E.PROV_STARTED, E.xsd_datetime(run.started))


@dataclass(frozen=True)
class SourceFile:
    """An export opened and identified, before any row is read."""

    path: Path
    table: Table
    spec: TableSpec
    sha256: str
    size: int

    @property
    def export_iri(self) -> str:
        return iris.export(self.spec.registry, self.path.name)


def open_source(path: Path, *, registry: str | None = None, kind: str | None = None) -> SourceFile:
    sha, size = file_digest(path)
    table = open_table(path)
    return SourceFile(path, table, detect_spec(table, registry=registry, kind=kind), sha, size)


def convert_file(
    source: SourceFile, sink_path: Path, *, run: LoadRun | None = None, only_rows: set[int] | None = None
) -> FileResult:
    """Parse one export into N-Triples at ``sink_path``; raise LoadError if any row is bad.

    ``only_rows`` (for examples) emits just those data rows; the others are still counted."""
    run = run or LoadRun()
    started = time.perf_counter()
    spec, table, path = source.spec, source.table, source.path
    columns = require_columns(table, spec.required, spec.aliases, optional=spec.optional)
    result = FileResult(path=path, status="loaded", registry=spec.registry, table=spec.table)
    errors: list[RowError] = []
    with sink_path.open("w", encoding="utf-8", newline="\n") as sink:
        writer = TripleWriter(sink)
        out = Emitter(writer, spec.registry, source.export_iri)
        _write_provenance(out, spec, path, source.sha256, source.size, table, run)
        emit_row = spec.emit
        rows = 0
        for rownum, cells in table.rows(errors):
            rows = rownum
            if only_rows is not None and rownum not in only_rows:
                continue
            row = Row(str(path), rownum, cells, columns, errors, result.uninterpreted)
            out.start_row(row)
            try:
                emit_row(row, out)
            except ValueError as exc:  # a parser that a loader called directly
                row.error(None, None, str(exc))
        out.add(E.iri(out.export_iri), T.rowCount, E.integer(rows))
    result.rows = rows
    result.triples = writer.count
    result.seconds = time.perf_counter() - started
    if errors:
        raise LoadError(errors[:MAX_REPORTED_ERRORS], more=max(0, len(errors) - MAX_REPORTED_ERRORS))
    return result


def load_file(
    store: EmbeddedStore,
    path: Path,
    *,
    registry: str | None = None,
    kind: str | None = None,
    run: LoadRun | None = None,
    force: bool = False,
) -> FileResult:
    """Load one export into ``store`` as a unit; never raises for bad data (see ``status``)."""
    started = time.perf_counter()
    try:
        source = open_source(path, registry=registry, kind=kind)
        state = store.export_state(source.export_iri)
        if state is not None and state.sha256 == source.sha256 and not force:
            result = FileResult(path=path, status="skipped", registry=source.spec.registry,
                                table=source.spec.table, graph=state.graph_iri)
        else:
            with tempfile.TemporaryDirectory(prefix="carbonkg-") as tmp:
                sink = Path(tmp) / "triples.nt"
                result = convert_file(source, sink, run=run)
                result.graph = store.replace_export(source.export_iri, source.sha256, sink)
    except LoadError as exc:
        result = FileResult(path=path, status="rejected", errors=exc.errors, more_errors=exc.more)
    except OSError as exc:
        result = FileResult(path=path, status="rejected",
                            errors=[RowError(str(path), None, None, None, f"cannot be read ({exc.strerror or exc})")])
    result.seconds = time.perf_counter() - started
    return result


def load_paths(
    store: EmbeddedStore,
    paths: Sequence[Path],
    *,
    registry: str | None = None,
    kind: str | None = None,
    force: bool = False,
) -> Iterator[FileResult]:
    run = LoadRun()
    for path in iter_files(paths):
        yield load_file(store, path, registry=registry, kind=kind, run=run, force=force)


def default_store_path() -> Path:
    """``$CARBONKG_STORE`` or ``var/store`` under the current folder."""
    return Path(os.environ.get("CARBONKG_STORE", "var/store"))


def excerpt_ntriples(path: Path, rownums: Sequence[int], *, registry: str | None = None, kind: str | None = None) -> str:
    """The triples the loaders write for some data rows of a real export, deterministically:
    the whole file is read (so provenance is the file's), only those rows are emitted, and the
    load run is fixed. Used for the ontology's examples and the golden tests."""
    with tempfile.TemporaryDirectory(prefix="carbonkg-excerpt-") as tmp:
        sink = Path(tmp) / "excerpt.nt"
        run = LoadRun(started=datetime(2026, 1, 1, tzinfo=timezone.utc), run_id="example")
        convert_file(open_source(path, registry=registry, kind=kind), sink, run=run, only_rows=set(rownums))
        return sink.read_text(encoding="utf-8")
