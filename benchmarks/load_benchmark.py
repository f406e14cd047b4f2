"""Loader throughput next to the store's own ceiling, on generated exports (prints figures).

1. generate N rows across all registries from the real exports (generate_exports.py);
2. load them with carbonkg's loaders into a fresh on-disk store (child process: peak RSS);
3. dump exactly the quads that load produced as N-Quads, and bulk-load that file into another
   fresh store (child process): the ceiling for a store of named graphs on this machine;
4. print rows/s, quads/s, peak RSS and the ratio to the ceiling.

    python benchmarks/load_benchmark.py --rows 100000
    python benchmarks/load_benchmark.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _child(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line; add its peak RSS."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


LOAD = """
import json, resource, time
from pathlib import Path
from carbonkg.store import EmbeddedStore
from carbonkg.loaders.pipeline import load_paths
store = EmbeddedStore(Path({store!r}))
t = time.perf_counter()
rows = triples = 0
bad = []
for r in load_paths(store, [Path({data!r})]):
    rows += r.rows; triples += r.triples
    if r.status != "loaded": bad.append(str(r.path))
store.flush()
seconds = time.perf_counter() - t
quads = sum(1 for _ in store.raw)
store.raw.dump(output={nquads!r}, format=__import__("pyoxigraph").RdfFormat.N_QUADS)
print(json.dumps(dict(rows=rows, triples=triples, quads=quads, seconds=seconds, rejected=bad,
                      peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""

CEILING = """
import json, resource, time
import pyoxigraph as ox
store = ox.Store({store!r})
t = time.perf_counter()
store.bulk_load(path={nquads!r}, format=ox.RdfFormat.N_QUADS)
store.flush()
seconds = time.perf_counter() - t
print(json.dumps(dict(seconds=seconds, quads=len(store),
                      peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def main(argv: list[str] | None = None) -> int:
    from generate_exports import generate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here (default: a temp folder)")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="carbonkg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data, nquads = work / "exports", work / "loaded.nq"
    t = time.perf_counter()
    written = generate(args.rows, data)
    print(f"generated {sum(written.values()):,} rows in {len(written)} files in {time.perf_counter() - t:.1f} s")

    for store in ("store-loader", "store-ceiling"):
        shutil.rmtree(work / store, ignore_errors=True)
    load = _child(LOAD.format(store=str(work / "store-loader"), data=str(data), nquads=str(nquads)))
    ceiling = _child(CEILING.format(store=str(work / "store-ceiling"), nquads=str(nquads)))

    loader_qps = load["quads"] / load["seconds"]
    ceiling_qps = ceiling["quads"] / ceiling["seconds"]
    print()
    print(f"{'':28}{'seconds':>10}{'rows/s':>12}{'quads/s':>12}{'peak RSS MB':>14}")
    print(f"{'carbonkg load (all stages)':28}{load['seconds']:>10.1f}{load['rows'] / load['seconds']:>12,.0f}"
          f"{loader_qps:>12,.0f}{load['peak_rss_mb']:>14,.0f}")
    print(f"{'ceiling: N-Quads bulk load':28}{ceiling['seconds']:>10.1f}{'':>12}{ceiling_qps:>12,.0f}"
          f"{ceiling['peak_rss_mb']:>14,.0f}")
    print()
    print(f"rows {load['rows']:,}  triples written {load['triples']:,}  distinct quads {load['quads']:,}"
          f"  rejected files {len(load['rejected'])}")
    print(f"loader throughput = {loader_qps / ceiling_qps:.0%} of the ceiling (target ≥ 70 %)")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
