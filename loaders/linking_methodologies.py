"""links/methodologies: the ICVCM Core Carbon Principles decisions, brought into the graph from
``ontology/reference/icvcm-decisions.json`` and linked to the methodologies the registries use.

The decisions (generated from the reference file at every build, never typed by hand)
----------------------------------------------------------------------------------
A SKOS concept scheme ``<…/vocab/icvcm-assessment>`` whose top concepts are the assessment
statuses found in the file ("CCP-Approved", "Does not meet", "Withdrawn", "Very Unlikely To
Meet", "Remedial Action", and "(under assessment)" for rows without a decision), and whose
narrower concepts are the decisions, one per row of the ICVCM table: ``skos:prefLabel`` the
methodology as ICVCM names it, ``skos:broader`` its status, ``ck:statusText`` the status as
written, ``skos:notation`` the methodology id, ``dcterms:source`` the decision document and
``rdfs:seeAlso`` the Board observations. The CCP-Approved status is ``skos:exactMatch`` the
label-status concept *approved*.

The links
---------
For each ``ck:Methodology`` and ``ck:MethodologyVersion`` of a registry whose programme ICVCM
assessed (Verra/VCS, Gold Standard, CAR, ACR, Isometric, ART), one ``ck:LabelAttestation`` per
decision that concerns it: label type ``icvcm-ccp``, scope ``methodology``, issuer ICVCM, the
subject's ``ck:hasLabel``, ``ck:labelText`` the status as ICVCM writes it, ``ck:labelStatus``
*approved* only for CCP-Approved, ``prov:wasDerivedFrom`` the decision concept, and an
``rdfs:comment`` with the method and evidence. (The decision is ICVCM's statement; the
attestation applies it to one registry's record, which keeps the label model of the ontology:
one subject per attestation.)

Matching (per programme; decisions of other programmes are never considered):

1. *identifier*: a methodology code that looks like a code (has a digit, or is an upper-case
   acronym such as TPDDTEC once the programme prefix "GS" is removed) matches the rows with that
   ``methodologyId`` or whose title contains it as a word. A code that matches nothing is not
   matched by title either (VM0006 is simply not assessed).
2. *title*: otherwise the title words (folded, light plural stemming, without programme and
   generic words such as "methodology", "protocol", "production") are compared with each
   family of rows (a family: the rows of one methodology title with the version range removed;
   a *base*: the family title before a trailing " - variant", so "TREES - HFLD", "TREES - non
   HFLD" and "TREES - Removals" share a base). A base matches when the overlap coefficient of
   the words is at least 0.75, with no conflicting country qualifier ("U.S.", "Mexico", "Forestry
   - MX"); the best base wins (overlap, then Jaccard); a tie is broken by the countries of the
   listings that use the methodology, else no link (ambiguous). Titles of compliance-programme
   protocols ("ARB Compliance Offset Protocol…", "ECY…", "WA ECO") are never matched: ICVCM
   assesses voluntary programmes.
3. *version*: a methodology links to every decision of its matched rows; a version links only to
   rows whose version range contains its number ("v3.1" is in "2.0-3.1"); a version given as a
   date ("November 14, 2014") links to none.

Cost: O(m × r) for m methodology records and r ≤ 60 rows per programme.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from carbonkg import iris
from carbonkg.loaders import emit as E
from carbonkg.loaders.derived import Derivation
from carbonkg.loaders.emit import A, T, TripleWriter
from carbonkg.loaders.linking_common import registry_of, scan, tokens
from carbonkg.loaders.parse import parse_country
from carbonkg.ontology.resources import package_dir
from carbonkg.ontology.slugs import slug
from carbonkg.store import GraphStore

NAME = "links/methodologies"
REFERENCE = package_dir() / "reference" / "icvcm-decisions.json"
SCHEME = "icvcm-assessment"
UNDER_ASSESSMENT = "(under assessment)"
APPROVED = "CCP-Approved"

#: ICVCM programme name → (carbonkg registry slug, programme concept slug); programmes carbonkg
#: has no export of (Puro.earth, Rainbow, Global Carbon Council, Equitable Earth) are absent
PROGRAMMES = {
    "Verified Carbon Standard": ("verra", "vcs"),
    "Gold Standard": ("gold-standard", "gold-standard-for-the-global-goals"),
    "Climate Action Reserve (CAR)": ("climate-action-reserve", "climate-action-reserve-programme"),
    "ACR": ("american-carbon-registry", "acr-standard"),
    "Isometric": ("isometric", "isometric-standard"),
    "Architecture for REDD+ Transaction TREES (ART)": ("art-trees", "art-trees"),
}
PROGRAMME_REGISTRY = {name: registry for name, (registry, _) in PROGRAMMES.items()}
#: words that name the programme inside titles ("GS TPDDTEC", "The Gold Standard Simplified …")
PROGRAMME_WORDS = {
    "verra": {"vcs", "verra"},
    "gold-standard": {"gs", "gold", "standard"},
    "climate-action-reserve": {"car"},
    "american-carbon-registry": {"acr"},
    "isometric": {"ism", "isometric"},
    "art-trees": {"art"},
}
GENERIC = frozenset(
    "a an and the of in on for from with to by using through formerly methodology methodologies "
    "protocol protocols production project projects version".split()
)
SYNONYMS = {"forestry": "forest"}
MIN_OVERLAP = 0.75
_VERSION_TAIL = re.compile(r"(?:[\s\-–]+v?\d+(?:\.\d+)*)+\s*$", re.IGNORECASE)
_DASH = re.compile(r"\s+[-–]\s+")
_VERSION = re.compile(r"^(?:v(?:ersion)?\s*)?(\d+(?:\.\d+)*)$", re.IGNORECASE)
_TRAILING_CODE = re.compile(r"\s[-–]\s([A-Z]{2})\s*$")
_COMPLIANCE = re.compile(r"\b(?:arb|ecy|wa eco)\b|compliance offset protocol")


def _reference_digest(path: Path = REFERENCE) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


#: the derivation's version changes with the reference file, so a new ICVCM table recomputes it
VERSION = f"1+icvcm-{_reference_digest()}"


# -- words -----------------------------------------------------------------------------------


def _stem(word: str) -> str:
    word = SYNONYMS.get(word, word)
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


def country_qualifiers(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Countries a title names ("U.S.", "Mexico", "Dominican Republic", a trailing " - MX") and the
    words that named them (removed from the title's content words)."""
    words = tokens(text)
    codes: set[str] = set()
    used: set[str] = set()
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            gram = words[i:i + n]
            phrase = " ".join(gram)
            if n == 1 and phrase in {"us", "usa"}:
                codes.add("US")
                used.update(gram)
                continue
            if len(phrase) < 4:
                continue
            try:
                code = parse_country(phrase)
            except ValueError:
                continue
            if code:
                codes.add(code)
                used.update(gram)
    m = _TRAILING_CODE.search(text)
    if m:
        try:
            code = parse_country(m.group(1))
        except ValueError:
            code = None
        if code:
            codes.add(code)
            used.add(m.group(1).lower())
    return frozenset(codes), frozenset(used)


def title_words(text: str, registry: str) -> tuple[frozenset[str], frozenset[str]]:
    codes, used = country_qualifiers(text)
    skip = GENERIC | PROGRAMME_WORDS.get(registry, set()) | used
    return frozenset(_stem(w) for w in tokens(text) if w not in skip), codes


def parse_version(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    m = _VERSION.match(text.strip())
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


def _pad(v: tuple[int, ...]) -> tuple[int, ...]:
    return v + (0,) * (4 - len(v))


def version_range(text: str) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    parts = [p.strip() for p in re.split(r"\s*-\s*", text.strip()) if p.strip()]
    versions = [parse_version(p) for p in parts]
    if not versions or any(v is None for v in versions) or len(versions) > 2:
        return None
    low, high = versions[0], versions[-1]
    return _pad(low), _pad(high)  # type: ignore[arg-type]


def normal_code(code: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", code.upper())


# -- the reference table ---------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    number: int
    programme: str
    registry: str | None
    title: str
    family: str
    base: str
    code: str | None
    versions: str
    range: tuple[tuple[int, ...], tuple[int, ...]] | None
    status: str
    category: str
    document: str | None
    observations: str | None
    key: str

    @property
    def iri(self) -> str:
        return iris.concept(SCHEME, self.key)

    def contains(self, version: tuple[int, ...]) -> bool:
        return self.range is not None and self.range[0] <= _pad(version) <= self.range[1]


@dataclass(frozen=True)
class Reference:
    source_url: str
    authority: str
    updated: str
    fetched: str
    decisions: tuple[Decision, ...]


def read_reference(path: Path = REFERENCE) -> Reference:
    data = json.loads(path.read_text(encoding="utf-8"))
    decisions = []
    keys: set[str] = set()
    for number, row in enumerate(data["rows"], 1):
        title = " ".join(row["methodology"].replace("\u200b", " ").split())
        family = _VERSION_TAIL.sub("", title).strip() or title
        parts = _DASH.split(family)
        code = row.get("methodologyId") or None
        # a short last segment names a variant ("… (TREES) - HFLD", "Mexico Forest Protocol - ARR")
        variant = len(parts) > 1 and code is None and len(parts[-1].split()) <= 3
        base = " - ".join(parts[:-1]) if variant else family
        key = slug(f"{row['programme']} {title}")
        while key in keys:  # never expected; keeps keys unique if the table repeats a row
            key += "-bis"
        keys.add(key)
        decisions.append(Decision(
            number=number,
            programme=row["programme"],
            registry=PROGRAMME_REGISTRY.get(row["programme"]),
            title=title,
            family=family,
            base=base,
            code=code,
            versions=row.get("versions") or "",
            range=version_range(row.get("versions") or ""),
            status=(row.get("decision") or UNDER_ASSESSMENT).strip(),
            category=" ".join((row.get("category") or "").replace("\u200b", " ").split()),
            document=row.get("decisionDocumentUrl") or None,
            observations=row.get("boardObservationsUrl") or None,
            key=key,
        ))
    source = data.get("source", {})
    return Reference(
        source_url=source.get("url", ""),
        authority=source.get("authority", ""),
        updated=source.get("tableLastUpdated", ""),
        fetched=source.get("fetchedAt", ""),
        decisions=tuple(decisions),
    )


def status_iri(status: str) -> str:
    return iris.concept(SCHEME, slug(status))


def issuer_iri(reference: Reference) -> str:
    parts = urlsplit(reference.source_url)
    return f"{parts.scheme}://{parts.netloc}/"


def write_decisions(reference: Reference, out: TripleWriter) -> None:
    skos = lambda term: E.iri(E.SKOS + term)  # noqa: E731
    scheme = E.iri(iris.concept(SCHEME, "").rstrip("/"))
    out.add(scheme, A, skos("ConceptScheme"))
    out.add(scheme, skos("prefLabel"), E.lang("ICVCM Core Carbon Principles assessment decisions"))
    out.add(scheme, skos("definition"), E.lang(
        "The assessment status of each programme methodology in the ICVCM table, generated from "
        "ontology/reference/icvcm-decisions.json: top concepts are the statuses, narrower concepts the decisions."))
    out.add(scheme, E.iri(E.DCTERMS + "source"), E.any_uri(reference.source_url))
    out.add(scheme, skos("note"), E.lang(f"{reference.authority}; table last updated {reference.updated}; "
                                         f"fetched {reference.fetched}"))
    agent = E.iri(issuer_iri(reference))
    out.add(agent, A, E.iri(E.PROV + "Agent"))
    out.add(agent, E.LABEL, E.literal(reference.authority.split(" — ")[0]))
    statuses = sorted({d.status for d in reference.decisions})
    for status in statuses:
        concept = E.iri(status_iri(status))
        out.add(concept, A, skos("Concept"))
        out.add(concept, skos("inScheme"), scheme)
        out.add(concept, skos("topConceptOf"), scheme)
        out.add(scheme, skos("hasTopConcept"), concept)
        out.add(concept, skos("prefLabel"), E.lang(status))
        if status == APPROVED:
            out.add(concept, skos("exactMatch"), E.iri(iris.concept("label-status", "approved")))
    for d in reference.decisions:
        concept = E.iri(d.iri)
        out.add(concept, A, skos("Concept"))
        out.add(concept, skos("inScheme"), scheme)
        out.add(concept, skos("broader"), E.iri(status_iri(d.status)))
        out.add(concept, skos("prefLabel"), E.lang(d.title))
        out.add(concept, T.statusText, E.literal(d.status))
        if d.code:
            out.add(concept, skos("notation"), E.literal(d.code))
        out.add(concept, skos("note"), E.lang(
            f"programme: {d.programme}; category: {d.category}; versions: {d.versions}; "
            f"row {d.number} of the ICVCM table as of {reference.updated}"))
        if d.programme in PROGRAMMES:
            out.add(concept, T.underProgramme, E.iri(iris.concept("programme", PROGRAMMES[d.programme][1])))
        if d.document:
            out.add(concept, E.iri(E.DCTERMS + "source"), E.iri(d.document))
        if d.observations:
            out.add(concept, E.iri(E.RDFS + "seeAlso"), E.iri(d.observations))


# -- the registries' methodologies -----------------------------------------------------------


@dataclass
class MethodRecord:
    iri: str
    registry: str
    is_version: bool = False
    parent: str | None = None
    code: str | None = None
    label: str | None = None
    version_text: str | None = None
    countries: set[str] = field(default_factory=set)


def read_methodologies(store: GraphStore) -> dict[str, MethodRecord]:
    """Every methodology and version with code, title, version number and the host countries of
    the listings that use it; one predicate scan each, joined here."""
    records: dict[str, MethodRecord] = {}
    for cls, is_version in (("ck:Methodology", False), ("ck:MethodologyVersion", True)):
        for m, _ in scan(store, "a", cls):
            registry = registry_of(m)
            if registry is not None:
                records[m] = MethodRecord(m, registry, is_version=is_version)
    for predicate, attribute in (("ck:methodologyCode", "code"), ("rdfs:label", "label"),
                                 ("ck:versionNumber", "version_text"), ("ck:versionOf", "parent")):
        for m, value in scan(store, predicate):
            rec = records.get(m)
            if rec is not None and getattr(rec, attribute) is None:
                setattr(rec, attribute, value)
    countries: dict[str, set[str]] = defaultdict(set)
    for listing, country in scan(store, "ck:hostCountry"):
        countries[listing].add(country.rsplit("/", 1)[-1])
    for subject, m in scan(store, "ck:methodology"):
        if m in records and subject in countries:
            records[m].countries |= countries[subject]
    return records


@dataclass(frozen=True)
class Found:
    decision: Decision
    method: str  # identifier | title
    evidence: str


def _looks_like_code(code: str, registry: str) -> str | None:
    """The code without a programme prefix, if it looks like a code (digit, or an acronym)."""
    words = code.split()
    prefixes = {w.upper() for w in PROGRAMME_WORDS.get(registry, set())}
    while len(words) > 1 and words[0].upper() in prefixes:
        words = words[1:]
    rest = " ".join(words)
    if any(c.isdigit() for c in rest):
        return rest  # VM0047, ACM0002, M/UT/F-A01
    if len(words) == 1 and rest.isupper() and (len(rest) >= 4 or not rest.isalpha()):
        return rest  # TPDDTEC, AMS-I.E.
    return None


class Matcher:
    """Matches one programme's methodology records to its ICVCM rows."""

    def __init__(self, decisions: tuple[Decision, ...], registry: str) -> None:
        self.registry = registry
        self.rows = [d for d in decisions if d.registry == registry]
        self.bases: dict[str, list[Decision]] = defaultdict(list)
        for d in self.rows:
            self.bases[d.base].append(d)
        self.base_words = {base: title_words(base, registry) for base in self.bases}

    def by_code(self, code: str) -> list[Decision] | None:
        """Rows matching a code-like code; ``None`` when the code is not code-like."""
        bare = _looks_like_code(code, self.registry)
        if bare is None:
            return None
        wanted = normal_code(bare)
        # a row with an id is matched by its id only: "VMR0016 … (ACM0001 Revision)" is not ACM0001
        return [d for d in self.rows
                if (normal_code(d.code) == wanted if d.code
                    else any(normal_code(w) == wanted for w in d.title.split()))]

    def by_title(self, title: str, countries: set[str]) -> tuple[list[Decision], str] | None:
        if _COMPLIANCE.search(" ".join(tokens(title))):
            return None
        words, qualifiers = title_words(title, self.registry)
        if not words:
            return None
        scored = []
        for base, (bwords, bqual) in sorted(self.base_words.items()):
            if qualifiers and bqual and not (qualifiers & bqual):
                continue
            shared = len(words & bwords)
            if not shared:
                continue
            overlap = shared / min(len(words), len(bwords))
            if overlap < MIN_OVERLAP:
                continue
            scored.append((round(overlap, 6), round(shared / len(words | bwords), 6), base, bqual))
        if not scored:
            return None
        best = max((o, j) for o, j, _, _ in scored)
        top = [(base, bqual) for o, j, base, bqual in scored if (o, j) == best]
        if len(top) > 1 and countries:
            top = [(base, bqual) for base, bqual in top if not bqual or bqual & countries]
        if len(top) != 1:
            return None  # ambiguous
        base = top[0][0]
        return self.bases[base], f'title words of "{title}" ~ "{base}" (overlap {best[0]:.2f})'


def match_all(records: dict[str, MethodRecord], reference: Reference) -> dict[str, list[Found]]:
    """Every methodology record → the decisions that concern it."""
    matchers = {reg: Matcher(reference.decisions, reg) for reg in set(PROGRAMME_REGISTRY.values())}
    parents: dict[str, list[Found]] = {}
    for rec in sorted(records.values(), key=lambda r: r.iri):
        if rec.is_version or rec.registry not in matchers:
            continue
        matcher = matchers[rec.registry]
        countries = set(rec.countries)
        for other in records.values():
            if other.parent == rec.iri:
                countries |= other.countries
        found: list[Found] = []
        rows = matcher.by_code(rec.code) if rec.code else None
        if rows is not None:
            found = [Found(d, "identifier", f"methodology code {rec.code} ~ ICVCM {d.code or d.title}") for d in rows]
        else:
            title = rec.label or rec.code
            result = matcher.by_title(title, countries) if title else None
            if result is not None:
                rows, why = result
                found = [Found(d, "title", why) for d in rows]
        parents[rec.iri] = found
    out: dict[str, list[Found]] = {}
    for rec in sorted(records.values(), key=lambda r: r.iri):
        if not rec.is_version:
            found = parents.get(rec.iri, [])
        else:
            version = parse_version(rec.version_text)
            found = []
            if version is not None and rec.parent in parents:
                found = [Found(f.decision, f.method, f"{f.evidence}; version {rec.version_text} in {f.decision.versions}")
                         for f in parents[rec.parent] if f.decision.contains(version)]
        if found:
            out[rec.iri] = sorted(found, key=lambda f: f.decision.number)
    return out


def write_attestations(matches: dict[str, list[Found]], reference: Reference, out: TripleWriter) -> None:
    agent = E.iri(issuer_iri(reference))
    label_type = E.iri(iris.concept("label-type", "icvcm-ccp"))
    scope = E.iri(iris.concept("label-scope", "methodology"))
    approved = E.iri(iris.concept("label-status", "approved"))
    for subject_iri, found in sorted(matches.items()):
        subject = E.iri(subject_iri)
        for f in found:
            d = f.decision
            att = E.iri(iris.label(subject_iri, f"icvcm-ccp/{d.key}"))
            out.add(att, A, T.LabelAttestation)
            out.add(att, T.labelType, label_type)
            out.add(att, T.labelScope, scope)
            out.add(subject, T.hasLabel, att)
            out.add(att, T.labelSubject, subject)
            out.add(att, E.PROV_ATTRIBUTED_TO, agent)
            out.add(att, T.labelText, E.literal(d.status))
            if d.status == APPROVED:
                out.add(att, T.labelStatus, approved)
            out.add(att, E.PROV_DERIVED_FROM, E.iri(d.iri))
            method = "identifier-pattern" if f.method == "identifier" else "name-match"
            out.add(att, E.COMMENT, E.literal(
                f"ICVCM decision for {d.programme} \"{d.title}\" (versions {d.versions}) applied by {method}: {f.evidence}"))


def build(store: GraphStore, out: TripleWriter) -> None:
    reference = read_reference()
    write_decisions(reference, out)
    write_attestations(match_all(read_methodologies(store), reference), reference, out)


DERIVATION = Derivation(
    NAME,
    VERSION,
    build,
    "ICVCM CCP assessment decisions (from the reference table) and their attestations on the registries' methodologies",
)
