"""The result limit is announced on every answer and a cut answer is marked, never silent; big
answers stream from the worker's spool file; the request size limit."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from server_helpers import build_store, serve

LIMIT = 10
GRAPH = "http://example.org/numbers"
NUMBERS = b"".join(
    f'<http://example.org/n/{i:02d}> <http://example.org/value> "{i}"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'.encode()
    for i in range(30)
)
BIG = b"".join(f'<http://example.org/big/{i}> <http://example.org/text> "{"x" * 60_000}" .\n'.encode() for i in range(8))
NOTE = (
    "partial result: this server answers at most 10 solutions per query; "
    "use ORDER BY with LIMIT and OFFSET to page through the rest"
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    store = build_store(tmp_path_factory.mktemp("limits") / "store", {GRAPH: NUMBERS, "http://example.org/big": BIG})
    with serve(store, max_results=LIMIT, max_request_bytes=4096, query_workers=1) as client:
        yield client


def select(client: TestClient, query: str, accept: str = "application/sparql-results+json"):
    r = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["carbonkg-result-limit"] == str(LIMIT)
    return r


ALL = f"SELECT ?s ?v {{ GRAPH <{GRAPH}> {{ ?s ?p ?v }} }} ORDER BY ?v"


def test_the_limit_is_announced_on_every_answer(client) -> None:
    r = select(client, "ASK {}")
    assert r.headers["carbonkg-result-count"] == "1"
    assert "carbonkg-result-truncated" not in r.headers


def test_exactly_the_limit_is_not_truncated(client) -> None:
    r = select(client, ALL + f" LIMIT {LIMIT}")
    assert r.headers["carbonkg-result-count"] == str(LIMIT)
    assert "carbonkg-result-truncated" not in r.headers
    assert "truncated" not in r.json()


def test_json_results_carry_a_note(client) -> None:
    r = select(client, ALL)
    assert r.headers["carbonkg-result-truncated"] == "true"
    assert r.headers["carbonkg-result-count"] == str(LIMIT)
    body = r.json()
    assert body["truncated"] is True
    assert body["note"] == NOTE
    assert body["head"] == {"vars": ["s", "v"], "link": ["https://w3id.org/carbonkg/sparql#result-limit"]}
    assert [int(b["v"]["value"]) for b in body["results"]["bindings"]] == list(range(LIMIT))
    assert len(list(ox.parse_query_results(r.content, ox.QueryResultsFormat.JSON))) == LIMIT


def test_xml_results_carry_a_link_and_a_comment(client) -> None:
    r = select(client, ALL, "application/sparql-results+xml")
    assert r.headers["carbonkg-result-truncated"] == "true"
    assert '<link href="https://w3id.org/carbonkg/sparql#result-limit"/></head>' in r.text
    assert f"<!-- {NOTE} -->" in r.text
    assert len(list(ox.parse_query_results(r.content, ox.QueryResultsFormat.XML))) == LIMIT


@pytest.mark.parametrize("accept", ["text/csv", "text/tab-separated-values"])
def test_csv_and_tsv_are_marked_in_headers(client, accept: str) -> None:
    r = select(client, ALL, accept)
    assert r.headers["carbonkg-result-truncated"] == "true"
    assert len(r.text.splitlines()) == LIMIT + 1  # header row + the solutions


@pytest.mark.parametrize(
    "accept,fmt,marker",
    [
        ("text/turtle", ox.RdfFormat.TURTLE, "# partial result: this server answers at most 10 triples"),
        ("application/n-triples", ox.RdfFormat.N_TRIPLES, "# partial result: this server answers at most 10 triples"),
        ("application/rdf+xml", ox.RdfFormat.RDF_XML, "<!-- partial result: this server answers at most 10 triples"),
        ("application/ld+json", ox.RdfFormat.JSON_LD, None),
    ],
)
def test_graphs_are_cut_at_the_limit(client, accept: str, fmt: ox.RdfFormat, marker: str | None) -> None:
    r = client.get("/sparql", params={"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}"}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["carbonkg-result-truncated"] == "true"
    assert r.headers["carbonkg-result-count"] == str(LIMIT)
    assert len(list(ox.parse(r.content, fmt))) == LIMIT
    if marker:
        assert marker in r.text


def test_graph_store_reads_are_limited_too(client) -> None:
    r = client.get("/graph", params={"graph": GRAPH}, headers={"Accept": "application/n-triples"})
    assert r.headers["carbonkg-result-truncated"] == "true"
    assert len([line for line in r.text.splitlines() if line and not line.startswith("#")]) == LIMIT


def test_big_answers_stream_from_a_file(client) -> None:
    spool = Path(client.app.state.runtime.spool_dir)
    r = client.get(
        "/sparql",
        params={"query": "SELECT ?s ?t { GRAPH <http://example.org/big> { ?s ?p ?t } } ORDER BY ?s"},
        headers={"Accept": "text/tab-separated-values"},
    )
    assert r.status_code == 200
    assert int(r.headers["content-length"]) == len(r.content) > 256 * 1024
    assert len(r.text.splitlines()) == 9
    assert os.listdir(spool) == []  # the file is removed once sent
    head = client.head("/graph", params={"graph": "http://example.org/big"}, headers={"Accept": "application/n-triples"})
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 256 * 1024
    assert os.listdir(spool) == []


def test_request_size_limit(client) -> None:
    query = "ASK { " + "?s ?p ?o . " * 400 + "}"
    r = client.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413
    assert r.json()["detail"] == "the request body is larger than this server's limit of 4096 bytes"
    r = client.post("/sparql", data={"query": query}, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    r = client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200
    assert json.loads(r.text)["boolean"] is True
