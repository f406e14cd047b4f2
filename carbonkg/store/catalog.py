"""The embedded store's catalog (which graphs are live), kept as the *names of empty graphs*.

Why graph names and not triples: Oxigraph answers 10–60× faster over its union default graph
than over an explicit list of the ~60 live graphs, and the union holds every graph's triples, so
bookkeeping triples would show up in answers (``SELECT * { ?s ?p ?o }``, ``COUNT(*)``). An empty
named graph adds nothing to the union, lives in the same store (so a read-only snapshot sees data
and catalog as of one moment), and is created or dropped by SPARQL Update in the same transaction
as anything else: moving an export to a new version is ``DROP`` of one marker and ``CREATE`` of
another in one update request.

A marker's IRI carries its record as query parameters under ``<base>graph/catalog/``:

- ``export?export=<export IRI>&graph=<version graph>&sha256=<hex>``: the current version of an export;
- ``static?graph=<graph>&name=<name>&sha256=<digest of its sources>``: ontology, vocabularies;
- ``user?graph=<graph>``: a graph written through the service (SPARQL Update, Graph Store).

- ``merged``: the merged graph (:data:`MERGED_GRAPH`) holds every triple of the live export and
  static graphs once, kept up to date by every switch (see :mod:`carbonkg.store.embedded`).

With the merged graph, queries take it as their default graph: a triple that two exports state
counts once, as SPARQL's RDF merge requires (Oxigraph 0.5, like Virtuoso, answers over a union
of graphs with one solution per graph holding the triple). Without it (a store not yet opened
for writing by this version), when the store's other named graphs are exactly the live ones, queries use
the union default graph; otherwise the explicit list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from carbonkg.iris import BASE, ID_BASE

#: the prefix of every catalog marker graph (and the remote stores' catalog graph, without the slash)
CATALOG_BASE = BASE + "graph/catalog"
MARKER_BASE = CATALOG_BASE + "/"

#: every triple of the live export and static graphs, once: the default graph of queries
MERGED_GRAPH = BASE + "graph/merged"

_EXPORT, _STATIC, _USER, _MERGED = "export", "static", "user", "merged"


@dataclass(frozen=True, slots=True)
class ExportState:
    export_iri: str
    graph_iri: str
    sha256: str


@dataclass(frozen=True, slots=True)
class StaticGraph:
    graph_iri: str
    name: str
    sha256: str


def _marker(kind: str, **fields: str) -> str:
    return MARKER_BASE + kind + "?" + urlencode(fields, quote_via=quote, safe="")


def export_marker(state: ExportState) -> str:
    return _marker(_EXPORT, export=state.export_iri, graph=state.graph_iri, sha256=state.sha256)


def static_marker(entry: StaticGraph) -> str:
    return _marker(_STATIC, graph=entry.graph_iri, name=entry.name, sha256=entry.sha256)


def user_marker(graph_iri: str) -> str:
    return _marker(_USER, graph=graph_iri)


def merged_marker() -> str:
    """Registers :data:`MERGED_GRAPH` as complete (created in the transaction that completes it)."""
    return MARKER_BASE + _MERGED


def is_marker(iri: str) -> bool:
    return iri.startswith(MARKER_BASE)


def create_markers(markers: Iterable[str]) -> str:
    """SPARQL Update operations that register ``markers`` (joined with ``;``; empty for none)."""
    return " ;\n".join(f"CREATE SILENT GRAPH <{m}>" for m in sorted(set(markers)))


def drop_markers(markers: Iterable[str]) -> str:
    return " ;\n".join(f"DROP SILENT GRAPH <{m}>" for m in sorted(set(markers)))


def join_updates(*parts: str) -> str:
    return " ;\n".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class Catalog:
    """The catalog as read from one snapshot of the store."""

    export_states: Mapping[str, ExportState]  # export IRI -> its current version
    static_graphs: Mapping[str, StaticGraph]  # graph IRI -> entry (user graphs excluded)
    user: frozenset[str]  # graphs written through the service
    live: tuple[str, ...]  # every graph queries see, sorted
    union_exact: bool  # every named graph of the store, markers aside, is live
    markers: Mapping[Any, str] = field(default_factory=dict)  # record -> its marker IRI
    live_set: frozenset[str] = frozenset()
    merged: bool = False  # MERGED_GRAPH is complete and maintained: the default graph of queries
    store_default_empty: bool = False  # nothing in the store's own default graph (SPARQL Update target)

    @property
    def exports(self) -> frozenset[str]:
        """The current export version graphs."""
        return frozenset(s.graph_iri for s in self.export_states.values())

    @property
    def static(self) -> frozenset[str]:
        return frozenset(self.static_graphs)

    def is_live(self, iri: str) -> bool:
        return iri in self.live_set

    def is_protected(self, iri: str) -> bool:
        """Graphs only the loaders write: catalog markers, the merged graph, static graphs, export
        versions, ``<base>id/…``."""
        return (
            iri.startswith(CATALOG_BASE)
            or iri == MERGED_GRAPH
            or iri in self.static_graphs
            or iri in self.exports
            or iri.startswith(ID_BASE)
        )

    @classmethod
    def build(
        cls,
        exports: Iterable[ExportState],
        static: Iterable[StaticGraph],
        user: Iterable[str] = (),
        *,
        data_graphs: set[str] | None = None,
        markers: Mapping[Any, str] | None = None,
        merged: bool = False,
        store_default_empty: bool = False,
    ) -> Catalog:
        """A catalog of these records; ``data_graphs`` (the store's named graphs, markers aside),
        when known, decides whether the union default graph is exact."""
        user = frozenset(user)
        export_states = {s.export_iri: s for s in exports}
        static_graphs = {e.graph_iri: e for e in static if e.graph_iri not in user}
        live = frozenset({s.graph_iri for s in export_states.values()} | set(static_graphs) | user)
        return cls(
            export_states=MappingProxyType(export_states),
            static_graphs=MappingProxyType(static_graphs),
            user=user,
            live=tuple(sorted(live)),
            # a registered graph that does not exist (yet) adds nothing: the union is still exact
            union_exact=data_graphs is not None and data_graphs <= live,
            markers=MappingProxyType(dict(markers or {})),
            live_set=live,
            merged=merged,
            store_default_empty=store_default_empty,
        )

    def marker_of(self, record: ExportState | StaticGraph | str | None) -> str | None:
        """The marker IRI that registers ``record`` (a user graph by its IRI), as stored."""
        return self.markers.get(record) if record is not None else None


def read_catalog(graph_names: Iterable[str], *, store_default_empty: bool = False) -> Catalog:
    """The catalog from the names of a store's named graphs."""
    exports: dict[str, ExportState] = {}
    static: dict[str, StaticGraph] = {}
    user: set[str] = set()
    markers: dict[Any, str] = {}
    data: set[str] = set()
    merged = has_merged_graph = False
    for name in sorted(graph_names):  # sorted: deterministic if a record was ever duplicated
        if name == MERGED_GRAPH:
            has_merged_graph = True
            continue
        if not is_marker(name):
            data.add(name)
            continue
        if name == merged_marker():
            merged = True
            continue
        kind, _, query = name[len(MARKER_BASE):].partition("?")
        fields = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        try:
            if kind == _EXPORT:
                state = ExportState(fields["export"], fields["graph"], fields["sha256"])
                exports[state.export_iri] = state
                markers[state] = name
            elif kind == _STATIC:
                entry = StaticGraph(fields["graph"], fields["name"], fields["sha256"])
                static[entry.graph_iri] = entry
                markers[entry] = name
            elif kind == _USER:
                user.add(fields["graph"])
                markers[fields["graph"]] = name
        except KeyError:
            continue  # not a record this version writes: ignore rather than guess
    if has_merged_graph and not merged:
        data.add(MERGED_GRAPH)  # a build cut short: not part of any union until complete
    return Catalog.build(exports.values(), static.values(), user, data_graphs=data, markers=markers,
                         merged=merged, store_default_empty=store_default_empty)


def merged_sources(catalog: Catalog, *leaving: str | None) -> list[str]:
    """The live export and static graphs (user graphs are read as themselves), but ``leaving``."""
    out = set(catalog.exports) | set(catalog.static)
    return sorted(out - set(leaving))


def merged_delta(removed: str | None, added: str | None, others: Iterable[str]) -> str:
    """SPARQL Update that keeps the merged graph equal to the set of triples of the live graphs
    when graph ``removed`` leaves them and graph ``added`` joins them (``others``: the live graphs
    that stay). A removed triple stays if another live graph holds it; each test is one lookup of
    that triple, not a scan."""
    merged = f"<{MERGED_GRAPH}>"
    parts = []
    if removed:
        keep = [g for g in (*others, added) if g]
        kept = f"FILTER NOT EXISTS {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g IN ({', '.join(f'<{g}>' for g in keep)})) }}" if keep else ""
        parts.append(f"DELETE {{ GRAPH {merged} {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{removed}> {{ ?s ?p ?o }} {kept} }}")
    if added:
        parts.append(f"INSERT {{ GRAPH {merged} {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{added}> {{ ?s ?p ?o }} "
                     f"FILTER NOT EXISTS {{ GRAPH {merged} {{ ?s ?p ?o }} }} }}")
    return join_updates(*parts)


def merged_resync(sources: Iterable[str], added: str) -> str:
    """SPARQL Update that drops from the merged graph every triple none of ``sources`` (the live
    graphs) holds, then adds graph ``added``'s: for a graph replaced in place, whose old triples
    are gone by then (a scan of the merged graph: for rare writes, such as static graphs)."""
    merged = f"<{MERGED_GRAPH}>"
    live = ", ".join(f"<{g}>" for g in sources)
    kept = f"FILTER NOT EXISTS {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g IN ({live})) }}" if live else ""
    return join_updates(f"DELETE {{ GRAPH {merged} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {merged} {{ ?s ?p ?o }} {kept} }}",
                        merged_delta(None, added, ()))
