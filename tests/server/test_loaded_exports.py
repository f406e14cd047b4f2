"""The service over what the loaders write: a real bundled export (ART TREES projects), loaded by
the pipeline, is queryable by its public IRIs, readable through the Graph Store by its version
graph, and protected from updates."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from server_helpers import AUTH, TOKEN, serve

from carbonkg import iris
from carbonkg.loaders.pipeline import load_paths
from carbonkg.store.embedded import EmbeddedStore

EXPORT = Path(__file__).resolve().parents[2] / "data" / "registry-exports" / "art-trees" / "projects.csv"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("loaded") / "store"
    store = EmbeddedStore(path)
    results = list(load_paths(store, [EXPORT]))
    assert [r.status for r in results] == ["loaded"], [str(e) for r in results for e in r.errors]
    store.flush()
    del store
    gc.collect()
    with serve(path, allow_update=True, update_token=TOKEN) as client:
        yield client


def test_listings_are_queryable(client) -> None:
    query = (
        "SELECT (COUNT(DISTINCT ?p) AS ?n) { ?p a <https://w3id.org/carbonkg/ontology#ProjectListing> . "
        f"FILTER(STRSTARTS(STR(?p), '{iris.ID_BASE}art-trees/project/')) }}"
    )
    r = client.get("/sparql", params={"query": query})
    assert r.status_code == 200
    assert int(r.json()["results"]["bindings"][0]["n"]["value"]) > 0


def test_the_export_graph_is_readable_and_protected(client) -> None:
    export = iris.export("art-trees", "projects.csv")
    query = f"SELECT ?g {{ GRAPH ?g {{ <{export}> ?p ?o }} }} LIMIT 1"
    graph = client.get("/sparql", params={"query": query}).json()["results"]["bindings"][0]["g"]["value"]
    assert graph.startswith(export + "/graph/")
    r = client.get("/graph", params={"graph": graph}, headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    assert len(list(ox.parse(r.content, ox.RdfFormat.N_TRIPLES))) == int(r.headers["carbonkg-result-count"]) > 0
    r = client.post("/update", content=f"CLEAR GRAPH <{graph}>", headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert r.status_code == 403
    r = client.delete("/graph", params={"graph": graph}, headers=AUTH)
    assert r.status_code == 403
