"""A query over the time limit is really stopped: on a real server (``carbonkg serve`` in a
subprocess on a free loopback port), a cartesian product over generated data answers 503 in about
the time limit, its worker process is killed and replaced, and the next query is answered."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from carbonkg.server.benchmark import make_store, running_server

TIMEOUT_S = 1.5
SLOW = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # 2000^3 solutions


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = make_store(tmp_path_factory.mktemp("timeout") / "store", 2000)
    with running_server(store, CARBONKG_QUERY_TIMEOUT_S=str(TIMEOUT_S), CARBONKG_QUERY_WORKERS="1") as url:
        yield url


def workers(url: str) -> set[int]:
    port = int(url.rsplit(":", 1)[1])
    (server,) = [c.pid for c in psutil.net_connections("tcp") if c.laddr and c.laddr.port == port and c.status == "LISTEN"]
    return {p.pid for p in psutil.Process(server).children() if "carbonkg.server.workers" in " ".join(p.cmdline())}


def test_a_slow_query_is_stopped_at_the_limit(server: str) -> None:
    before = workers(server)
    assert len(before) == 1
    start = time.monotonic()
    r = httpx.get(server + "/sparql", params={"query": SLOW}, timeout=30)
    elapsed = time.monotonic() - start
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    body = r.json()
    assert body["title"] == "Query timed out"
    assert body["detail"] == (
        "the query ran longer than this server's limit of 1.5 s and was stopped; "
        "narrow it (a more selective pattern, LIMIT) and try again"
    )
    assert TIMEOUT_S <= elapsed < TIMEOUT_S + 1.5
    (killed,) = before
    assert not psutil.pid_exists(killed) or psutil.Process(killed).status() == psutil.STATUS_ZOMBIE
    # a replacement worker starts in the background; the next query waits for it and is answered
    r = httpx.get(server + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
    assert r.status_code == 200 and r.json()["boolean"] is True
    after = workers(server)
    assert len(after) == 1 and after != before
    health = httpx.get(server + "/health").json()
    assert health["workers"]["killed"] == 1 and health["workers"]["alive"] == 1


def test_a_fast_query_pays_little_for_the_limit(server: str) -> None:
    from carbonkg.server.benchmark import summary, time_requests

    median_ms, p95_ms = summary(time_requests(server, "ASK {}", 100))
    print(f"\nASK {{}} through a query worker over HTTP: median {median_ms:.2f} ms, p95 {p95_ms:.2f} ms")
    assert median_ms < 100  # a sanity bound, not a benchmark (see carbonkg.server.benchmark)


def test_an_allow_listed_service_is_called(tmp_path_factory: pytest.TempPathFactory) -> None:
    """SERVICE to an allow-listed endpoint runs (here the server itself, on loopback); others are refused."""
    store = make_store(tmp_path_factory.mktemp("federated") / "store", 5)
    with running_server(store, CARBONKG_QUERY_WORKERS="2", CARBONKG_ALLOW_SERVICE="http://127.0.0.1:*") as url:
        query = (
            f"SELECT (COUNT(*) AS ?n) {{ SERVICE <{url}/sparql> {{ "
            "GRAPH <http://example.org/bench> { ?s ?p ?o } } }"
        )
        r = httpx.get(url + "/sparql", params={"query": query}, timeout=30)
        assert r.status_code == 200, r.text
        assert r.json()["results"]["bindings"][0]["n"]["value"] == "5"
        query = "SELECT * { SERVICE <http://localhost:9/sparql> { ?s ?p ?o } }"
        assert httpx.get(url + "/sparql", params={"query": query}, timeout=30).status_code == 403


def test_serve_honours_the_store_option(server: str, tmp_path: Path) -> None:
    r = httpx.get(server + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { GRAPH <http://example.org/bench> { ?s ?p ?o } }"})
    assert r.json()["results"]["bindings"][0]["n"]["value"] == "2000"
