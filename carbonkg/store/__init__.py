"""The one place that talks to the RDF store, beneath both the loaders and the server.

Two implementations of one interface (:class:`GraphStore`): the embedded pyoxigraph store
(default, :mod:`carbonkg.store.embedded`) and a remote store that speaks only the standard
protocols (SPARQL 1.1 Query/Update and the Graph Store HTTP Protocol), so the loaders and the
service run unchanged on a production engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from carbonkg.store.embedded import CATALOG_GRAPH, STATIC_GRAPH_BASE, EmbeddedStore, ExportState

__all__ = ["CATALOG_GRAPH", "STATIC_GRAPH_BASE", "EmbeddedStore", "ExportState", "GraphStore"]


@runtime_checkable
class GraphStore(Protocol):
    """What loaders and the server need from a store."""

    def query(self, sparql: str, **options: Any) -> Any: ...

    def export_state(self, export_iri: str) -> ExportState | None: ...

    def replace_export(self, export_iri: str, sha256: str, ntriples: Path | bytes) -> str: ...

    def put_static_graph(self, name: str, triples_turtle: Any) -> str: ...

    def remove_export(self, export_iri: str) -> bool: ...

    def flush(self) -> None: ...
