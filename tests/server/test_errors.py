"""Every error the service answers, as RFC 9457 problem details with its exact message."""

from __future__ import annotations

import pytest
from server_helpers import AUTH, essence

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
DIRECT = {"Content-Type": "application/sparql-query"}
UPDATE = {"Content-Type": "application/sparql-update"}


def problem(response, status: int, title: str, detail: str | None = None, slug: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert essence(response.headers["content-type"]) == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"] == title
    if detail is not None:
        assert body["detail"] == detail
    if slug is not None:
        assert body["type"] == f"https://w3id.org/carbonkg/problems/{slug}"
    return body


def test_400_syntax_error_has_line_and_column(read_client) -> None:
    r = read_client.get("/sparql", params={"query": "SELECT ?s\nWHERE { ?s ?p }"})
    body = problem(r, 400, "Malformed query", slug="query-syntax")
    assert (body["line"], body["column"]) == (2, 16)
    assert body["detail"].startswith("syntax error at line 2, column 16: expected one of ")
    assert body["instance"] == "/sparql"


@pytest.mark.parametrize(
    "params,detail",
    [
        ({"query": "  "}, "the query is empty"),
        ({"update": "CLEAR ALL"}, "SPARQL Update is not accepted by GET: POST it to /update"),
        ({"query": "DROP ALL"}, "this is a SPARQL Update, not a query: POST it to /update"),
        ({"query": "ASK {}", "format": "yaml"},
         "unknown format 'yaml'; use one of: csv, json, jsonld, ntriples, rdfxml, tsv, turtle, xml"),
    ],
)
def test_400_protocol_errors_on_get(read_client, params, detail) -> None:
    problem(read_client.get("/sparql", params=params), 400, "Bad request", detail, "bad-request")


def test_400_protocol_errors_on_post(read_client) -> None:
    r = read_client.post("/sparql", content="default-graph-uri=http%3A%2F%2Fa", headers=FORM)
    problem(r, 400, "Bad request", "the form has no `query` field")
    r = read_client.post("/sparql?query=ASK%7B%7D", content="ASK {}", headers=DIRECT)
    problem(r, 400, "Bad request", "a request carries one query: with application/sparql-query the body is the "
            "query, so the URL must not have a `query` parameter")
    r = read_client.post("/sparql?query=ASK%7B%7D", content="query=ASK%7B%7D", headers=FORM)
    problem(r, 400, "Bad request", "a request carries one query; this one has 2 `query` parameters (in the URL and the form)")
    r = read_client.post("/sparql", content=b"ASK { ?s ?p '\xff' }", headers=DIRECT)
    problem(r, 400, "Bad request", "the query is not valid UTF-8 (at byte offset 13)")


def test_401_and_403_on_writes(read_client, write_client) -> None:
    r = read_client.post("/update", content="CLEAR ALL", headers=UPDATE)
    problem(r, 403, "Updates disabled", "this service is read-only: SPARQL Update and Graph Store writes are "
            "disabled (CARBONKG_ALLOW_UPDATE)", "updates-disabled")
    r = read_client.put("/graph?graph=http://a.example/", content="<a:b> <a:c> <a:d> .", headers={**AUTH, "Content-Type": "application/n-triples"})
    problem(r, 403, "Updates disabled")
    r = write_client.post("/update", content="CLEAR ALL", headers=UPDATE)
    body = problem(r, 401, "Authentication required", "writes need an `Authorization: Bearer <token>` header", "unauthorized")
    assert r.headers["www-authenticate"] == 'Bearer realm="carbonkg"'
    assert body["instance"] == "/update"
    r = write_client.post("/update", content="CLEAR ALL", headers={**UPDATE, "Authorization": "Bearer nope"})
    problem(r, 401, "Authentication required", "the bearer token is not valid")
    assert r.headers["www-authenticate"] == 'Bearer realm="carbonkg", error="invalid_token"'
    r = write_client.delete("/graph?default", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    problem(r, 401, "Authentication required", "writes need an `Authorization: Bearer <token>` header")


def test_403_service_not_allowed(read_client) -> None:
    r = read_client.get("/sparql", params={"query": "SELECT * {\n  SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o }\n}"})
    body = problem(
        r, 403, "Remote service not allowed",
        "SERVICE <http://127.0.0.1:9/sparql> at line 2, column 3 is not allowed: this server contacts only the IRIs on "
        "its allow-list (CARBONKG_ALLOW_SERVICE), which is empty",
        "service-not-allowed",
    )
    assert (body["line"], body["column"]) == (2, 3)


def test_403_load_not_allowed(write_client) -> None:
    r = write_client.post("/update", content="LOAD <http://127.0.0.1:9/data.ttl>", headers={**UPDATE, **AUTH})
    problem(
        r, 403, "LOAD not allowed",
        "LOAD <http://127.0.0.1:9/data.ttl> at line 1, column 1 is not allowed: this server contacts only the IRIs on "
        "its allow-list (CARBONKG_ALLOW_SERVICE), which is empty",
        "load-not-allowed",
    )


def test_404(read_client) -> None:
    problem(read_client.get("/nothing"), 404, "Not found", "nothing is served at /nothing", "not-found")
    r = read_client.get("/graph", params={"graph": "http://nowhere.example/g"})
    problem(r, 404, "Graph not found", "this store has no graph <http://nowhere.example/g>", "graph-not-found")


def test_405(read_client) -> None:
    r = read_client.delete("/sparql")
    problem(r, 405, "Method not allowed", "DELETE is not allowed on /sparql; use GET, HEAD, POST", "method-not-allowed")
    assert r.headers["allow"] == "GET, HEAD, POST"
    r = read_client.get("/update", params={"update": "CLEAR ALL"})
    problem(r, 405, "Method not allowed", "GET is not allowed on /update; use POST")
    assert r.headers["allow"] == "POST"


def test_406(read_client) -> None:
    r = read_client.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": "text/csv"})
    body = problem(
        r, 406, "Not acceptable",
        "Accept 'text/csv' allows none of the media types that can carry ASK results: "
        "application/sparql-results+json, application/sparql-results+xml",
        "not-acceptable",
    )
    assert body["available"] == ["application/sparql-results+json", "application/sparql-results+xml"]
    r = read_client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "csv"})
    problem(r, 406, "Not acceptable", "format='csv' allows none of the media types that can carry RDF graphs: "
            "text/turtle, application/n-triples, application/ld+json, application/rdf+xml")
    r = read_client.get("/sparql", headers={"Accept": "image/png"})  # the service description
    problem(r, 406, "Not acceptable")


def test_413(read_client) -> None:
    big = "ASK { " + "?s ?p ?o . " * 100_000 + "}"
    r = read_client.post("/sparql", content=big, headers=DIRECT)
    body = problem(r, 413, "Content too large", "the request body is larger than this server's limit of 1048576 bytes",
                   "content-too-large")
    assert body["limit_bytes"] == 1_048_576

    def chunks():  # no Content-Length: the limit applies to what is streamed
        for _ in range(200):
            yield b"?s ?p ?o . " * 1000

    r = read_client.post("/sparql", content=chunks(), headers=DIRECT)
    problem(r, 413, "Content too large")


@pytest.mark.parametrize(
    "headers,detail",
    [
        ({}, "a POST to /sparql needs a Content-Type: application/sparql-query (the query as the body) or "
             "application/x-www-form-urlencoded (query=...)"),
        ({"Content-Type": "application/json"},
         "application/json is not a query: /sparql accepts application/sparql-query and application/x-www-form-urlencoded"),
        ({"Content-Type": "application/sparql-update"}, "application/sparql-update is accepted at /update, not at /sparql"),
        ({"Content-Type": "application/sparql-query; charset=latin-1"},
         "application/sparql-query with charset=latin-1 is not supported: send the body in UTF-8"),
    ],
)
def test_415(read_client, headers, detail) -> None:
    problem(read_client.post("/sparql", content="ASK {}", headers=headers), 415, "Unsupported media type", detail,
            "unsupported-media-type")


def test_415_upload_formats(write_client) -> None:
    r = write_client.put("/graph?graph=http://a.example/g", content="a,b", headers={**AUTH, "Content-Type": "text/csv"})
    problem(r, 415, "Unsupported media type",
            "text/csv is not an RDF graph format this store accepts: application/ld+json, application/n-triples, "
            "application/rdf+xml, text/turtle (or multipart/form-data of those, by POST)")


def test_errors_of_updates(write_client) -> None:
    headers = {**UPDATE, **AUTH}
    r = write_client.post("/update", content="INSERT DATA { <http://a> <http://b> }", headers=headers)
    body = problem(r, 400, "Malformed update", slug="update-syntax")
    assert (body["line"], body["column"]) == (1, 37)
    r = write_client.post("/update", content="CREATE GRAPH <http://kasei.us/2009/09/sparql/data/data1.rdf>", headers=headers)
    problem(r, 400, "Update failed",
            "the update was not applied: The graph <http://kasei.us/2009/09/sparql/data/data1.rdf> already exists",
            "update-failed")
    r = write_client.post("/update", content="update=CLEAR%20ALL", headers={**FORM, **AUTH})
    assert r.status_code == 204
    r = write_client.post("/update", content="query=ASK%7B%7D", headers={**FORM, **AUTH})
    problem(r, 400, "Bad request", "a query goes to /sparql, not /update")
