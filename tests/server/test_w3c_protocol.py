"""The W3C SPARQL 1.1 Protocol tests (tests/data/w3c/protocol/manifest.ttl), every entry.

The manifest gives each entry's HTTP requests (method, path, headers, body) and the acceptable
responses (a status class, a boolean, a kind of format). :data:`EXPECTED` says, per entry, which
of this server's endpoints each request goes to (queries to /sparql, updates to /update: the
manifest allows separate endpoints), in which configuration it runs (``read``: the default,
read-only service; ``write``: updates enabled, requests to /update carry the token), and the exact
answer this server gives: the status of each request and, for errors, the problem's title and
detail. The manifest's own expectations are checked too. A manifest entry missing from the table
(or a table entry missing from the manifest) fails :func:`test_table_covers_the_manifest`.
"""

from __future__ import annotations

from dataclasses import dataclass

from server_helpers import AUTH, RESULT_TYPES, essence, parse_boolean, reset_writable


@dataclass(frozen=True)
class Expect:
    config: str  # read | write
    endpoints: tuple[str, ...]  # per request: sparql | update
    statuses: tuple[int, ...]  # per request: this server's exact status
    title: str | None = None  # for an error: the problem title
    detail: str | None = None  # for an error: the problem detail (exact)


MANIFEST = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/protocol/manifest#"  # entry IRIs: MANIFEST + key
Q = ("sparql",)
U = ("update",)
UQ = ("update", "sparql")
EXPECTED: dict[str, Expect] = {
    # queries: answered 200 (the dataset data1–data3 is loaded as the named graphs it names)
    "query_post_form": Expect("read", Q, (200,)),
    "query_dataset_default_graphs_get": Expect("read", Q, (200,)),
    "query_dataset_default_graphs_post": Expect("read", Q, (200,)),
    "query_dataset_named_graphs_post": Expect("read", Q, (200,)),
    "query_dataset_named_graphs_get": Expect("read", Q, (200,)),
    "query_dataset_full": Expect("read", Q, (200,)),
    "query_multiple_dataset": Expect("read", Q, (200,)),
    "query_get": Expect("read", Q, (200,)),
    "query_content_type_select": Expect("read", Q, (200,)),
    "query_content_type_ask": Expect("read", Q, (200,)),
    "query_content_type_describe": Expect("read", Q, (200,)),
    "query_content_type_construct": Expect("read", Q, (200,)),
    "query_post_direct": Expect("read", Q, (200,)),
    # updates: with updates enabled and the token, 204, then the checking query 200
    "update_dataset_default_graph": Expect("write", UQ, (204, 200)),
    "update_dataset_default_graphs": Expect("write", UQ, (204, 200)),
    "update_dataset_named_graphs": Expect("write", UQ, (204, 200)),
    "update_dataset_full": Expect("write", UQ, (204, 200)),
    "update_post_form": Expect("write", U, (204,)),
    "update_post_direct": Expect("write", U, (204,)),
    "update_base_uri": Expect("write", UQ, (204, 200)),
    # errors
    "bad_query_method": Expect(
        "read", Q, (405,), "Method not allowed", "PUT is not allowed on /sparql; use GET, HEAD, POST"
    ),
    "bad_multiple_queries": Expect(
        "read", Q, (400,), "Bad request", "a request carries one query; this one has 2 `query` parameters (in the URL)"
    ),
    "bad_query_wrong_media_type": Expect(
        "read", Q, (415,), "Unsupported media type",
        "text/plain is not a query: /sparql accepts application/sparql-query and application/x-www-form-urlencoded",
    ),
    "bad_query_missing_form_type": Expect(
        "read", Q, (415,), "Unsupported media type",
        "a POST to /sparql needs a Content-Type: application/sparql-query (the query as the body) "
        "or application/x-www-form-urlencoded (query=...)",
    ),
    "bad_query_missing_direct_type": Expect(
        "read", Q, (415,), "Unsupported media type",
        "a POST to /sparql needs a Content-Type: application/sparql-query (the query as the body) "
        "or application/x-www-form-urlencoded (query=...)",
    ),
    "bad_query_non_utf8": Expect(
        "read", Q, (415,), "Unsupported media type",
        "application/sparql-query with charset=UTF-16 is not supported: send the body in UTF-8",
    ),
    "bad_query_syntax": Expect("read", Q, (400,), "Malformed query", None),
    "bad_update_get": Expect("write", U, (405,), "Method not allowed", "GET is not allowed on /update; use POST"),
    "bad_multiple_updates": Expect(
        "write", U, (400,), "Bad request",
        "a request carries one update; this one has 2 `update` parameters (in the URL and the form)",
    ),
    "bad_update_wrong_media_type": Expect(
        "write", U, (415,), "Unsupported media type",
        "text/plain is not an update: /update accepts application/sparql-update and application/x-www-form-urlencoded",
    ),
    "bad_update_missing_form_type": Expect(
        "write", U, (415,), "Unsupported media type",
        "a POST to /update needs a Content-Type: /update accepts application/sparql-update and "
        "application/x-www-form-urlencoded",
    ),
    "bad_update_non_utf8": Expect(
        "write", U, (415,), "Unsupported media type",
        "application/sparql-update with charset=UTF-16 is not supported: send the body in UTF-8",
    ),
    "bad_update_syntax": Expect("write", U, (400,), "Malformed update", None),
    "bad_update_dataset_conflict": Expect(
        "write", U, (400,), "Bad request",
        "using-graph-uri and using-named-graph-uri cannot be combined with USING or WITH in the update",
    ),
}


def test_table_covers_the_manifest(manifest) -> None:
    entries = manifest("protocol_entry")
    assert all(e.iri == MANIFEST + e.name for e in entries)
    names = [e.name for e in entries]
    assert len(names) == 34
    assert sorted(EXPECTED) == sorted(names), "encode every manifest entry in EXPECTED (and only those)"


def test_protocol(protocol_entry, read_client, write_client) -> None:
    expect = EXPECTED[protocol_entry.name]
    assert len(expect.endpoints) == len(protocol_entry.exchanges) == len(expect.statuses)
    client = read_client if expect.config == "read" else write_client
    if expect.config == "write":
        reset_writable(client)
    for exchange, endpoint, status in zip(protocol_entry.exchanges, expect.endpoints, expect.statuses):
        assert exchange.path.startswith("/sparql/")
        path = "/" + endpoint + exchange.path[len("/sparql/"):]
        headers = dict(exchange.headers)
        if endpoint == "update" and expect.config == "write":
            headers.update(AUTH)
        response = client.request(exchange.method, path, headers=headers, content=exchange.body)
        assert response.status_code == status, response.text
        assert exchange.allows(status), f"{status} is not what the manifest allows: {exchange.statuses}"
        if exchange.result_format is not None:
            assert essence(response.headers["content-type"]) in RESULT_TYPES[exchange.result_format]
        if exchange.boolean is not None:
            assert parse_boolean(response) is exchange.boolean
        if status >= 400:
            problem = response.json()
            assert essence(response.headers["content-type"]) == "application/problem+json"
            assert problem["status"] == status
            assert problem["title"] == expect.title
            if expect.detail is not None:
                assert problem["detail"] == expect.detail
