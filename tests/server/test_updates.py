"""SPARQL Update and Graph Store writes: off by default, behind the token when on, and never on the
loaders' graphs (catalog, export versions, ontology and vocabularies)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from server_helpers import AUTH, TOKEN, essence, serve

from carbonkg import iris
from carbonkg.store.embedded import CATALOG_GRAPH, STATIC_GRAPH_BASE, EmbeddedStore

UPDATE = {**AUTH, "Content-Type": "application/sparql-update"}
EXPORT = iris.export("verra", "projects.csv")
STATIC = STATIC_GRAPH_BASE + "vocab/test"
MINE = "http://example.org/annotations"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store as the loaders leave it: one export version and one static graph."""
    folder = tmp_path_factory.mktemp("loaded")
    vocab = folder / "test.ttl"
    vocab.write_text("<http://example.org/concept> <http://www.w3.org/2004/02/skos/core#prefLabel> 'concept' .\n")
    store = EmbeddedStore(folder / "store")
    store.replace_export(EXPORT, "ab" * 32, b"<https://w3id.org/carbonkg/id/verra/project/1> <http://www.w3.org/2000/01/rdf-schema#label> \"P1\" .\n")
    store.put_static_graph("vocab/test", [vocab])
    store.flush()
    del store
    gc.collect()
    return folder / "store"


@pytest.fixture(scope="module")
def client(loaded: Path) -> Iterator[TestClient]:
    with serve(loaded, allow_update=True, update_token=TOKEN, query_workers=1) as client:
        yield client


def export_graph(client: TestClient) -> str:
    r = client.get("/sparql", params={"query": f"SELECT ?g {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), '{EXPORT}')) }}"})
    (row,) = r.json()["results"]["bindings"]
    return row["g"]["value"]


def ask(client: TestClient, query: str) -> bool:
    r = client.get("/sparql", params={"query": query})
    assert r.status_code == 200, r.text
    return r.json()["boolean"]


def test_updates_are_off_by_default(read_client) -> None:
    for r in (
        read_client.post("/update", content="CLEAR ALL", headers=UPDATE),
        read_client.put("/graph", params={"graph": MINE}, content=b"", headers={**AUTH, "Content-Type": "text/turtle"}),
        read_client.post("/graph", content=b"", headers={**AUTH, "Content-Type": "text/turtle"}),
        read_client.delete("/graph", params={"graph": MINE}, headers=AUTH),
    ):
        assert r.status_code == 403
        assert r.json()["title"] == "Updates disabled"


def test_token_is_required(client) -> None:
    assert client.post("/update", content="CLEAR DEFAULT", headers={"Content-Type": "application/sparql-update"}).status_code == 401
    assert client.put("/graph?default", content=b"", headers={"Content-Type": "text/turtle"}).status_code == 401


def test_an_update_is_visible_to_the_next_query(client) -> None:
    text = f"INSERT DATA {{ GRAPH <{MINE}> {{ <http://example.org/x> <http://example.org/note> 'checked' }} }}"
    assert client.post("/update", content=text, headers=UPDATE).status_code == 204
    assert ask(client, "ASK { <http://example.org/x> <http://example.org/note> 'checked' }")  # default graph = union
    assert ask(client, f"ASK {{ GRAPH <{MINE}> {{ ?s ?p 'checked' }} }}")
    r = client.get("/graph", params={"graph": MINE}, headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    assert r.text == '<http://example.org/x> <http://example.org/note> "checked" .\n'
    # the new graph is a live graph now: listed in the service description
    assert MINE in client.get("/sparql", headers={"Accept": "application/n-triples"}).text
    assert client.post("/update", content=f"DROP GRAPH <{MINE}>", headers=UPDATE).status_code == 204
    assert client.get("/graph", params={"graph": MINE}).status_code == 404
    assert MINE not in client.get("/sparql", headers={"Accept": "application/n-triples"}).text


@pytest.mark.parametrize(
    "template",
    [
        "INSERT DATA {{ GRAPH <{g}> {{ <http://e/s> <http://e/p> 1 }} }}",
        "DELETE DATA {{ GRAPH <{g}> {{ <http://e/s> <http://e/p> 1 }} }}",
        "DELETE WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}",
        "WITH <{g}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
        "CLEAR GRAPH <{g}>",
        "DROP SILENT GRAPH <{g}>",
        "MOVE <{g}> TO <http://example.org/moved>",
        "COPY DEFAULT TO <{g}>",
        "INSERT {{ GRAPH <{g}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}",
    ],
)
def test_loader_graphs_are_protected(client, template: str) -> None:
    for graph in (export_graph(client), STATIC, CATALOG_GRAPH.value):
        r = client.post("/update", content=template.format(g=graph), headers=UPDATE)
        assert r.status_code == 403, r.text
        assert r.json()["detail"] == (
            f"<{graph}> is maintained by the loaders (registry exports, ontology, vocabularies or the catalog) "
            "and cannot be changed through SPARQL Update"
        )


def test_graph_store_writes_to_loader_graphs_are_refused(client) -> None:
    for graph in (export_graph(client), STATIC):
        for method in ("PUT", "POST", "DELETE"):
            r = client.request(method, "/graph", params={"graph": graph}, content=b"", headers={**AUTH, "Content-Type": "text/turtle"})
            assert r.status_code == 403, r.text
            assert r.json()["title"] == "Graph not allowed"
    r = client.put("/graph/vocab/test", content=b"", headers={**AUTH, "Content-Type": "text/turtle"})  # direct: same graph
    assert r.status_code == 403


def test_graph_variables_in_templates_are_refused(client) -> None:
    r = client.post("/update", content="DELETE WHERE { GRAPH ?g { ?s ?p ?o } }", headers=UPDATE)
    assert r.status_code == 403
    assert r.json()["detail"] == (
        "GRAPH with a variable in an DELETE template (line 1, column 16) could write to any graph; "
        "name the graphs an update writes"
    )


def test_clear_and_drop_all_spare_the_loaded_data(client) -> None:
    client.post("/update", content=f"INSERT DATA {{ GRAPH <{MINE}> {{ <http://e/a> <http://e/b> 1 }} <http://e/d> <http://e/d> 2 }}", headers=UPDATE)
    for text in ("CLEAR ALL", "CLEAR NAMED", "DROP NAMED", "DROP ALL"):
        assert client.post("/update", content=text, headers=UPDATE).status_code == 204
        assert ask(client, 'ASK { <https://w3id.org/carbonkg/id/verra/project/1> ?p "P1" }')
        assert ask(client, "ASK { <http://example.org/concept> ?p 'concept' }")
    assert not ask(client, "ASK { <http://e/a> ?p ?o }")
    assert not ask(client, "ASK { <http://e/d> ?p ?o }")


def test_reading_loader_graphs_into_a_user_graph_is_allowed(client) -> None:
    r = client.post("/update", content=f"COPY <{STATIC}> TO <{MINE}>", headers=UPDATE)
    assert r.status_code == 204, r.text
    assert ask(client, f"ASK {{ GRAPH <{MINE}> {{ <http://example.org/concept> ?p 'concept' }} }}")
    client.post("/update", content=f"DROP GRAPH <{MINE}>", headers=UPDATE)


def test_rdf_xml_uploads_without_entities(client) -> None:
    plain = (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="http://e/x"><rdf:value>plain</rdf:value></rdf:Description></rdf:RDF>'
    )
    headers = {**AUTH, "Content-Type": "application/rdf+xml"}
    assert client.put("/graph", params={"graph": MINE}, content=plain, headers=headers).status_code == 201
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE rdf:RDF [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="http://e/x"><rdf:value>&b;</rdf:value></rdf:Description></rdf:RDF>'
    )
    r = client.put("/graph", params={"graph": MINE}, content=laughs, headers=headers)
    assert r.status_code == 400
    assert r.json()["detail"] == (
        "RDF/XML with a document type declaration (DTD), entities or external references is refused (DTDForbidden)"
    )
    external = plain.replace(b"<rdf:RDF", b'<!DOCTYPE rdf:RDF SYSTEM "file:///etc/passwd"><rdf:RDF', 1)
    assert client.put("/graph", params={"graph": MINE}, content=external, headers=headers).status_code == 400
    r = client.get("/graph", params={"graph": MINE}, headers={"Accept": "application/n-triples"})
    assert r.text == '<http://e/x> <http://www.w3.org/1999/02/22-rdf-syntax-ns#value> "plain" .\n'  # unchanged
    client.delete("/graph", params={"graph": MINE}, headers=AUTH)


def test_malformed_upload_has_its_position(client) -> None:
    r = client.put("/graph", params={"graph": MINE}, content=b"<http://e/a> <http://e/b>\n  .", headers={**AUTH, "Content-Type": "text/turtle"})
    assert r.status_code == 400
    body = r.json()
    assert body["title"] == "Malformed RDF"
    assert (body["line"], body["column"]) == (2, 3)
    assert essence(r.headers["content-type"]) == "application/problem+json"


def test_graph_store_post_creates_a_graph(client) -> None:
    r = client.post("/graph", content=b"<http://e/new> <http://e/p> 1 .", headers={**AUTH, "Content-Type": "text/turtle"})
    assert r.status_code == 201
    location = r.headers["location"]
    assert location.startswith("https://w3id.org/carbonkg/graph/")
    assert client.get("/graph", params={"graph": location}).status_code == 200
    # the same graph, named directly by its path on this server
    assert client.get(location.replace("https://w3id.org/carbonkg", "")).status_code == 200
    assert client.delete("/graph", params={"graph": location}, headers=AUTH).status_code == 204
    assert ox.NamedNode(location)


def test_json_ld_remote_contexts_are_not_fetched(client) -> None:
    body = b'{"@context": "http://127.0.0.1:9/context.jsonld", "@id": "http://e/x", "name": "x"}'
    r = client.put("/graph", params={"graph": MINE}, content=body, headers={**AUTH, "Content-Type": "application/ld+json"})
    assert r.status_code == 400
    assert r.json()["detail"] == (
        "the application/ld+json body does not parse: No LoadDocumentCallback has been set to load remote contexts"
    )


def test_user_graphs_survive_the_stores_garbage_collection(tmp_path: Path) -> None:
    """Opening the store for writing removes unregistered graphs (left by interrupted loads);
    graphs written through the service are registered, so they stay."""
    from server_helpers import add_user_graph

    store = EmbeddedStore(tmp_path / "store")
    add_user_graph(store, MINE, b"<http://e/a> <http://e/b> <http://e/c> .\n")
    store.raw.add(ox.Quad(ox.NamedNode("http://e/a"), ox.NamedNode("http://e/b"), ox.NamedNode("http://e/c"),
                          ox.NamedNode("http://example.org/orphan")))
    store.flush()
    del store
    gc.collect()
    store = EmbeddedStore(tmp_path / "store")  # garbage collection runs here
    assert {g.value for g in store.raw.named_graphs()} >= {MINE}
    assert "http://example.org/orphan" not in {g.value for g in store.raw.named_graphs()}
    assert ox.NamedNode(MINE) in store.live_graphs()
    del store
    gc.collect()


@pytest.mark.parametrize(
    "update",
    [
        "PREFIX v: <https://w3id.org/carbonkg/graph/vocab/> INSERT DATA { GRAPHv:test { <http://e/a> <http://e/b> 1 } }",
        "PREFIX : <https://w3id.org/carbonkg/graph/vocab/> INSERT DATA { GRAPH:test { <http://e/a> <http://e/b> 1 } }",
        "PREFIX : <https://w3id.org/carbonkg/graph/vocab/> INSERT { GRAPH:test { ?s ?p ?o } } WHERE { ?s ?p ?o }",
        "PREFIX : <https://w3id.org/carbonkg/graph/vocab/> CLEAR GRAPH:test",
        "INSERTDATA { <http://e/a> <http://e/b> 1 }",
    ],
)
def test_glued_keywords_cannot_hide_a_write(client, update: str) -> None:
    """oxigraph reads GRAPH:test as GRAPH :test (no word boundary after keywords); the checker
    cannot read it, so it refuses rather than guess."""
    if "GRAPH" in update and "CLEAR" not in update:
        store = ox.Store()
        store.update(update.replace("WHERE { ?s ?p ?o }", "WHERE { BIND(<http://e/a> AS ?s) BIND(<http://e/b> AS ?p) BIND(1 AS ?o) }"))
        assert [g.value for g in store.named_graphs()] == [STATIC]  # what oxigraph would have written
    r = client.post("/update", content=update, headers=UPDATE)
    assert r.status_code == 400, r.text
    assert r.json()["title"] == "Malformed update"
    assert r.json()["detail"].startswith("the update could not be checked at line 1")
    assert ask(client, "ASK { <http://example.org/concept> ?p 'concept' }")
