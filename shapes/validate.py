"""Validate carbonkg data against the shape sets, by either path, and trace results to source rows.

Shape sets (each also loads ``components.ttl``):

=================  ==========================================================================
``core``           ``core.ttl`` + generated ``concepts.ttl``: one node shape per class
``registry``       ``registry.ttl``: consistency within one registry
``cross-registry`` ``cross-registry.ttl``: double issuance, conversions, double use and claims
``labels``         ``labels.ttl``: CORSIA, corresponding adjustment, ICVCM CCP, Article 6 order
=================  ==========================================================================

Engines: ``fast`` (default; :mod:`carbonkg.shapes.fast`, SPARQL on the Oxigraph store) and
``pyshacl`` (:mod:`carbonkg.shapes.reference`, the reference implementation, on an rdflib copy).
Both see the store's live graphs except the stored validation report (the ICVCM decisions that
the label shapes compare with are in the derived graph ``links/methodologies``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from carbonkg.errors import UsageError
from carbonkg.shapes.model import INFO, VIOLATION, WARNING, Result, iri_of

SETS: dict[str, tuple[str, ...]] = {
    "core": ("core.ttl", "concepts.ttl"),
    "registry": ("registry.ttl",),
    "cross-registry": ("cross-registry.ttl",),
    "labels": ("labels.ttl",),
}
ALWAYS = ("components.ttl",)
ENGINES = ("fast", "pyshacl")

#: static graph name (under https://w3id.org/carbonkg/graph/) of a stored report
REPORT_GRAPH = "validation-report"

VOCAB = "https://w3id.org/carbonkg/vocab/"
_RAW = b"<https://w3id.org/carbonkg/ontology#rawRecord>"


def package_dir() -> Path:
    return Path(str(files("carbonkg.shapes")))


def resolve_sets(sets: Iterable[str] | None) -> list[str]:
    chosen = list(sets) if sets else list(SETS)
    if "all" in chosen:
        return list(SETS)
    unknown = [s for s in chosen if s not in SETS]
    if unknown:
        raise UsageError(f"unknown shape set {', '.join(unknown)} (known: {', '.join(SETS)}, all)")
    return [s for s in SETS if s in chosen]


def shape_paths(sets: Iterable[str] | None = None) -> list[Path]:
    root = package_dir()
    names = list(ALWAYS) + [name for s in resolve_sets(sets) for name in SETS[s]]
    return [root / name for name in names]


def load_shapes(sets: Iterable[str] | None = None) -> Graph:
    graph = Graph()
    for path in shape_paths(sets):
        graph.parse(path, format="turtle")
    return graph


# -- data sources -------------------------------------------------------------------------------


class Data:
    """What a validation reads: a SPARQL runner over the data, and an rdflib copy on demand."""

    def __init__(self, run: Callable[[str], Iterable], dump: Callable[[], bytes]) -> None:
        self.run = run
        self._dump = dump

    def to_graph(self) -> Graph:
        from carbonkg.shapes.reference import PreparedQueryGraph

        graph = PreparedQueryGraph()
        graph.parse(data=self._dump(), format="nt")
        return graph

    @classmethod
    def from_store(cls, store) -> Data:
        """The live graphs of an :class:`~carbonkg.store.EmbeddedStore`, less the stored report."""
        from carbonkg.store import STATIC_GRAPH_BASE

        report = ox.NamedNode(STATIC_GRAPH_BASE + REPORT_GRAPH)
        # the live graphs, and the store's own default graph (SPARQL Update may write there)
        graphs = [g for g in store.live_graphs() if g != report] + [ox.DefaultGraph()]
        catalog = store.catalog()
        # The store's merged graph holds each triple once (a repeated triple must not count twice
        # in a shape's SUM); else Oxigraph answers much faster over the union of all graphs than
        # over a list of default graphs; use it when the store holds nothing else that could
        # match a shape. (The stored report holds no ck: records, so it may be read too.)
        merged = catalog.merged
        union = catalog.union_exact

        def run(sparql: str):
            if merged:
                return store.query(sparql)
            if union:
                return store.raw.query(sparql, use_default_graph_as_union=True)
            return store.raw.query(sparql, default_graph=graphs, named_graphs=graphs[:-1])

        def dump() -> bytes:
            # the raw JSON of each source row is large and no shape reads it: leave it out
            sources = store.query_default_graphs() if merged else graphs
            chunks = [store.raw.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g) for g in sources]
            return b"".join(line for c in chunks if c for line in c.splitlines(keepends=True) if _RAW not in line)

        return cls(run, dump)

    @classmethod
    def from_oxigraph(cls, store: ox.Store) -> Data:
        """Data in the default graph of a plain pyoxigraph store (tests, examples)."""

        def run(sparql: str):
            return store.query(sparql)

        def dump() -> bytes:
            return store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())

        return cls(run, dump)

    @classmethod
    def from_turtle(cls, *texts_or_paths: str | Path) -> Data:
        store = ox.Store()
        for item in texts_or_paths:
            if isinstance(item, Path):
                store.load(path=str(item), format=ox.RdfFormat.TURTLE)
            else:
                store.load(item, format=ox.RdfFormat.TURTLE)
        return cls.from_oxigraph(store)


# -- reports ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """A source row that states a record involved in a result."""

    node: str  # IRI of the record
    registry: str  # registry slug
    file: str
    row: int
    row_iri: str


@dataclass
class Report:
    results: list[Result]
    engine: str
    sets: list[str]
    seconds: float
    sources: dict[str, list[Source]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def conforms(self) -> bool:
        return not any(r.severity == VIOLATION for r in self.results)

    def count(self, severity: str) -> int:
        return sum(1 for r in self.results if r.severity == severity)

    def by_shape(self) -> list[tuple[str, str, int]]:
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for r in self.results:
            counts[(r.shape, r.severity)] += 1
        order = {VIOLATION: 0, WARNING: 1, INFO: 2}
        return sorted(((shape, sev, n) for (shape, sev), n in counts.items()),
                      key=lambda t: (order.get(t[1], 3), t[0]))

    def involved(self, result: Result) -> list[str]:
        """IRIs of the records a result involves: its focus node and an IRI value that is a
        record (not a vocabulary concept)."""
        nodes = []
        for term in (result.focus, result.value):
            iri = iri_of(term)
            if iri and not iri.startswith(VOCAB) and iri not in nodes:
                nodes.append(iri)
        return nodes

    def sources_of(self, result: Result) -> list[Source]:
        """Source rows of the records involved, each row once (in the order of the records)."""
        found: list[Source] = []
        rows = set()
        for node in self.involved(result):
            for source in self.sources.get(node, ()):
                if source.row_iri not in rows:
                    rows.add(source.row_iri)
                    found.append(source)
        return found


def sort_results(results: Iterable[Result]) -> list[Result]:
    order = {VIOLATION: 0, WARNING: 1, INFO: 2}
    return sorted(results, key=lambda r: (order.get(r.severity, 3), r.shape, r.focus, r.path or "", r.value or ""))


_ROW = ("?row <http://www.w3.org/ns/csvw#rownum> ?rownum . ?export <http://www.w3.org/ns/csvw#row> ?row ; "
        "<https://w3id.org/carbonkg/ontology#fileName> ?file ; <https://w3id.org/carbonkg/ontology#recordedIn> ?registry .")
_DIRECT = "{{ ?row <http://www.w3.org/ns/csvw#describes> <{node}> . " + _ROW + " BIND (<{node}> AS ?node) }}"
#: a node no row describes (an organisation, a location, a methodology): rows of records that point at it
_ONE_HOP = ("{{ SELECT ?node ?registry ?file ?rownum ?row WHERE {{ ?subject ?p <{node}> . "
            "?row <http://www.w3.org/ns/csvw#describes> ?subject . " + _ROW + " BIND (<{node}> AS ?node) }} LIMIT {limit} }}")


def find_sources(run: Callable[[str], Iterable], nodes: Iterable[str], *, chunk: int = 200, one_hop_limit: int = 3) -> dict[str, list[Source]]:
    """Rows (registry, file and row number) that describe each node, or, for a node that no row
    describes, up to ``one_hop_limit`` rows of records that point at it.

    Each node is a constant in its own UNION branch: Oxigraph then answers from its indexes."""
    nodes = sorted(set(nodes))
    found: dict[str, set[Source]] = defaultdict(set)

    def collect(template: str, batch: list[str]) -> None:
        for i in range(0, len(batch), chunk):
            branches = " UNION ".join(template.format(node=n, limit=one_hop_limit) for n in batch[i:i + chunk])
            for s in run(f"SELECT DISTINCT ?node ?registry ?file ?rownum ?row WHERE {{ {branches} }}"):
                found[s["node"].value].add(Source(s["node"].value, s["registry"].value.rsplit("/", 1)[-1],
                                                  s["file"].value, int(s["rownum"].value), s["row"].value))

    collect(_DIRECT, nodes)
    collect(_ONE_HOP, [n for n in nodes if n not in found])
    return {node: sorted(rows, key=lambda r: (r.registry, r.file, r.row)) for node, rows in found.items()}


def validate(
    data: Data,
    *,
    sets: Sequence[str] | None = None,
    engine: str = "fast",
    with_sources: bool = True,
) -> Report:
    """Validate ``data`` against the chosen shape sets with one engine."""
    chosen = resolve_sets(sets)
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    shapes = load_shapes(chosen)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    if engine == "fast":
        from carbonkg.shapes.fast import FastValidator

        validator = FastValidator(shapes)
        results = validator.validate(data.run)
        timings = dict(validator.timings)
    else:
        from carbonkg.shapes.reference import validate_graph

        results = validate_graph(data.to_graph(), shapes)
    seconds = time.perf_counter() - started
    results = sort_results(dedupe(results))
    report = Report(results, engine, chosen, seconds, timings=timings)
    if with_sources and results:
        nodes = {n for r in results for n in report.involved(r)}
        report.sources = find_sources(data.run, nodes)
    return report


def dedupe(results: Iterable[Result]) -> list[Result]:
    seen: dict[tuple, Result] = {}
    for r in results:
        seen.setdefault(r.key, r)
    return list(seen.values())


def validate_store(store, *, sets: Sequence[str] | None = None, engine: str = "fast", with_sources: bool = True) -> Report:
    """Validate the live graphs of a store."""
    return validate(Data.from_store(store), sets=sets, engine=engine, with_sources=with_sources)
