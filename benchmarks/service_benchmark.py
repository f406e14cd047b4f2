"""SPARQL service throughput and latency: carbonkg next to Oxigraph's own server and rdflib-endpoint
(prints figures; nothing is asserted).

For each dataset (the bundled exports, and ``--rows`` generated rows unless ``--rows 0``):

1. load it with ``carbonkg load`` into an on-disk store (kept in ``--workdir`` for reruns);
2. prepare it as ``carbonkg serve`` would (static graphs synced), pick the benchmark's parameters
   from the data (a Verra ``VCS-VCU`` credit block from the middle of its numbering space), dump
   the quads carbonkg's queries see (live graphs + the store's default graph) as N-Quads for
   rdflib, and time the queries in-process (pyoxigraph alone, no HTTP) with carbonkg's dataset
   (an explicit list of the live graphs) and with Oxigraph's union default graph;
3. start every server at once on free loopback ports (all hold the store read-only), check each
   one's answers against the expected ones, then drive them with ``wrk`` (keep-alive GET,
   ``Accept: application/sparql-results+json``) for ``--duration`` seconds per cell after a short
   warm-up, interleaved (every server at one query and concurrency, then the next), so that a
   change in the machine's load hits all of them alike; a server whose single request already
   takes more than a third of a cell is not load-tested (its one-request time is printed). The servers:

   - ``oxigraph``: ``oxigraph serve-read-only --union-default-graph`` on the same store; when the
     store has a merged graph (carbonkg's default graph then), the queries name it as their
     ``default-graph-uri`` (the union would hold each triple twice);
   - ``rdflib``: rdflib-endpoint over an rdflib ``Dataset(default_union=True)`` parsed from the dump,
     on uvicorn;
   - ``floor``: one FastAPI route answering a constant on uvicorn (as ``carbonkg serve`` runs it):
     what the HTTP stack alone costs, next to the trivial lookup only;
   - ``carbonkg``: ``carbonkg serve`` with its defaults (every safety feature on: query workers with
     the hard time limit, result limit, SERVICE screening, body limit), and variants: with
     httptools + uvloop importable (``--standard-site``, what ``uvicorn[standard]`` brings), with
     ``uvicorn --workers 2`` over ``create_app``, with ``query_workers = 4``; static graphs are synced once by step 2, so the servers start with
     ``CARBONKG_LOAD_STATIC_GRAPHS=false`` and never open a writer while the others read;

4. print a table (requests/s, p50/p99 latency, errors, CPU milliseconds the server's processes
   spent per request, load average) and the ratios against the targets. On a busy machine the
   requests/s follow the share of the CPU a server gets; the CPU milliseconds per request do not.

The load generator is ``wrk`` (Debian: ``apt-get install -y wrk``) with a Lua script; its own ceiling
is measured first against a trivial static HTTP server (a fixed answer from an asyncio protocol).
Everything listens on 127.0.0.1; every run is bounded in time; every server is stopped at the end.

    python benchmarks/service_benchmark.py --rows 100000 --workdir var/bench/service
    python benchmarks/service_benchmark.py --rows 0 --duration 5          # bundled exports only
    python benchmarks/service_benchmark.py --rows 0 --profile             # + cProfile of the server
    python benchmarks/service_benchmark.py --rows 0 --configs oxigraph,floor,carbonkg-baseline,carbonkg \
        --baseline-site DIR   # before/after: DIR holds an earlier carbonkg laid out as installed
                              # (carbonkg/, carbonkg/server/, carbonkg/loaders/, …), run from DIR

Extra packages (not project dependencies): ``rdflib-endpoint`` in the interpreter running this
script; ``oxigraph`` (the CLI, PyPI package ``oxigraph``) next to it; for the httptools/uvloop
variants, a folder holding them (``pip install --target DIR httptools uvloop``) given as
``--standard-site DIR`` unless they are importable already.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))

ACCEPT = "application/sparql-results+json"
CK = "PREFIX ck: <https://w3id.org/carbonkg/ontology#>\n"
CKS = "PREFIX cks: <https://w3id.org/carbonkg/summary#>\n"
#: targets of the SPARQL service issue: carbonkg / server at concurrency 8
TARGETS = {("oxigraph", "lookup"): 0.3, ("oxigraph", "serial-range"): 0.6, ("oxigraph", "serial-index"): 0.6,
           ("oxigraph", "serial-exact"): 0.6, ("rdflib", "lookup"): 3.0, ("rdflib", "serial-range"): 3.0,
           ("rdflib", "serial-index"): 3.0, ("rdflib", "serial-exact"): 3.0}


def build_queries(p: dict) -> dict[str, str]:
    """The benchmark's queries, from the parameters picked in the data."""
    return {
        # a trivial lookup: one triple by subject
        "lookup": CK + f"SELECT ?o WHERE {{ <{p['block']}> ck:quantity ?o }}",
        # the credit block holding credit number N of a numbering space
        "serial-range": CK + f"SELECT ?block ?start ?end WHERE {{ ?block ck:serialPrefix {json.dumps(p['prefix'])} ; "
        f"ck:serialStart ?start ; ck:serialEnd ?end . FILTER(?start <= {p['n']} && {p['n']} <= ?end) }}",
        # the same, through the serial-range index that `carbonkg load` derives (loaders/summaries.py:
        # a block is keyed "<space> <size> <bucket>" at the power of ten that covers it; 19 exact keys
        # find the block holding any credit number; what the credit-life query does)
        "serial-index": CK + CKS + "SELECT ?block ?start ?end WHERE { VALUES ?key { "
        + " ".join(json.dumps(f"{p['prefix']} {10 ** e} {p['n'] // 10 ** e}") for e in range(19))
        + f" }} ?block cks:rangeKey ?key ; ck:serialStart ?start ; ck:serialEnd ?end . "
        f"FILTER(?start <= {p['n']} && {p['n']} <= ?end) }}",
        # the credit block with a serial number as the registry writes it
        "serial-exact": CK + f"SELECT ?block WHERE {{ ?block ck:serialNumber {json.dumps(p['serial'])} }}",
    }


# -- child programs ------------------------------------------------------------------------------

PREPARE = r"""
import json, sys, time
from pathlib import Path
import pyoxigraph as ox
sys.path.insert(0, {here!r})
from service_benchmark import build_queries
from carbonkg.server import dataset as ds
from carbonkg.server.execute import Executor, QueryTask, Spool
from carbonkg.server.runtime import open_store
from carbonkg.server.safety import analyse_query
from carbonkg.server.settings import Settings
from carbonkg.store.catalog import MERGED_GRAPH
from carbonkg.store.embedded import EmbeddedStore

store_path, nq = Path({store!r}), Path({nquads!r})
settings = Settings(store_path=store_path)
store, _ = open_store(settings)  # as `carbonkg serve` starts: static graphs synced, then read-only
raw = store.raw
catalog = store.catalog()
dataset = ds.resolve(ds.DatasetSpec(), catalog)
graphs = [g for g in raw.named_graphs()]
info = dict(store_quads=len(raw), named_graphs=len(graphs), live_graphs=len(catalog.live))
# the default graph Oxigraph server is given (default-graph-uri): the merged graph when the store has
# one, as carbonkg's queries have (its union default graph would hold each triple twice), else the union
server_default = [MERGED_GRAPH] if catalog.merged else []
server_dataset = (dict(default_graph=[ox.NamedNode(g) for g in server_default]) if server_default
                  else dict(use_default_graph_as_union=True))

CK = "PREFIX ck: <https://w3id.org/carbonkg/ontology#>\n"
prefix = "VCS-VCU"
blocks = list(raw.query(CK + "SELECT ?b ?s ?e ?sn WHERE {{ ?b ck:serialPrefix ?p ; ck:serialStart ?s ; ck:serialEnd ?e ; "
                        "ck:serialNumber ?sn . FILTER(STR(?p) = " + json.dumps(prefix) + ") }} ORDER BY ?s ?b",
                        **server_dataset))
mid = blocks[len(blocks) // 2]
start, end = int(mid["s"].value), int(mid["e"].value)
params = dict(block=mid["b"].value, prefix=prefix, n=(start + end) // 2, serial=mid["sn"].value, prefix_blocks=len(blocks))
queries = build_queries(params)

def first_column(results):
    variables = [v.value for v in results.variables]
    return sorted(str(s[variables[0]].value) for s in results)

def per_call(fn, budget=2.0, most=1000):
    # CPU milliseconds per call (process time: the machine may be busy with other work)
    t0 = time.perf_counter()
    fn()
    if time.perf_counter() - t0 > budget:
        most = 1
    n, c0, t0 = 0, time.process_time(), time.perf_counter()
    while n < most and (n < 3 or time.perf_counter() - t0 < budget):
        fn(); n += 1
    return (time.process_time() - c0) / n * 1000

executor = Executor(store_path)
executor.refresh(0)
formats = dict(solutions="json", boolean="json", graph="turtle")
expected, inproc, warnings = dict(), dict(), []
for name, q in queries.items():
    expected[name] = first_column(raw.query(q, **dataset))
    union = first_column(raw.query(q, **server_dataset))
    if union != expected[name]:  # seen once, right after the static-graph sync of a fresh 100k store
        again = EmbeddedStore(store_path, read_only=True)
        catalog2 = again.catalog()
        retry = first_column(again.raw.query(q, **ds.resolve(ds.DatasetSpec(), catalog2)))
        warnings.append(f"{{name}}: the handle open_store returned answered {{expected[name]}} with carbonkg's "
                        f"dataset ({{len(catalog.live)}} live graphs) and {{union}} with Oxigraph server's; a fresh "
                        f"read-only handle ({{len(catalog2.live)}} live graphs) answers {{retry}}")
        expected[name] = retry
    task = QueryTask(q, settings.sparql_endpoint, ds.DatasetSpec(), formats, settings.max_results,  # as /sparql builds it
                     settings.sparql_endpoint + "#result-limit",
                     reads_named_graphs=analyse_query(q, base=settings.sparql_endpoint).reads_named_graphs)
    inproc[name] = dict(
        list_ms=per_call(lambda: raw.query(q, default_graph=[*map(ox.NamedNode, catalog.live), ox.DefaultGraph()], named_graphs=list(map(ox.NamedNode, catalog.live))).serialize(format=ox.QueryResultsFormat.JSON)),
        union_ms=per_call(lambda: raw.query(q, **server_dataset).serialize(format=ox.QueryResultsFormat.JSON)),
        union_named_ms=per_call(lambda: raw.query(q, **server_dataset, named_graphs=list(map(ox.NamedNode, catalog.live))).serialize(format=ox.QueryResultsFormat.JSON)),
        executor_ms=per_call(lambda: executor.run(task, Spool(None, 1 << 18))),
    )

default = [*map(ox.NamedNode, catalog.live), ox.DefaultGraph()]  # what carbonkg's queries see
view_quads = None
if not nq.exists():
    part = nq.with_suffix(".part")
    with open(part, "wb") as out:
        ox.serialize((q for g in default for q in raw.quads_for_pattern(None, None, None, g)), out, ox.RdfFormat.N_QUADS)
    part.rename(nq)
view_quads = sum(1 for g in default for _ in raw.quads_for_pattern(None, None, None, g))
info.update(view_quads=view_quads)
print(json.dumps(dict(params=params, queries=queries, expected=expected, inproc=inproc, info=info, warnings=warnings,
                      server_default=server_default)))
"""

WORKER_PROFILE = r"""
import cProfile, io, pstats, sys, time
from pathlib import Path
from carbonkg.server import dataset as ds
from carbonkg.server.execute import Executor, QueryTask
from carbonkg.server.safety import analyse_query
from carbonkg.server.settings import Settings
from carbonkg.server.workers import _handle
settings = Settings(store_path=Path({store!r}))
executor = Executor(settings.store_path)
executor.refresh(0)
task = QueryTask({query!r}, settings.sparql_endpoint, ds.DatasetSpec(), dict(solutions="json", boolean="json", graph="turtle"),
                 settings.max_results, settings.sparql_endpoint + "#result-limit",
                 reads_named_graphs=analyse_query({query!r}, base=settings.sparql_endpoint).reads_named_graphs)
for _ in range(50):
    _handle(executor, "query", task, 0, {spool!r}, 256 * 1024, "x")
profile = cProfile.Profile(time.process_time)  # CPU time: wall time would count waits for the CPU
n, t0, c0 = 0, time.perf_counter(), time.process_time()
profile.enable()
while n < 3000 and time.perf_counter() - t0 < 5:
    _handle(executor, "query", task, 0, {spool!r}, 256 * 1024, "x"); n += 1
profile.disable()
print(f"worker side (_handle: executor.refresh + Executor.run + Spool), {{n}} calls, "
      f"{{(time.process_time() - c0) / n * 1000:.3f}} CPU ms per call under cProfile")
stream = io.StringIO()
pstats.Stats(profile, stream=stream).sort_stats("tottime").print_stats(14)
print(stream.getvalue())
"""

#: the floor of the HTTP stack carbonkg uses: uvicorn (as `carbonkg serve` runs it: access log, proxy
#: headers) and one FastAPI route answering a constant SPARQL JSON result
FLOOR_SERVER = r"""
import sys
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response
app = FastAPI()
BODY = b'{"head":{"vars":["o"]},"results":{"bindings":[{"o":{"type":"literal","value":"1"}}]}}'

@app.get("/sparql")
async def sparql(request: Request) -> Response:
    request.query_params.multi_items()
    return Response(BODY, media_type="application/sparql-results+json")

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), proxy_headers=True, log_level="info")
"""

RDFLIB_SERVER = r"""
import sys, time, resource
import uvicorn
from rdflib import Dataset
from rdflib_endpoint import SparqlEndpoint
nq, port = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter()
data = Dataset(default_union=True)
data.parse(nq, format="nquads")
print(f"rdflib: {len(data)} triples in the union default graph, parsed in {time.perf_counter() - t0:.0f} s, "
      f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)
app = SparqlEndpoint(graph=data, cors_enabled=False)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""

STATIC_SERVER = r"""
import asyncio, sys
try:
    import uvloop
    uvloop.install()
    LOOP = "uvloop"
except ImportError:
    LOOP = "asyncio"
BODY = b'{"head":{},"boolean":true}'
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)

class Static(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.pending = transport, b""
    def data_received(self, data):
        self.pending += data
        while (end := self.pending.find(b"\r\n\r\n")) >= 0:
            self.pending = self.pending[end + 4:]
            self.transport.write(ANSWER)

async def main():
    server = await asyncio.get_running_loop().create_server(Static, "127.0.0.1", int(sys.argv[1]))
    print("static server on", LOOP, flush=True)
    async with server:
        await server.serve_forever()
asyncio.run(main())
"""

#: ``carbonkg serve`` under cProfile; uvicorn re-raises SIGTERM after its shutdown, so a no-op handler is
#: installed first (uvicorn restores it and re-raises into it) and the profile is written on the way out
PROFILED_SERVE = r"""
import cProfile, signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: None)
out = sys.argv[1]
from carbonkg.cli import main
profile = cProfile.Profile(time.process_time)  # CPU time: wall time would count waits for the CPU
profile.enable()
try:
    main(sys.argv[2:])
finally:
    profile.disable()
    profile.dump_stats(out)
"""

WRK_LUA = r"""
wrk.method = "GET"
wrk.headers["Accept"] = "application/sparql-results+json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"mean_us":%.1f,"max_us":%.0f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
"""


# -- helpers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load1() -> float:
    return os.getloadavg()[0]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONKG_") and k != "PYTHONPATH"}
    env.update(extra)
    return env


def child_json(code: str, timeout: float) -> dict:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          cwd=str(REPO), env=clean_env(), check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def session_stats(sid: int) -> Iterator[tuple[str, list[str]]]:
    """(pid, fields of /proc/<pid>/stat after the command name) of the live processes of session
    ``sid`` (a server and its workers)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(rest[3]) == sid:
            yield entry, rest


def session_cpu_s(sid: int) -> float:
    """CPU seconds (user + system) of the live processes of session ``sid``."""
    return sum(int(rest[11]) + int(rest[12]) for _, rest in session_stats(sid)) / os.sysconf("SC_CLK_TCK")


def session_rss_mb(sid: int) -> float:
    total = 0
    for pid, _ in session_stats(sid):
        try:
            with open(f"/proc/{pid}/status") as f:
                total += sum(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except OSError:
            continue
    return total / 1024


def http_get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def first_column(body: bytes) -> list[str]:
    data = json.loads(body)
    var = data["head"]["vars"][0]
    return sorted(b[var]["value"] for b in data["results"]["bindings"] if var in b)


# -- servers --------------------------------------------------------------------------------------


@dataclass
class Config:
    label: str  # row label
    kind: str  # oxigraph | rdflib | carbonkg
    note: str = ""
    env: dict[str, str] = field(default_factory=dict)
    uvicorn_workers: int = 0  # 0: `carbonkg serve`; n: `uvicorn --factory --workers n`
    needs_standard: bool = False
    cwd: Path | None = None  # run from here (default: the repository)


@dataclass
class Running:
    config: Config
    process: subprocess.Popen
    base: str
    path: str
    log: Path
    default_graphs: tuple[str, ...] = ()  # sent as default-graph-uri

    def url(self, query: str) -> str:
        fields = [("query", query), *(("default-graph-uri", g) for g in self.default_graphs)]
        return f"{self.base}{self.path}?{urllib.parse.urlencode(fields)}"


def command(config: Config, store: Path, nquads: Path, port: int) -> tuple[list[str], str]:
    if config.kind == "oxigraph":
        exe = shutil.which("oxigraph", path=str(BIN)) or shutil.which("oxigraph")
        if exe is None:
            raise RuntimeError("the oxigraph CLI is missing: pip install oxigraph")
        return [exe, "serve-read-only", "--location", str(store), "--bind", f"127.0.0.1:{port}",
                "--union-default-graph"], "/query"
    if config.kind == "rdflib":
        return [sys.executable, "-c", RDFLIB_SERVER, str(nquads), str(port)], "/"
    if config.kind == "floor":
        return [sys.executable, "-c", FLOOR_SERVER, str(port)], "/sparql"
    if config.uvicorn_workers:
        return [sys.executable, "-m", "uvicorn", "--factory", "carbonkg.server.app:create_app", "--host", "127.0.0.1",
                "--port", str(port), "--workers", str(config.uvicorn_workers), "--proxy-headers",
                "--log-level", "info"], "/sparql"
    return [sys.executable, "-m", "carbonkg.cli", "serve", "--store", str(store), "--host", "127.0.0.1",
            "--port", str(port)], "/sparql"


@contextlib.contextmanager
def running(config: Config, store: Path, nquads: Path, logs: Path, probe: str, startup_s: float,
            profile_to: Path | None = None, default_graphs: tuple[str, ...] = ()) -> Iterator[Running]:
    port = free_port()
    argv, path = command(config, store, nquads, port)
    if profile_to is not None:  # `python -m carbonkg.cli serve …` → the cProfile wrapper
        argv = [sys.executable, "-c", PROFILED_SERVE, str(profile_to), *argv[3:]]
    env = clean_env(CARBONKG_STORE_PATH=str(store), **config.env)
    if config.kind == "carbonkg":
        # static graphs were synced by the prepare step, as `carbonkg serve` does at startup; without
        # this the server would open a writer handle while the other servers hold the store read-only
        env.setdefault("CARBONKG_LOAD_STATIC_GRAPHS", "false")
    log = logs / f"{config.label.replace(' ', '_').replace('/', '_')}-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=str(config.cwd or REPO), start_new_session=True)
    server = Running(config, process, f"http://127.0.0.1:{port}", path, log, default_graphs)
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{config.label} exited ({process.returncode}): {log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                status, _ = http_get(server.url(probe), timeout=5)
                if status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{config.label} did not answer within {startup_s:.0f} s")
            time.sleep(0.2)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server (it stops its own workers), then SIGKILL to whatever is left of its session."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # the session this script created for the server
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


# -- load generation ------------------------------------------------------------------------------


@dataclass
class Cell:
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    requests: int = 0
    cpu_ms_per_req: float = 0.0  # server processes
    wrk_cpu_s: float = 0.0
    load1: float = 0.0
    failed: str = ""


def wrk(url: str, connections: int, seconds: float, script: Path) -> tuple[dict, float]:
    threads = 1 if connections == 1 else 2
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--timeout", "10s",
                           "-s", str(script), url], capture_output=True, text=True, timeout=seconds + 60, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    for line in proc.stdout.splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[len("WRKJSON "):]), cpu
    raise RuntimeError(f"wrk failed: {proc.stdout}\n{proc.stderr}")


def measure(url: str, connections: int, seconds: float, warmup: float, script: Path, sid: int | None) -> Cell:
    if warmup > 0:
        wrk(url, connections, warmup, script)
    cpu0 = session_cpu_s(sid) if sid else 0.0
    result, wrk_cpu = wrk(url, connections, seconds, script)
    cpu1 = session_cpu_s(sid) if sid else 0.0
    requests = result["requests"]
    errors = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Cell(
        rps=requests / (result["duration_us"] / 1e6),
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        errors=errors,
        requests=requests,
        cpu_ms_per_req=(cpu1 - cpu0) * 1000 / requests if requests and sid else 0.0,
        wrk_cpu_s=wrk_cpu,
        load1=load1(),
    )


def settle(server: Running, probe: str, limit: float = 120.0) -> None:
    """Wait until the server answers again (a slow server may still be working off the last cell)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if http_get(server.url(probe), timeout=limit)[0] == 200:
                return
        time.sleep(0.5)


# -- datasets -------------------------------------------------------------------------------------


def load_store(exports: Path, store: Path) -> float:
    marker = store / ".benchmark-loaded"
    if marker.exists():
        return 0.0
    shutil.rmtree(store, ignore_errors=True)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "carbonkg.cli", "load", str(exports), "--store", str(store)],
                   cwd=str(REPO), env=clean_env(), check=True, stdout=subprocess.DEVNULL, timeout=3600)
    marker.write_text("ok\n")
    return time.perf_counter() - t


def datasets(args: argparse.Namespace, work: Path) -> list[tuple[str, Path, Path]]:
    out = [("bundled", REPO / "data" / "registry-exports", work / "bundled")] if args.bundled else []
    if args.rows:
        gen = work / f"generated-{args.rows}"
        exports = gen / "exports"
        if not (gen / ".generated").exists():
            from generate_exports import generate

            shutil.rmtree(exports, ignore_errors=True)
            t = time.perf_counter()
            written = generate(args.rows, exports)
            print(f"generated {sum(written.values()):,} rows in {time.perf_counter() - t:.0f} s", flush=True)
            (gen / ".generated").write_text("ok\n")
        out.append((f"generated {args.rows // 1000}k rows", exports, gen))
    return out


# -- configurations -------------------------------------------------------------------------------


def configurations(args: argparse.Namespace) -> list[Config]:
    std = args.standard_site
    std_env = {"PYTHONPATH": str(std)} if std else {}
    all_configs = {
        "oxigraph": Config("oxigraph serve-read-only", "oxigraph",
                           "Rust; default graph: the merged graph (default-graph-uri) if any, else the union"),
        "rdflib": Config("rdflib-endpoint", "rdflib", "rdflib Dataset(default_union), uvicorn as installed (httptools/uvloop)"),
        "floor": Config("floor: uvicorn+FastAPI constant", "floor",
                        "one FastAPI route answering a constant, uvicorn as carbonkg serve runs it, +httptools/uvloop",
                        env=std_env, needs_standard=True),
        "carbonkg": Config("carbonkg serve (defaults)", "carbonkg", "query_workers=2, uvicorn[standard]: httptools/uvloop"),
        "carbonkg-std": Config("carbonkg +httptools/uvloop", "carbonkg", "defaults; uvicorn picks httptools+uvloop",
                               env=std_env, needs_standard=True),
        "carbonkg-qw4": Config("carbonkg qw=4 +httptools", "carbonkg", "query_workers=4",
                               env={**std_env, "CARBONKG_QUERY_WORKERS": "4"}, needs_standard=True),
        "carbonkg-2proc": Config("carbonkg 2 uvicorn procs", "carbonkg",
                                 "uvicorn --workers 2 --factory create_app, query_workers=2 each, +httptools/uvloop",
                                 env=std_env, uvicorn_workers=2, needs_standard=True),
        "carbonkg-2proc-qw1": Config("carbonkg 2 procs qw=1", "carbonkg",
                                     "uvicorn --workers 2, query_workers=1 each, +httptools/uvloop",
                                     env={**std_env, "CARBONKG_QUERY_WORKERS": "1"}, uvicorn_workers=2,
                                     needs_standard=True),
        "carbonkg-inline": Config("carbonkg qw=0 (no hard limit)", "carbonkg",
                                  "query_workers=0: queries in a server thread; NOT all safety on",
                                  env={**std_env, "CARBONKG_QUERY_WORKERS": "0"}, needs_standard=True),
    }
    if args.baseline_site:  # another version of carbonkg, run from its own folder (its cwd wins on sys.path)
        site = args.baseline_site.resolve()
        all_configs["carbonkg-baseline"] = Config("carbonkg baseline (defaults)", "carbonkg",
                                                  f"carbonkg serve from {site}", env={"PYTHONPATH": str(site)}, cwd=site)
    chosen = []
    for name in args.configs.split(","):
        if name.strip() == "carbonkg-baseline" and not args.baseline_site:
            raise SystemExit("--configs carbonkg-baseline needs --baseline-site")
        config = all_configs[name.strip()]
        if config.needs_standard and not have_standard(std):
            print(f"skipping {config.label}: httptools/uvloop not importable (see --standard-site)")
            continue
        chosen.append(config)
    return chosen


def have_standard(site: Path | None) -> bool:
    env = clean_env(**({"PYTHONPATH": str(site)} if site else {}))
    return subprocess.run([sys.executable, "-c", "import httptools, uvloop"], env=env, capture_output=True,
                          check=False).returncode == 0


# -- output ---------------------------------------------------------------------------------------


def print_table(rows: list[tuple[str, str, str, int, Cell]]) -> None:
    print(f"{'dataset':18} {'query':13} {'server':32} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'errors':>6} {'srv CPU ms/req':>14} {'wrk CPU s':>9} {'load1':>6}")
    last = None
    for dataset, query, label, conc, cell in rows:
        if last is not None and (dataset, query) != last:
            print()
        last = (dataset, query)
        if cell.failed:
            print(f"{dataset:18} {query:13} {label:32} {conc:>4} failed: {cell.failed}")
            continue
        print(f"{dataset:18} {query:13} {label:32} {conc:>4} {cell.rps:>8,.0f} {cell.p50_ms:>8.2f} {cell.p99_ms:>8.2f} "
              f"{cell.errors:>6} {cell.cpu_ms_per_req:>14.2f} {cell.wrk_cpu_s:>9.1f} {cell.load1:>6.1f}")


def print_ratios(rows: list[tuple[str, str, str, int, Cell]], configs: list[Config]) -> None:
    """carbonkg ÷ baseline in requests/s (what this run saw), and the same from the CPU milliseconds per
    request (baseline CPU ÷ carbonkg CPU: the ratio of requests/s on an otherwise idle machine where
    both are CPU-bound; less disturbed by other load than the requests/s)."""
    table = {(d, q, label, c): cell for d, q, label, c, cell in rows if not cell.failed}
    baselines = {c.kind: c.label for c in configs if c.kind in ("oxigraph", "rdflib")}
    ours = [c.label for c in configs if c.kind == "carbonkg"]
    keys = sorted({(d, q, c) for d, q, _, c in table}, key=lambda k: (k[0], k[1], k[2]))
    print(f"{'dataset':18} {'query':13} {'conc':>4} {'carbonkg configuration':32} "
          + " ".join(f"{'÷ ' + kind + ' req/s':>17} {'by CPU':>7} {'target':>7}" for kind in baselines))
    for dataset, query, conc in keys:
        for label in ours:
            cell = table.get((dataset, query, label, conc))
            if cell is None:
                continue
            parts = []
            for kind, base in baselines.items():
                ref = table.get((dataset, query, base, conc))
                target = TARGETS.get((kind, query))
                if ref is None or not ref.rps:
                    parts.append(f"{'-':>17} {'-':>7} {'':>7}")
                    continue
                ratio = cell.rps / ref.rps
                by_cpu = ref.cpu_ms_per_req / cell.cpu_ms_per_req if cell.cpu_ms_per_req else 0.0
                mark = "" if target is None else ("met" if ratio >= target else "MISSED")
                parts.append(f"{ratio:>16.2f}× {by_cpu:>6.2f}× {mark:>7}")
            print(f"{dataset:18} {query:13} {conc:>4} {label:32} " + " ".join(parts))
    print("targets (at concurrency 8, on requests/s): ≥ "
          + ", ".join(f"{v:g}× {k[0]} on {k[1]}" for k, v in TARGETS.items()))


# -- main -----------------------------------------------------------------------------------------

DEFAULT_CONFIGS = "oxigraph,rdflib,floor,carbonkg,carbonkg-qw4,carbonkg-2proc"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="generated rows for the large dataset (0: none)")
    parser.add_argument("--no-bundled", dest="bundled", action="store_false", help="skip the bundled exports")
    parser.add_argument("--workdir", type=Path, default=None, help="keep stores and dumps here (default: a temp folder)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per cell")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up before each cell")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--queries", default="lookup,serial-range,serial-index,serial-exact")
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help=f"comma-separated, from: {DEFAULT_CONFIGS},"
                        "carbonkg-std,carbonkg-2proc-qw1,carbonkg-inline,carbonkg-baseline")
    parser.add_argument("--standard-site", type=Path, default=None,
                        help="folder with httptools and uvloop, when the venv lacks them (they come with uvicorn[standard])")
    parser.add_argument("--baseline-site", type=Path, default=None,
                        help="a folder holding another version of the carbonkg package (carbonkg/, carbonkg/server/, …: "
                        "e.g. an earlier commit laid out as installed), run as --configs carbonkg-baseline, "
                        "interleaved with the others: before/after on the same machine load")
    parser.add_argument("--rdflib-max-quads", type=int, default=15_000_000, help="skip rdflib above this many quads")
    parser.add_argument("--profile", action="store_true",
                        help="also profile carbonkg (cProfile on the server process, and the worker's code path)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing (Debian: apt-get install -y wrk)")
    concurrency = [int(c) for c in args.concurrency.split(",")]
    query_names = [q.strip() for q in args.queries.split(",")]
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="carbonkg-service-bench-"))).resolve()  # servers may run elsewhere
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    script = work / "bench.lua"
    script.write_text(WRK_LUA)
    configs = configurations(args)
    t_start = time.monotonic()
    print(f"machine: {os.cpu_count()} CPUs; load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"wrk {subprocess.run(['wrk', '-v'], capture_output=True, text=True).stdout.splitlines()[0].split(' [')[0]}; "
          f"{args.duration:g} s per cell after {args.warmup:g} s of warm-up; threads = 1 at concurrency 1, else 2")

    # the generator's own ceiling
    print("\n== load generator ceiling (wrk against a static asyncio HTTP answer, same 2 cores) ==")
    static = Config("static", "static")
    port = free_port()
    env = clean_env(**({"PYTHONPATH": str(args.standard_site)} if args.standard_site else {}))
    with open(logs / "static.log", "wb") as out:
        process = subprocess.Popen([sys.executable, "-c", STATIC_SERVER, str(port)], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        time.sleep(1.0)
        for conc in concurrency:
            cell = measure(f"http://127.0.0.1:{port}/", conc, min(args.duration, 5), 1, script, process.pid)
            print(f"static  conc {conc:>3}: {cell.rps:>9,.0f} req/s  p50 {cell.p50_ms:.3f} ms  p99 {cell.p99_ms:.3f} ms  "
                  f"errors {cell.errors}  server CPU {cell.cpu_ms_per_req * 1000:.0f} µs/req  wrk CPU {cell.wrk_cpu_s:.1f} s / {min(args.duration, 5):g} s  "
                  f"({(logs / 'static.log').read_text().strip()})")
    finally:
        stop(process)
    del static

    rows: list[tuple[str, str, str, int, Cell]] = []
    notes: list[str] = []
    for name, exports, folder in datasets(args, work):
        store, nquads = folder / "store", folder / "view.nq"
        seconds = load_store(exports, store)
        if seconds:
            print(f"\n{name}: carbonkg load {exports} took {seconds:.0f} s (load average {load1():.1f})")
        prep = child_json(PREPARE.format(here=str(HERE), store=str(store), nquads=str(nquads)), timeout=3600)
        params, queries, expected, info = prep["params"], prep["queries"], prep["expected"], prep["info"]
        for warning in prep["warnings"]:
            print("WARNING (prepare):", warning)
            notes.append(f"{name}: {warning}")
        print(f"\n== {name}: {info['store_quads']:,} quads in the store, {info['view_quads']:,} in carbonkg's view, "
              f"{info['live_graphs']} live graphs of {info['named_graphs']} ==")
        print(f"block {params['block']}  serial {params['serial']!r}  credit number {params['n']} "
              f"(numbering space {params['prefix']}: {params['prefix_blocks']:,} blocks)")
        for q in query_names:
            print(f"  {q}: {' '.join(queries[q].split())}")
            print(f"      answer: {len(expected[q])} row(s)")
        print(f"Oxigraph server's default graph: {' '.join(prep['server_default']) or 'the union of all graphs'} "
              "(carbonkg's: the merged graph when there is one, else the union of the live graphs)")
        print("in-process, pyoxigraph query + JSON answer (no HTTP), CPU ms per query:")
        print(f"  {'query':13} {'carbonkg dataset (list)':>24} {'Oxigraph default':>16} {'+ named list':>13} "
              f"{'carbonkg Executor.run':>22}")
        for q in query_names:
            t = prep["inproc"][q]
            print(f"  {q:13} {t['list_ms']:>24.3f} {t['union_ms']:>16.3f} {t['union_named_ms']:>13.3f} "
                  f"{t['executor_ms']:>22.3f}")

        probe = queries["lookup"]
        with contextlib.ExitStack() as stack:
            servers: dict[str, Running] = {}
            for config in configs:  # all servers up at once (all read-only), so that cells can interleave
                if config.kind == "rdflib" and info["view_quads"] > args.rdflib_max_quads:
                    notes.append(f"{name}: rdflib skipped ({info['view_quads']:,} quads > --rdflib-max-quads)")
                    continue
                startup = 3600.0 if config.kind == "rdflib" else 180.0
                try:
                    server = stack.enter_context(running(
                        config, store, nquads, logs, probe, startup,
                        default_graphs=tuple(prep["server_default"]) if config.kind == "oxigraph" else ()))
                except Exception as exc:  # one server failing must not stop the others
                    print(f"  {config.label}: {exc}", flush=True)
                    for q in query_names:
                        for conc in concurrency:
                            rows.append((name, q, config.label, conc, Cell(failed=str(exc).splitlines()[0][:160])))
                    continue
                if config.kind == "rdflib":
                    head = [line for line in server.log.read_text().splitlines() if line.startswith("rdflib:")]
                    notes.append(f"{name}: {head[0] if head else 'rdflib started'}; "
                                 f"server RSS {session_rss_mb(server.process.pid):,.0f} MB")
                servers[config.label] = server
            for q in query_names:
                checked: dict[str, bool] = {}
                single: dict[str, float] = {}
                for label, server in servers.items():
                    if server.config.kind == "floor":
                        checked[label] = q == "lookup"  # a constant answer: only next to the trivial lookup
                        continue
                    t = time.perf_counter()
                    status, body = http_get(server.url(queries[q]), timeout=600)
                    single[label] = time.perf_counter() - t
                    got = first_column(body) if status == 200 else None
                    checked[label] = got == expected[q]
                    if not checked[label]:
                        for conc in concurrency:
                            rows.append((name, q, label, conc, Cell(failed=f"wrong answer ({status}): {body[:120]!r}")))
                    elif single[label] > args.duration / 3:  # too slow to load-test within the cell's time
                        checked[label] = False
                        for conc in concurrency:
                            rows.append((name, q, label, conc, Cell(
                                rps=1 / single[label], p50_ms=single[label] * 1000, requests=1, load1=load1(),
                                failed=f"one request took {single[label]:.1f} s: not load-tested "
                                       f"(~{1 / single[label]:.2f} req/s per query worker)")))
                # interleaved: every server at one concurrency, then the next concurrency
                for conc in concurrency:
                    for label, server in servers.items():
                        if not checked[label]:
                            continue
                        try:
                            cell = measure(server.url(queries[q]), conc, args.duration, args.warmup, script,
                                           server.process.pid)
                        except Exception as exc:
                            cell = Cell(failed=str(exc).splitlines()[0][:160])
                        rows.append((name, q, label, conc, cell))
                        print(f"  {name:18} {q:13} {label:32} c={conc:<3} {cell.rps:>8,.0f} req/s  "
                              f"p50 {cell.p50_ms:7.2f}  p99 {cell.p99_ms:8.2f} ms  err {cell.errors}  "
                              f"CPU/req {cell.cpu_ms_per_req:.2f} ms  load {cell.load1:.1f}", flush=True)
                        settle(server, probe)

        if args.profile and name == datasets(args, work)[0][0]:
            profile(args, store, nquads, logs, queries, probe, script, work)

    print("\n== results ==")
    print_table(rows)
    print("\n== carbonkg ÷ baseline (requests/s) ==")
    print_ratios(rows, configs)
    print("\nconfigurations:")
    for config in configs:
        print(f"  {config.label:32} {config.note}")
    for note in notes:
        print("note:", note)
    print(f"\nload average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"total {(time.monotonic() - t_start) / 60:.1f} min")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def profile(args: argparse.Namespace, store: Path, nquads: Path, logs: Path, queries: dict[str, str], probe: str,
            script: Path, work: Path) -> None:
    """cProfile of the server process under load (lookup, concurrency 8), and of the worker's code path."""
    import pstats

    out = work / "server.prof"
    config = Config("carbonkg profiled", "carbonkg", env={"PYTHONPATH": str(args.standard_site)} if args.standard_site else {})
    stack = " +httptools/uvloop" if args.standard_site else ""
    print(f"\n== profile: carbonkg serve (defaults{stack}) under cProfile (CPU time), lookup at concurrency 8 ==")
    with running(config, store, nquads, logs, probe, 120.0, profile_to=out) as server:
        cell = measure(server.url(queries["lookup"]), 8, args.duration, 1, script, server.process.pid)
        print(f"(under cProfile: {cell.rps:,.0f} req/s, p50 {cell.p50_ms:.2f} ms)")
    if out.exists():
        stats = pstats.Stats(str(out))
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats("carbonkg|starlette|fastapi|uvicorn|h11|httptools", 40)
    spool = tempfile.mkdtemp(prefix="carbonkg-bench-spool-")
    try:
        for q in ("lookup", "serial-exact"):
            print(f"\n== profile: the worker's code path for {q} ==")
            code = WORKER_PROFILE.format(store=str(store), query=queries[q], spool=spool)
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                                  cwd=str(REPO), env=clean_env(), check=False)
            print(proc.stdout if proc.returncode == 0 else proc.stderr)
    finally:
        shutil.rmtree(spool, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
