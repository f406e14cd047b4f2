"""The one place that talks to the RDF store, beneath both the loaders and the server.

Two implementations of one interface (:class:`GraphStore`): the embedded pyoxigraph store
(default, :mod:`carbonkg.store.embedded`) and a remote store that speaks only the standard
protocols (SPARQL 1.1 Query/Update and the Graph Store HTTP Protocol), so the loaders and the
service run unchanged on a production engine.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from carbonkg.store.embedded import CATALOG_GRAPH, STATIC_GRAPH_BASE, EmbeddedStore, ExportState
from carbonkg.store.remote import RemoteStore, RemoteStoreError, RemoteTriples

__all__ = [
    "CATALOG_GRAPH",
    "STATIC_GRAPH_BASE",
    "EmbeddedStore",
    "ExportState",
    "GraphStore",
    "RemoteStore",
    "RemoteStoreError",
    "RemoteTriples",
    "is_remote",
    "open_store",
]


@runtime_checkable
class GraphStore(Protocol):
    """What loaders and the server need from a store."""

    def query(self, sparql: str, **options: Any) -> Any: ...

    def export_state(self, export_iri: str) -> ExportState | None: ...

    def replace_export(self, export_iri: str, sha256: str, ntriples: Path | bytes) -> str: ...

    def put_static_graph(self, name: str, triples_turtle: Any) -> str: ...

    def remove_export(self, export_iri: str) -> bool: ...

    def flush(self) -> None: ...


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_remote(target: str | Path | None) -> bool:
    """Whether ``target`` names a remote engine (a URL) rather than an embedded store's folder."""
    return isinstance(target, str) and bool(_URL.match(target))


def open_store(target: str | Path | None, *, read_only: bool = False, **options: Any) -> EmbeddedStore | RemoteStore:
    """The store at ``target``: a folder (or ``None``, in memory) is the embedded store; a URL
    is a remote engine (see :meth:`RemoteStore.from_url`: ``oxigraph+http://host:port``,
    ``virtuoso+http://user:password@host:port``, or a plain query endpoint URL with
    ``update_url=`` and ``graph_store_url=`` in ``options``)."""
    if is_remote(target):
        assert isinstance(target, str)
        return RemoteStore.from_url(target, read_only=read_only, **options)
    if options:
        raise TypeError(f"options for a remote store given for a local one: {', '.join(sorted(options))}")
    return EmbeddedStore(Path(target) if target is not None else None, read_only=read_only)
