"""The W3C Graph Store HTTP Protocol tests, every entry of both manifests:

- ``graph-store-protocol/`` (current): each entry is a sequence of requests with expected
  statuses, headers and bodies (compared as graphs, by isomorphism). Run against a service with
  writes enabled (and the token), from the protocol dataset, the manifest's ``/gsp`` prefix
  mapped to ``/graph`` (direct identification: ``/graph/person/1.ttl`` names
  ``<base>graph/person/1.ttl``).
- ``http-rdf-update/`` (deprecated by the W3C in favour of the above): one request per entry,
  written as raw HTTP in the entry's comment, each entry depending on the ones before it; each
  entry is run after replaying its predecessors on a fresh service whose public base is the test
  host, so that ``http://$HOST$/$GRAPHSTORE$/person/1.ttl`` is the graph that
  ``$GRAPHSTORE$/person/1.ttl`` names directly.

The tables say what this server answers to each request; where the deprecated manifest expects
something else (it contradicts itself or the current tests in places), the reason is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from server_helpers import AUTH, TOKEN, build_store, essence, isomorphic, reset_writable, serve


@dataclass(frozen=True)
class Expect:
    statuses: tuple[int, ...]  # this server's exact status, per request
    differs: str = ""  # why this server does not give the deprecated manifest's status


GSP: dict[str, Expect] = {
    "put_get_repeat_direct": Expect((201, 200, 204, 200)),
    "put_delete_get_delete_direct": Expect((201, 204, 404, 404)),
    "post_get_post_get_direct": Expect((201, 200, 204, 200)),
    "head_existing_direct": Expect((201, 200)),
    "put_get_repeat_indirect": Expect((201, 200, 204, 200)),
    "put_get_default": Expect((204, 200)),
    "put_delete_get_delete_indirect": Expect((201, 204, 404, 404)),
    "post_get_post_get_indirect": Expect((201, 200, 204, 200)),
    "post_get_new_graph": Expect((201, 200)),
    "head_existing_indirect": Expect((201, 200)),
    "head_non_existing_indirect": Expect((404,)),
    "put_get_uri_pct_encoded_indirect": Expect((201, 200)),
    "put_get_uri_pct_encoded_twice": Expect((201, 201, 200, 200)),
}

DEPRECATED: dict[str, Expect] = {
    "put__initial_state": Expect((201,)),
    "get_of_put__initial_state": Expect((200,)),
    "put__graph_already_in_store": Expect((204,)),
    "get_of_put__graph_already_in_store": Expect((200,)),
    "put__default_graph": Expect((204,), "the default graph always exists, so a PUT replaces it (204, as the current test put_get_default allows)"),
    "get_of_put__default_graph": Expect((200,)),
    "delete__existing_graph": Expect((404,), "person/2.ttl is never created in this manifest; the current test put_delete_get_delete_* creates it first"),
    "get_of_delete__existing_graph": Expect((404,)),
    "delete__nonexistent_graph": Expect((404,)),
    "post__existing_graph": Expect((400,), "its body is not Turtle: the triple lacks its final '.'"),
    "get_of_post__existing_graph": Expect((200,), "the expected body omits the foaf:name just POSTed and keeps 'John Doe' replaced two entries earlier"),
    "post__multipart_formdata": Expect((400,), "its parts are not Turtle: each triple lacks its final '.'"),
    "get_of_post__multipart_formdata": Expect((200,), "the expected body has 'Jane Doe' as foaf:name and as v:fn, which no earlier entry wrote"),
    "post__create__new_graph": Expect((201,)),
    "get_of_post__create__new_graph": Expect((200,)),
    "get_of_post__after_noop": Expect((200,)),
    "head_on_an_existing_graph": Expect((200,)),
    "head_on_a_nonexisting_graph": Expect((404,)),
}


def test_tables_cover_the_manifests(manifest) -> None:
    assert sorted(GSP) == sorted(e.name for e in manifest("gsp_entry"))
    assert sorted(DEPRECATED) == sorted(e.name for e in manifest("rdf_update_entry"))
    assert all(e.approval == "Deprecated" for e in manifest("rdf_update_entry"))


def _substitute(text: str, variables: dict[str, str]) -> str:
    for name, value in variables.items():
        text = text.replace(name, value)
    return text


def _run(client, exchange, status: int, variables: dict[str, str], *, path: str, check_manifest: bool) -> None:
    body = exchange.body
    if body is not None:
        body = _substitute(body.decode("utf-8"), variables).encode("utf-8")
    headers = {**dict(exchange.headers), **AUTH}
    response = client.request(exchange.method, path, headers=headers, content=body)
    assert response.status_code == status, response.text
    if check_manifest:
        assert exchange.allows(status), f"{status} is not what the manifest allows: {exchange.statuses}"
    if exchange.location_var:
        variables[exchange.location_var] = response.headers["location"]
    if exchange.method == "HEAD" and status == 200:
        assert essence(response.headers["content-type"]) == "text/turtle"
        assert response.content == b""
    if status == 200 and exchange.response_body is not None and check_manifest:
        expected_type = dict((k.lower(), v) for k, v in exchange.response_headers).get("content-type", "text/turtle")
        assert essence(response.headers["content-type"]) == essence(expected_type)
        assert "charset=utf-8" in response.headers["content-type"].replace(" ", "").lower()
        expected = _substitute(exchange.response_body, variables).encode("utf-8")
        assert isomorphic(response.content, ox.RdfFormat.TURTLE, expected, ox.RdfFormat.TURTLE), response.text


def test_graph_store(gsp_entry, write_client) -> None:
    expect = GSP[gsp_entry.name]
    assert len(expect.statuses) == len(gsp_entry.exchanges)
    reset_writable(write_client)
    variables: dict[str, str] = {}
    for exchange, status in zip(gsp_entry.exchanges, expect.statuses):
        assert exchange.path.startswith("/gsp")
        path = "/graph" + _substitute(exchange.path, variables)[len("/gsp"):]
        _run(write_client, exchange, status, variables, path=path, check_manifest=True)


@pytest.fixture(scope="module")
def host_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Writes enabled, and the public base is the test host: http://testserver/graph/x is /graph/x."""
    store = build_store(tmp_path_factory.mktemp("deprecated") / "store")
    with serve(store, base_url="http://testserver", base_iri="http://testserver/", allow_update=True,
               update_token=TOKEN, query_workers=1) as client:
        yield client


def test_graph_store_deprecated(rdf_update_entry, manifest, host_client) -> None:
    entries = manifest("rdf_update_entry")
    index = [e.name for e in entries].index(rdf_update_entry.name)
    response = host_client.post("/update", content="DROP ALL", headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert response.status_code == 204
    variables = {"$HOST$": "testserver", "$GRAPHSTORE$": "graph"}
    for entry in entries[: index + 1]:  # this entry after the ones it builds on
        expect = DEPRECATED[entry.name]
        (exchange,) = entry.exchanges
        path = _substitute(exchange.path, variables)
        if not path.startswith(("/", "http")):
            path = "/" + path
        last = entry is rdf_update_entry
        _run(host_client, exchange, expect.statuses[0], variables, path=path, check_manifest=last and not expect.differs)
