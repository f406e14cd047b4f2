"""links/projects: project listings of different registries or programmes that record the same
activity, when no export states it.

Each candidate pair gets a score in [0, 1], written as the ``ck:confidence`` of a
``ck:CrossRegistryLink`` with relation ``ck:sameActivityAs`` and method ``name-match`` (or
``identifier-pattern`` when the registries' identifiers follow a known correspondence). The
direct ``ck:sameActivityAs`` triple is asserted only at score ≥ 0.80 (``ACCEPT``); pairs scoring
0.50–0.80 stay candidates (link resource only); below 0.50 nothing is written.

Which pairs are compared
------------------------
Listings of two different registries, or of one registry under two different programmes (a
programme of the same registry re-listing an activity). Pairs already linked by an export
(``ck:sameActivityAs``, ``ck:compliancePeerOf``, ``ck:transitionedFrom`` in a loaded graph) are
skipped: the stated link says more.

Score
-----
``score = name × (0.6 + 0.4 × support)``, capped at 0.97, where

- *name* is the IDF-weighted Jaccard similarity of the listings' name words (folded, without
  generic words such as "project"; numbers weigh 1, like the commonest word): rare words
  ("Bonny", "Beckley") weigh, generic ones ("abandoned mine methane recovery") hardly. When the
  rarest word of either name is not in the other ("Bonny …" / "Kielty Abandoned Mine Methane
  Recovery Project") the similarity is halved: the words that tell two names apart differ;
- *support* is the share of agreeing attributes among those both listings have: host country,
  project type (carbonkg project-type concept), site state/province (full names only), the
  developer/owner/operator names (compared by their organisation core key, see
  :mod:`carbonkg.loaders.linking_organisations`) and the methodology words; 0.4 when the two
  listings share no attribute, so that equal names alone (0.76) stay a candidate and need one
  agreeing attribute to be asserted.

Vetoes (nothing written): different host countries; different numbers or ordinals in the names,
in order ("Marshall County Flare IV" / "VI", "Tradewater ODS 57" / "66", "A-Gas 2-2024" /
"Hudson Tech 2024-2"); both listings stating compliance counterparts in the same compliance
registry but different ones (CAR1323 → CAOD6323 and ACR444 → CAOD5444 are two ARB projects,
although both are named "A-Gas 2019-4" and sited in Bowling Green, Ohio).

Chained links: two links that meet at one listing, each stated in an export or asserted by
this linker (≥ 0.80), relate their other ends too: ACR1009 is stated to be the compliance
counterpart of ARB CAMM1009, which the name match finds to be CAR2111, so ACR1009 and CAR2111
record the same activity. Such a pair (of different registries or programmes, not linked yet,
no veto) gets method ``chain``, confidence the product of the two links' confidences times
:data:`CHAIN_DISCOUNT`, and both links as evidence. One hop only, never the closure, so an error
in one link reaches no further than its neighbours.

Identifier pattern: a California compliance id ``CA..NNNN`` with 1000 ≤ NNNN < 5000, or a
Washington Ecology id ``ECY..NNN``, and an ACR id ``ACRNNNN`` with the same number (the
vocabulary's example CAOD1007 / ACR1007; every stated ARB–ACR and Ecology–ACR link of the
bundled exports follows it, while the 5000 and 6000 ARB series do not: CAOD5443 is ACR443,
CAOD6305 is CAR1305) give ``identifier-pattern`` with confidence max(score, 0.90) unless a veto
applies.

Cost
----
Blocking on rare words: each listing is indexed under its two rarest name words, and only words
in at most :data:`MAX_DF` listing names are keys, so a block holds at most MAX_DF listings and a
listing meets at most 2 × MAX_DF others. Time O(n · MAX_DF) in the number of listings n (plus
the scans of the store, linear in its size), memory O(n); a name repeated across thousands of
listings (as in generated benchmark exports) identifies nothing and forms no pairs.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import unquote

from carbonkg.loaders.derived import Derivation
from carbonkg.loaders.emit import TripleWriter
from carbonkg.loaders.linking_common import (
    ACCEPT,
    MAX_NAME_MATCH,
    decimal,
    not_derived,
    registry_of,
    scan,
    select,
    tokens,
    write_link,
)
from carbonkg.loaders.linking_organisations import name_keys
from carbonkg.store import GraphStore

log = logging.getLogger(__name__)

NAME = "links/projects"
VERSION = "2"
MAX_DF = 50  # a word in more listing names than this is no blocking key (and bounds a block)
KEYS_PER_LISTING = 2
NAME_BASE = Decimal("0.6")
SUPPORT_WEIGHT = Decimal("0.4")
NO_SUPPORT = Decimal("0.4")
DISTINCTIVE_MISMATCH = 0.5
ID_PATTERN_CONFIDENCE = Decimal("0.90")
CHAIN_DISCOUNT = Decimal("0.95")  # each hop through a third listing costs a little confidence

STOPWORDS = frozenset(
    "a an and the of in on at for by to from with project projects program programme programs proyecto "
    "programa de del la el los las y en para por du des le les et".split()
)
_ROMAN = re.compile(r"^(?=[ivxlc]+$)c{0,3}(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")
_ARB_ID = re.compile(r"^CA[A-Z]{2}([1-4]\d{3})$")  # the 1000-4999 series reuses the ACR number
_ECOLOGY_ID = re.compile(r"^ECY[A-Z]{2}(\d+)$")
_ACR_ID = re.compile(r"^ACR(\d+)$")


@functools.lru_cache(maxsize=65536)  # names and methodology texts repeat on many listings
def name_words(name: str) -> tuple[str, ...]:
    return tuple(w for w in tokens(name) if w not in STOPWORDS)


def is_ordinal(word: str) -> bool:
    """A word that numbers a listing within a series: anything with a digit (``57``, ``2023b``)
    or a roman numeral (``ii``, ``iv``; not ``i``, which is also a word)."""
    return any(c.isdigit() for c in word) or (len(word) > 1 and bool(_ROMAN.match(word)))


def ordinal_sequence(name: str) -> tuple[str, ...]:
    return tuple(w for w in name_words(name) if is_ordinal(w))


@dataclass
class Listing:
    iri: str
    registry: str
    native_id: str = ""
    names: list[str] = field(default_factory=list)
    words: frozenset[str] = frozenset()
    sequences: frozenset[tuple[str, ...]] = frozenset()
    programmes: set[str] = field(default_factory=set)
    countries: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)
    subdivisions: set[str] = field(default_factory=set)
    orgs: set[str] = field(default_factory=set)  # organisation core keys
    method_words: set[str] = field(default_factory=set)
    peers: dict[str, set[str]] = field(default_factory=dict)  # compliance registry → stated peer IRIs


def read_listings(store: GraphStore) -> tuple[dict[str, Listing], set[tuple[str, str]]]:
    """Every project listing with the attributes the score compares, and the pairs that loaded
    exports already link. One predicate scan each, joined here (see :mod:`linking_common`)."""
    listings: dict[str, Listing] = {}
    for iri, _ in scan(store, "a", "ck:ProjectListing"):
        registry = registry_of(iri)
        if registry is not None and "/project/" in iri:
            listings[iri] = Listing(iri, registry, unquote(iri.split("/project/", 1)[1]))

    def each(predicate: str):
        for iri, value in scan(store, predicate):
            rec = listings.get(iri)
            if rec is not None and value:
                yield rec, value

    for rec, name in each("rdfs:label"):
        rec.names.append(name)
    for rec, value in each("ck:underProgramme"):
        rec.programmes.add(value)
    for predicate in ("ck:hostCountry", "ck:country"):
        for rec, value in each(predicate):
            rec.countries.add(value)
    for rec, value in each("ck:projectType"):
        rec.types.add(value)
    subdivisions: dict[str, list[str]] = defaultdict(list)
    for location, value in scan(store, "ck:subdivision"):
        subdivisions[location].append(value)
    for rec, location in each("ck:location"):
        for value in subdivisions.get(location, ()):
            for part in value.split(";"):
                words = " ".join(tokens(part))
                if len(words) > 3:  # full names only: "IL" and "ILLINOIS" cannot be compared here
                    rec.subdivisions.add(words)
    org_cores: dict[str, set[str]] = defaultdict(set)
    for org, name in scan(store, "ck:orgName"):
        org_cores[org].update(k.core for k in name_keys(name) if k.variant == "name")
    for predicate in ("ck:developer", "ck:owner", "ck:projectOperator"):
        for rec, org in each(predicate):
            rec.orgs |= org_cores.get(org, set())
    for rec, value in each("ck:methodologyText"):
        rec.method_words.update(w for w in name_words(value) if len(w) > 2)
    for rec in listings.values():
        rec.names.sort()
        rec.words = frozenset(w for name in rec.names for w in name_words(name))
        rec.sequences = frozenset(ordinal_sequence(name) for name in rec.names)

    stated: set[tuple[str, str]] = set()
    for relation in ("ck:sameActivityAs", "ck:compliancePeerOf", "ck:transitionedFrom"):
        for a, b in select(store, f"SELECT ?a ?b WHERE {{ GRAPH ?g {{ ?a {relation} ?b }} {not_derived()} }}"):
            stated.add((a, b) if a < b else (b, a))  # type: ignore[operator]
            if relation == "ck:compliancePeerOf":
                for x, y in ((a, b), (b, a)):
                    if x in listings and y in listings:
                        listings[x].peers.setdefault(listings[y].registry, set()).add(y)  # type: ignore[arg-type]
    return listings, stated


@dataclass
class Score:
    confidence: Decimal
    method: str
    evidence: list[str]


def _idf(df: Counter[str], n: int, word: str) -> float:
    if is_ordinal(word):
        return 1.0
    return math.log((n + 1) / (df.get(word, 0) + 1)) + 1.0


def name_similarity(a: frozenset[str], b: frozenset[str], df: Counter[str], n: int) -> float:
    union = a | b
    if not union:
        return 0.0
    weight = {w: _idf(df, n, w) for w in union}
    similarity = sum(weight[w] for w in a & b) / sum(weight.values())
    for words in (a, b):
        plain = [w for w in words if not is_ordinal(w)]
        if plain:
            top = max(weight[w] for w in plain)
            if any(weight[w] == top and w not in (a & b) for w in plain):
                return similarity * DISTINCTIVE_MISMATCH
    return similarity


def vetoed(a: Listing, b: Listing) -> bool:
    """Whether the listings cannot record one activity: different host countries, different
    numbers in their names, or different counterparts stated in one compliance registry."""
    if a.countries and b.countries and not (a.countries & b.countries):
        return True
    if a.sequences and b.sequences and not (a.sequences & b.sequences):
        return True
    return any(not (a.peers[registry] & b.peers[registry]) for registry in set(a.peers) & set(b.peers))


def score_pair(a: Listing, b: Listing, df: Counter[str], n: int) -> Score | None:
    """The score of two listings, or ``None`` when a veto applies or nothing relates them."""
    if vetoed(a, b):
        return None
    name = Decimal(str(round(name_similarity(a.words, b.words, df, n), 6)))
    evidence = []
    if a.names and b.names:
        evidence.append(f'name: "{a.names[0]}" ({a.registry} {a.native_id}) ~ "{b.names[0]}" '
                        f"({b.registry} {b.native_id}); similarity {decimal(name)}")
    agree = total = 0
    for label, x, y in (("country", a.countries, b.countries), ("project type", a.types, b.types),
                        ("state/province", a.subdivisions, b.subdivisions), ("organisation", a.orgs, b.orgs),
                        ("methodology", a.method_words, b.method_words)):
        if x and y:
            total += 1
            same = bool(x & y)
            if label == "methodology":  # wordings differ by registry: most words of the shorter must agree
                same = len(x & y) >= 0.5 * min(len(x), len(y))
            agree += same
            shown = ", ".join(sorted(v.rsplit("/", 1)[-1] for v in (x & y if same else x | y)))[:120]
            evidence.append(f"{label} {'agrees' if same else 'differs'}: {shown}")
    support = Decimal(agree) / Decimal(total) if total else NO_SUPPORT
    confidence = min(name * (NAME_BASE + SUPPORT_WEIGHT * support), MAX_NAME_MATCH)
    method = "name-match"
    number = _same_number(a, b)
    if number is not None:
        method = "identifier-pattern"
        confidence = max(confidence, ID_PATTERN_CONFIDENCE)
        evidence.append(f"identifier pattern: {a.native_id} ~ {b.native_id} (number {number})")
    return Score(decimal(confidence), method, evidence)


def _compliance_number(rec: Listing) -> tuple[str, int] | None:
    """``("acr", N)`` for an ACR listing, ``("compliance", N)`` for a California (1000-4999
    series) or Washington listing: the number the identifier pattern compares; else ``None``."""
    for kind, pattern in (("compliance", _ARB_ID), ("compliance", _ECOLOGY_ID), ("acr", _ACR_ID)):
        m = pattern.match(rec.native_id)
        if m:
            return kind, int(m.group(1))
    return None


def _same_number(a: Listing, b: Listing) -> int | None:
    """The shared number when one listing is ACR's and the other its compliance counterpart."""
    na, nb = _compliance_number(a), _compliance_number(b)
    if na is not None and nb is not None and na[1] == nb[1] and {na[0], nb[0]} == {"acr", "compliance"}:
        return na[1]
    return None


def comparable(a: Listing, b: Listing) -> bool:
    if a.registry != b.registry:
        return True
    return bool(a.programmes and b.programmes and a.programmes != b.programmes)


def candidate_pairs(listings: dict[str, Listing]) -> tuple[set[tuple[str, str]], Counter[str]]:
    """Pairs sharing a rare name word (blocking), and the words' document frequencies."""
    named = [rec for rec in listings.values() if rec.words]
    df: Counter[str] = Counter(w for rec in named for w in rec.words)
    blocks: dict[str, list[Listing]] = defaultdict(list)
    for rec in named:
        keys = sorted((w for w in rec.words if df[w] <= MAX_DF), key=lambda w: (df[w], w))[:KEYS_PER_LISTING]
        for key in keys:
            blocks[key].append(rec)
    pairs: set[tuple[str, str]] = set()
    for key in sorted(blocks):
        members = sorted(blocks[key], key=lambda r: r.iri)  # at most MAX_DF: only such words are keys
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if comparable(a, b):
                    pairs.add((a.iri, b.iri))
    # listings an identifier pattern relates, whatever their names
    by_number: dict[int, list[Listing]] = defaultdict(list)
    for rec in listings.values():
        number = _compliance_number(rec)
        if number is not None:
            by_number[number[1]].append(rec)
    skipped = 0
    for members in by_number.values():
        if len(members) > MAX_DF:
            skipped += 1
            continue
        ordered = sorted(members, key=lambda r: r.iri)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1:]:
                if comparable(a, b) and _same_number(a, b) is not None:
                    pairs.add((a.iri, b.iri))
    unkeyed = sum(1 for rec in named if not any(df[w] <= MAX_DF for w in rec.words))
    log.info("links/projects: %d candidate pairs; %d named listings without a rare word; %d id numbers too common",
             len(pairs), unkeyed, skipped)
    return pairs, df


def find_links(listings: dict[str, Listing], stated: set[tuple[str, str]]) -> dict[tuple[str, str], Score]:
    pairs, df = candidate_pairs(listings)
    n = sum(1 for rec in listings.values() if rec.words)
    found: dict[tuple[str, str], Score] = {}
    for ia, ib in sorted(pairs):
        if (ia, ib) in stated:
            continue
        score = score_pair(listings[ia], listings[ib], df, n)
        if score is not None:
            found[(ia, ib)] = score
    return found


def chain_links(listings: dict[str, Listing], stated: set[tuple[str, str]],
                found: dict[tuple[str, str], Score]) -> dict[tuple[str, str], Score]:
    """Pairs related through one third listing by two links (stated, or found and asserted)."""
    edges: dict[str, list[tuple[str, Decimal, str]]] = defaultdict(list)
    for a, b in stated:
        edges[a].append((b, Decimal(1), "stated in an export"))
        edges[b].append((a, Decimal(1), "stated in an export"))
    for (a, b), score in found.items():
        if score.confidence >= ACCEPT:
            how = f"{score.method}, confidence {score.confidence}"
            edges[a].append((b, score.confidence, how))
            edges[b].append((a, score.confidence, how))
    chained: dict[tuple[str, str], Score] = {}
    for middle in sorted(edges):
        ends = sorted(edges[middle])
        for i, (x, cx, how_x) in enumerate(ends):
            for y, cy, how_y in ends[i + 1:]:
                pair = (x, y) if x < y else (y, x)
                if x == y or pair in stated or pair in found:
                    continue
                a, b = listings.get(pair[0]), listings.get(pair[1])
                if a is None or b is None or not comparable(a, b) or vetoed(a, b):
                    continue
                confidence = decimal(cx * cy * CHAIN_DISCOUNT)
                if pair in chained and chained[pair].confidence >= confidence:
                    continue
                chained[pair] = Score(confidence, "chain", [
                    f"{_short(x)} ~ {_short(middle)} ({how_x})",
                    f"{_short(middle)} ~ {_short(y)} ({how_y})",
                    f"confidence {cx} x {cy} x {CHAIN_DISCOUNT}",
                ])
    return chained


def _short(iri: str) -> str:
    rec_registry = registry_of(iri) or "?"
    return f"{rec_registry} {unquote(iri.rsplit('/', 1)[-1])}"


def build(store: GraphStore, out: TripleWriter) -> None:
    listings, stated = read_listings(store)
    found = find_links(listings, stated)
    found.update(chain_links(listings, stated, found))
    for (ia, ib), score in sorted(found.items()):
        write_link(out, ia, "sameActivityAs", ib, method=score.method,
                   confidence=score.confidence, evidence=score.evidence)


DERIVATION = Derivation(
    NAME,
    VERSION,
    build,
    "Project listings of different registries or programmes linked as the same activity (ck:sameActivityAs candidates, scored)",
)
