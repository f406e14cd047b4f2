"""Run one query against a read-only store and write its answer in the chosen serialisation.

This is the code a query worker runs (:mod:`carbonkg.server.workers`); ``carbonkg query`` runs it
in its own process. Everything is pyoxigraph's native parsers and serialisers:

- SELECT: the solutions are written as SPARQL TSV (one solution per line) through a writer that
  counts them and stops the evaluation once the result limit is passed; TSV goes straight into
  the answer, other formats are kept in memory (a temporary file past 8 MiB), parsed back
  (lossless) and written as JSON, XML or CSV.
- CONSTRUCT/DESCRIBE: the triples are streamed into the RDF serialiser through a counter that
  stops at the limit.
- A truncated answer is marked in the body where the format has room (see :func:`_mark`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from carbonkg.server import dataset as ds

RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
#: prefixes written at the top of Turtle answers
PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "ck": "https://w3id.org/carbonkg/ontology#",
}
_SPILL_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class QueryTask:
    sparql: str
    base_iri: str
    dataset: ds.DatasetSpec
    formats: dict[str, str | None]  # kind -> format name, None when the client accepts none
    max_results: int | None  # None: no limit (command line)
    limit_doc: str = ""  # IRI of the documentation of the limit, linked from truncated answers
    # False when the query has no GRAPH (safety.QueryAnalysis.reads_named_graphs): then the live
    # graphs are not named to the store, which costs ~75 µs per query for ~60 graphs
    reads_named_graphs: bool = True

    def to_wire(self) -> tuple:
        """The task as plain values for the worker's socket (a slotted dataclass pickles ~10× slower)."""
        d = self.dataset
        return (self.sparql, self.base_iri, (d.default, d.named, d.store_default), self.formats, self.max_results,
                self.limit_doc, self.reads_named_graphs)

    @classmethod
    def from_wire(cls, wire: tuple) -> QueryTask:
        sparql, base_iri, dataset, formats, max_results, limit_doc, reads_named_graphs = wire
        spec = _DEFAULT_SPEC if dataset == _DEFAULT_WIRE else ds.DatasetSpec(*dataset)
        return cls(sparql, base_iri, spec, formats, max_results, limit_doc, reads_named_graphs)


@dataclass(slots=True)
class Answer:
    kind: str  # solutions | boolean | graph
    format: str | None  # None: the client accepts no format for this kind
    count: int = 0
    truncated: bool = False
    data: bytes | None = None  # the body, when small
    path: str | None = None  # or the file holding it
    size: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> tuple:
        """The answer as plain values for the worker's socket (see :meth:`QueryTask.to_wire`)."""
        return (self.kind, self.format, self.count, self.truncated, self.data, self.path, self.size, self.extra)

    @classmethod
    def from_wire(cls, wire: tuple) -> Answer:
        return cls(*wire)


class ResultLimitReached(Exception):
    """Raised inside a serialiser's writer to stop the evaluation at the limit."""


class _LineCap:
    """A binary writer that counts lines, keeps the first ``max_lines`` and stops the writer
    after them. Kept lines go to ``sink`` when there is one, else into memory (a temporary file
    past ``_SPILL_BYTES``), read back with :meth:`kept`; :meth:`close` drops them.

    A plain object with ``write`` and ``flush`` (all pyoxigraph's serialisers call), not an
    ``io`` class: this and :class:`Spool` are made for every query."""

    __slots__ = ("max_lines", "lines", "sink", "chunks", "size", "file")

    def __init__(self, max_lines: int, sink: IO[bytes] | Spool | None = None) -> None:
        self.max_lines = max_lines
        self.lines = 0
        self.sink = sink
        self.chunks: list[bytes] = []
        self.size = 0
        self.file: IO[bytes] | None = None

    def flush(self) -> None:
        return None

    def write(self, data: bytes) -> int:  # type: ignore[override]
        view = data if type(data) is bytes else bytes(data)
        newlines = view.count(b"\n")
        if self.lines + newlines < self.max_lines:
            self.lines += newlines
            self._keep(view)
            return len(view)
        # keep up to and including the max_lines-th newline, then stop
        cut = -1
        for _ in range(self.max_lines - self.lines):
            cut = view.index(b"\n", cut + 1)
        self._keep(view[: cut + 1])
        self.lines = self.max_lines
        if cut + 1 < len(view):
            raise ResultLimitReached
        return len(view)

    def _keep(self, data: bytes) -> None:
        if self.sink is not None:
            self.sink.write(data)
        elif self.file is not None:
            self.file.write(data)
        else:
            self.chunks.append(data)
            self.size += len(data)
            if self.size > _SPILL_BYTES:
                self.file = tempfile.TemporaryFile()
                self.file.writelines(self.chunks)
                self.chunks = []

    def kept(self) -> bytes | IO[bytes]:
        """What was kept (without a sink): bytes, or the temporary file rewound."""
        if self.file is None:
            return b"".join(self.chunks)
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
        self.chunks = []


class Spool:
    """A binary writer (``write``, ``flush``) that keeps small answers in memory and moves big
    ones to a file in ``spool_dir`` (created only then: a small answer costs no file system call)."""

    __slots__ = ("spool_dir", "prefix", "inline_bytes", "chunks", "file", "path", "size")

    def __init__(self, spool_dir: str | None, inline_bytes: int, prefix: str = "answer-") -> None:
        self.spool_dir = spool_dir
        self.prefix = prefix
        self.inline_bytes = inline_bytes
        self.chunks: list[bytes] = []
        self.file: IO[bytes] | None = None
        self.path: str | None = None
        self.size = 0

    def flush(self) -> None:
        return None

    def write(self, data: bytes) -> int:
        data = data if type(data) is bytes else bytes(data)
        n = len(data)
        self.size += n
        if self.file is not None:
            self.file.write(data)
        elif self.spool_dir is not None and self.size > self.inline_bytes:
            fd, self.path = tempfile.mkstemp(prefix=self.prefix, dir=self.spool_dir)
            self.file = os.fdopen(fd, "wb")
            self.file.writelines(self.chunks)
            self.file.write(data)
            self.chunks = []
        else:
            self.chunks.append(data)
        return n

    def finish(self, answer: Answer) -> Answer:
        if self.file is not None:
            self.file.close()
            answer.path = self.path
        else:
            answer.data = b"".join(self.chunks)
        answer.size = self.size
        return answer

    def discard(self) -> None:
        """Drop a half-written answer (the query failed)."""
        if self.file is not None:
            self.file.close()
        if self.path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)


def truncation_note(kind: str, limit: int) -> str:
    what = "solutions" if kind == "solutions" else "triples"
    return (
        f"partial result: this server answers at most {limit} {what} per query; "
        f"use ORDER BY with LIMIT and OFFSET to page through the rest"
    )


_DEFAULT_SPEC = ds.DatasetSpec()
_DEFAULT_WIRE = (None, None, False)


class Executor:
    """A read-only view of the store that runs queries; reopened when the store changes.

    ``store`` is the embedded store's folder, or the URL of a remote engine
    (:func:`carbonkg.store.open_store`), whose catalog is read again at each new generation."""

    def __init__(self, store: Path | str, **remote_options: Any) -> None:
        self.target = store
        self.remote = isinstance(store, str) and "://" in store
        self.remote_options = remote_options
        self._store: Any = None
        self._catalog: ds.Catalog | None = None
        self._default_dataset: dict[str, Any] = {}
        self._default_dataset_unnamed: dict[str, Any] = {}
        self.generation: int | None = None

    def refresh(self, generation: int) -> None:
        if self._store is not None and generation == self.generation:
            return
        if self.remote:
            if self._store is None:
                from carbonkg.store.remote import RemoteStore

                self._store = RemoteStore.from_url(str(self.target), read_only=True, **self.remote_options)
        else:
            from carbonkg.store.embedded import EmbeddedStore

            self._store = None  # release the old snapshot first
            self._store = EmbeddedStore(Path(self.target), read_only=True)
        self._catalog = self._store.catalog()
        self._default_dataset = ds.resolve(ds.DatasetSpec(), self._catalog)  # most queries: built once
        self._default_dataset_unnamed = ds.without_named_graphs(self._default_dataset)
        self.generation = generation

    def reopen(self) -> None:
        """Open the store's current state now, whatever the generation."""
        generation = self.generation if self.generation is not None else 0
        self._store = None
        self.generation = None
        self.refresh(generation)

    @property
    def catalog(self) -> ds.Catalog:
        assert self._catalog is not None
        return self._catalog

    def run(self, task: QueryTask, out: IO[bytes] | Spool) -> Answer:
        if self.remote and task.dataset == _DEFAULT_SPEC:
            # the remote store names the live graphs itself, and asks again if a load replaced one
            results = self._store.query(task.sparql, base_iri=task.base_iri)
        else:
            if task.dataset != _DEFAULT_SPEC:
                dataset = ds.resolve(task.dataset, self.catalog)
            elif task.reads_named_graphs:
                dataset = self._default_dataset
            else:
                dataset = self._default_dataset_unnamed
            results = self._store.query(task.sparql, base_iri=task.base_iri, **dataset)
        if isinstance(results, ox.QueryBoolean):
            answer = Answer("boolean", task.formats.get("boolean"), count=1)
            if answer.format is not None:
                results.serialize(out, RESULT_FORMATS[answer.format])
        elif isinstance(results, ox.QuerySolutions):
            answer = Answer("solutions", task.formats.get("solutions"))
            if answer.format is not None:
                _write_solutions(results, answer, task, out)
        else:
            answer = Answer("graph", task.formats.get("graph"))
            if answer.format is not None:
                _write_triples(results, answer, task, out)
        return answer

    def ping(self) -> dict[str, Any]:
        return {"graphs": len(self.catalog.live), "generation": self.generation}


def _write_solutions(results: ox.QuerySolutions, answer: Answer, task: QueryTask, out: IO[bytes] | Spool) -> None:
    target = RESULT_FORMATS[answer.format or "json"]
    if task.max_results is None:
        results.serialize(out, target)
        answer.count = -1
        return
    # the header line and the solutions; TSV straight into the answer, other formats via TSV
    cap = _LineCap(task.max_results + 1, out if answer.format == "tsv" else None)
    try:
        try:
            results.serialize(cap, ox.QueryResultsFormat.TSV)
        except ResultLimitReached:
            answer.truncated = True
        answer.count = max(cap.lines - 1, 0)
        if answer.format == "tsv":
            return
        results_again = ox.parse_query_results(cap.kept(), ox.QueryResultsFormat.TSV)
        if not answer.truncated:
            results_again.serialize(out, target)
            return
        body = results_again.serialize(None, target) or b""
        out.write(_mark(body, answer.format or "", truncation_note("solutions", task.max_results), task.limit_doc))
    finally:
        cap.close()


def _write_triples(results: ox.QueryTriples, answer: Answer, task: QueryTask, out: IO[bytes] | Spool) -> None:
    limit = task.max_results

    def counted() -> Iterator[ox.Triple]:
        for triple in results:
            if limit is not None and answer.count >= limit:
                answer.truncated = True
                return
            answer.count += 1
            yield triple

    fmt = answer.format or "turtle"
    prefixes = PREFIXES if fmt == "turtle" else None
    ox.serialize(counted(), out, RDF_FORMATS[fmt], prefixes=prefixes)
    if answer.truncated and limit is not None:
        out.write(_mark(b"", fmt, truncation_note("graph", limit), task.limit_doc))


def _mark(body: bytes, fmt: str, note: str, doc: str) -> bytes:
    """The body with a visible truncation note, where the format has room for one:
    JSON results get ``head.link`` and top-level ``truncated``/``note`` members, XML results a
    ``<link>`` in ``<head>`` and a comment, Turtle and N-Triples a trailing comment, RDF/XML a
    trailing XML comment. CSV, TSV and JSON-LD carry the note in the response headers only."""
    if fmt == "json" and body:
        import json

        link = f',"link":[{json.dumps(doc)}]' if doc else ""
        head_end = body.find(b'},"results":')
        if head_end < 0:
            return body
        extra = f'{link}}},"truncated":true,"note":{json.dumps(note)},"results":'.encode()
        return body[:head_end] + extra + body[head_end + len(b'},"results":'):]
    if fmt == "xml" and body:
        link = f'<link href="{_xml_escape(doc)}"/>'.encode() if doc else b""
        body = body.replace(b"</head>", link + b"</head>", 1)
        return body + f"\n<!-- {_xml_comment(note)} -->\n".encode()
    if fmt in ("turtle", "ntriples"):
        return body + f"\n# {note}\n".encode()
    if fmt == "rdfxml":
        return body + f"\n<!-- {_xml_comment(note)} -->\n".encode()
    return body


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def _xml_comment(text: str) -> str:
    return text.replace("--", "- -")
