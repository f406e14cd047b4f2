"""Validation speed: the fast path (SHACL compiled to SPARQL on the Oxigraph store) next to
pySHACL, the reference implementation, on generated exports (prints figures).

    python benchmarks/validate_benchmark.py --rows 10000              # generate, load, validate
    python benchmarks/validate_benchmark.py --store var/bench/store    # an already loaded store
    python benchmarks/validate_benchmark.py --rows 1000000 --no-pyshacl

pySHACL runs twice, as pySHACL can: over an rdflib copy of the store and over a pyoxigraph copy,
with the core set (its SPARQL-based constraints run one query per focus node, so the other sets
take minutes even on the bundled exports; --pyshacl-all adds them).
Generated data: benchmarks/generate_exports.py, then carbonkg load.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load(rows: int, folder: Path) -> Path:
    data, store = folder / "data", folder / "store"
    subprocess.run([sys.executable, str(HERE / "generate_exports.py"), "--rows", str(rows), "--out", str(data)],
                   check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "carbonkg.cli", "load", str(data), "--store", str(store), "--quiet"],
                   check=True, capture_output=True)
    print(f"generated and loaded {rows} rows in {time.perf_counter() - started:.1f} s")
    return store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--store", type=Path, help="validate this store instead of generating one")
    parser.add_argument("--no-pyshacl", action="store_true", help="only the fast path")
    parser.add_argument("--pyshacl-all", action="store_true",
                        help="also run pySHACL with all sets (slow: about 20 min on the 1,178 bundled rows)")
    args = parser.parse_args(argv)

    import pyoxigraph as ox

    from carbonkg.shapes.fast import FastValidator
    from carbonkg.shapes.reference import validate_graph, validate_oxigraph
    from carbonkg.shapes.validate import Data, load_shapes
    from carbonkg.store import EmbeddedStore

    with tempfile.TemporaryDirectory(prefix="carbonkg-validate-bench-") as tmp:
        path = args.store or _load(args.rows, Path(tmp))
        store = EmbeddedStore(path, read_only=True)
        data = Data.from_store(store)
        quads = sum(1 for g in store.live_graphs() for _ in store.raw.quads_for_pattern(None, None, None, g))
        print(f"store {path}: {quads} quads in {len(store.live_graphs())} live graphs")
        rows = []
        for sets in (["core"], None):
            shapes = load_shapes(sets)
            validator = FastValidator(shapes)
            started = time.perf_counter()
            results = validator.validate(data.run)
            rows.append(("fast (SPARQL on Oxigraph)", "core" if sets else "all", time.perf_counter() - started, len(results)))
            if sets is None:
                slowest = sorted(validator.timings.items(), key=lambda kv: -kv[1])[:5]
                print("slowest fast-path shapes: " + ", ".join(f"{k.rsplit('#', 1)[-1]} {v:.2f} s" for k, v in slowest))
        if not args.no_pyshacl:
            started = time.perf_counter()
            graph = data.to_graph()
            copy_seconds = time.perf_counter() - started
            started = time.perf_counter()
            results = validate_graph(graph, load_shapes(["core"]))
            rows.append((f"pySHACL, rdflib (+{copy_seconds:.1f} s copy)", "core", time.perf_counter() - started, len(results)))
            started = time.perf_counter()
            copy = ox.Store()
            copy.bulk_load(data._dump(), ox.RdfFormat.N_TRIPLES)
            copy_seconds = time.perf_counter() - started
            for sets in (["core"], None) if args.pyshacl_all else (["core"],):
                started = time.perf_counter()
                results = validate_oxigraph(copy, load_shapes(sets))
                rows.append((f"pySHACL, pyoxigraph (+{copy_seconds:.1f} s copy)", "core" if sets else "all",
                             time.perf_counter() - started, len(results)))
        print(f"{'engine':45} {'shapes':6} {'seconds':>9} {'results':>8}")
        for engine, sets, seconds, n in rows:
            print(f"{engine:45} {sets:6} {seconds:9.2f} {n:8}")
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
