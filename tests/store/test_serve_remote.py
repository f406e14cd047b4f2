"""`carbonkg serve` on a remote engine: the same service over Oxigraph server, reached only through
the SPARQL protocols, answering as the embedded store does on the same real exports."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from pydantic import ValidationError

from carbonkg.iris import BASE
from carbonkg.loaders.pipeline import load_file
from carbonkg.server.static_graphs import sync_static_graphs
from carbonkg.store import EmbeddedStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from server_helpers import serve  # noqa: E402

EXPORTS = Path(__file__).resolve().parents[2] / "data" / "registry-exports"
FILES = [EXPORTS / "verra" / "projects.csv", EXPORTS / "art-trees" / "projects.csv", EXPORTS / "american-carbon-registry" / "issuances.csv"]
JSON = {"Accept": "application/sparql-results+json"}
COUNTS = """PREFIX ck: <https://w3id.org/carbonkg/ontology#>
SELECT ?type (COUNT(?s) AS ?n) WHERE { ?s a ?type FILTER(STRSTARTS(STR(?type), STR(ck:))) } GROUP BY ?type"""


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def engine_url(request, start_engine, tmp_path_factory) -> Iterator[str]:
    """An engine loaded with three real exports and the static graphs, through the same
    pipeline as the embedded store: an Oxigraph server of this module's own, and the session's
    Virtuoso (cleared first), served with its credentials."""
    if request.param == "oxigraph":
        engine = start_engine("oxigraph", tmp_path_factory.mktemp("serve-remote"))
        url = "oxigraph+" + engine.base_url
    else:
        engine = request.getfixturevalue("virtuoso_server")
        user, password = engine.options["user"], engine.options["password"]
        url = engine.base_url.replace("http://", f"virtuoso+http://{user}:{password}@")
    store = engine.store()
    store.clear()
    for path in FILES:
        assert load_file(store, path).status == "loaded"
    sync_static_graphs(store)
    yield url
    store.clear()
    store.close()
    if request.param == "oxigraph":
        engine.stop()


@pytest.fixture(scope="module")
def embedded_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("serve-embedded") / "store"
    store = EmbeddedStore(path)
    for file in FILES:
        assert load_file(store, file).status == "loaded"
    sync_static_graphs(store)
    store.close()
    return path


def _visible_text(html: str) -> str:
    body = html[html.find("<body"):]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def _rows(client, query: str) -> set[tuple]:
    r = client.get("/sparql", params={"query": query}, headers=JSON)
    assert r.status_code == 200, r.text
    body = r.json()
    return {tuple(b.get(v, {}).get("value") for v in body["head"]["vars"]) for b in body["results"]["bindings"]}


def test_same_answers_as_the_embedded_store(engine_url, embedded_path) -> None:
    with serve(embedded_path) as local, serve(embedded_path, store_url=engine_url) as remote:
        expected = _rows(local, COUNTS)
        assert len(expected) > 5
        assert _rows(remote, COUNTS) == expected
        health = remote.get("/health").json()
        assert health["status"] == "ok" and health["workers"]["mode"] == "remote"
        assert health["store"]["graphs"] == local.get("/health").json()["store"]["graphs"]


def test_linked_data_and_self_description(engine_url, embedded_path) -> None:
    with serve(embedded_path) as local, serve(embedded_path, store_url=engine_url) as remote:
        listing = sorted(_rows(local, "PREFIX ck: <https://w3id.org/carbonkg/ontology#> "
                                      "SELECT ?p WHERE { ?p a ck:ProjectListing } ORDER BY ?p LIMIT 1"))[0][0]
        path = "/" + listing.removeprefix(BASE)  # the default base IRI maps to this server's root
        for accept, fmt in (("text/turtle", ox.RdfFormat.TURTLE), ("application/n-triples", ox.RdfFormat.N_TRIPLES)):
            a = local.get(path, headers={"Accept": accept})
            b = remote.get(path, headers={"Accept": accept})
            assert a.status_code == b.status_code == 200
            triples = [set(map(str, ox.parse(r.content, fmt))) for r in (a, b)]
            assert triples[0] == triples[1], (sorted(triples[0] - triples[1]), sorted(triples[1] - triples[0]))
        # the page for people: the same text (properties, source file and row, links) from both
        pages = [client.get(path, headers={"Accept": "text/html"}) for client in (local, remote)]
        assert [p.status_code for p in pages] == [200, 200]
        texts = [_visible_text(p.text) for p in pages]
        assert "Source rows" in texts[0] and texts[0] == texts[1]
        void = remote.get("/void", headers={"Accept": "text/turtle"})
        assert void.status_code == 200 and "void:triples" in void.text


def test_errors_keep_their_meaning(engine_url, embedded_path) -> None:
    with serve(embedded_path, store_url=engine_url) as remote:
        bad = remote.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"}, headers=JSON)
        assert bad.status_code == 400 and "syntax" in bad.json()["detail"]
        refused = remote.get("/sparql", params={"query": "SELECT * { SERVICE <http://example.org/s> { ?s ?p ?o } }"})
        assert refused.status_code == 403
        write = remote.post("/update", content="INSERT DATA { <a:b> <a:c> <a:d> }",
                            headers={"Content-Type": "application/sparql-update"})
        assert write.status_code in (401, 403)


def test_updates_are_not_offered_on_a_remote_engine(engine_url) -> None:
    from carbonkg.server.settings import Settings

    with pytest.raises(ValidationError, match="allow_update is for the embedded store"):
        Settings(store_url=engine_url, allow_update=True, update_token="x")
    with pytest.raises(ValidationError, match="must be a URL"):
        Settings(store_url="var/store")


def test_cli_query_on_the_remote_engine(engine_url, capsys) -> None:
    from carbonkg.cli import main

    assert main(["query", "--store", engine_url, "--format", "json", "-e", COUNTS]) == 0
    body = json.loads(capsys.readouterr().out)
    assert len(body["results"]["bindings"]) > 5
