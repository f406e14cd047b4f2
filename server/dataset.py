"""Which graphs a request sees and which it may write: the server's view of the store's catalog.

The store (:mod:`carbonkg.store.catalog`) makes a graph visible by registering it with a catalog
marker: export versions and static graphs (ontology, vocabularies). The server adds *user graphs*:
graphs written through the Graph Store Protocol or SPARQL Update, when updates are enabled, with
a user marker, created or dropped in the same update request as the graph's content.

*Protected* graphs are the loaders' own: catalog markers, static graphs, and every graph under
``<base>id/`` (export versions live there). Updates and Graph Store writes never touch them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

# carbonkg.store.embedded, not carbonkg.store: query workers need not import the remote store (httpx)
from carbonkg.store.catalog import Catalog, create_markers, drop_markers, user_marker
from carbonkg.store.embedded import dataset_options

__all__ = ["Catalog", "DatasetSpec", "register_user_graphs", "resolve", "unregister_user_graphs", "without_named_graphs"]


def register_user_graphs(iris: Iterable[str]) -> str:
    """SPARQL Update operations that make ``iris`` live user graphs (empty text for none)."""
    return create_markers(user_marker(i) for i in iris)


def unregister_user_graphs(iris: Iterable[str]) -> str:
    return drop_markers(user_marker(i) for i in iris)


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


def without_named_graphs(options: dict) -> dict:
    """``options`` for a query that reads no named graph (no ``GRAPH``): the same default graph,
    no named graphs. The answers are the same; the store is spared encoding the graph list."""
    return {**options, "named_graphs": []}


def resolve(spec: DatasetSpec, catalog: Catalog) -> dict:
    """pyoxigraph ``query`` dataset options: only live graphs; unknown ones are empty."""
    if spec.store_default:
        return {"default_graph": [ox.DefaultGraph()], "named_graphs": []}
    if spec.default is None and spec.named is None:
        return dataset_options(catalog)
    default = [ox.NamedNode(g) for g in dict.fromkeys(spec.default or ()) if catalog.is_live(g)]
    named = [ox.NamedNode(g) for g in dict.fromkeys(spec.named or ()) if catalog.is_live(g)]
    return {"default_graph": default, "named_graphs": named}
