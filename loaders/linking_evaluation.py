"""Precision and recall of the linkers on hand-labelled pairs from the real exports.

The labelled cases live in ``tests/data/linking/<linker>.csv`` (pairs with ``true``/``false`` and a
reason). A pair counts as *predicted* when the linker asserted it (the direct triple, confidence
≥ ``ACCEPT``); the share of labelled positives that have at least a link resource (a candidate,
confidence ≥ ``FLOOR``) is reported as ``candidate_recall``. Every IRI of a case must exist in the
store, so that a typo in a label file fails loudly instead of counting as a miss.

For methodologies a case is ``(methodology record, ICVCM row)``; a row written ``none`` states
that no decision concerns the record, and any attestation on it is a false positive.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from carbonkg import iris
from carbonkg.loaders.derived import DERIVED_BASE
from carbonkg.loaders.linking_common import scan, select
from carbonkg.loaders.linking_methodologies import read_reference
from carbonkg.store import GraphStore

LINKERS = ("organisations", "projects", "methodologies")


@dataclass
class Quality:
    linker: str
    size: int = 0
    positives: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    candidates: int = 0  # labelled positives with at least a candidate link
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def candidate_recall(self) -> float:
        return self.candidates / self.positives if self.positives else 1.0

    def count(self, label: bool, predicted: bool, candidate: bool, what: str) -> None:
        self.size += 1
        if label:
            self.positives += 1
            self.candidates += candidate
        if label and predicted:
            self.tp += 1
        elif label:
            self.fn += 1
            self.errors.append(f"missed: {what}")
        elif predicted:
            self.fp += 1
            self.errors.append(f"wrongly linked: {what}")
        else:
            self.tn += 1

    def line(self) -> str:
        return (f"{self.linker:14} precision {self.precision:.3f}  recall {self.recall:.3f}  "
                f"(candidates {self.candidate_recall:.3f})  labelled {self.size} "
                f"({self.positives} true, {self.size - self.positives} false)  "
                f"tp {self.tp} fp {self.fp} fn {self.fn} tn {self.tn}")


def read_cases(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["label"] not in ("true", "false"):
            raise ValueError(f"{path.name}: label must be true or false, not {row['label']!r}")
        if not row.get("reason", "").strip():
            raise ValueError(f"{path.name}: every case needs a reason ({row})")
    return rows


def _full(iri: str) -> str:
    return iri if iri.startswith("http") else iris.ID_BASE + iri


def _derived(store: GraphStore, predicate: str) -> set[tuple[str, str]]:
    pairs = select(store, f"""SELECT ?a ?b WHERE {{ GRAPH ?g {{ ?a {predicate} ?b }}
        FILTER (STRSTARTS(STR(?g), "{DERIVED_BASE}")) }}""")
    return {(a, b) for a, b in pairs} | {(b, a) for a, b in pairs}  # type: ignore[misc]


def _links(store: GraphStore, relation: str) -> set[tuple[str, str]]:
    pairs = select(store, f"""SELECT ?a ?b WHERE {{ GRAPH ?g {{ ?l ck:linkRelation ck:{relation} ;
        ck:linkSubject ?a ; ck:linkObject ?b }} FILTER (STRSTARTS(STR(?g), "{DERIVED_BASE}")) }}""")
    return {(a, b) for a, b in pairs} | {(b, a) for a, b in pairs}  # type: ignore[misc]


def evaluate_pairs(store: GraphStore, cases: list[dict[str, str]], linker: str, relation: str,
                   known: set[str]) -> Quality:
    asserted = _derived(store, f"ck:{relation}")
    candidates = _links(store, relation)
    quality = Quality(linker)
    for case in cases:
        a, b = _full(case["subject"]), _full(case["object"])
        for iri in (a, b):
            if iri not in known:
                raise ValueError(f"{linker}: {iri} is not in the store (label file typo?)")
        quality.count(case["label"] == "true", (a, b) in asserted, (a, b) in candidates,
                      f"{case['subject']} ~ {case['object']} ({case['reason']})")
    return quality


def evaluate_methodologies(store: GraphStore, cases: list[dict[str, str]]) -> Quality:
    reference = read_reference()
    known = {m for cls in ("ck:Methodology", "ck:MethodologyVersion") for m, _ in scan(store, "a", cls)}
    attested = set(select(store, f"""SELECT ?m ?d WHERE {{ GRAPH ?g {{ ?m ck:hasLabel ?a .
        ?a <http://www.w3.org/ns/prov#wasDerivedFrom> ?d }} FILTER (STRSTARTS(STR(?g), "{DERIVED_BASE}")) }}"""))
    by_subject: dict[str, set[str]] = {}
    for m, d in attested:
        by_subject.setdefault(m, set()).add(d)  # type: ignore[arg-type]
    quality = Quality("methodologies")
    for case in cases:
        m = _full(case["methodology"])
        if m not in known:
            raise ValueError(f"methodologies: {m} is not in the store (label file typo?)")
        if case["icvcm_row"] == "none":
            found = by_subject.get(m, set())
            quality.count(False, bool(found), bool(found), f"{case['methodology']} has no decision ({case['reason']})")
            continue
        decision = reference.decisions[int(case["icvcm_row"]) - 1]
        if decision.title != case["icvcm_methodology"]:
            raise ValueError(f"methodologies: row {case['icvcm_row']} is now {decision.title!r}, "
                             f"labelled as {case['icvcm_methodology']!r}: relabel")
        hit = decision.iri in by_subject.get(m, set())
        quality.count(case["label"] == "true", hit, hit,
                      f"{case['methodology']} ~ row {case['icvcm_row']} {decision.title} ({case['reason']})")
    return quality


def evaluate(store: GraphStore, data_dir: Path) -> dict[str, Quality]:
    """Every linker's quality on its labelled cases; the store must hold the bundled exports
    with the derived graphs refreshed."""
    orgs = {org for org, _ in scan(store, "ck:orgName")}
    listings = {listing for listing, _ in scan(store, "a", "ck:ProjectListing")}
    return {
        "organisations": evaluate_pairs(store, read_cases(data_dir / "organisations.csv"), "organisations",
                                        "sameOrganisationAs", orgs),
        "projects": evaluate_pairs(store, read_cases(data_dir / "projects.csv"), "projects",
                                   "sameActivityAs", listings),
        "methodologies": evaluate_methodologies(store, read_cases(data_dir / "methodologies.csv")),
    }
