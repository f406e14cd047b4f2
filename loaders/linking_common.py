"""What the linkers share: name folding, reading the store, and writing a found link.

A found link is written like an export-stated one (:meth:`carbonkg.loaders.base.Emitter.link`):
a ``ck:CrossRegistryLink`` resource with its subject, object, relation, method (a concept of the
link-method scheme), confidence and evidence. Unlike a stated link it does not always carry the
direct triple: only links whose confidence reaches :data:`ACCEPT` are asserted
(``<a> ck:sameOrganisationAs <b>``); links between :data:`FLOOR` and :data:`ACCEPT` are kept as
*candidates* (the resource alone, for review); below :data:`FLOOR` nothing is written. Records
of different registries are never merged and never ``owl:sameAs``.

Linkers read only loaded exports: a pattern that could match a derived graph's own triples (a
previous run's ``ck:sameActivityAs``) is restricted with :func:`not_derived` so that a
recomputation never feeds on its own output.

Reading: the store's default graph is the union of every live graph, on which oxigraph evaluates
a single triple pattern fast (an index scan) but a join of two patterns slowly (about 50× slower
per solution on a 100k-row load). Linkers therefore read one predicate at a time with
:func:`scan` and join in Python dictionaries; a record's registry is read from its IRI, whose
first path segment is always the registry slug (:mod:`carbonkg.iris`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal

from carbonkg import iris
from carbonkg.loaders import emit as E
from carbonkg.loaders.derived import DERIVED_BASE
from carbonkg.loaders.emit import A, T, TripleWriter
from carbonkg.store import GraphStore

#: A found link at or above this confidence is asserted with its direct triple.
ACCEPT = Decimal("0.80")
#: A found link below this confidence is not written at all; in between it is a candidate.
FLOOR = Decimal("0.50")
#: Name-matched links never claim certainty (the link-method scheme: "confidence below 1").
MAX_NAME_MATCH = Decimal("0.97")

CK = "https://w3id.org/carbonkg/ontology#"
PREFIXES = f"""PREFIX ck: <{CK}>
PREFIX rdfs: <{E.RDFS}>
PREFIX skos: <{E.SKOS}>
"""


def not_derived(var: str = "?g") -> str:
    """A SPARQL filter keeping ``GRAPH {var}`` patterns to the graphs of loaded exports."""
    return f'FILTER (!STRSTARTS(STR({var}), "{DERIVED_BASE}"))'


def select(store: GraphStore, sparql: str) -> list[tuple[str | None, ...]]:
    """Run a SELECT and return its distinct solutions as tuples of lexical values, sorted.

    The store's default graph is the union of the live graphs, so a triple stated by two
    exports comes back twice: solutions are deduplicated here, and sorted for determinism.
    """
    seen: set[tuple[str | None, ...]] = set()
    for solution in store.query(PREFIXES + sparql):
        seen.add(tuple(None if term is None else term.value for term in solution))
    return sorted(seen, key=lambda row: tuple("" if v is None else v for v in row))


def scan(store: GraphStore, predicate: str, obj: str | None = None) -> list[tuple[str, str]]:
    """``(subject, object)`` of every triple with ``predicate`` (a prefixed name or ``<iri>``),
    distinct and sorted; with ``obj``, the pairs ``(subject, obj)`` for that object only."""
    if obj is None:
        return select(store, f"SELECT ?s ?o WHERE {{ ?s {predicate} ?o }}")  # type: ignore[return-value]
    return [(s, obj) for (s,) in select(store, f"SELECT ?s WHERE {{ ?s {predicate} {obj} }}")]  # type: ignore[misc]


def registry_of(iri: str) -> str | None:
    """The registry slug of an instance IRI minted by :mod:`carbonkg.iris`, else ``None``."""
    if not iri.startswith(iris.ID_BASE):
        return None
    return iri[len(iris.ID_BASE):].split("/", 1)[0]


# -- names -----------------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+")
_INITIAL_BREAK = re.compile(r"\.\s")  # "S.A. E.S.P.": a dot then a space ends a run of initials


def fold(text: str) -> str:
    """Lower-cased, accents removed (NFKD), ``&`` spelt ``and``."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # characters NFKD does not decompose but that registries write for their ASCII letters
    plain = plain.replace("ı", "i").replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("đ", "d")
    return plain.casefold().replace("&", " and ")


def tokens(text: str) -> list[str]:
    """Word tokens of ``text`` with runs of single letters joined: ``"S.A.S."`` → ``["sas"]``,
    ``"S A S"`` → ``["sas"]``, ``"S.A. E.S.P."`` → ``["sa", "esp"]``, ``"U.S. Forest"`` →
    ``["us", "forest"]``; a lone letter stays (``"A-Gas"`` → ``["a", "gas"]``)."""
    folded = fold(text)
    out: list[str] = []
    run: list[str] = []
    last_end = 0
    for match in _TOKEN.finditer(folded):
        tok = match.group()
        single = len(tok) == 1 and tok.isalpha()
        if run and (not single or _INITIAL_BREAK.search(folded, last_end, match.start())):
            out.append("".join(run))
            run = []
        if single:
            run.append(tok)
        else:
            out.append(tok)
        last_end = match.end()
    if run:
        out.append("".join(run))
    return out


def decimal(value: float | Decimal) -> Decimal:
    """A confidence as a two-place decimal (stable lexical form, no float noise)."""
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# -- writing links ---------------------------------------------------------------------------


def write_link(
    out: TripleWriter,
    subject: str,
    relation: str,
    obj: str,
    *,
    method: str,
    confidence: Decimal,
    evidence: Iterable[str],
) -> bool:
    """Write one found link between two record IRIs; return whether it was asserted.

    ``relation`` is a ck property name (``sameOrganisationAs``, ``sameActivityAs``); ``method``
    a slug of the link-method scheme. The pair is written once, subject before object in IRI
    order (both relations are symmetric), so a linker's output does not depend on the order in
    which it met the records.
    """
    if confidence < FLOOR:
        return False
    if obj < subject:
        subject, obj = obj, subject
    s, o = E.iri(subject), E.iri(obj)
    link = E.iri(iris.link(subject, relation, obj))
    predicate = getattr(T, relation)
    out.add(link, A, T.CrossRegistryLink)
    out.add(link, T.linkSubject, s)
    out.add(link, T.linkObject, o)
    out.add(link, T.linkRelation, predicate)
    out.add(link, T.linkMethod, E.iri(iris.concept("link-method", method)))
    out.add(link, T.confidence, E.typed(str(confidence), E.XSD + "decimal"))
    for text in sorted(set(evidence)):
        out.add(link, T.linkEvidence, E.literal(text))
    accepted = confidence >= ACCEPT
    if accepted:
        out.add(s, predicate, o)
    return accepted


def pairs_within(members: list[str], *, clique_max: int = 12) -> Iterator[tuple[str, str]]:
    """The pairs to link inside a group of records found to share a key: every pair for a small
    group, a star on the first member (in IRI order) for a large one, so that a name shared by
    thousands of records costs a linear number of links and stays connected."""
    ordered = sorted(set(members))
    if len(ordered) <= clique_max:
        for i, a in enumerate(ordered):
            for b in ordered[i + 1:]:
                yield a, b
    else:
        hub = ordered[0]
        for b in ordered[1:]:
            yield hub, b
