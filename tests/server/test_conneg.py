"""Content negotiation: the Accept matrix with q-values, the format parameter, and that every answer
parses in the format it claims."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from server_helpers import essence

from carbonkg.server import conneg

SELECT = "SELECT ?s ?o { ?s a ?o } ORDER BY ?s"
ASK = "ASK { ?s a ?o }"
CONSTRUCT = "CONSTRUCT WHERE { ?s a ?o }"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
RESULTS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPHS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}

MATRIX = [
    # (query, Accept, expected media type)
    (SELECT, None, "application/sparql-results+json"),
    (SELECT, "*/*", "application/sparql-results+json"),
    (SELECT, "application/sparql-results+json", "application/sparql-results+json"),
    (SELECT, "application/json", "application/sparql-results+json"),
    (SELECT, "application/sparql-results+xml", "application/sparql-results+xml"),
    (SELECT, "application/xml", "application/sparql-results+xml"),
    (SELECT, "text/csv", "text/csv"),
    (SELECT, "text/tab-separated-values", "text/tab-separated-values"),
    (SELECT, "text/*", "text/csv"),
    (SELECT, "text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
    (SELECT, "*/*;q=0.1, text/tab-separated-values", "text/tab-separated-values"),
    (SELECT, "application/sparql-results+json;q=0, */*", "application/sparql-results+xml"),
    (SELECT, "text/html, application/sparql-results+json;q=0.2, text/csv;q=0.3", "text/csv"),
    (SELECT, BROWSER, "application/sparql-results+xml"),
    (ASK, None, "application/sparql-results+json"),
    (ASK, "application/sparql-results+xml", "application/sparql-results+xml"),
    (ASK, "text/csv, application/xml;q=0.2", "application/sparql-results+xml"),
    (CONSTRUCT, None, "text/turtle"),
    (CONSTRUCT, "*/*", "text/turtle"),
    (CONSTRUCT, "application/n-triples", "application/n-triples"),
    (CONSTRUCT, "text/plain", "application/n-triples"),
    (CONSTRUCT, "application/ld+json", "application/ld+json"),
    (CONSTRUCT, "application/json", "application/ld+json"),
    (CONSTRUCT, "application/rdf+xml", "application/rdf+xml"),
    (CONSTRUCT, "application/sparql-results+json, application/n-triples;q=0.5", "application/n-triples"),
    (CONSTRUCT, BROWSER, "application/rdf+xml"),
    ("DESCRIBE <http://kasei.us/2009/09/sparql/data/data1.rdf>", "text/turtle;q=0.4, application/ld+json;q=0.5", "application/ld+json"),
]


@pytest.mark.parametrize("query,accept,expected", MATRIX)
def test_accept_matrix(read_client, query: str, accept: str | None, expected: str) -> None:
    headers = {"Accept": accept} if accept is not None else {"Accept": ""}
    r = read_client.get("/sparql", params={"query": query}, headers=headers)
    assert r.status_code == 200, r.text
    assert essence(r.headers["content-type"]) == expected
    assert r.headers["vary"] == "Accept"
    if expected in RESULTS:
        parsed = ox.parse_query_results(r.content, RESULTS[expected]) if expected != "text/csv" else None
        if query == ASK:
            assert bool(parsed) is True
        elif parsed is not None:
            assert len(list(parsed)) == 3
        else:
            assert r.text.splitlines() == ["s,o"] + [
                f"http://kasei.us/2009/09/sparql/data/data{n}.rdf,http://xmlns.com/foaf/0.1/Document" for n in (1, 2, 3)
            ]
    else:
        assert len(list(ox.parse(r.content, GRAPHS[expected]))) in (1, 3)


@pytest.mark.parametrize(
    "value,expected",
    [("csv", "text/csv"), ("tsv", "text/tab-separated-values"), ("xml", "application/sparql-results+xml"),
     ("json", "application/sparql-results+json"), ("text/csv", "text/csv"), ("srj", "application/sparql-results+json")],
)
def test_format_parameter_overrides_accept(read_client, value: str, expected: str) -> None:
    r = read_client.get("/sparql", params={"query": SELECT, "format": value}, headers={"Accept": "application/sparql-results+json"})
    assert essence(r.headers["content-type"]) == expected


def test_format_parameter_in_a_form(read_client) -> None:
    r = read_client.post(
        "/sparql",
        data={"query": CONSTRUCT, "format": "nt"},
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/turtle"},
    )
    assert r.status_code == 200
    assert essence(r.headers["content-type"]) == "application/n-triples"
    assert len(r.text.splitlines()) == 3


def test_turtle_answers_use_prefixes(read_client) -> None:
    r = read_client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": "text/turtle"})
    assert r.headers["content-type"] == "text/turtle; charset=utf-8"
    assert "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> ." in r.text


def test_parse_accept_is_lenient() -> None:
    ranges = conneg.parse_accept("text/csv;q=abc, garbage, *, application/json;Q=0.7;level=1, text/*;q=2")
    assert [(r.type, r.subtype, r.q) for r in ranges] == [
        ("text", "csv", 0.0), ("*", "*", 1.0), ("application", "json", 0.7), ("text", "*", 1.0)
    ]


def test_most_specific_range_wins() -> None:
    offers = conneg.SOLUTION_FORMATS
    assert conneg.negotiate("text/*;q=0.9, text/csv;q=0.1", offers) is conneg.TSV
    assert conneg.negotiate("image/png", offers) is None
    assert conneg.negotiate("", offers) is conneg.JSON
