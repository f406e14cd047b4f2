"""The one place that talks to the RDF store, beneath both the loaders and the server.

Atomic loads without one big transaction
----------------------------------------
Each registry export is loaded into a fresh *version graph* (``<export IRI>/graph/<sha256 prefix>-<random>``)
with oxigraph's bulk loader, which is fast but not transactional. The version becomes visible
only when one small transaction in the catalog graph points the export at it
(``<export> ck:currentGraph <version graph>``). Every query runs over the dataset of live graphs
(the catalog's current graphs plus the static graphs: ontology, vocabularies), so:

- a file that fails to parse never reaches the store;
- a crash or kill during a bulk load leaves a version graph that nothing points at: it is
  invisible, and removed the next time the store is opened for writing;
- a changed file replaces its own graph, and nothing else, by moving the pointer; the old version
  graph is removed after the switch.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from carbonkg.iris import BASE

log = logging.getLogger(__name__)

CK = "https://w3id.org/carbonkg/ontology#"
CATALOG_GRAPH = ox.NamedNode(BASE + "graph/catalog")
STATIC_GRAPH_BASE = BASE + "graph/"
CURRENT_GRAPH = ox.NamedNode(CK + "currentGraph")
SOURCE_SHA256 = ox.NamedNode(CK + "sha256")
STATIC_GRAPH = ox.NamedNode(BASE + "store#staticGraph")  # internal bookkeeping, not an ontology term
_CURRENT, _SHA, _STATIC = CURRENT_GRAPH, SOURCE_SHA256, STATIC_GRAPH


@dataclass(frozen=True, slots=True)
class ExportState:
    export_iri: str
    graph_iri: str
    sha256: str


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
        self._live: list[ox.NamedNode] | None = None
        if not read_only:
            self.collect_garbage()

    # -- reading ---------------------------------------------------------------------------

    @property
    def raw(self) -> ox.Store:
        """The underlying pyoxigraph store, for code in this layer and tests only."""
        return self._store

    def live_graphs(self) -> list[ox.NamedNode]:
        """The graphs queries see: every export's current graph and every static graph."""
        if self._live is None:
            graphs = {
                q.object
                for q in self._store.quads_for_pattern(None, _CURRENT, None, CATALOG_GRAPH)
                if isinstance(q.object, ox.NamedNode)
            }
            graphs.update(
                q.subject
                for q in self._store.quads_for_pattern(None, _STATIC, None, CATALOG_GRAPH)
                if isinstance(q.subject, ox.NamedNode)
            )
            self._live = sorted(graphs, key=lambda n: n.value)
        return self._live

    def query(self, sparql: str, **options: Any) -> Any:
        """Run a SPARQL query over the live graphs (their union is the default graph)."""
        live = self.live_graphs()
        # the store's own default graph too: triples written there by SPARQL Update stay visible
        options.setdefault("default_graph", [*live, ox.DefaultGraph()])
        options.setdefault("named_graphs", live)
        return self._store.query(sparql, **options)

    def export_state(self, export_iri: str) -> ExportState | None:
        node = ox.NamedNode(export_iri)
        graphs = [q.object for q in self._store.quads_for_pattern(node, _CURRENT, None, CATALOG_GRAPH)]
        shas = [q.object for q in self._store.quads_for_pattern(node, _SHA, None, CATALOG_GRAPH)]
        if not graphs:
            return None
        return ExportState(export_iri, graphs[0].value, shas[0].value if shas else "")

    def exports(self) -> Iterator[ExportState]:
        for quad in self._store.quads_for_pattern(None, _CURRENT, None, CATALOG_GRAPH):
            state = self.export_state(quad.subject.value)
            if state is not None:
                yield state

    def __len__(self) -> int:
        """Number of quads in the live graphs."""
        return sum(1 for g in self.live_graphs() for _ in self._store.quads_for_pattern(None, None, None, g))

    # -- writing ---------------------------------------------------------------------------

    def replace_export(self, export_iri: str, sha256: str, ntriples: Path | bytes) -> str:
        """Load an export's triples (N-Triples) as its new current version; return the graph IRI.

        The previous version stays visible until the one-statement switch in the catalog. Each
        load gets a fresh version graph, so reloading the same file (after a loader upgrade)
        also swaps atomically.
        """
        graph_iri = f"{export_iri}/graph/{sha256[:12]}-{uuid.uuid4().hex[:8]}"
        graph = ox.NamedNode(graph_iri)
        with self._write_lock:
            previous = self.export_state(export_iri)
            if self._store.contains_named_graph(graph):  # left by an interrupted load
                self._store.remove_graph(graph)
            self._bulk_load(ntriples, graph)
            self._switch(export_iri, sha256, graph, previous)
        return graph_iri

    def put_static_graph(self, name: str, triples_turtle: Iterable[Path]) -> str:
        """(Re)load a static graph (ontology, vocabularies, shapes) from Turtle files; atomic."""
        graph = ox.NamedNode(STATIC_GRAPH_BASE + name)
        with self._write_lock:
            quads = []
            for path in triples_turtle:
                quads.extend(
                    ox.Quad(t.subject, t.predicate, t.object, graph)
                    for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
                )
            # small graphs: one transaction replaces content and registration together
            self._store.update(f"DROP SILENT GRAPH <{graph.value}>")
            self._store.extend(quads)
            self._store.extend([ox.Quad(graph, _STATIC, ox.Literal(name), CATALOG_GRAPH)])
            self._live = None
        return graph.value

    def remove_export(self, export_iri: str) -> bool:
        with self._write_lock:
            previous = self.export_state(export_iri)
            if previous is None:
                return False
            node = ox.NamedNode(export_iri)
            self._store.update(
                f"DELETE WHERE {{ GRAPH <{CATALOG_GRAPH.value}> {{ <{node.value}> ?p ?o }} }}"
            )
            self._live = None
            self._store.remove_graph(ox.NamedNode(previous.graph_iri))
            return True

    def collect_garbage(self) -> int:
        """Remove named graphs that no catalog entry points at (left by interrupted loads)."""
        live = {g.value for g in self.live_graphs()} | {CATALOG_GRAPH.value}
        orphans = [g for g in self._store.named_graphs() if isinstance(g, ox.NamedNode) and g.value not in live]
        for graph in orphans:
            log.info("removing graph %s left by an interrupted load", graph.value)
            self._store.remove_graph(graph)
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

    def _switch(self, export_iri: str, sha256: str, graph: ox.NamedNode, previous: ExportState | None) -> None:
        node = ox.NamedNode(export_iri)
        sha = ox.Literal(sha256)
        # one SPARQL update = one transaction: the pointer moves atomically
        self._store.update(
            f"""DELETE {{ GRAPH <{CATALOG_GRAPH.value}> {{ <{node.value}> <{_CURRENT.value}> ?g ; <{_SHA.value}> ?s }} }}
            INSERT {{ GRAPH <{CATALOG_GRAPH.value}> {{ <{node.value}> <{_CURRENT.value}> <{graph.value}> ; <{_SHA.value}> {sha} }} }}
            WHERE {{ OPTIONAL {{ GRAPH <{CATALOG_GRAPH.value}> {{ <{node.value}> <{_CURRENT.value}> ?g ; <{_SHA.value}> ?s }} }} }}"""
        )
        self._live = None
        if previous is not None and previous.graph_iri != graph.value:
            self._store.remove_graph(ox.NamedNode(previous.graph_iri))
        self.flush()
