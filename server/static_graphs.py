"""The ontology and the vocabularies as static graphs of the store, loaded at startup when they
are missing or their files changed.

Graphs: ``<base>graph/ontology`` (all ontology modules) and ``<base>graph/vocab/<name>`` (one per
vocabulary file). Each graph's source digest (SHA-256 over the file names and contents) is kept in
its catalog marker, so an unchanged ontology costs one digest per startup and no write.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

from carbonkg.store.embedded import STATIC_GRAPH_BASE, EmbeddedStore

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
    catalog = store.catalog()
    loaded = []
    for name, paths in sources.items():
        wanted = digest(paths)
        entry = catalog.static_graphs.get(STATIC_GRAPH_BASE + name)
        if entry is not None and entry.sha256 == wanted:
            continue
        store.put_static_graph(name, paths, sha256=wanted)
        loaded.append(name)
    if loaded:
        store.flush()
        log.info("loaded static graphs: %s", ", ".join(loaded))
    return loaded
