"""Precision, recall and labelled-set size of each linker, on the real bundled exports (prints figures).

1. load every bundled export (data/registry-exports) into an in-memory store;
2. run the linkers (the ``links/*`` derivations) and time them;
3. compare what they assert with the hand-labelled pairs of tests/data/linking/*.csv;
4. print precision, recall (asserted links) and candidate recall (link resources at any kept
   confidence) per linker, the links found by kind, the misses, and the country coverage.

    python benchmarks/linking_quality.py
    python benchmarks/linking_quality.py --store var/bench/100k-store   # also time the linkers on a loaded store

The labelled sets are small (the bundled exports are samples); the figures say how the rules
behave on real spellings and real hard negatives, not a population estimate.
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

from carbonkg.loaders import linking
from carbonkg.loaders.derived import refresh
from carbonkg.loaders.emit import TripleWriter
from carbonkg.loaders.linking_common import ACCEPT, FLOOR, select
from carbonkg.loaders.linking_countries import country_coverage
from carbonkg.loaders.linking_evaluation import evaluate
from carbonkg.loaders.pipeline import load_paths
from carbonkg.store import EmbeddedStore

REPO = Path(__file__).resolve().parents[1]
EXPORTS = REPO / "data" / "registry-exports"
LABELS = REPO / "tests" / "data" / "linking"


def links_by_kind(store: EmbeddedStore) -> list[tuple[str, str, int, int]]:
    rows = select(store, f"""SELECT ?rel ?method (COUNT(DISTINCT ?l) AS ?n)
        (SUM(IF(?c >= {ACCEPT}, 1, 0)) AS ?asserted) WHERE {{
        GRAPH ?g {{ ?l ck:linkRelation ?rel ; ck:linkMethod ?method ; ck:confidence ?c }}
        FILTER (STRSTARTS(STR(?g), "https://w3id.org/carbonkg/id/derived/")) }} GROUP BY ?rel ?method""")
    return [(rel.rsplit("#", 1)[-1], method.rsplit("/", 1)[-1], int(n), int(a)) for rel, method, n, a in rows]  # type: ignore[union-attr]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="an on-disk store already loaded (e.g. with generated exports): time the linkers on it")
    parser.add_argument("--verbose", action="store_true", help="list every missed or wrongly linked labelled pair")
    args = parser.parse_args()

    store = EmbeddedStore(None)
    started = time.perf_counter()
    results = list(load_paths(store, [EXPORTS]))
    print(f"loaded {len(results)} bundled exports in {time.perf_counter() - started:.1f}s")
    for derived in refresh(store, linking.DERIVATIONS):
        print(f"  {derived.name:22} {derived.triples:6} triples  {derived.seconds:.2f}s")

    print(f"\nthresholds: asserted (direct triple) at confidence >= {ACCEPT}, candidate link kept at >= {FLOOR}")
    print("\nlinks found on the bundled data (relation, method, links, asserted):")
    for relation, method, n, asserted in links_by_kind(store):
        print(f"  {relation:20} {method:20} {n:4}  {asserted:4}")
    labels = select(store, """SELECT ?text (COUNT(DISTINCT ?a) AS ?n) WHERE {
        ?a ck:labelType <https://w3id.org/carbonkg/vocab/label-type/icvcm-ccp> ; ck:labelText ?text ;
           <http://www.w3.org/ns/prov#wasAttributedTo> <https://icvcm.org/> } GROUP BY ?text""")
    print("  ICVCM attestations on methodologies: " + ", ".join(f"{t} {n}" for t, n in labels))

    print("\nquality on hand-labelled pairs (tests/data/linking):")
    for quality in evaluate(store, LABELS).values():
        print("  " + quality.line())
        if args.verbose:
            for error in quality.errors:
                print("      " + error)

    coverage = country_coverage(store)
    print(f"\ncountries used by the loaded data: {len(coverage.used)}; without a Wikidata match: "
          f"{sorted(coverage.without_wikidata) or 'none'}; not in the country scheme: {sorted(coverage.not_in_scheme) or 'none'}")
    print(f"country scheme concepts without a Wikidata match (unused): {sorted(coverage.scheme_without_wikidata) or 'none'}")

    if args.store:
        big = EmbeddedStore(Path(args.store), read_only=True)
        print(f"\nlinkers on {args.store}:")
        for derivation in linking.DERIVATIONS:
            out = TripleWriter(io.StringIO())
            started = time.perf_counter()
            derivation.build(big, out)
            print(f"  {derivation.name:22} {out.count:8} triples  {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
