"""Prometheus metrics at /metrics (server/metrics.py): the series exist, requests move them,
errors, problems and query timeouts are counted, and the store size follows the store without a
scan per scrape."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from ld_helpers import CK, count, loaded_store, select
from prometheus_client.parser import text_string_to_metric_families
from server_helpers import AUTH, TOKEN, build_store, serve, settings_for

from carbonkg.server import linked_data
from carbonkg.server.app import create_app
from carbonkg.server.benchmark import make_store

SERIES = (
    "carbonkg_http_requests",
    "carbonkg_http_request_duration_seconds",
    "carbonkg_http_requests_in_progress",
    "carbonkg_http_errors",
    "carbonkg_problems",
    "carbonkg_query_timeouts",
    "carbonkg_query_workers",
    "carbonkg_query_worker_kills",
    "carbonkg_store_generation",
    "carbonkg_store_live_graphs",
    "carbonkg_store_quads",
    "carbonkg_store_quads_total",
    "carbonkg_store_size_generation",
    "process_cpu_seconds",
)


def scrape(client: TestClient) -> dict[str, dict[tuple, float]]:
    """{sample name: {sorted labels: value}}."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    out: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def sample(metrics: dict, name: str, **labels: str) -> float:
    return metrics.get(name, {}).get(tuple(sorted(labels.items())), 0.0)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with serve(loaded_store(), load_static_graphs=True, query_workers=1) as client:
        yield client


def test_the_series_are_exposed(client: TestClient) -> None:
    text = client.get("/metrics").text
    for name in SERIES:
        assert f"# TYPE {name} " in text or f"# TYPE {name}_total counter" in text, name


def test_a_request_moves_the_counters(client: TestClient) -> None:
    before = scrape(client)
    for _ in range(3):
        assert client.get("/health").status_code == 200
    r = client.get("/sparql", params={"query": "ASK {}"})
    assert r.status_code == 200
    after = scrape(client)
    labels = {"method": "GET", "route": "/health", "status": "200"}
    assert sample(after, "carbonkg_http_requests_total", **labels) == sample(before, "carbonkg_http_requests_total", **labels) + 3
    assert (sample(after, "carbonkg_http_request_duration_seconds_count", route="/health")
            == sample(before, "carbonkg_http_request_duration_seconds_count", route="/health") + 3)
    assert sample(after, "carbonkg_http_request_duration_seconds_sum", route="/health") > 0
    sparql = {"method": "GET", "route": "/sparql", "status": "200"}
    assert sample(after, "carbonkg_http_requests_total", **sparql) == sample(before, "carbonkg_http_requests_total", **sparql) + 1
    # the scrape itself is counted, under its route
    assert sample(after, "carbonkg_http_requests_total", method="GET", route="/metrics", status="200") >= 1
    assert sample(after, "carbonkg_query_workers", state="alive") == 1


def test_route_templates_bound_the_labels(client: TestClient) -> None:
    before = scrape(client)
    for path in ("/id/verra/project/3005", "/id/verra/project/1507"):
        client.get(path, headers={"Accept": "text/turtle"})
    client.get("/no/such/page")
    after = scrape(client)
    entity = {"method": "GET", "route": "/id/{path:path}", "status": "200"}
    assert sample(after, "carbonkg_http_requests_total", **entity) - sample(before, "carbonkg_http_requests_total", **entity) >= 1
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert sample(after, "carbonkg_http_requests_total", **unmatched) == sample(before, "carbonkg_http_requests_total", **unmatched) + 1
    problem = {"route": "<unmatched>", "type": "not-found"}
    assert sample(after, "carbonkg_problems_total", **problem) == sample(before, "carbonkg_problems_total", **problem) + 1
    routes = {dict(k).get("route") for k in after["carbonkg_http_requests_total"]}
    assert "/id/verra/project/3005" not in routes


def test_problems_are_counted_by_type(client: TestClient) -> None:
    before = scrape(client)
    assert client.get("/sparql", params={"query": "SELEC nonsense"}).status_code == 400
    assert client.get("/id/verra/project/3005", headers={"Accept": "image/png"}).status_code == 406
    after = scrape(client)
    for route, kind in (("/sparql", "query-syntax"), ("/id/{path:path}", "not-acceptable")):
        assert sample(after, "carbonkg_problems_total", route=route, type=kind) == sample(
            before, "carbonkg_problems_total", route=route, type=kind) + 1
    assert sample(after, "carbonkg_http_errors_total", route="/sparql", status="400") == 0  # 4xx are not errors


def test_store_size_per_graph(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    metrics = scrape(client)
    quads = metrics["carbonkg_store_quads"]
    rows = select(client, f"SELECT ?e ?g WHERE {{ GRAPH ?g {{ ?e a <{CK}RegistryExport> }} }}")
    assert len(rows) == 24
    for row in rows:
        expected = count(client, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{row['g'].value}> {{ ?s ?p ?o }} }}")
        assert quads[(("graph", row["e"].value),)] == expected  # labelled by the export, stable across reloads
    assert quads[(("graph", "https://w3id.org/carbonkg/graph/ontology"),)] > 500
    assert sample(metrics, "carbonkg_store_quads_total") == sum(quads.values())
    assert sample(metrics, "carbonkg_store_live_graphs") == len(quads)
    assert sample(metrics, "carbonkg_store_size_generation") == sample(metrics, "carbonkg_store_generation")
    # while the store does not change, a scrape runs no query
    calls = []
    original = linked_data.select_app

    async def counting(*args, **kwargs):
        calls.append(args[1])
        return await original(*args, **kwargs)

    monkeypatch.setattr(linked_data, "select_app", counting)
    for _ in range(3):
        scrape(client)
    assert calls == []


def test_store_size_follows_writes(tmp_path_factory: pytest.TempPathFactory) -> None:
    store = build_store(tmp_path_factory.mktemp("metrics-writes") / "store")
    triples = b"<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n" \
              b"<http://example.org/a> <http://example.org/p> <http://example.org/c> .\n"
    with serve(store, allow_update=True, update_token=TOKEN) as client:
        first = scrape(client)
        assert first.get("carbonkg_store_quads", {}) == {}
        put = client.put("/graph", params={"graph": "http://example.org/g"}, content=triples,
                         headers={**AUTH, "Content-Type": "application/n-triples"})
        assert put.status_code == 201
        second = scrape(client)
        assert sample(second, "carbonkg_store_generation") > sample(first, "carbonkg_store_generation")
        assert second["carbonkg_store_quads"] == {(("graph", "http://example.org/g"),): 2.0}
        assert sample(second, "carbonkg_store_quads_total") == 2


def test_unhandled_errors_are_counted(tmp_path) -> None:
    boom = APIRouter()

    @boom.get("/boom")
    async def fail() -> None:
        raise RuntimeError("boom")

    store = build_store(tmp_path / "store")
    app = create_app(settings_for(store), extra_routers=[boom])
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/boom").status_code == 500
        metrics = scrape(client)
        assert sample(metrics, "carbonkg_http_errors_total", route="/boom", status="500") == 1
        assert sample(metrics, "carbonkg_http_requests_total", method="GET", route="/boom", status="500") == 1
        assert sample(metrics, "carbonkg_http_requests_in_progress") == 1  # the scrape itself


def test_query_timeouts_and_kills_are_counted(tmp_path_factory: pytest.TempPathFactory) -> None:
    store = make_store(tmp_path_factory.mktemp("metrics-timeout") / "store", 400)
    slow = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # 400^3 solutions
    with serve(store, query_timeout_s=0.5, query_workers=1) as client:
        before = scrape(client)
        r = client.get("/sparql", params={"query": slow})
        assert r.status_code == 503 and r.json()["type"].endswith("/query-timeout")
        after = scrape(client)
        assert sample(after, "carbonkg_query_timeouts_total") == sample(before, "carbonkg_query_timeouts_total") + 1
        assert sample(after, "carbonkg_query_worker_kills_total") == sample(before, "carbonkg_query_worker_kills_total") + 1
        assert sample(after, "carbonkg_http_errors_total", route="/sparql", status="503") == 1
        assert sample(after, "carbonkg_problems_total", route="/sparql", type="query-timeout") == 1
