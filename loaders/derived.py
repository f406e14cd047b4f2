"""Derived graphs: what carbonkg computes from the loaded exports (cross-registry links found by
the linkers, summaries that make aggregate questions fast), kept as graphs of their own.

A derivation reads the store with SPARQL and writes N-Triples. Its result is stored like an
export (a versioned graph switched in atomically), keyed by a fingerprint of every export it
was computed from plus the derivation's own version: after any load that changes an export, the
fingerprint changes and the derivation is recomputed, so a derived answer is never stale.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from carbonkg import __version__
from carbonkg.iris import ID_BASE
from carbonkg.loaders import emit as E
from carbonkg.loaders.emit import A, TripleWriter
from carbonkg.store import GraphStore

log = logging.getLogger(__name__)

DERIVED_BASE = ID_BASE + "derived/"


@dataclass(frozen=True)
class Derivation:
    """``build(store, out)`` reads ``store`` and writes triples to ``out``; bump ``version``
    whenever ``build`` changes what it writes."""

    name: str
    version: str
    build: Callable[[GraphStore, TripleWriter], None]
    description: str = ""

    @property
    def graph_iri(self) -> str:
        return DERIVED_BASE + self.name


@dataclass
class DerivedResult:
    name: str
    status: str  # computed | unchanged
    triples: int = 0
    seconds: float = 0.0


def is_derived(export_iri: str) -> bool:
    return export_iri.startswith(DERIVED_BASE)


def inputs_fingerprint(store: GraphStore, derivation: Derivation) -> str:
    """Hash of every loaded export's checksum, and of the derivation's name and version."""
    states = sorted(
        f"{s.export_iri} {s.sha256}" for s in store.exports() if not is_derived(s.export_iri)  # type: ignore[attr-defined]
    )
    digest = hashlib.sha256(f"{derivation.name} {derivation.version} {__version__}\n".encode())
    for line in states:
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def refresh(store: GraphStore, derivations: Iterable[Derivation], *, force: bool = False) -> list[DerivedResult]:
    """Recompute the derivations whose inputs changed; each result replaces its graph atomically."""
    results = []
    for derivation in derivations:
        started = time.perf_counter()
        fingerprint = inputs_fingerprint(store, derivation)
        state = store.export_state(derivation.graph_iri)
        if state is not None and state.sha256 == fingerprint and not force:
            results.append(DerivedResult(derivation.name, "unchanged"))
            continue
        with tempfile.TemporaryDirectory(prefix="carbonkg-derived-") as tmp:
            sink_path = Path(tmp) / "derived.nt"
            with sink_path.open("w", encoding="utf-8", newline="\n") as sink:
                out = TripleWriter(sink)
                graph = E.iri(derivation.graph_iri)
                out.add(graph, A, E.PROV_ENTITY)
                out.add(graph, E.TITLE, E.literal(derivation.description or derivation.name))
                out.add(graph, E.iri("https://w3id.org/carbonkg/ontology#sha256"), E.literal(fingerprint))
                derivation.build(store, out)
            store.replace_export(derivation.graph_iri, fingerprint, sink_path)
        results.append(DerivedResult(derivation.name, "computed", out.count, time.perf_counter() - started))
        log.info("derived graph %s: %d triples", derivation.name, out.count)
    return results


def all_derivations() -> Sequence[Derivation]:
    """Every derivation carbonkg maintains, in the order they run (later ones may read earlier)."""
    from carbonkg.loaders import DERIVATIONS

    return DERIVATIONS
