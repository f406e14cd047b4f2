"""Summaries: derived graphs that make the library's aggregate questions fast.

Aggregate questions (totals by registry and vintage, retirements by beneficiary, labelled
quantities, issued but never retired…) join hundreds of thousands of blocks and events; on an
on-disk store that takes minutes at a million rows. Each summary here is a
:class:`~carbonkg.loaders.derived.Derivation`: a small graph of pre-aggregated observations,
recomputed (atomically, as a new version graph) after every load that changes an export, so an
aggregate query reads a few hundred triples and is never stale. A point lookup by serial number
reads the serial-range index (:data:`SERIAL_INDEX`).

How the facts are read. A summary reads the loaded exports with single-pattern scans, one
predicate at a time and one export graph at a time (on the embedded store straight from its
indexes), and joins them in Python: joins inside oxigraph over the union of some thirty export
graphs probe every graph for every pattern, which is what makes the live aggregates slow. The
scans are shared by all summaries of one refresh (the facts are cached for one state of the
loaded exports). RDF set semantics are kept: a triple repeated in two export graphs (a listing's
country stated by its projects file and by its transactions file) counts once.

Vocabulary. Observations use the summary namespace ``https://w3id.org/carbonkg/summary#``
(``cks:``), which is carbonkg's internal derived-data vocabulary, not part of the ontology: every
observation has ``cks:quantity`` (tonnes), ``cks:records`` (how many blocks, events or listings
it adds up) and ``prov:wasDerivedFrom`` the exports whose rows it adds up. Quantities are
``xsd:decimal``; vintages and years ``xsd:gYear``.

What counts as what (the same rule for every registry):

- **issued**: the quantity of each block an issuance generated (``ck:generatedBlock``) that is
  not a buffer block (``ck:isBuffer true``); **buffer**: an issuance's ``ck:bufferQuantity``;
- **retired**, **cancelled**, **converted**, **retired-or-cancelled** (Verra, which does not say
  which), **invalidated**, **buffer-contribution**, **reversal**: events by ``ck:eventType``, with
  the event's ``ck:quantity`` (else the quantity of the blocks it affects); vintage and unit kind
  are those of the block the event affects;
- an observation's registry is the registry of the record (the first segment of its IRI).

The graphs: ``summary-serial-index`` (lookup of a credit number), ``summary-totals``,
``summary-beneficiaries``, ``summary-labels``, ``summary-listings`` (linked listings and their
pairs, methodologies), ``summary-conversions``, ``summary-suspects``, and ``export-changes``
(row snapshots of every export and what changed between its last two loaded versions: the store
keeps only the current version graph, so this graph keeps what the next version is compared with).
The queries that read them are in ``carbonkg/queries``.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

import pyoxigraph as ox

from carbonkg import iris
from carbonkg.loaders import emit as E
from carbonkg.loaders.derived import DERIVED_BASE, Derivation, is_derived
from carbonkg.loaders.emit import A, TripleWriter

log = logging.getLogger(__name__)

CK = "https://w3id.org/carbonkg/ontology#"
CKS = "https://w3id.org/carbonkg/summary#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PROV_DERIVED = E.PROV_DERIVED_FROM
EVENT_TYPE_BASE = iris.concept("event-type", "")
#: event types whose quantity leaves circulation (a "use" of the credits)
USES = ("retirement", "cancellation", "conversion", "retirement-or-cancellation")
EVENT_MEASURES = (*USES, "invalidation", "buffer-contribution", "reversal")
#: measure name of an event type (event-type slugs are nouns; measures say what happened)
MEASURE_OF = {
    "retirement": "retired",
    "cancellation": "cancelled",
    "conversion": "converted",
    "retirement-or-cancellation": "retired-or-cancelled",
    "invalidation": "invalidated",
    "buffer-contribution": "buffer-contribution",
    "reversal": "reversal",
}
LINK_RELATIONS = ("sameActivityAs", "compliancePeerOf", "transitionedFrom")
#: target programme of a conversion → registries whose listings receive the converted credits
PROGRAMME_REGISTRIES = {
    "california-compliance-offset-program": ("arb",),
    "washington-ecology-offset-program": ("washington-ecology",),
    "vcs": ("verra",),
}
#: serial-range index bucket sizes: 10^0 … 10^18 (a block is indexed at the smallest size that
#: is at least its length, so it falls in at most two buckets of that size)
BUCKET_SIZES = tuple(10**n for n in range(19))


def t(name: str) -> str:
    """N-Triples token of a summary term."""
    return f"<{CKS}{name}>"


def registry_of(iri: str) -> str | None:
    """The registry slug of a carbonkg record IRI (its first path segment)."""
    if not iri.startswith(iris.ID_BASE):
        return None
    slug = iri[len(iris.ID_BASE):].split("/", 1)[0]
    return slug if slug in iris.REGISTRIES else None


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return None


# ------------------------------------------------------------------------------------ facts


def _summary_graphs() -> set[str]:
    return {d.graph_iri for d in DERIVATIONS}


def state_key(store: Any) -> tuple[tuple[str, str], ...]:
    """What the summaries read: every export (the linkers' derived graphs included, the summaries'
    own graphs not) and its current version."""
    summaries = _summary_graphs()
    return tuple(sorted((s.export_iri, s.graph_iri) for s in store.exports() if s.export_iri not in summaries))


class Facts:
    """The facts of the loaded exports that the summaries add up, read once per state."""

    def __init__(self, store: Any) -> None:
        self.store = store
        summaries = _summary_graphs()
        self.graph_export: dict[str, str] = {}
        for state in store.exports():
            if state.export_iri in summaries:
                continue  # never read our own output
            self.graph_export[state.graph_iri] = state.export_iri
        self.graphs = sorted(self.graph_export)

    # -- scanning --------------------------------------------------------------------------

    def scan(self, predicate: str, obj: ox.NamedNode | None = None) -> Iterator[tuple[str, Any, Any]]:
        """(export IRI, subject, object) of every ``?s <predicate> ?o`` in the export graphs."""
        raw = getattr(self.store, "raw", None)
        pred = ox.NamedNode(predicate)
        for graph in self.graphs:
            export = self.graph_export[graph]
            if isinstance(raw, ox.Store):
                for quad in raw.quads_for_pattern(None, pred, obj, ox.NamedNode(graph)):
                    yield export, quad.subject, quad.object
            else:
                pattern = f"?s <{predicate}> {obj if obj is not None else '?o'}"
                for sol in self.store.query(f"SELECT ?s ?o WHERE {{ {pattern} }}" if obj is None
                                            else f"SELECT ?s WHERE {{ {pattern} }}",
                                            default_graph=[ox.NamedNode(graph)], named_graphs=[]):
                    yield export, sol["s"], obj if obj is not None else sol["o"]

    def values(self, name: str) -> dict[str, str]:
        """subject → object value of ck:<name> (one value per subject: the first in graph order)."""
        out: dict[str, str] = {}
        for _, s, o in self.scan(CK + name):
            out.setdefault(s.value, o.value)
        return out

    def multi(self, name: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = defaultdict(set)
        for _, s, o in self.scan(CK + name):
            out[s.value].add(o.value)
        return out

    def sources(self, name: str) -> dict[str, set[str]]:
        """subject → the exports that state ck:<name> of it."""
        out: dict[str, set[str]] = defaultdict(set)
        for export, s, _ in self.scan(CK + name):
            out[s.value].add(export)
        return out

    # -- tables ----------------------------------------------------------------------------

    @cached_property
    def quantity(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for _, s, o in self.scan(CK + "quantity"):
            if s.value not in out:
                value = _decimal(o.value)
                if value is not None:
                    out[s.value] = value
        return out

    @cached_property
    def quantity_sources(self) -> dict[str, set[str]]:
        return self.sources("quantity")

    @cached_property
    def vintage(self) -> dict[str, str]:
        return self.values("vintageYear")

    @cached_property
    def unit_kind(self) -> dict[str, str]:
        return self.values("unitKind")

    @cached_property
    def block_of(self) -> dict[str, str]:
        return self.values("blockOf")

    @cached_property
    def buffer_blocks(self) -> set[str]:
        # by value: an engine may write xsd:boolean in its other lexical form (Virtuoso: 1/0)
        return {s for s, o in self.values("isBuffer").items() if o in ("true", "1")}

    @cached_property
    def generated(self) -> dict[str, set[str]]:
        """issuance → the blocks it generated."""
        return self.multi("generatedBlock")

    @cached_property
    def buffer_quantity(self) -> dict[str, Decimal]:
        return {s: q for s, v in self.values("bufferQuantity").items() if (q := _decimal(v)) is not None}

    @cached_property
    def issued_for(self) -> dict[str, str]:
        return self.values("issuedFor")

    @cached_property
    def affects(self) -> dict[str, set[str]]:
        """event → the blocks it acts on."""
        return self.multi("affectsBlock")

    @cached_property
    def event_type(self) -> dict[str, str]:
        """event → event-type slug."""
        return {s: o[len(EVENT_TYPE_BASE):] for s, o in self.values("eventType").items()
                if o.startswith(EVENT_TYPE_BASE)}

    @cached_property
    def event_date(self) -> dict[str, str]:
        return self.values("eventDate")

    @cached_property
    def event_for(self) -> dict[str, str]:
        return self.values("eventFor")

    @cached_property
    def beneficiary_name(self) -> dict[str, set[str]]:
        return self.multi("beneficiaryName")

    @cached_property
    def beneficiary(self) -> dict[str, set[str]]:
        return self.multi("beneficiary")

    @cached_property
    def host_country(self) -> dict[str, set[str]]:
        return self.multi("hostCountry")

    @cached_property
    def project_type(self) -> dict[str, set[str]]:
        return self.multi("projectType")

    @cached_property
    def methodology(self) -> dict[str, set[str]]:
        """listing → methodologies (a methodology version counts as its methodology)."""
        versions = self.values("versionOf")
        out: dict[str, set[str]] = defaultdict(set)
        for listing, methods in self.multi("methodology").items():
            if registry_of(listing) is None or "/project/" not in listing:
                continue  # issuances and blocks also name versions; listings carry the methodology
            for m in methods:
                out[listing].add(versions.get(m, m))
        return out

    @cached_property
    def labels(self) -> list[tuple[str, str, str | None, str | None, str | None]]:
        """(subject, label type, status, compliance period, purpose) of every label attestation."""
        subject = self.values("labelSubject")
        kind = self.values("labelType")
        status = self.values("labelStatus")
        period = self.values("compliancePeriod")
        purpose = self.values("authorisationPurpose")
        return [(subject[a], kind[a], status.get(a), period.get(a), purpose.get(a))
                for a in subject if a in kind]

    @cached_property
    def links(self) -> set[tuple[str, str, str]]:
        """(listing, relation, listing) of every cross-registry link, as stated."""
        out = set()
        for relation in LINK_RELATIONS:
            for _, s, o in self.scan(CK + relation):
                if isinstance(o, ox.NamedNode):
                    out.add((s.value, relation, o.value))
        return out

    @cached_property
    def link_records(self) -> list[tuple[str, str, str, str | None, str, str | None]]:
        """(subject, relation name, object, method, evidence, confidence) of every ck:CrossRegistryLink
        between listings (stated in an export or found by a linker, candidates included)."""
        subject, obj, relation = self.values("linkSubject"), self.values("linkObject"), self.values("linkRelation")
        method, confidence = self.values("linkMethod"), self.values("confidence")
        evidence = self.multi("linkEvidence")
        out = []
        for link, rel in relation.items():
            name = rel.rsplit("#", 1)[-1]
            if name in LINK_RELATIONS and link in subject and link in obj:
                out.append((subject[link], name, obj[link], method.get(link), " | ".join(sorted(evidence.get(link, ()))),
                            confidence.get(link)))
        return out

    @cached_property
    def neighbours(self) -> dict[str, set[tuple[str, str]]]:
        """listing → (relation, linked listing), in both directions (the relations are symmetric)."""
        out: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for a, relation, b in self.links:
            out[a].add((relation, b))
            out[b].add((relation, a))
        return out

    @cached_property
    def serials(self) -> dict[str, tuple[str, int, int]]:
        prefix = self.values("serialPrefix")
        start = self.values("serialStart")
        end = self.values("serialEnd")
        out = {}
        for block, p in prefix.items():
            try:
                out[block] = (p, int(start[block]), int(end[block]))
            except (KeyError, ValueError):
                continue
        return out

    @cached_property
    def target_programme(self) -> dict[str, str]:
        return self.values("targetProgramme")

    # -- derived tables ----------------------------------------------------------------------

    def event_quantity(self, event: str) -> Decimal | None:
        q = self.quantity.get(event)
        if q is not None:
            return q
        blocks = [self.quantity.get(b) for b in self.affects.get(event, ())]
        known = [b for b in blocks if b is not None]
        return sum(known, Decimal(0)) if known else None

    @cached_property
    def records(self) -> list[Record]:
        """Every issued block and every event as one record with its dimensions."""
        out: list[Record] = []
        quantity, vintage, kind, block_of = self.quantity, self.vintage, self.unit_kind, self.block_of
        sources = self.quantity_sources
        for issuance, blocks in self.generated.items():
            registry = registry_of(issuance)
            for block in blocks:
                if block in self.buffer_blocks or block not in quantity:
                    continue
                out.append(Record("issued", registry, block_of.get(block) or self.issued_for.get(issuance),
                                  vintage.get(block), kind.get(block), quantity[block], None, block,
                                  frozenset(sources.get(block, ()))))
            buffer = self.buffer_quantity.get(issuance)
            if buffer is not None:
                first = min(blocks) if blocks else None
                out.append(Record("buffer", registry, self.issued_for.get(issuance),
                                  vintage.get(first) if first else None, kind.get(first) if first else None,
                                  buffer, None, issuance, frozenset(self.sources_of(issuance))))
        for event, slug in self.event_type.items():
            measure = MEASURE_OF.get(slug)
            if measure is None:
                continue
            q = self.event_quantity(event)
            if q is None:
                continue
            blocks = sorted(self.affects.get(event, ()))
            block = blocks[0] if blocks else None
            listing = self.event_for.get(event) or (block_of.get(block) if block else None)
            out.append(Record(measure, registry_of(event), listing, vintage.get(block) if block else None,
                              kind.get(block) if block else None, q, self.event_date.get(event), event,
                              frozenset(sources.get(event, ()) or self.sources_of(event))))
        return out

    def sources_of(self, subject: str) -> set[str]:
        return self._type_sources.get(subject, set())

    @cached_property
    def _type_sources(self) -> dict[str, set[str]]:
        return self.sources("eventType") | {k: v for k, v in self.sources("bufferQuantity").items()}


@dataclass(frozen=True, slots=True)
class Record:
    measure: str
    registry: str | None
    listing: str | None
    vintage: str | None
    unit_kind: str | None
    quantity: Decimal
    date: str | None
    subject: str
    exports: frozenset[str] = field(default_factory=frozenset)


_facts: tuple[Any, Facts] | None = None


def facts_for(store: Any) -> Facts:
    """The facts of ``store`` as loaded now (shared by the summaries of one refresh)."""
    global _facts
    key = (id(store), state_key(store))
    if _facts is None or _facts[0] != key:
        _facts = (key, Facts(store))
    return _facts[1]


def release_facts() -> None:
    global _facts
    _facts = None


# ------------------------------------------------------------------------------ writing


class Aggregate:
    """quantity, record count and source exports per key."""

    __slots__ = ("quantity", "records", "exports", "extra")

    def __init__(self) -> None:
        self.quantity = Decimal(0)
        self.records = 0
        self.exports: set[str] = set()
        self.extra: set[tuple[str, str]] = set()

    def add(self, quantity: Decimal, exports: Iterable[str] = ()) -> None:
        self.quantity += quantity
        self.records += 1
        self.exports.update(exports)


def _obs_iri(name: str, key: tuple[Any, ...]) -> str:
    digest = hashlib.sha256("\x1f".join("" if k is None else str(k) for k in key).encode()).hexdigest()[:20]
    return E.iri(f"{DERIVED_BASE}{name}/obs/{digest}")


def _write(out: TripleWriter, name: str, cls: str, dims: dict[str, str | None], agg: Aggregate) -> None:
    """One observation: dimensions are (term name → N-Triples token or None)."""
    node = _obs_iri(name, (cls, *sorted((k, v or "") for k, v in dims.items())))
    out.add(node, A, t(cls))
    for key, token in dims.items():
        if token is not None:
            out.add(node, t(key), token)
    out.add(node, t("quantity"), E.decimal(agg.quantity))
    out.add(node, t("records"), E.integer(agg.records))
    for export in sorted(agg.exports):
        out.add(node, PROV_DERIVED, E.iri(export))
    for key, token in sorted(agg.extra):
        out.add(node, t(key), token)


def _iri(value: str | None) -> str | None:
    return E.iri(value) if value else None


def _year(value: str | None) -> str | None:
    return E.gyear(int(value[:4])) if value and value[:4].isdigit() else None


def _lit(value: str | None) -> str | None:
    return E.literal(value) if value is not None else None


def _reg(slug: str | None) -> str | None:
    return E.iri(iris.registry(slug)) if slug else None


# ---------------------------------------------------------------------------- summaries


def build_totals(store: Any, out: TripleWriter) -> None:
    """Issued, buffer, retired, cancelled, converted… per (registry, vintage, unit kind), exact;
    per (registry, country, project type, vintage, unit kind) for the category breakdown; and
    issued-never-retired per (registry, vintage): issued quantity of (listing, vintage) pairs for
    which no retirement, cancellation or conversion is recorded (for an issuance without a
    vintage: of listings with none at all)."""
    facts = facts_for(store)
    exact: dict[tuple, Aggregate] = defaultdict(Aggregate)
    category: dict[tuple, Aggregate] = defaultdict(Aggregate)
    issued_lv: dict[tuple[str | None, str | None, str | None], Aggregate] = defaultdict(Aggregate)
    used_lv: set[tuple[str | None, str | None]] = set()
    used_listings: set[str | None] = set()
    countries, types = facts.host_country, facts.project_type
    for r in facts.records:
        exact[(r.registry, r.vintage, r.unit_kind, r.measure)].add(r.quantity, r.exports)
        for country in countries.get(r.listing, ()) or (None,):
            for kind in types.get(r.listing, ()) or (None,):
                category[(r.registry, country, kind, r.vintage, r.unit_kind, r.measure)].add(r.quantity, r.exports)
        if r.measure == "issued":
            issued_lv[(r.registry, r.listing, r.vintage)].add(r.quantity, r.exports)
        elif r.measure in (MEASURE_OF[u] for u in USES):
            used_lv.add((r.listing, r.vintage))
            used_listings.add(r.listing)
    for (registry, vintage, kind, measure), agg in exact.items():
        _write(out, "summary-totals", "RegistryVintageTotal",
               {"registry": _reg(registry), "vintage": _year(vintage), "unitKind": _iri(kind), "measure": _lit(measure)},
               agg)
    for (registry, country, ptype, vintage, kind, measure), agg in category.items():
        _write(out, "summary-totals", "CategoryTotal",
               {"registry": _reg(registry), "country": _iri(country), "projectType": _iri(ptype),
                "vintage": _year(vintage), "unitKind": _iri(kind), "measure": _lit(measure)}, agg)
    never: dict[tuple, Aggregate] = defaultdict(Aggregate)
    for (registry, listing, vintage), agg in issued_lv.items():
        # an issuance without a vintage (Isometric) is matched with any use of its listing
        used = (listing, vintage) in used_lv if vintage is not None else listing in used_listings
        if listing is not None and not used:
            total = never[(registry, vintage)]
            total.quantity += agg.quantity
            total.records += 1  # listings
            total.exports.update(agg.exports)
    for (registry, vintage), agg in never.items():
        _write(out, "summary-totals", "NeverRetiredTotal", {"registry": _reg(registry), "vintage": _year(vintage)}, agg)


def build_beneficiaries(store: Any, out: TripleWriter) -> None:
    """Retired quantity per (beneficiary name as written, registry, year, event type), with the
    beneficiary organisations the registries name; retirements and Verra's
    retirements-or-cancellations that name a beneficiary."""
    facts = facts_for(store)
    totals: dict[tuple, Aggregate] = defaultdict(Aggregate)
    names, orgs = facts.beneficiary_name, facts.beneficiary
    for r in facts.records:
        if r.measure not in ("retired", "retired-or-cancelled"):
            continue
        for name in names.get(r.subject, ()):
            agg = totals[(name, r.registry, r.date[:4] if r.date else None, r.measure)]
            agg.add(r.quantity, r.exports)
            for org in orgs.get(r.subject, ()):
                agg.extra.add(("beneficiary", E.iri(org)))
    for (name, registry, year, measure), agg in totals.items():
        _write(out, "summary-beneficiaries", "BeneficiaryTotal",
               {"beneficiaryName": E.literal(name), "nameKey": E.literal(name.casefold()), "registry": _reg(registry),
                "year": _year(year), "measure": _lit(measure)}, agg)


def build_labels(store: Any, out: TripleWriter) -> None:
    """Quantities of labelled credit blocks per (registry, vintage, label type, status, compliance
    period, Article 6 purpose, measure): issued blocks carrying the label, and the retirements,
    cancellations and conversions of blocks carrying it. Labels on listings are not counted here
    (they do not say which credits they cover)."""
    facts = facts_for(store)
    by_block: dict[str, list[tuple]] = defaultdict(list)
    for subject, kind, status, period, purpose in facts.labels:
        by_block[subject].append((kind, status, period, purpose))
    totals: dict[tuple, Aggregate] = defaultdict(Aggregate)
    event_blocks = facts.affects
    for r in facts.records:
        blocks = [r.subject] if r.measure == "issued" else sorted(event_blocks.get(r.subject, ()))
        seen = set()
        for block in blocks:
            for label in by_block.get(block, ()):
                if label in seen:
                    continue
                seen.add(label)
                totals[(r.registry, r.vintage, *label, r.measure)].add(r.quantity, r.exports)
    for (registry, vintage, kind, status, period, purpose, measure), agg in totals.items():
        _write(out, "summary-labels", "LabelTotal",
               {"registry": _reg(registry), "vintage": _year(vintage), "labelType": _iri(kind),
                "labelStatus": _iri(status), "compliancePeriod": _iri(period), "purpose": _iri(purpose),
                "measure": _lit(measure)}, agg)


def build_listings(store: Any, out: TripleWriter) -> None:
    """Per listing that takes part in a cross-registry link (either end): totals per measure; per
    pair of listings of different registries linked by a ck:CrossRegistryLink (stated or found,
    candidates included): the link's relation, method, evidence and confidence and both sides'
    totals (all vintages); and per methodology (a version counts as its methodology): totals per registry and measure."""
    facts = facts_for(store)
    linked = facts.neighbours
    per_listing: dict[tuple, Aggregate] = defaultdict(Aggregate)
    per_method: dict[tuple, Aggregate] = defaultdict(Aggregate)
    method_listings: dict[tuple, set[str]] = defaultdict(set)
    methods = facts.methodology
    for r in facts.records:
        if r.listing in linked:
            per_listing[(r.listing, r.measure)].add(r.quantity, r.exports)
        for m in methods.get(r.listing, ()):
            per_method[(m, r.registry, r.measure)].add(r.quantity, r.exports)
            method_listings[(m, r.registry, r.measure)].add(r.listing)
    for listing in linked:
        if not any((listing, m) in per_listing for m in MEASURE_OF.values()) and (listing, "issued") not in per_listing:
            per_listing[(listing, "none")]  # linked listings without credits are listed too
    totals = {(listing, measure): agg.quantity for (listing, measure), agg in per_listing.items()}
    # one row per distinct link record (two links of one pair of listings keep their own method
    # and evidence), ranked in the listing's order so the query sorts integers, not IRIs
    pairs = sorted({r for r in facts.link_records if registry_of(r[0]) != registry_of(r[2])},
                   key=lambda r: (r[0], r[2], r[1], r[3] or "", r[4] or "", r[5] or ""))
    for rank, (subject, relation, obj, method, evidence, confidence) in enumerate(pairs, 1):
        node = _obs_iri("summary-listings", ("pair", subject, relation, obj, method, evidence, confidence))
        out.add(node, A, t("ListingPair"))
        out.add(node, t("rank"), E.integer(rank))
        out.add(node, t("listing"), E.iri(subject))
        out.add(node, t("linked"), E.iri(obj))
        out.add(node, t("relation"), E.literal(relation))
        for side, listing in (("", subject), ("linked", obj)):
            out.add(node, t(side + "Registry" if side else "registry"), _reg(registry_of(listing)) or E.literal("?"))
            for measure in ("issued", "retired", "cancelled", "converted", "retired-or-cancelled"):
                quantity = totals.get((listing, measure))
                if quantity is not None:
                    name = measure.replace("-or-c", "OrC")
                    out.add(node, t(side + name[0].upper() + name[1:] if side else name), E.decimal(quantity))
        if method:
            out.add(node, t("method"), E.iri(method))
        if evidence:
            out.add(node, t("evidence"), E.literal(evidence))
        if confidence:
            out.add(node, t("confidence"), E.typed(confidence, E.XSD + "decimal"))
    for (listing, measure), agg in per_listing.items():
        _write(out, "summary-listings", "ListingTotal",
               {"listing": E.iri(listing), "registry": _reg(registry_of(listing)), "measure": _lit(measure)}, agg)
    for (method, registry, measure), agg in per_method.items():
        agg.extra.add(("listings", E.integer(len(method_listings[(method, registry, measure)]))))
        _write(out, "summary-listings", "MethodologyTotal",
               {"methodology": E.iri(method), "registry": _reg(registry), "measure": _lit(measure)}, agg)


def _conversion_checks(facts: Facts) -> list[dict[str, Any]]:
    """(origin listing, target listing, vintage) pairs of conversions and compliance issuances."""
    converted: dict[tuple, Aggregate] = defaultdict(Aggregate)
    programmes: dict[tuple, set[str]] = defaultdict(set)
    issued: dict[tuple[str | None, str | None], Aggregate] = defaultdict(Aggregate)
    for r in facts.records:
        if r.measure == "converted":
            key = (r.listing, r.vintage)
            converted[key].add(r.quantity, r.exports)
            target = facts.target_programme.get(r.subject)
            if target:
                programmes[key].add(target)
        elif r.measure == "issued":
            issued[(r.listing, r.vintage)].add(r.quantity, r.exports)
    checks = []
    seen = set()
    for (origin, vintage), agg in converted.items():
        targets = programmes.get((origin, vintage), set())
        wanted = {reg for p in targets for reg in PROGRAMME_REGISTRIES.get(p.rsplit("/", 1)[-1], ())}
        peers = sorted({b for _, b in facts.neighbours.get(origin, ())
                        if registry_of(b) != registry_of(origin) and (not wanted or registry_of(b) in wanted)})
        if not peers:
            checks.append(dict(origin=origin, target=None, vintage=vintage, programmes=targets, converted=agg,
                               issued=None, status="no-linked-listing"))
        for peer in peers:
            seen.add((origin, peer, vintage))
            got = issued.get((peer, vintage))
            if got is None:
                status = "not-issued-at-target"
            elif got.quantity == agg.quantity:
                status = "same-quantity"
            else:
                status = "different-quantity"
            checks.append(dict(origin=origin, target=peer, vintage=vintage, programmes=targets, converted=agg,
                               issued=got, status=status))
    # compliance issuances whose voluntary origin shows no conversion of that vintage
    for (listing, vintage), agg in issued.items():
        if registry_of(listing or "") not in ("arb", "washington-ecology"):
            continue
        for relation, origin in facts.neighbours.get(listing, ()):
            if relation != "compliancePeerOf" or registry_of(origin) in ("arb", "washington-ecology"):
                continue
            if (origin, listing, vintage) in seen or (origin, vintage) in converted:
                continue
            seen.add((origin, listing, vintage))
            checks.append(dict(origin=origin, target=listing, vintage=vintage, programmes=set(), converted=None,
                               issued=agg, status="not-cancelled-at-origin"))
    return checks


def build_conversions(store: Any, out: TripleWriter) -> None:
    """Conversions between registries per (origin listing, target listing, vintage): converted at
    the origin, issued at the target for that vintage, and whether they agree (``cks:status``:
    same-quantity, different-quantity, not-issued-at-target, not-cancelled-at-origin,
    no-linked-listing)."""
    facts = facts_for(store)
    checks = sorted(_conversion_checks(facts), key=lambda c: (
        iris.registry(registry_of(c["origin"]) or "cdm"), c["origin"],
        int(c["vintage"][:4]) if c["vintage"] and c["vintage"][:4].isdigit() else -1, c["target"] or ""))
    for rank, check in enumerate(checks, 1):
        converted: Aggregate | None = check["converted"]
        issued: Aggregate | None = check["issued"]
        key = (check["origin"], check["target"], check["vintage"])
        node = _obs_iri("summary-conversions", key)
        out.add(node, A, t("ConversionCheck"))
        out.add(node, t("rank"), E.integer(rank))
        out.add(node, t("originListing"), E.iri(check["origin"]))
        out.add(node, t("originRegistry"), E.iri(iris.registry(registry_of(check["origin"]) or "cdm")))
        if check["target"]:
            out.add(node, t("targetListing"), E.iri(check["target"]))
            out.add(node, t("targetRegistry"), E.iri(iris.registry(registry_of(check["target"]) or "cdm")))
        if check["vintage"]:
            out.add(node, t("vintage"), E.gyear(int(check["vintage"][:4])))
        for programme in sorted(check["programmes"]):
            out.add(node, t("targetProgramme"), E.iri(programme))
        out.add(node, t("convertedQuantity"), E.decimal(converted.quantity if converted else Decimal(0)))
        out.add(node, t("conversions"), E.integer(converted.records if converted else 0))
        out.add(node, t("targetIssuedQuantity"), E.decimal(issued.quantity if issued else Decimal(0)))
        out.add(node, t("targetIssuances"), E.integer(issued.records if issued else 0))
        out.add(node, t("status"), E.literal(check["status"]))
        for export in sorted((converted.exports if converted else set()) | (issued.exports if issued else set())):
            out.add(node, PROV_DERIVED, E.iri(export))


def _overlaps(blocks: dict[str, tuple[str, int, int]]) -> Iterator[tuple[str, str, int, int]]:
    """Pairs of blocks of one numbering space whose ranges overlap: (a, b, first, last shared)."""
    by_prefix: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for block, (prefix, start, end) in blocks.items():
        by_prefix[prefix].append((start, end, block))
    for prefix, ranges in by_prefix.items():
        ranges.sort()
        active: list[tuple[int, int, str]] = []  # blocks whose end is at or after the current start
        for start, end, block in ranges:
            active = [a for a in active if a[1] >= start]
            for a_start, a_end, other in active:
                yield other, block, max(start, a_start), min(end, a_end)
            active.append((start, end, block))


def build_suspects(store: Any, out: TripleWriter) -> None:
    """Double-issuance and double-use suspects, each with the records that are its evidence:

    - ``overlapping-issuance``: two blocks of one numbering space, each generated by an issuance,
      share serial numbers;
    - ``overlapping-use``: two blocks of one numbering space share serial numbers and each was
      retired, cancelled or converted by a different event;
    - ``over-used``: the events that retire, cancel or convert one block add up to more than it;
    - ``not-cancelled-at-origin``: a compliance programme issued credits for a vintage of a
      listing whose voluntary registry listing shows no conversion of that vintage (see
      summary-conversions)."""
    facts = facts_for(store)
    serials = facts.serials
    issued_blocks = {b for blocks in facts.generated.values() for b in blocks}
    used_by: dict[str, set[str]] = defaultdict(set)
    for event, blocks in facts.affects.items():
        if facts.event_type.get(event) in USES:
            for b in blocks:
                used_by[b].add(event)

    found: dict[str, tuple] = {}

    def suspect(kind: str, records: Iterable[str], evidence: str, quantity: Decimal | None = None,
                prefix: str | None = None, first: int | None = None, last: int | None = None) -> None:
        records = sorted(set(records))
        node = _obs_iri("summary-suspects", (kind, evidence, *records))
        found[node] = (kind, records, evidence, quantity, prefix, first, last)

    def write(rank: int, node: str, kind: str, records: list[str], evidence: str, quantity: Decimal | None,
              prefix: str | None, first: int | None, last: int | None) -> None:
        out.add(node, A, t("Suspect"))
        out.add(node, t("rank"), E.integer(rank))
        out.add(node, t("suspicion"), E.literal(kind))
        registries = sorted({r for rec in records if (r := registry_of(rec))})
        for registry in registries:
            out.add(node, t("registry"), E.iri(iris.registry(registry)))
        for record in records:
            out.add(node, t("record"), E.iri(record))
        # the records again as one literal, so the listing reads one value instead of grouping
        out.add(node, t("recordList"), E.literal(" ".join(records)))
        out.add(node, t("evidence"), E.literal(evidence))
        if quantity is not None:
            out.add(node, t("quantity"), E.decimal(quantity))
        if prefix is not None:
            out.add(node, t("numberingSpace"), E.literal(prefix))
            out.add(node, t("overlapFrom"), E.integer(first or 0))
            out.add(node, t("overlapTo"), E.integer(last or 0))

    for a, b, first, last in _overlaps(serials):
        prefix = serials[a][0]
        shared = Decimal(last - first + 1)
        if a in issued_blocks and b in issued_blocks:
            suspect("overlapping-issuance", [a, b],
                    f"blocks {a} and {b} were both issued and share numbers {first}-{last} of {prefix}",
                    shared, prefix, first, last)
        events_a, events_b = used_by.get(a, set()), used_by.get(b, set())
        if events_a and events_b and (events_a | events_b) != (events_a & events_b):
            suspect("overlapping-use", [a, b, *events_a, *events_b],
                    f"blocks {a} and {b} share numbers {first}-{last} of {prefix} and were each retired, "
                    f"cancelled or converted by different events", shared, prefix, first, last)
    for block, events in used_by.items():
        size = facts.quantity.get(block)
        if size is None or len(events) < 2:
            continue
        total = sum((facts.quantity.get(e) or Decimal(0) for e in events), Decimal(0))
        if total > size:
            suspect("over-used", [block, *events],
                    f"{len(events)} events retire, cancel or convert {total} of block {block}, which holds {size}",
                    total - size)
    for check in _conversion_checks(facts):
        if check["status"] == "not-cancelled-at-origin":
            issued = check["issued"]
            suspect("not-cancelled-at-origin", [check["origin"], check["target"]],
                    f"{check['target']} was issued {issued.quantity} for vintage {check['vintage'] or '?'} and is a "
                    f"compliance peer of {check['origin']}, which shows no conversion of that vintage",
                    issued.quantity)
    # ranked in the listing's order (kind, then suspect IRI), so the query sorts integers, not IRIs
    for rank, node in enumerate(sorted(found, key=lambda n: (found[n][0], n)), 1):
        write(rank, node, *found[node])


def build_serial_index(store: Any, out: TripleWriter) -> None:
    """The serial-range index: ``<block> cks:rangeKey "<numbering space> <size> <bucket>"`` for
    the one or two buckets of the smallest power-of-ten size that covers the block, so the block
    holding any credit number is found by 19 exact-key lookups (one per size) instead of a scan
    of its numbering space."""
    facts = facts_for(store)
    key = t("rangeKey")
    for block, (prefix, start, end) in facts.serials.items():
        length = end - start + 1
        size = next((s for s in BUCKET_SIZES if s >= length), BUCKET_SIZES[-1])
        for bucket in range(start // size, end // size + 1):
            out.add(E.iri(block), key, E.literal(f"{prefix} {size} {bucket}"))


def range_keys(prefix: str, number: int) -> list[str]:
    """The index keys to look up for one credit number (what the credit-life query computes)."""
    return [f"{prefix} {size} {number // size}" for size in BUCKET_SIZES]


def _last(build: Callable[[Any, TripleWriter], None]) -> Callable[[Any, TripleWriter], None]:
    """Release the shared facts after the last summary of a refresh."""

    def wrapped(store: Any, out: TripleWriter) -> None:
        try:
            build(store, out)
        finally:
            release_facts()

    wrapped.__doc__ = build.__doc__
    return wrapped


SERIAL_INDEX = Derivation("summary-serial-index", "2", build_serial_index,
                          "Serial-range index: the power-of-ten buckets of every serial-numbered credit block")
TOTALS = Derivation("summary-totals", "1", build_totals,
                    "Issued, retired, cancelled and converted quantities by registry, vintage, unit kind, country and project type")
BENEFICIARIES = Derivation("summary-beneficiaries", "1", build_beneficiaries,
                           "Retired quantities by beneficiary, registry and year")
LABELS = Derivation("summary-labels", "1", build_labels,
                    "Quantities of labelled credit blocks (CORSIA, ICVCM CCP, Article 6…) by registry and vintage")
LISTINGS = Derivation("summary-listings", "3", build_listings,
                      "Totals of cross-registry linked listings and of methodologies")
CONVERSIONS = Derivation("summary-conversions", "2", build_conversions,
                         "Conversions between registries checked against the target registry's issuances")
SUSPECTS = Derivation("summary-suspects", "2", _last(build_suspects),
                      "Double-issuance and double-use suspects with their evidence")

DERIVATIONS: tuple[Derivation, ...] = (SERIAL_INDEX, TOTALS, BENEFICIARIES, LABELS, LISTINGS, CONVERSIONS, SUSPECTS)

__all__ = ["CHANGES", "CKS", "DERIVATIONS", "Facts", "facts_for", "range_keys", "registry_of", "is_derived"]


# ------------------------------------------------------------------------ export changes

_SNAPSHOT_LIMIT = 10_000  # changes recorded one by one per export and load; the rest are counted


def _fingerprint(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


#: characters of base64 per snapshot literal: Oxigraph's parsers refuse a token over 16 MiB
_CHUNK_CHARS = 4 << 20


def _pack(rows: list[tuple[int, str]]) -> list[str]:
    """The rows as compressed base64, in literals of at most ``_CHUNK_CHARS`` characters, each
    prefixed with its position (``000000:``) since a graph keeps no order."""
    import base64
    import json
    import zlib

    text = base64.b64encode(zlib.compress(json.dumps(rows, ensure_ascii=False).encode("utf-8"), 6)).decode("ascii")
    return [f"{i // _CHUNK_CHARS:06d}:{text[i:i + _CHUNK_CHARS]}" for i in range(0, max(len(text), 1), _CHUNK_CHARS)]


def _unpack(chunks: list[str]) -> list[tuple[int, str]]:
    import base64
    import json
    import zlib

    # base64 has no ':': an unprefixed literal is a whole snapshot written before chunking
    text = "".join(c.partition(":")[2] if ":" in c[:8] else c for c in sorted(chunks))
    return [(int(n), raw) for n, raw in json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))]


def _key_column(old: list[dict], new: list[dict]) -> str | None:
    """The first column whose values are unique (and filled) in both versions: the row identity."""
    if not old or not new:
        return None
    for column in old[0]:
        a = [r.get(column, "") for r in old]
        b = [r.get(column, "") for r in new]
        if all(a) and all(b) and len(set(a)) == len(a) and len(set(b)) == len(b):
            return column
    return None


def build_changes(store: Any, out: TripleWriter) -> None:
    """What changed between the last two versions of each export that the derivations saw.

    The store keeps only the current version graph of an export. This graph keeps, per export,
    a compressed snapshot of the current version's rows (row number and raw record) and, when a
    load replaced the version, one ``cks:RowChange`` per row added, removed or changed (rows
    paired by the first column whose values are unique in both versions), with the previous
    and the new raw record, the two checksums and load times. It reads its own previous graph to
    find the previous snapshot, so versions that two loads replace without a refresh between
    them are compared as one step (the CLI refreshes after every load)."""
    import json

    previous: dict[str, dict[str, Any]] = {}
    carried: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    mine = store.export_state(CHANGES.graph_iri)
    if mine is not None:
        graph = ox.NamedNode(mine.graph_iri)
        for sol in store.query(
            f"SELECT ?export ?sha ?snapshot ?loaded WHERE {{ GRAPH {graph} {{ ?n a <{CKS}Snapshot> ; "
            f"<{CKS}export> ?export ; <{CKS}sha256> ?sha ; <{CKS}rows> ?snapshot . "
            f"OPTIONAL {{ ?n <{CKS}loadedAt> ?loaded }} }} }}", named_graphs=[graph]):
            entry = previous.setdefault(sol["export"].value, {"sha": sol["sha"].value, "snapshot": [],
                                                              "loaded": sol["loaded"].value if sol["loaded"] else ""})
            entry["snapshot"].append(sol["snapshot"].value)
        for sol in store.query(
            f"SELECT ?export ?c ?p ?o WHERE {{ GRAPH {graph} {{ ?c a <{CKS}RowChange> ; <{CKS}export> ?export ; ?p ?o }} }}",
            named_graphs=[graph]):
            carried[sol["export"].value].append((str(sol["c"]), str(sol["p"]), str(sol["o"])))
    derived = {d.graph_iri for d in DERIVATIONS} | {DERIVED_BASE}
    for state in store.exports():
        if is_derived(state.export_iri) or state.export_iri in derived:
            continue
        graph = ox.NamedNode(state.graph_iri)
        loaded = ""
        for sol in store.query(
            f"SELECT ?t WHERE {{ GRAPH {graph} {{ <{state.export_iri}> <{E.PROV}wasGeneratedBy> ?run . "
            f"?run <{E.PROV}startedAtTime> ?t }} }} LIMIT 1", named_graphs=[graph]):
            loaded = sol["t"].value
        before = previous.get(state.export_iri)
        node = E.iri(f"{CHANGES.graph_iri}/snapshot/{hashlib.sha256(state.export_iri.encode()).hexdigest()[:20]}")
        if before is not None and before["sha"] == state.sha256:
            snapshot = before["snapshot"]
            for c, p, o in carried.get(state.export_iri, ()):  # the last change stays queryable
                out.add(c, p, o)
        else:
            # two sub-selects, which Oxigraph joins by hash: two sequential scans of the graph
            # instead of one random read per row (3x less CPU at 100k rows, far less I/O at 1M)
            rows = sorted(
                (int(sol["n"].value), sol["raw"].value)
                for sol in store.query(
                    f"SELECT ?n ?raw WHERE {{ {{ SELECT ?row ?n WHERE {{ GRAPH {graph} {{ ?row <{E.CSVW}rownum> ?n }} }} }} "
                    f"{{ SELECT ?row ?raw WHERE {{ GRAPH {graph} {{ ?row <{CK}rawRecord> ?raw }} }} }} }}",
                    named_graphs=[graph]))
            snapshot = _pack(rows)
            if before is not None:
                _diff(out, state.export_iri, _unpack(before["snapshot"]), rows, before, state.sha256, loaded, json)
        out.add(node, A, t("Snapshot"))
        out.add(node, t("export"), E.iri(state.export_iri))
        out.add(node, t("sha256"), E.literal(state.sha256))
        if loaded:
            out.add(node, t("loadedAt"), E.literal(loaded))
        for chunk in snapshot:
            out.add(node, t("rows"), E.literal(chunk))


def _diff(out: TripleWriter, export: str, old: list[tuple[int, str]], new: list[tuple[int, str]],
          before: dict[str, str], sha: str, loaded: str, json: Any) -> None:
    old_fp = Counter(_fingerprint(raw) for _, raw in old)
    new_fp = Counter(_fingerprint(raw) for _, raw in new)
    removed = [(n, raw) for n, raw in old if old_fp[_fingerprint(raw)] > new_fp[_fingerprint(raw)]]
    added = [(n, raw) for n, raw in new if new_fp[_fingerprint(raw)] > old_fp[_fingerprint(raw)]]
    old_records = [json.loads(raw) for _, raw in old]
    new_records = [json.loads(raw) for _, raw in new]
    key = _key_column(old_records, new_records)
    pairs: list[tuple[tuple[int, str] | None, tuple[int, str] | None]] = []
    if key is not None:
        added_by_key = {json.loads(raw).get(key): (n, raw) for n, raw in added}
        for n, raw in removed:
            match = added_by_key.pop(json.loads(raw).get(key), None)
            pairs.append(((n, raw), match))
        pairs.extend((None, a) for a in added_by_key.values())
    else:
        pairs = [((n, raw), None) for n, raw in removed] + [(None, a) for a in added]
    recorded = 0
    for old_row, new_row in sorted(pairs, key=lambda p: (p[1] or p[0])[0]):
        if recorded >= _SNAPSHOT_LIMIT:
            break
        recorded += 1
        kind = "changed" if old_row and new_row else ("removed" if old_row else "added")
        ident = f"{export} {sha} {old_row[0] if old_row else '-'} {new_row[0] if new_row else '-'}"
        node = E.iri(f"{CHANGES.graph_iri}/change/{hashlib.sha256(ident.encode()).hexdigest()[:20]}")
        out.add(node, A, t("RowChange"))
        out.add(node, t("export"), E.iri(export))
        out.add(node, t("change"), E.literal(kind))
        out.add(node, t("fromSha256"), E.literal(before["sha"]))
        out.add(node, t("toSha256"), E.literal(sha))
        if before.get("loaded"):
            out.add(node, t("fromLoadedAt"), E.literal(before["loaded"]))
        if loaded:
            out.add(node, t("toLoadedAt"), E.literal(loaded))
        if old_row:
            out.add(node, t("previousRownum"), E.integer(old_row[0]))
            out.add(node, t("previousRecord"), E.typed(old_row[1], E.RDF + "JSON"))
        if new_row:
            out.add(node, t("rownum"), E.integer(new_row[0]))
            out.add(node, t("row"), E.iri(iris.row(export, new_row[0])))
            out.add(node, t("record"), E.typed(new_row[1], E.RDF + "JSON"))
        if old_row and new_row:
            a, b = json.loads(old_row[1]), json.loads(new_row[1])
            changed = [c for c in dict.fromkeys([*a, *b]) if a.get(c) != b.get(c)]
            out.add(node, t("changedColumns"), E.literal(", ".join(changed)))
        if key and (old_row or new_row):
            out.add(node, t("keyColumn"), E.literal(key))
    if len(pairs) > recorded:
        out.add(E.iri(export), t("unrecordedChanges"), E.integer(len(pairs) - recorded))


CHANGES = Derivation("export-changes", "1", build_changes,
                     "Row snapshots of every export and what changed between its last two loaded versions")
DERIVATIONS = (*DERIVATIONS, CHANGES)
