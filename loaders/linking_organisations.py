"""links/organisations: organisation records that name the same body, across registries and roles
and within one registry where two spellings minted two records.

Loaders mint one ``ck:Organisation`` per registry and name slug (or per registry id), keeping
every spelling as ``ck:orgName``. This linker reads those names and writes
``ck:sameOrganisationAs`` links (method ``name-match``) with the rule that matched as evidence.

Name keys
---------
A name is folded (accents and case removed, ``&`` read as "and", runs of initials joined, so
``S.A.S.`` and ``S A S`` are ``sas`` but ``S.A. E.S.P.`` is ``sa esp``), then split into a *core* and its *legal forms*: trailing legal-form words (Inc, LLC,
Ltd/Limited, S.A. de C.V., GmbH, Pty Ltd, …) are peeled off, a leading ``the`` is dropped, and
"company"/"co" are peeled without counting as a legal form (registries write "Mendocino Redwood
Company" and "Mendocino Redwood Company, LLC"). Each name also yields weaker *variants*: the text
outside parentheses ("SCS Global Services (Scientific Certification Systems)"), the legal name
before "dba"/"c/o", the legal name before a dash that follows a legal form ("TÜV SÜD America,
Inc. – Ruby Canyon": a division of the legal person), and the core without one trailing generic
descriptor (services, group, holdings, technology).

Rules and confidence (before the role bonus and caps below)
-----------------------------------------------------------
=====================  ==========================================================  ==========
rule                   condition                                                   confidence
=====================  ==========================================================  ==========
same-name              same core, same legal-form families (or both none)          0.95
legal-form-missing     same core, one name has no legal form                       0.90
legal-form-compatible  same core, legal-form families overlap (S.A. / S.A.S.)      0.90
legal-form-conflict    same core, disjoint legal-form families (BV / Inc.)         0.60
truncated              one folded name is a prefix of the other cut inside a word  0.85
                       (an export column cut at a fixed width), ≥ 25 characters,
                       not ending in a complete legal form
similar-spelling       same first word, same word count, difflib ratio ≥ 0.92      0.70
=====================  ==========================================================  ==========

A match through a variant multiplies by the variant's strength (parentheses, dba, division:
0.9; descriptor: 0.85); a core of a single word multiplies by 0.9 (single words such as "Post"
or "Block" are weak evidence). Two records taking a role of the same family (project:
developer/owner/operator; assessment: validation/verification body; market: account
holder/beneficiary) add 0.05. A record whose names do not agree among themselves (an id-keyed
record the loader filled with several bodies' names, as Cercarbono's shared account ids are) is
capped at 0.60, so that it is never asserted the same as anything. The highest-scoring rule of a
pair wins; confidences are capped at 0.97 (name matching never claims certainty).

Thresholds (:mod:`carbonkg.loaders.linking_common`): asserted at ≥ 0.80, so same-name,
legal-form-missing/compatible and truncated matches are asserted directly, while legal-form
conflicts, descriptor-only and spelling-similar matches stay candidates (link resource only).
The labelled cases in ``tests/data/linking/organisations.csv`` measure this choice.

Cost
----
Blocking: pairs are only formed inside groups sharing a core (a dict lookup per name variant) and,
for the truncation and spelling rules, between neighbours of the folded names sorted in order
(sorted-neighbourhood, window :data:`WINDOW`). Time is O(n log n) in the number of distinct
(record, name) pairs n, never O(n²); a group of k records sharing one key yields at most
``k - 1`` links once it exceeds a dozen (a star, see :func:`pairs_within`).
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from carbonkg.loaders.derived import Derivation
from carbonkg.loaders.emit import TripleWriter
from carbonkg.loaders.linking_common import (
    MAX_NAME_MATCH,
    decimal,
    pairs_within,
    registry_of,
    scan,
    tokens,
    write_link,
)
from carbonkg.store import GraphStore

NAME = "links/organisations"
VERSION = "1"
WINDOW = 6  # sorted-neighbourhood window for the truncation and spelling rules

#: trailing legal-form words → their family (two names conflict when their families are disjoint)
LEGAL_FORMS: dict[str, str] = {
    "inc": "inc", "incorporated": "inc", "corp": "inc", "corporation": "inc",
    "llc": "llc", "lc": "llc",
    "ltd": "ltd", "limited": "ltd", "plc": "ltd",
    "pty": "pty", "pvt": "pvt", "private": "pvt", "pte": "pte",
    "gmbh": "gmbh", "ag": "ag", "kg": "kg", "ev": "ev", "ug": "gmbh",
    "sa": "sa", "sas": "sa", "sau": "sa", "sapi": "sa", "cv": "sa", "saa": "sa", "sab": "sa",
    "srl": "srl", "sarl": "srl", "semplificata": "srl", "sl": "srl", "spa": "spa",
    "bv": "bv", "nv": "nv", "lp": "lp", "llp": "lp", "partnership": "lp",
    "pbc": "pbc", "pc": "pc", "ltda": "ltda", "as": "as", "asa": "as", "ab": "ab", "oy": "oy",
    "sc": "sc", "ac": "ac", "sdn": "sdn", "bhd": "sdn", "esp": "esp", "bic": "bic",
    "sb": "sb", "benefit": "sb", "societa": "sb", "kk": "kk",
}
#: peeled like a legal form but never in conflict ("Company" is often part of the name)
WEAK_FORMS = frozenset({"co", "company"})
DESCRIPTORS = frozenset({"services", "service", "group", "holdings", "holding", "technology", "technologies"})
ROLE_FAMILIES: dict[str, str] = {
    "developer": "project", "owner": "project", "projectOperator": "project",
    "validationBody": "assessment", "verificationBody": "assessment",
    "accountHolder": "market", "beneficiary": "market",
}

_PAREN = re.compile(r"\([^()]*\)")
_DBA = re.compile(r"\b(?:d\s*/?\s*b\s*/?\s*a|doing business as|c\s*/\s*o)\b", re.IGNORECASE)
_DASH_SPLIT = re.compile(r"\s+[-–—]\s+")

RULES: dict[str, Decimal] = {
    "same-name": Decimal("0.95"),
    "legal-form-missing": Decimal("0.90"),
    "legal-form-compatible": Decimal("0.90"),
    "legal-form-conflict": Decimal("0.60"),
    "truncated": Decimal("0.85"),
    "similar-spelling": Decimal("0.70"),
}
VARIANT_STRENGTH = {"name": Decimal("1"), "parentheses": Decimal("0.9"), "dba": Decimal("0.9"),
                    "division": Decimal("0.9"), "descriptor": Decimal("0.85")}
SINGLE_WORD = Decimal("0.9")
ROLE_BONUS = Decimal("0.05")
CONFLATED_CAP = Decimal("0.60")


@dataclass(frozen=True)
class NameKey:
    core: str  # folded words without legal forms, space-separated
    families: frozenset[str]  # legal-form families of the trailing forms
    variant: str  # name | parentheses | dba | division | descriptor


def split_legal(words: list[str]) -> tuple[list[str], frozenset[str]]:
    """Peel trailing legal forms (and a leading "the") off folded words."""
    words = list(words)
    families: set[str] = set()
    peeled = True
    while words and peeled:
        peeled = False
        last = words[-1]
        if last in LEGAL_FORMS and len(words) > 1:
            families.add(LEGAL_FORMS[last])
            words.pop()
            peeled = True
        elif last in WEAK_FORMS and len(words) > 1:
            words.pop()
            peeled = True
        elif last == "de" and len(words) > 1 and families:  # "S.A. de C.V.": "de" between two forms
            words.pop()
            peeled = True
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return words, frozenset(families)


def name_keys(name: str) -> list[NameKey]:
    """The keys a name is matched by: its own, then its weaker variants."""
    out: list[NameKey] = []

    def add(text: str, variant: str) -> None:
        words, families = split_legal(tokens(text))
        if not words or not any(ch.isalpha() for w in words for ch in w):
            return
        out.append(NameKey(" ".join(words), families, variant))
        if variant == "name" and len(words) > 1 and words[-1] in DESCRIPTORS:
            out.append(NameKey(" ".join(words[:-1]), families, "descriptor"))

    add(name, "name")
    if "(" in name:
        add(_PAREN.sub(" ", name), "parentheses")
    dba = _DBA.split(name, maxsplit=1)
    if len(dba) == 2 and dba[0].strip():
        add(_PAREN.sub(" ", dba[0]), "dba")
    parts = _DASH_SPLIT.split(name, maxsplit=1)
    if len(parts) == 2:
        head_words = tokens(parts[0])
        if head_words and head_words[-1] in LEGAL_FORMS:
            add(parts[0], "division")
    # one key per (core, families): keep the strongest variant
    best: dict[tuple[str, frozenset[str]], NameKey] = {}
    for key in out:
        k = (key.core, key.families)
        if k not in best or VARIANT_STRENGTH[key.variant] > VARIANT_STRENGTH[best[k].variant]:
            best[k] = key
    return list(best.values())


def compare_forms(a: frozenset[str], b: frozenset[str]) -> str:
    if a == b:
        return "same-name"
    if not a or not b:
        return "legal-form-missing"
    if a & b:
        return "legal-form-compatible"
    return "legal-form-conflict"


@dataclass
class OrgRecord:
    iri: str
    registry: str
    names: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    keys: list[tuple[str, NameKey]] = field(default_factory=list)  # (name, key)
    conflated: bool = False


@dataclass
class Match:
    rule: str
    confidence: Decimal
    evidence: str
    strength: Decimal = Decimal("0")  # before caps and bonus: breaks ties between capped matches


ROLE_PREDICATES = tuple(f"ck:{role}" for role in ROLE_FAMILIES)


def read_organisations(store: GraphStore) -> dict[str, OrgRecord]:
    """Every organisation record with its names (``ck:orgName``, whose domain is ck:Organisation)
    and the role families it takes; one predicate scan each, joined here."""
    records: dict[str, OrgRecord] = {}
    for org, name in scan(store, "ck:orgName"):
        registry = registry_of(org)
        if registry is None:
            continue
        records.setdefault(org, OrgRecord(org, registry)).names.add(name)
    for predicate in ROLE_PREDICATES:
        family = ROLE_FAMILIES[predicate[3:]]
        for _, org in scan(store, predicate):
            if org in records:
                records[org].roles.add(family)
    for rec in records.values():
        for name in sorted(rec.names):
            rec.keys.extend((name, key) for key in name_keys(name))
        own = {k.core for _, k in rec.keys if k.variant == "name"}
        rec.conflated = len(own) > 1 and not _agree(own)
    return records


def _agree(cores: set[str]) -> bool:
    """Several spellings of one body: every core equals or extends the shortest one."""
    shortest = min(cores, key=len)
    return all(c == shortest or c.startswith(shortest + " ") for c in cores)


def _strength(rule: str, variants: tuple[str, str], core: str) -> Decimal:
    strength = RULES[rule] * min(VARIANT_STRENGTH[v] for v in variants)
    return strength * SINGLE_WORD if " " not in core else strength


def _score(a: OrgRecord, b: OrgRecord, rule: str, variants: tuple[str, str], core: str) -> Decimal:
    confidence = _strength(rule, variants, core)
    if a.roles & b.roles:
        confidence += ROLE_BONUS
    if a.conflated or b.conflated:
        confidence = min(confidence, CONFLATED_CAP)
    return decimal(min(confidence, MAX_NAME_MATCH))


def _describe(rec: OrgRecord, name: str) -> str:
    return f'"{name}" ({rec.registry})'


def find_matches(records: dict[str, OrgRecord]) -> dict[tuple[str, str], Match]:
    """Every pair of records that some rule matches, with its best match."""
    best: dict[tuple[str, str], Match] = {}

    def offer(a: OrgRecord, b: OrgRecord, match: Match) -> None:
        pair = (a.iri, b.iri) if a.iri < b.iri else (b.iri, a.iri)
        current = best.get(pair)
        if current is None or (match.confidence, match.strength, match.rule) > (
                current.confidence, current.strength, current.rule):
            best[pair] = match

    # 1. records sharing a core (exact dict blocking)
    by_core: dict[str, list[tuple[OrgRecord, str, NameKey]]] = defaultdict(list)
    for rec in records.values():
        for name, key in rec.keys:
            by_core[key.core].append((rec, name, key))
    for core, entries in sorted(by_core.items()):
        iris_here = sorted({rec.iri for rec, _, _ in entries})
        if len(iris_here) < 2:
            continue
        strongest: dict[str, tuple[str, NameKey]] = {}
        for rec, name, key in sorted(entries, key=lambda e: (e[0].iri, -VARIANT_STRENGTH[e[2].variant], e[1])):
            strongest.setdefault(rec.iri, (name, key))
        for ia, ib in pairs_within(iris_here):
            a, b = records[ia], records[ib]
            (name_a, key_a), (name_b, key_b) = strongest[ia], strongest[ib]
            rule = compare_forms(key_a.families, key_b.families)
            confidence = _score(a, b, rule, (key_a.variant, key_b.variant), core)
            via = sorted({key_a.variant, key_b.variant} - {"name"})
            evidence = (f"{rule}: {_describe(a, name_a)} ~ {_describe(b, name_b)}; key \"{core}\""
                        + (f" via {', '.join(via)}" if via else ""))
            offer(a, b, Match(rule, confidence, evidence, _strength(rule, (key_a.variant, key_b.variant), core)))

    # 2. sorted neighbourhood over the folded full names (truncation, spelling)
    folded: list[tuple[str, str, str, OrgRecord]] = []
    for rec in records.values():
        for name in rec.names:
            words = tokens(name)
            if words:
                folded.append((" ".join(words), rec.iri, name, rec))
    folded.sort(key=lambda item: (item[0], item[1], item[2]))
    for i, (text_a, iri_a, name_a, a) in enumerate(folded):
        for text_b, iri_b, name_b, b in folded[i + 1:i + 1 + WINDOW]:
            if iri_a == iri_b:
                continue
            rule = _fuzzy_rule(text_a, text_b)
            if rule is None:
                continue
            core = text_a if len(text_a) < len(text_b) else text_b
            confidence = _score(a, b, rule, ("name", "name"), core)
            offer(a, b, Match(rule, confidence, f"{rule}: {_describe(a, name_a)} ~ {_describe(b, name_b)}",
                              _strength(rule, ("name", "name"), core)))
    return best


def _fuzzy_rule(a: str, b: str) -> str | None:
    """``a`` and ``b`` are folded names (words joined by single spaces)."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if (short != long_ and long_.startswith(short) and len(short) >= 25 and long_[len(short)] != " "
            and short.rsplit(" ", 1)[-1] not in LEGAL_FORMS):
        return "truncated"  # cut inside a word, and not after a complete legal form
    wa, wb = a.split(), b.split()
    if len(wa) == len(wb) and wa[0] == wb[0] and a != b:
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        # the cheap upper bounds first: most neighbours fail them
        if matcher.real_quick_ratio() >= 0.92 and matcher.quick_ratio() >= 0.92 and matcher.ratio() >= 0.92:
            return "similar-spelling"
    return None


def build(store: GraphStore, out: TripleWriter) -> None:
    records = read_organisations(store)
    for (ia, ib), match in sorted(find_matches(records).items()):
        write_link(out, ia, "sameOrganisationAs", ib, method="name-match",
                   confidence=match.confidence, evidence=[match.evidence])


DERIVATION = Derivation(
    NAME,
    VERSION,
    build,
    "Organisations linked across registries and spellings by name (ck:sameOrganisationAs, name-match)",
)
