"""Load throughput of each store on the Verra exports (a script, not a test; prints figures).

    .venv/bin/python tests/store/bench_load.py                      # the bundled Verra files
    .venv/bin/python tests/store/bench_load.py --rows 100000        # plus generated big ones

Starts its own Oxigraph server and Virtuoso on 127.0.0.1 (as the tests do). For the real files
it times ``load_file`` end to end (parse + store), for generated ones ``replace_export`` alone
(upload, pointer switch) and the drop of the replaced version, for several slice sizes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

import conftest as engines  # noqa: E402  (the tests' engine starters)

from carbonkg.loaders.pipeline import LoadRun, convert_file, load_file, open_source  # noqa: E402
from carbonkg.store import EmbeddedStore, RemoteStore  # noqa: E402

VERRA = [REPO / "data" / "registry-exports" / "verra" / name for name in ("projects.csv", "transactions.csv")]


def triples_in(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


STORES = ("embedded", "oxigraph", "oxigraph-bulk", "virtuoso")


def stores(ox_engine, vt_engine, only=STORES, **options) -> dict[str, object]:
    makers = {
        "embedded": lambda: EmbeddedStore(None),
        "oxigraph": lambda: ox_engine.store(timeout=1800, **options),
        # Oxigraph's own switch: its bulk loader, no transaction (the version graph is invisible anyway)
        "oxigraph-bulk": lambda: ox_engine.store(timeout=1800, upload_params={"no_transaction": ""}, **options),
        "virtuoso": lambda: vt_engine.store(timeout=1800, **options),
    }
    return {name: makers[name]() for name in only}


def bench_real(ox_engine, vt_engine, repeats: int, only) -> None:
    print(f"\n== bundled Verra exports, load_file end to end (median of {repeats}, force reload)")
    for name, store in stores(ox_engine, vt_engine, only).items():
        for path in VERRA:
            times, triples = [], 0
            for _ in range(repeats):
                started = time.perf_counter()
                result = load_file(store, path, force=True)
                times.append(time.perf_counter() - started)
                triples = result.triples
            t = statistics.median(times)
            print(f"{name:13} {path.name:17} {triples:7,} triples  {t * 1000:7.1f} ms  {triples / t:9,.0f} triples/s")


def bench_big(ox_engine, vt_engine, rows: int, slices: list[int], only) -> None:
    with tempfile.TemporaryDirectory(prefix="carbonkg-bench-") as tmp:
        out = Path(tmp) / "exports"
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate_exports.py"), "--rows", str(rows), "--out", str(out)],
                       check=True, capture_output=True)
        files = []
        for csv in sorted((out / "verra").glob("*.csv")):
            nt = Path(tmp) / f"{csv.stem}.nt"
            convert_file(open_source(csv), nt, run=LoadRun())
            files.append(nt)
        total = sum(triples_in(f) for f in files)
        size = sum(f.stat().st_size for f in files)
        print(f"\n== generated Verra exports ({rows:,} rows over all registries): {total:,} triples, "
              f"{size / 1e6:.0f} MB of N-Triples; replace_export only")
        for slice_mb in slices:
            options = {"slice_bytes": slice_mb << 20} if slice_mb else {"slice_bytes": 1 << 40}
            label = f"{slice_mb} MiB slices" if slice_mb else "one piece"
            for name, store in stores(ox_engine, vt_engine, only, **options).items():
                if name == "embedded" and slice_mb != slices[0]:  # no slices there
                    continue
                first = _timed_load(store, files, "a")
                again = _timed_load(store, files, "b")  # includes dropping the first version
                how = "" if name == "embedded" else f" ({label})"
                print(f"{name:13}{how:16} first load {first:6.1f} s {total / first:9,.0f} triples/s {size / 1e6 / first:6.1f} MB/s"
                      f" | replace + drop old {again:6.1f} s {total / again:9,.0f} triples/s", flush=True)
                if isinstance(store, RemoteStore):
                    store.clear()


def _timed_load(store, files: list[Path], tag: str) -> float:
    started = time.perf_counter()
    for nt in files:
        store.replace_export(f"https://w3id.org/carbonkg/id/verra/export/bench-{nt.stem}", tag * 64, nt)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=0, help="also generated exports of this many rows (0: no)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--slices", default="4,16,64,0", help="slice sizes in MiB for the big files (0: one piece)")
    parser.add_argument("--stores", default=",".join(STORES), help=f"some of {','.join(STORES)}")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="carbonkg-engines-") as tmp:
        ox_engine = engines.start_oxigraph(Path(tmp) / "oxigraph")
        vt_engine = engines.start_virtuoso(Path(tmp) / "virtuoso")
        try:
            print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
            only = args.stores.split(",")
            bench_real(ox_engine, vt_engine, args.repeats, only)
            if args.rows:
                bench_big(ox_engine, vt_engine, args.rows, [int(s) for s in args.slices.split(",")], only)
            print(f"load average at end: {os.getloadavg()[0]:.1f}")
        finally:
            ox_engine.stop()
            vt_engine.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
