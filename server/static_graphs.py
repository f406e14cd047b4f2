"""The ontology and the vocabularies as static graphs of the store, loaded at startup when they
are missing or their files changed.

Graphs: ``<base>graph/ontology`` (all ontology modules) and ``<base>graph/vocab/<name>`` (one per
vocabulary file). Each graph's source digest (SHA-256 over the file names and contents) is kept in
the catalog, so an unchanged ontology costs one digest per startup and no write.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from carbonkg.server.dataset import STATIC_SHA_MARK, read_catalog
from carbonkg.store.embedded import CATALOG_GRAPH, STATIC_GRAPH_BASE, EmbeddedStore

log = logging.getLogger(__name__)


def static_sources() -> dict[str, list[Path]]:
    from carbonkg.ontology.resources import module_paths, vocabulary_paths

    sources: dict[str, list[Path]] = {"ontology": module_paths()}
    for path in vocabulary_paths():
        sources[f"vocab/{path.stem}"] = [path]
    return sources


def digest(paths: Sequence[Path]) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.name.encode() + b"\0")
        sha.update(path.read_bytes())
        sha.update(b"\0")
    return sha.hexdigest()


def sync_static_graphs(store: EmbeddedStore, sources: dict[str, list[Path]] | None = None) -> list[str]:
    """(Re)load the static graphs whose sources changed; the names of those loaded."""
    sources = static_sources() if sources is None else sources
    raw = store.raw
    catalog = read_catalog(raw)
    loaded = []
    for name, paths in sources.items():
        graph = ox.NamedNode(STATIC_GRAPH_BASE + name)
        wanted = digest(paths)
        recorded = [q.object.value for q in raw.quads_for_pattern(graph, STATIC_SHA_MARK, None, CATALOG_GRAPH)]
        if recorded == [wanted] and graph.value in catalog.static:
            continue
        store.put_static_graph(name, paths)
        for quad in list(raw.quads_for_pattern(graph, STATIC_SHA_MARK, None, CATALOG_GRAPH)):
            raw.remove(quad)
        raw.add(ox.Quad(graph, STATIC_SHA_MARK, ox.Literal(wanted), CATALOG_GRAPH))
        loaded.append(name)
    if loaded:
        store.flush()
        log.info("loaded static graphs: %s", ", ".join(loaded))
    return loaded
