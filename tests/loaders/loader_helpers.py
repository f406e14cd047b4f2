"""Helpers shared by the loader tests: read the real CSV independently of the loaders, convert real
exports once, and make synthetic copies of a real row with one cell broken (for error messages)."""

from __future__ import annotations

import csv
import functools
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import rdflib
from rdflib import RDF, Namespace, URIRef

from carbonkg import iris
from carbonkg.loaders.pipeline import FileResult, LoadRun, convert_file, load_file, open_source
from carbonkg.store import EmbeddedStore

EXPORTS = Path(__file__).resolve().parents[2] / "data" / "registry-exports"
CK = Namespace("https://w3id.org/carbonkg/ontology#")
CSVW = Namespace("http://www.w3.org/ns/csvw#")
PROV = Namespace("http://www.w3.org/ns/prov#")


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def value(graph: rdflib.Graph, subject: URIRef, predicate: URIRef):
    values = set(graph.objects(subject, predicate))
    assert len(values) <= 1, (subject, predicate, values)
    return next(iter(values), None)


def decimal(graph: rdflib.Graph, subject: URIRef, predicate: URIRef) -> Decimal | None:
    found = value(graph, subject, predicate)
    return None if found is None else Decimal(str(found))


def concept(scheme: str, slug: str) -> URIRef:
    return URIRef(iris.concept(scheme, slug))


def gmt(text: str) -> datetime:
    return datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p")


def us_date(text: str):
    return datetime.strptime(text, "%m/%d/%Y").date()


def serial_parts(text: str) -> tuple[str, int, int]:
    head, end = text.split(" to ")
    prefix, start = head.rsplit("-", 1)
    return prefix, int(start), int(end)


def yes_labels(row: dict[str, str], columns: dict[str, tuple[str, str | None]]) -> set[tuple[str, str | None]]:
    return {columns[c] for c in columns if row.get(c, "").strip() == "Yes"}


def labels_of(graph: rdflib.Graph, subject: URIRef) -> set[tuple[str, str | None]]:
    found = set()
    for attestation in graph.objects(subject, CK.hasLabel):
        label = str(value(graph, attestation, CK.labelType)).rsplit("/", 1)[-1]
        period = value(graph, attestation, CK.compliancePeriod)
        found.add((label, str(period).rsplit("/", 1)[-1] if period else None))
    return found


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def convert_all(files: dict[str, Path], tmp: Path) -> dict[str, tuple[FileResult, rdflib.Graph]]:
    """Convert each export (table kind → path) with one fixed load run; parse the triples back."""
    out = {}
    run = LoadRun(run_id="test")
    for kind, path in files.items():
        sink = tmp / f"{kind}.nt"
        result = convert_file(open_source(path), sink, run=run)
        out[kind] = (result, rdflib.Graph().parse(sink, format="nt"))
    return out


def rejected(path: Path) -> list[str]:
    result = load_file(EmbeddedStore(None), path)
    assert result.status == "rejected"
    return [str(e) for e in result.errors]


class RegistryExports:
    """The real export files of one registry, by table kind."""

    def __init__(self, registry: str, specs) -> None:
        self.registry = registry
        self.files = {spec.table: EXPORTS / registry / f"{spec.table}.csv" for spec in specs}
        self.converted = functools.cache(self._convert)

    def _convert(self, table: str) -> tuple[FileResult, rdflib.Graph]:
        with tempfile.TemporaryDirectory() as tmp:
            sink = Path(tmp) / "out.nt"
            result = convert_file(open_source(self.files[table]), sink)
            graph = rdflib.Graph().parse(sink, format="nt")
        return result, graph

    def row_iri(self, table: str, rownum: int) -> URIRef:
        return URIRef(iris.row(iris.export(self.registry, f"{table}.csv"), rownum))

    def described(self, graph: rdflib.Graph, table: str, rownum: int, cls: URIRef) -> list[URIRef]:
        """The entities of class ``cls`` that data row ``rownum`` describes."""
        return [e for e in graph.objects(self.row_iri(table, rownum), CSVW.describes) if (e, RDF.type, cls) in graph]

    def one(self, graph: rdflib.Graph, table: str, rownum: int, cls: URIRef) -> URIRef:
        found = self.described(graph, table, rownum, cls)
        assert len(found) == 1, (table, rownum, cls, found)
        return found[0]

    def broken_copy(self, tmp_path: Path, table: str, column: str, bad: str, rownum: int = 1) -> Path:
        """A synthetic file: the real header and real row ``rownum`` with one cell replaced."""
        with self.files[table].open(encoding="utf-8-sig", newline="") as fh:
            records = list(csv.reader(fh))
        header, record = records[0], list(records[rownum])
        record[header.index(column)] = bad
        return write_csv(tmp_path / f"{table}.csv", header, [record])
