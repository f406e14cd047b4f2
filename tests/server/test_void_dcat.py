"""Self-description: VoID statistics at /void and the DCAT catalogue at /catalog
(server/void.py), over the 24 bundled exports.

Every VoID number is checked against a count computed independently with SPARQL through
/sparql; the catalogue against the files themselves (sizes, SHA-256 computed with hashlib)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
import rdflib
from fastapi.testclient import TestClient
from ld_helpers import CK, CSVW, count, essence, export_files, loaded_store, rdflib_graph, select
from server_helpers import AUTH, TOKEN, build_store, serve

from carbonkg import iris

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's JSON-LD parser

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
CKN = rdflib.Namespace(CK)
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
BASE = "https://w3id.org/carbonkg/"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with serve(loaded_store(), load_static_graphs=True, query_workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def void(client: TestClient) -> rdflib.Graph:
    response = client.get("/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200, response.text
    return rdflib_graph(response)


@pytest.fixture(scope="module")
def dcat(client: TestClient) -> rdflib.Graph:
    response = client.get("/catalog", headers={"Accept": "text/turtle"})
    assert response.status_code == 200, response.text
    return rdflib_graph(response)


def value(graph: rdflib.Graph, node, prop) -> int:
    values = list(graph.objects(node, prop))
    assert len(values) == 1, (node, prop, values)
    return int(values[0])


def partitions(graph: rdflib.Graph, node, kind: str) -> dict[str, int]:
    """{class: entities} or {property: triples} of a dataset's partitions."""
    key, number = (VOID["class"], VOID.entities) if kind == "class" else (VOID.property, VOID.triples)
    out = {}
    for part in graph.objects(node, VOID[f"{kind}Partition"]):
        out[str(graph.value(part, key))] = int(graph.value(part, number))
    return out


def live_graphs(client: TestClient) -> list[str]:
    return sorted(r["g"].value for r in select(client, "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }"))


def check_stats(client: TestClient, graph: rdflib.Graph, node, where: str, dataset: str = "") -> None:
    """The VoID numbers of ``node`` equal SPARQL counts over ``where`` (the pattern that yields
    the dataset's distinct triples ``?s ?p ?o``)."""
    triples = f"{{ SELECT DISTINCT ?s ?p ?o {dataset} WHERE {{ {where} }} }}"
    assert value(graph, node, VOID.triples) == count(client, f"SELECT (COUNT(*) AS ?n) WHERE {triples}")
    assert value(graph, node, VOID.entities) == count(
        client, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {triples} FILTER isIRI(?s) }}")
    assert value(graph, node, VOID.properties) == count(client, f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {triples}")
    classes = {
        r["c"].value: int(r["n"].value)
        for r in select(client, f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {triples} FILTER (?p = <{rdflib.RDF.type}>) "
                                f"BIND (?o AS ?c) }} GROUP BY ?c")
    }
    assert value(graph, node, VOID.classes) == len(classes)
    assert partitions(graph, node, "class") == classes
    props = {
        r["p"].value: int(r["n"].value)
        for r in select(client, f"SELECT ?p (COUNT(*) AS ?n) WHERE {triples} GROUP BY ?p")
    }
    assert partitions(graph, node, "property") == props


def test_every_live_graph_is_described(client: TestClient, void: rdflib.Graph) -> None:
    graphs = live_graphs(client)
    assert len(graphs) > 24
    described = {str(s) for s in void.subjects(rdflib.RDF.type, SD.Graph)}
    assert described == set(graphs)
    for g in graphs:
        node = rdflib.URIRef(g)
        assert (node, rdflib.RDF.type, VOID.Dataset) in void
        assert value(void, node, VOID.triples) == count(client, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}")
        dump = str(void.value(node, VOID.dataDump))
        assert dump.startswith(BASE + "graph")


@pytest.mark.parametrize("which", ["verra/export/transactions.csv", "cercarbono/export/projects.csv", "graph/ontology"])
def test_graph_statistics_equal_sparql_counts(client: TestClient, void: rdflib.Graph, which: str) -> None:
    if which.startswith("graph/"):
        g = BASE + which
    else:
        export = iris.ID_BASE + which
        (row,) = select(client, f"SELECT ?g WHERE {{ GRAPH ?g {{ <{export}> a <{CK}RegistryExport> }} }}")
        g = row["g"].value
        assert str(void.value(rdflib.URIRef(g), DCT.source)) == export
    check_stats(client, void, rdflib.URIRef(g), f"GRAPH <{g}> {{ ?s ?p ?o }}")


def registry_graphs(client: TestClient, registry: str) -> set[str]:
    rows = select(client, f"SELECT ?g WHERE {{ GRAPH ?g {{ ?e a <{CK}RegistryExport> }} "
                          f'FILTER STRSTARTS(STR(?e), "{iris.ID_BASE}{registry}/") }}')
    return {r["g"].value for r in rows}


@pytest.mark.parametrize("registry", ["verra", "american-carbon-registry", "arb"])
def test_registry_statistics_equal_sparql_counts(client: TestClient, void: rdflib.Graph, registry: str) -> None:
    node = rdflib.URIRef(iris.entity(registry, "dataset", registry))  # the loaders' dcat:Dataset
    top = rdflib.URIRef(BASE + "void#carbonkg")
    assert (top, VOID.subset, node) in void
    graphs = registry_graphs(client, registry)
    assert {str(g) for g in void.objects(node, VOID.subset)} == graphs
    assert str(void.value(node, DCT.publisher)) == iris.registry(registry)
    values = " ".join(f"<{g}>" for g in graphs)
    check_stats(client, void, node, f"GRAPH ?g {{ ?s ?p ?o }} VALUES ?g {{ {values} }}")
    if len(graphs) > 1:  # the merge counts a triple stated in several exports once
        total = sum(value(void, rdflib.URIRef(g), VOID.triples) for g in graphs)
        assert value(void, node, VOID.triples) < total


def test_every_registry_has_a_dataset(void: rdflib.Graph) -> None:
    top = rdflib.URIRef(BASE + "void#carbonkg")
    registries = {f.parent.name for f in export_files()}
    subsets = {str(s) for s in void.objects(top, VOID.subset)}
    assert {iris.entity(r, "dataset", r) for r in registries} <= subsets
    assert BASE + "void#static" in subsets


def test_the_whole_store(client: TestClient, void: rdflib.Graph) -> None:
    top = rdflib.URIRef(BASE + "void#carbonkg")
    check_stats(client, void, top, "?s ?p ?o")
    assert str(void.value(top, VOID.sparqlEndpoint)) == BASE + "sparql"
    assert str(void.value(top, VOID.uriSpace)) == iris.ID_BASE
    assert rdflib.URIRef(CK) in set(void.objects(top, VOID.vocabulary))
    assert (rdflib.URIRef(BASE + "void"), rdflib.RDF.type, VOID.DatasetDescription) in void


def test_void_formats(client: TestClient) -> None:
    for accept, media in (("application/ld+json", "application/ld+json"), ("application/n-triples", "application/n-triples"),
                          ("", "text/turtle"), ("*/*", "text/turtle")):
        response = client.get("/void", headers={"Accept": accept})
        assert essence(response.headers["content-type"]) == media
        assert len(rdflib_graph(response)) > 1000
    page = client.get("/void", headers={"Accept": "text/html"})
    assert essence(page.headers["content-type"]) == "text/html"
    assert "transactions.csv" in page.text and 'href="/id/verra/export/transactions.csv"' in page.text
    assert client.get("/void", headers={"Accept": "image/png"}).status_code == 406


def test_the_service_description_links_to_void(client: TestClient) -> None:
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    graph = rdflib_graph(response)
    assert rdflib.URIRef(BASE + "void") in set(graph.objects(None, rdflib.RDFS.seeAlso))


def test_void_follows_the_store(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The statistics are cached until the store changes, then recomputed."""
    first = b"<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n"
    store = build_store(tmp_path_factory.mktemp("void-writes") / "store")
    with serve(store, allow_update=True, update_token=TOKEN, base_iri="http://testserver/") as client:
        put = client.put("/graph", params={"graph": "http://example.org/g1"}, content=first,
                         headers={**AUTH, "Content-Type": "application/n-triples"})
        assert put.status_code == 201
        graph = rdflib_graph(client.get("/void", headers={"Accept": "text/turtle"}))
        user = rdflib.URIRef("http://testserver/void#user")
        assert value(graph, user, VOID.triples) == 1
        assert value(graph, rdflib.URIRef("http://example.org/g1"), VOID.entities) == 1
        second = b"<http://example.org/c> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://example.org/C> .\n<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n"
        put = client.put("/graph", params={"graph": "http://example.org/g2"}, content=second,
                         headers={**AUTH, "Content-Type": "application/n-triples"})
        assert put.status_code == 201
        graph = rdflib_graph(client.get("/void", headers={"Accept": "text/turtle"}))
        assert value(graph, user, VOID.triples) == 2  # the triple in both graphs counts once
        assert value(graph, user, VOID.classes) == 1
        assert partitions(graph, user, "class") == {"http://example.org/C": 1}
        assert str(graph.value(rdflib.URIRef("http://example.org/g2"), VOID.dataDump)) == (
            "http://testserver/graph?graph=http%3A%2F%2Fexample.org%2Fg2")


# -- DCAT -------------------------------------------------------------------------------------


def test_the_catalogue_lists_every_loaded_file(dcat: rdflib.Graph) -> None:
    files = export_files()
    assert len(files) == 24
    catalog = rdflib.URIRef(BASE + "catalog")
    assert (catalog, rdflib.RDF.type, DCAT.Catalog) in dcat
    distributions = {}
    for dataset in dcat.objects(catalog, DCAT.dataset):
        assert (dataset, rdflib.RDF.type, DCAT.Dataset) in dcat
        for dist in dcat.objects(dataset, DCAT.distribution):
            distributions[str(dist)] = dist
    assert len(distributions) == 24
    for path in files:
        export = iris.export(path.parent.name, path.name)
        dist = distributions[export]
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        assert (dist, rdflib.RDF.type, DCAT.Distribution) in dcat
        assert str(dcat.value(dist, CKN.fileName)) == path.name
        assert int(dcat.value(dist, DCAT.byteSize)) == len(data) == path.stat().st_size
        assert str(dcat.value(dist, CKN.sha256)) == sha
        checksum = dcat.value(dist, SPDX.checksum)
        assert dcat.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(dcat.value(checksum, SPDX.checksumValue)) == sha
        assert str(dcat.value(dist, DCAT.mediaType)) == "http://www.iana.org/assignments/media-types/text/csv"
        run = dcat.value(dist, PROV.wasGeneratedBy)
        assert (run, rdflib.RDF.type, CKN.LoadRun) in dcat
        assert dcat.value(run, PROV.startedAtTime) is not None
        assert dcat.value(dist, DCT.issued) == dcat.value(run, PROV.startedAtTime)


def test_catalogue_row_counts(client: TestClient, dcat: rdflib.Graph) -> None:
    rows = {
        r["e"].value: int(r["n"].value)
        for r in select(client, f"SELECT ?e (COUNT(DISTINCT ?r) AS ?n) WHERE {{ ?e a <{CK}RegistryExport> ; <{CSVW}row> ?r }} GROUP BY ?e")
    }
    assert len(rows) == 24
    for export, n in rows.items():
        assert int(dcat.value(rdflib.URIRef(export), CKN.rowCount)) == n


def test_the_endpoint_is_a_data_service(dcat: rdflib.Graph) -> None:
    service = rdflib.URIRef(BASE + "sparql#service")
    assert (service, rdflib.RDF.type, DCAT.DataService) in dcat
    assert str(dcat.value(service, DCAT.endpointURL)) == BASE + "sparql"
    datasets = set(dcat.objects(rdflib.URIRef(BASE + "catalog"), DCAT.dataset))
    assert set(dcat.objects(service, DCAT.servesDataset)) == datasets
    registries = {f.parent.name for f in export_files()}
    assert {str(d) for d in datasets} == {iris.entity(r, "dataset", r) for r in registries}
    for dataset in datasets:
        assert str(dcat.value(dataset, DCT.publisher)).startswith(iris.VOCAB_BASE + "registry/")
        assert dcat.value(dataset, DCT.title) is not None


def test_catalogue_formats(client: TestClient) -> None:
    for accept in ("application/ld+json", "application/n-triples", "application/rdf+xml"):
        response = client.get("/catalog", headers={"Accept": accept})
        assert response.status_code == 200 and essence(response.headers["content-type"]) == accept
    page = client.get("/catalog", headers={"Accept": "text/html"})
    assert page.status_code == 200
    for path in export_files():
        assert path.name in page.text
        assert hashlib.sha256(path.read_bytes()).hexdigest()[:16] in page.text
    head = client.head("/catalog", headers={"Accept": "text/turtle"})
    assert head.status_code == 200 and head.content == b""
