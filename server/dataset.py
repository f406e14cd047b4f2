"""Which graphs a request sees and which it may write: the server's view of the store's catalog.

The store (:mod:`carbonkg.store`) makes a graph visible by registering it in the catalog graph:
export versions (``ck:currentGraph``) and static graphs (ontology, vocabularies). The server adds
*user graphs*: graphs written through the Graph Store Protocol or SPARQL Update, when updates are
enabled. They are registered with the store's static-graph mark, so that queries see them and the
store's garbage collection keeps them, plus a user-graph mark that tells them apart.

*Protected* graphs are the loaders' own: the catalog, every static graph that is not a user
graph, and every graph under ``<base>id/`` (export versions live there). Updates and Graph Store
writes never touch them.

This module holds what the store interface does not have yet (see the server README section
"store changes wanted"); it reads and writes the catalog through the raw pyoxigraph store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from carbonkg.iris import BASE, ID_BASE
# carbonkg.store.embedded, not carbonkg.store: query workers need not import the remote store (httpx)
from carbonkg.store.embedded import CATALOG_GRAPH, CURRENT_GRAPH as _CURRENT, STATIC_GRAPH as _STATIC

USER_GRAPH_MARK = ox.NamedNode(BASE + "store#userGraph")
STATIC_SHA_MARK = ox.NamedNode(BASE + "store#sourceSha256")
_TRUE = ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))
_USER_NAME = ox.Literal("user")


@dataclass(frozen=True, slots=True)
class Catalog:
    """The catalog as read at one moment."""

    live: tuple[str, ...]  # every graph queries see, sorted
    user: frozenset[str]  # graphs written through the service
    static: frozenset[str]  # static graphs (ontology, vocabularies), user graphs excluded
    exports: frozenset[str]  # current export version graphs

    def is_live(self, iri: str) -> bool:
        return iri in self.user or iri in self.static or iri in self.exports

    def is_protected(self, iri: str) -> bool:
        return (
            iri == CATALOG_GRAPH.value
            or iri in self.static
            or iri in self.exports
            or iri.startswith(ID_BASE)
        )


def read_catalog(raw: ox.Store) -> Catalog:
    exports = {
        q.object.value
        for q in raw.quads_for_pattern(None, _CURRENT, None, CATALOG_GRAPH)
        if isinstance(q.object, ox.NamedNode)
    }
    marked = {
        q.subject.value
        for q in raw.quads_for_pattern(None, _STATIC, None, CATALOG_GRAPH)
        if isinstance(q.subject, ox.NamedNode)
    }
    user = {
        q.subject.value
        for q in raw.quads_for_pattern(None, USER_GRAPH_MARK, None, CATALOG_GRAPH)
        if isinstance(q.subject, ox.NamedNode)
    }
    return Catalog(
        live=tuple(sorted(exports | marked)),
        user=frozenset(user & marked),
        static=frozenset(marked - user),
        exports=frozenset(exports),
    )


def registration_quads(iri: str) -> list[ox.Quad]:
    """The catalog quads that make ``iri`` a live user graph."""
    graph = ox.NamedNode(iri)
    return [
        ox.Quad(graph, _STATIC, _USER_NAME, CATALOG_GRAPH),
        ox.Quad(graph, USER_GRAPH_MARK, _TRUE, CATALOG_GRAPH),
    ]


def registration_ntriples(iris: Iterable[str]) -> str:
    """Registration of user graphs as triples for an ``INSERT DATA``/``DELETE DATA`` block."""
    lines = []
    for iri in sorted(set(iris)):
        for quad in registration_quads(iri):
            lines.append(f"{quad.subject} {quad.predicate} {quad.object} .")
    return "\n".join(lines)


# -- the dataset of a query --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """The dataset a request asks for, before it meets the catalog.

    ``default``/``named`` are None when not specified. The protocol's ``default-graph-uri`` and
    ``named-graph-uri`` win over the query's ``FROM``/``FROM NAMED`` (SPARQL 1.1 Protocol §2.1.4);
    with neither, the default graph is the union of the live graphs and the store's own default
    graph (where user triples without a graph go), and every live graph is a named graph.
    ``store_default`` asks for the store's own default graph alone (Graph Store ``?default``).
    """

    default: tuple[str, ...] | None = None
    named: tuple[str, ...] | None = None
    store_default: bool = False

    @classmethod
    def from_request(
        cls,
        default_graph_uris: Sequence[str],
        named_graph_uris: Sequence[str],
        from_graphs: Sequence[str],
        from_named_graphs: Sequence[str],
    ) -> DatasetSpec:
        if default_graph_uris or named_graph_uris:
            return cls(tuple(default_graph_uris), tuple(named_graph_uris))
        if from_graphs or from_named_graphs:
            return cls(tuple(from_graphs), tuple(from_named_graphs))
        return cls()


def resolve(spec: DatasetSpec, catalog: Catalog) -> tuple[list, list]:
    """``default_graph`` and ``named_graphs`` for pyoxigraph: only live graphs; unknown ones are empty."""
    if spec.store_default:
        return [ox.DefaultGraph()], []
    if spec.default is None and spec.named is None:
        live = [ox.NamedNode(g) for g in catalog.live]
        return [*live, ox.DefaultGraph()], live
    default = [ox.NamedNode(g) for g in dict.fromkeys(spec.default or ()) if catalog.is_live(g)]
    named = [ox.NamedNode(g) for g in dict.fromkeys(spec.named or ()) if catalog.is_live(g)]
    return default, named
