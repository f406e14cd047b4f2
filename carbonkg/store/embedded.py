"""The one place that talks to the RDF store, beneath both the loaders and the server.

Atomic loads without one big transaction
----------------------------------------
Each registry export is loaded into a fresh *version graph* (``<export IRI>/graph/<sha256 prefix>-<random>``)
with oxigraph's bulk loader, which is fast but not transactional. The version becomes visible
only when one small update moves the export's catalog marker to it (the catalog is kept as the
names of empty graphs: :mod:`carbonkg.store.catalog`). Every query runs over the live graphs
(the current export versions plus the static graphs: ontology, vocabularies), so:

- a file that fails to parse never reaches the store;
- a crash or kill during a bulk load leaves a version graph that nothing points at: it is
  invisible, and removed the next time the store is opened for writing;
- a changed file replaces its own graph, and nothing else, by moving the marker; the old version
  graph is removed after the switch.

The default graph of queries: the merged graph
-----------------------------------------------
Two exports often state the same triple (a listing's name in a registry's projects file and in
its transactions file), so the union of the live graphs holds it twice, and Oxigraph 0.5 (like
Virtuoso) answers over a union of graphs with one solution per copy: ``COUNT`` and ``SUM`` over
the default graph would count it twice, where SPARQL's RDF merge counts it once. So the store
keeps a *merged graph* (:data:`~carbonkg.store.catalog.MERGED_GRAPH`) with every triple of the
live export and static graphs once, and queries take it (with the user graphs, and the store's own
default graph when not empty) as their default graph; the named graphs stay the live graphs, so
``GRAPH ?g`` still says which export states a triple. The same update request that moves an
export's marker adds the new version's triples to the merged graph and removes the old version's
triples that no other live graph holds, so the merged graph changes atomically with the catalog.
A store written by an earlier version gets its merged graph built when next opened for writing;
until then (a read-only handle) queries use Oxigraph's union default graph when the store holds
nothing but live graphs, else the explicit list of live graphs.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from carbonkg.iris import BASE
from carbonkg.store.catalog import (
    CATALOG_BASE,
    MERGED_GRAPH,
    Catalog,
    ExportState,
    StaticGraph,
    create_markers,
    drop_markers,
    export_marker,
    is_marker,
    join_updates,
    merged_delta,
    merged_marker,
    merged_sources,
    read_catalog,
    static_marker,
    user_marker,
)

log = logging.getLogger(__name__)

#: the catalog graph of remote stores (the embedded store keeps its catalog as marker graphs under it)
CATALOG_GRAPH = ox.NamedNode(CATALOG_BASE)
STATIC_GRAPH_BASE = BASE + "graph/"
_LEGACY, _LEGACY_STORE = "https://w3id.org/carbonkg/ontology#", BASE + "store#"  # the catalog graph's terms

__all__ = ["CATALOG_GRAPH", "STATIC_GRAPH_BASE", "EmbeddedStore", "ExportState", "dataset_options"]


def dataset_options(catalog: Catalog) -> dict[str, Any]:
    """pyoxigraph ``query`` options for the default dataset: the live graphs (and the store's own
    default graph, where SPARQL Update writes triples without a graph) as the default graph, and
    every live graph as a named graph. With the merged graph, the default graph is the merged
    graph (each triple of the export and static graphs once), the user graphs and the store's own
    default graph when it holds anything."""
    live = [ox.NamedNode(g) for g in catalog.live]
    if catalog.merged:
        default: list[Any] = [ox.NamedNode(MERGED_GRAPH), *(ox.NamedNode(g) for g in sorted(catalog.user))]
        if not catalog.store_default_empty:
            default.append(ox.DefaultGraph())
        return {"default_graph": default, "named_graphs": live}
    if catalog.union_exact:
        return {"use_default_graph_as_union": True, "named_graphs": live}
    return {"default_graph": [*live, ox.DefaultGraph()], "named_graphs": live}


class EmbeddedStore:
    """An embedded pyoxigraph store, on disk (``path``) or in memory (``path=None``)."""

    def __init__(self, path: Path | str | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is None:
            self._store = ox.Store()
        elif read_only:
            self._store = ox.Store.read_only(str(self.path))
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            self._store = ox.Store(str(self.path))
        self.read_only = read_only
        self._write_lock = threading.Lock()
        self._catalog: Catalog | None = None
        if not read_only:
            self._migrate_catalog_graph()
            self.collect_garbage()
            self._ensure_merged()

    # -- reading ---------------------------------------------------------------------------

    @property
    def raw(self) -> ox.Store:
        """The underlying pyoxigraph store, for code in this layer and tests only."""
        return self._store

    def catalog(self) -> Catalog:
        """The catalog as of now. A read-only handle is a snapshot, so its catalog is read once; a
        writable one is read each time (~50 µs), so that no write, even one made through
        :attr:`raw`, leaves queries on a stale list of live graphs."""
        catalog = self._catalog
        if catalog is None:
            empty = next(iter(self._store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is None
            catalog = read_catalog((g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)),
                                   store_default_empty=empty)
            if self.read_only:
                self._catalog = catalog
        return catalog

    def forget_catalog(self) -> None:
        """Read the catalog again at next use (after writes made through :attr:`raw`)."""
        self._catalog = None

    def live_graphs(self) -> list[ox.NamedNode]:
        """The graphs queries see: every export's current graph, every static and user graph."""
        return [ox.NamedNode(g) for g in self.catalog().live]

    def query_default_graphs(self) -> list[Any]:
        """The graphs that make up the default graph of queries (see :func:`dataset_options`)."""
        options = dataset_options(self.catalog())
        if options.get("use_default_graph_as_union"):
            return [*self.live_graphs(), ox.DefaultGraph()]
        return list(options["default_graph"])

    def query(self, sparql: str, **options: Any) -> Any:
        """Run a SPARQL query; without dataset options, over the live graphs (their union is the
        default graph, with the store's own default graph, where SPARQL Update writes)."""
        if not {"default_graph", "named_graphs", "use_default_graph_as_union"} & options.keys():
            options.update(dataset_options(self.catalog()))
        return self._store.query(sparql, **options)

    def export_state(self, export_iri: str) -> ExportState | None:
        return self.catalog().export_states.get(export_iri)

    def exports(self) -> Iterator[ExportState]:
        yield from self.catalog().export_states.values()

    def __len__(self) -> int:
        """Number of quads in the live graphs (and the store's own default graph)."""
        graphs = [*self.live_graphs(), ox.DefaultGraph()]
        return sum(1 for g in graphs for _ in self._store.quads_for_pattern(None, None, None, g))

    # -- writing ---------------------------------------------------------------------------

    def replace_export(self, export_iri: str, sha256: str, ntriples: Path | bytes) -> str:
        """Load an export's triples (N-Triples) as its new current version; return the graph IRI.

        The previous version stays visible until the one-request switch of the catalog marker.
        Each load gets a fresh version graph, so reloading the same file (after a loader upgrade)
        also swaps atomically.
        """
        graph_iri = f"{export_iri}/graph/{sha256[:12]}-{uuid.uuid4().hex[:8]}"
        graph = ox.NamedNode(graph_iri)
        with self._write_lock:
            previous = self.export_state(export_iri)
            if self._store.contains_named_graph(graph):  # left by an interrupted load
                self._store.remove_graph(graph)
            self._catalog = None  # queries name the live graphs while the new one grows
            self._bulk_load(ntriples, graph)
            self._switch(ExportState(export_iri, graph_iri, sha256), previous)
        return graph_iri

    def put_static_graph(self, name: str, triples_turtle: Iterable[Path], sha256: str = "") -> str:
        """(Re)load a static graph (ontology, vocabularies, shapes) from Turtle files; ``sha256``
        (a digest of its sources) is recorded in its catalog marker."""
        graph = ox.NamedNode(STATIC_GRAPH_BASE + name)
        with self._write_lock:
            triples = set()
            for path in triples_turtle:
                triples.update(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
            catalog = self.catalog()
            old = catalog.marker_of(catalog.static_graphs.get(graph.value))
            before = {ox.Triple(q.subject, q.predicate, q.object) for q in self._store.quads_for_pattern(None, None, None, graph)}
            self._store.update(join_updates(f"DROP SILENT GRAPH <{graph.value}>", drop_markers([old] if old else [])))
            self._store.extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)
            if catalog.merged:  # static graphs are small: their merged delta is worked out here
                self._merge_static(graph.value, before - triples, triples - before, catalog)
            self._store.update(create_markers([static_marker(StaticGraph(graph.value, name, sha256))]))
            self._catalog = None
        return graph.value

    def remove_export(self, export_iri: str) -> bool:
        with self._write_lock:
            previous = self.export_state(export_iri)
            if previous is None:
                return False
            catalog = self.catalog()
            delta = merged_delta(previous.graph_iri, None, merged_sources(catalog, previous.graph_iri)) if catalog.merged else ""
            self._store.update(join_updates(drop_markers([catalog.marker_of(previous) or export_marker(previous)]), delta))
            self._catalog = None
            self._store.remove_graph(ox.NamedNode(previous.graph_iri))
            return True

    def collect_garbage(self) -> int:
        """Remove named graphs that no catalog marker registers (left by interrupted loads, or a
        catalog graph of triples written by an earlier version of carbonkg)."""
        self._catalog = None
        live = self.catalog().live_set
        orphans = [
            g for g in self._store.named_graphs()
            if isinstance(g, ox.NamedNode) and g.value not in live and not is_marker(g.value) and g.value != MERGED_GRAPH
        ]
        for graph in orphans:
            log.info("removing graph %s that no catalog marker registers", graph.value)
            self._store.remove_graph(graph)
        self._catalog = None
        return len(orphans)

    def close(self) -> None:
        """Release the on-disk store (and its lock) now rather than at garbage collection."""
        self.flush()
        self._store = None  # type: ignore[assignment]
        import gc

        gc.collect()

    def flush(self) -> None:
        if not self.read_only and self.path is not None:
            self._store.flush()

    # -- internals -------------------------------------------------------------------------

    def _bulk_load(self, ntriples: Path | bytes, graph: ox.NamedNode) -> None:
        if isinstance(ntriples, Path):
            self._store.bulk_load(path=str(ntriples), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
        else:
            self._store.bulk_load(ntriples, ox.RdfFormat.N_TRIPLES, to_graph=graph)

    def _migrate_catalog_graph(self) -> None:
        """Turn the catalog graph of triples that carbonkg ≤ 0.1 wrote into markers, in one update."""
        if not self._store.contains_named_graph(CATALOG_GRAPH):
            return
        records: dict[tuple[str, str], str] = {}
        for quad in self._store.quads_for_pattern(None, None, None, CATALOG_GRAPH):
            records[(quad.subject.value, quad.predicate.value)] = quad.object.value
        markers = []
        for (subject, predicate), value in records.items():
            if predicate == _LEGACY + "currentGraph":
                markers.append(export_marker(ExportState(subject, value, records.get((subject, _LEGACY + "sha256"), ""))))
            elif predicate == _LEGACY_STORE + "staticGraph" and (subject, _LEGACY_STORE + "userGraph") not in records:
                sha = records.get((subject, _LEGACY_STORE + "sourceSha256"), "")
                markers.append(static_marker(StaticGraph(subject, value, sha)))
            elif predicate == _LEGACY_STORE + "userGraph":
                markers.append(user_marker(subject))
        log.info("moving the catalog graph's %d records to catalog markers", len(markers))
        self._store.update(join_updates(create_markers(markers), f"DROP GRAPH <{CATALOG_GRAPH.value}>"))
        self.flush()

    def _ensure_merged(self) -> None:
        """Build the merged graph if this store has none yet (written by an earlier version, or
        new): emptied first, then filled one live graph per transaction, and registered last, so
        an interrupted build is simply done again."""
        catalog = self.catalog()
        if catalog.merged:
            return
        sources = merged_sources(catalog)  # sorted
        log.info("building the merged graph from %d live graphs", len(sources))
        self._store.update(f"DROP SILENT GRAPH <{MERGED_GRAPH}>")
        for graph in sources:
            self._store.update(merged_delta(None, graph, ()))
        self._store.update(create_markers([merged_marker()]))
        self._catalog = None
        self.flush()

    def _merge_static(self, graph: str, removed: set[ox.Triple], added: set[ox.Triple], catalog: Catalog) -> None:
        merged = ox.NamedNode(MERGED_GRAPH)
        others = [ox.NamedNode(g) for g in merged_sources(catalog, graph)]
        gone = [t for t in removed
                if not any(q.graph_name in others for q in self._store.quads_for_pattern(t.subject, t.predicate, t.object))]
        for t in gone:
            self._store.remove(ox.Quad(t.subject, t.predicate, t.object, merged))
        self._store.extend(ox.Quad(t.subject, t.predicate, t.object, merged) for t in added)

    def _switch(self, state: ExportState, previous: ExportState | None) -> None:
        # one SPARQL update request = one transaction: the marker moves atomically, and the merged
        # graph with it; the old marker is dropped by the name it was stored under
        catalog = self.catalog()
        old = [catalog.marker_of(previous) or export_marker(previous)] if previous is not None else []
        delta = ""
        if catalog.merged:
            removed = previous.graph_iri if previous is not None and previous.graph_iri != state.graph_iri else None
            delta = merged_delta(removed, state.graph_iri, merged_sources(catalog, removed, state.graph_iri))
        self._store.update(join_updates(drop_markers(old), create_markers([export_marker(state)]), delta))
        self._catalog = None
        if previous is not None and previous.graph_iri != state.graph_iri:
            self._store.remove_graph(ox.NamedNode(previous.graph_iri))
        self.flush()

