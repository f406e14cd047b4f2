"""What the time-limit machinery costs per request: ``python -m carbonkg.server.benchmark``.

Starts ``carbonkg serve`` twice on a generated store, on free loopback ports: with query workers
(the default: each query crosses a socket pair to a worker process, which can be killed at the
time limit) and with ``query_workers = 0`` (queries in a thread of the server process, no hard
limit). Times the same small queries sequentially over keep-alive HTTP and prints median and 95th
percentile latencies and the difference, which is the price of the hard time limit. Numbers are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

QUERIES = {
    "ASK {}": "ASK {}",
    "SELECT 100 rows (JSON)": "SELECT ?s ?o { ?s <http://example.org/value> ?o } LIMIT 100",
    "SELECT 1000 rows (CSV)": "SELECT ?s ?o { ?s <http://example.org/value> ?o } LIMIT 1000",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_store(path: Path, triples: int) -> Path:
    import gc

    import pyoxigraph as ox

    from carbonkg.server.dataset import register_user_graphs
    from carbonkg.store.embedded import EmbeddedStore

    store = EmbeddedStore(path)
    graph = ox.NamedNode("http://example.org/bench")
    value = ox.NamedNode("http://example.org/value")
    store.raw.extend(
        ox.Quad(ox.NamedNode(f"http://example.org/s/{i}"), value, ox.Literal(str(i)), graph) for i in range(triples)
    )
    store.raw.update(register_user_graphs([graph.value]))
    store.flush()
    del store
    gc.collect()
    return path


@contextlib.contextmanager
def running_server(store: Path, **env: str) -> Iterator[str]:
    """``carbonkg serve`` in a subprocess on a free port; yields its base URL once healthy."""
    import httpx

    port = free_port()
    environment = {**os.environ, "CARBONKG_LOAD_STATIC_GRAPHS": "false", **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "carbonkg.cli", "serve", "--store", str(store), "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {process.stderr.read().decode() if process.stderr else ''}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become healthy")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def time_requests(url: str, query: str, n: int, accept: str = "*/*") -> list[float]:
    import httpx

    times = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(5):  # warm up
            client.get("/sparql", params={"query": query}, headers={"Accept": accept})
        for _ in range(n):
            start = time.perf_counter()
            response = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text
    return times


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


PARSE_QUERY = """PREFIX ck: <https://w3id.org/carbonkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?project ?label (SUM(?q) AS ?total) WHERE {
  ?project a ck:ProjectListing ; rdfs:label ?label .
  ?issuance ck:issuedFor ?project ; ck:generatedBlock ?block .
  ?block ck:quantity ?q .
  OPTIONAL { ?project ck:hostCountry ?c . FILTER(LANG(?label) = "en") }
  SERVICE <https://query.wikidata.org/sparql> { ?c ?p ?o }
} GROUP BY ?project ?label ORDER BY DESC(?total) LIMIT 100"""


def parse_costs(n: int = 50) -> None:
    """Finding SERVICE: carbonkg's tokeniser against rdflib's parser and algebra."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    from carbonkg.server.safety import analyse_query

    def per_call(function) -> float:
        start = time.perf_counter()
        for _ in range(n):
            function()
        return (time.perf_counter() - start) / n * 1000

    tokeniser = per_call(lambda: analyse_query(PARSE_QUERY, base="https://w3id.org/carbonkg/sparql"))
    rdflib_ms = per_call(lambda: translateQuery(parseQuery(PARSE_QUERY)))
    print(f"analyse a 9-line query: tokeniser {tokeniser:.2f} ms, rdflib parse + algebra {rdflib_ms:.2f} ms")


def hop_costs(store: Path, n: int = 1000) -> None:
    """The worker round trip alone, without HTTP: the same ASK run directly and through the pool."""
    import asyncio

    from carbonkg.server.dataset import DatasetSpec
    from carbonkg.server.execute import Executor, QueryTask, Spool
    from carbonkg.server.workers import QueryPool

    task = QueryTask("ASK {}", "http://example.org/", DatasetSpec(), {"boolean": "json"}, 10_000)
    executor = Executor(store)
    executor.refresh(0)
    start = time.perf_counter()
    for _ in range(n):
        executor.run(task, Spool(None, 1 << 20))
    direct = (time.perf_counter() - start) / n * 1000

    async def through_pool() -> float:
        with tempfile.TemporaryDirectory() as spool:
            pool = QueryPool(store, 1, spool)
            await pool.start()
            try:
                for _ in range(20):
                    await pool.run("query", task, 10)
                start = time.perf_counter()
                for _ in range(n):
                    await pool.run("query", task, 10)
                return (time.perf_counter() - start) / n * 1000
            finally:
                await pool.close()

    pooled = asyncio.run(through_pool())
    print(f"ASK {{}} without HTTP: in this process {direct:.3f} ms, through a worker {pooled:.3f} ms "
          f"(the hop: {pooled - direct:.3f} ms)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="requests per query and mode")
    parser.add_argument("--triples", type=int, default=10_000)
    parser.add_argument("--parse", action="store_true", help="only compare the SERVICE detection methods")
    args = parser.parse_args(argv)
    if args.parse:
        parse_costs()
        return 0
    with tempfile.TemporaryDirectory(prefix="carbonkg-bench-") as tmp:
        store = make_store(Path(tmp) / "store", args.triples)
        hop_costs(store)
        results: dict[str, dict[str, tuple[float, float]]] = {}
        for mode, env in (("workers (2 processes)", {"CARBONKG_QUERY_WORKERS": "2"}),
                          ("in-process (query_workers=0)", {"CARBONKG_QUERY_WORKERS": "0"})):
            with running_server(store, **env) as url:
                results[mode] = {
                    name: summary(time_requests(url, q, args.n, "text/csv" if "CSV" in name else "*/*"))
                    for name, q in QUERIES.items()
                }
        print(f"{'query':28} {'mode':30} {'median ms':>10} {'p95 ms':>8}")
        for name in QUERIES:
            for mode in results:
                median, p95 = results[mode][name]
                print(f"{name:28} {mode:30} {median:10.2f} {p95:8.2f}")
            (m_pool, _), (m_inline, _) = (results[mode][name] for mode in results)
            print(f"{'':28} {'overhead of the worker hop':30} {m_pool - m_inline:10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
