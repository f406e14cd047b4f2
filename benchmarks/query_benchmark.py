"""Run every library query on a loaded store and print p50/p99 per query.

    python benchmarks/generate_exports.py --rows 1000000 --out var/bench/1m
    carbonkg load var/bench/1m --store var/bench/1m-store        # derived graphs are refreshed too
    python benchmarks/query_benchmark.py --store var/bench/1m-store --runs 20

Each query runs with the parameters of its ``@example`` header lines (the first example), or with
``--param NAME=VALUE`` for one query (``--only``). Lookups whose example names a record of the
bundled exports (which the generated exports do not have: every copy gets fresh identifiers) are
given one that the generated data has: ``--sample`` picks a serial number and a record from the
store itself. Targets: lookups under 50 ms, aggregates and listings under 2 s (p50); a query over
its target is marked ``!``. The summaries are refreshed first if any is stale (``--no-refresh``
to skip), and the time that takes is printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = {"lookup": 0.050, "aggregate": 2.0, "listing": 2.0}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def sample_params(store) -> dict[str, dict[str, str]]:
    """Parameters for the lookups that exist in this store (its serials and records)."""
    out: dict[str, dict[str, str]] = {}
    rows = list(store.query(
        "PREFIX ck: <https://w3id.org/carbonkg/ontology#> SELECT ?s ?b ?l WHERE { "
        "?b ck:serialNumber ?s ; ck:blockOf ?l . ?e ck:affectsBlock ?b } LIMIT 1"))
    if rows:
        out["credit-life"] = {"serial": rows[0]["s"].value}
        out["fact-provenance"] = {"subject": rows[0]["l"].value}
    return out


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(REPO))
    from carbonkg import queries as Q
    from carbonkg.loaders import summaries
    from carbonkg.loaders.derived import refresh
    from carbonkg.store import EmbeddedStore

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", action="append", help="only these queries (repeatable)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--no-refresh", action="store_true")
    args = parser.parse_args(argv)

    store = EmbeddedStore(args.store, read_only=args.no_refresh)
    if not args.no_refresh:
        started = time.perf_counter()
        for result in refresh(store, summaries.DERIVATIONS):
            print(f"summary {result.name:24} {result.status:9} triples={result.triples:<9} {result.seconds:8.2f} s")
        print(f"summaries refreshed in {time.perf_counter() - started:.1f} s\n")
    overrides = sample_params(store)
    extra = dict(p.split("=", 1) for p in args.param)
    print(f"{'query':30} {'kind':9} {'rows':>7} {'p50 ms':>9} {'p99 ms':>9}  target")
    over = 0
    for query in Q.list_queries():
        if args.only and query.name not in args.only:
            continue
        params = dict(query.examples[0]) if query.examples else {}
        params.update(overrides.get(query.name, {}))
        if args.only:
            params.update(extra)
        times, count = [], 0
        for _ in range(args.runs):
            started = time.perf_counter()
            count = sum(1 for _ in Q.run_named(store, query.name, params))
            times.append(time.perf_counter() - started)
        p50, p99 = statistics.median(times), percentile(times, 0.99)
        target = TARGET[query.kind]
        flag = "ok" if p50 <= target else "!"
        over += flag != "ok"
        print(f"{query.name:30} {query.kind:9} {count:7} {p50 * 1000:9.1f} {p99 * 1000:9.1f}  {flag} (< {target * 1000:.0f} ms)",
              flush=True)
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
