"""Registry text → carbonkg concept, looked up in the ontology's own SKOS vocabularies.

Every raw value a registry publishes for a status, type, reason or label is recorded in the
vocabularies (``ontology/vocab/carbonkg-*.ttl``) as a ``skos:hiddenLabel`` of the concept it
means, so mapping is data, not code: a new registry value is added to the vocabulary, and a
value that no concept claims is reported as uninterpreted (and kept verbatim in the graph).
"""

from __future__ import annotations

import functools
import re

import pyoxigraph as ox

from carbonkg.ontology.resources import VOCAB_BASE, vocabulary_paths

_LABELS = {
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2004/02/skos/core#altLabel",
    "http://www.w3.org/2004/02/skos/core#hiddenLabel",
    "http://www.w3.org/2004/02/skos/core#notation",
}
_IN_SCHEME = "http://www.w3.org/2004/02/skos/core#inScheme"
_SPACES = re.compile(r"\s+")
_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-"})


def normalise(text: str) -> str:
    """The lookup key of a label: dashes unified, white space collapsed, case folded."""
    return _SPACES.sub(" ", text.translate(_DASHES)).strip().casefold()


@functools.cache
def _index() -> dict[str, dict[str, str]]:
    """scheme slug → {normalised label → concept IRI}, for the carbonkg-*.ttl schemes."""
    labels: dict[str, list[str]] = {}
    schemes: dict[str, str] = {}
    for path in vocabulary_paths():
        if not path.name.startswith("carbonkg-"):
            continue
        for triple in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            predicate = triple.predicate.value
            if predicate in _LABELS and isinstance(triple.object, ox.Literal):
                labels.setdefault(triple.subject.value, []).append(triple.object.value)
            elif predicate == _IN_SCHEME:
                schemes[triple.subject.value] = triple.object.value
    index: dict[str, dict[str, str]] = {}
    for concept, scheme_iri in schemes.items():
        scheme = scheme_iri.removeprefix(VOCAB_BASE)
        table = index.setdefault(scheme, {})
        for label in labels.get(concept, ()):
            table.setdefault(normalise(label), concept)
    return index


def lookup(scheme: str, text: str) -> str | None:
    """The concept of ``scheme`` whose label, notation or registry value is ``text``, if any."""
    table = _index().get(scheme)
    if table is None:
        raise KeyError(f"no carbonkg vocabulary named {scheme!r}")
    return table.get(normalise(text))


def schemes() -> list[str]:
    return sorted(_index())
