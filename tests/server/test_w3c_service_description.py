"""The W3C SPARQL 1.1 Service Description tests (tests/data/w3c/service-description/manifest.ttl).

The manifest names the three cases and nothing else; what each checks is the recommendation's
(SPARQL 1.1 Service Description, §§3–4), written here in :data:`CHECKS`, one function per entry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from server_helpers import essence

SD = "http://www.w3.org/ns/sparql-service-description#"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib, through pyshacl
RDF_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
SHAPES = Path(__file__).with_name("sd-shapes.ttl")


def description(client, accept: str = "text/turtle", **kwargs) -> ox.Dataset:
    response = client.get("/sparql", headers={"Accept": accept}, **kwargs)
    assert response.status_code == 200, response.text
    kind = essence(response.headers["content-type"])
    return ox.Dataset(ox.parse(response.content, RDF_FORMATS[kind]))


def returns_rdf(client, _write_client) -> None:
    """GET on the endpoint without a query answers RDF, in every RDF format by negotiation."""
    for media_type, fmt in RDF_FORMATS.items():
        response = client.get("/sparql", headers={"Accept": media_type})
        assert response.status_code == 200
        assert essence(response.headers["content-type"]) == media_type
        assert len(list(ox.parse(response.content, fmt))) > 10
    # without Accept (a browser, curl): Turtle
    response = client.get("/sparql", headers={"Accept": ""})
    assert essence(response.headers["content-type"]) == "text/turtle"


def has_endpoint_triple(client, _write_client) -> None:
    """The description has an sd:endpoint that is the URL the request was sent to, whatever the host."""
    for base in ("http://testserver", "https://carbonkg.example.org"):
        response = client.get(f"{base}/sparql", headers={"Accept": "application/n-triples"})
        dataset = ox.Dataset(ox.parse(response.content, ox.RdfFormat.N_TRIPLES))
        endpoints = {q.object.value for q in dataset.quads_for_predicate(ox.NamedNode(SD + "endpoint"))}
        assert f"{base}/sparql" in endpoints
        assert "https://w3id.org/carbonkg/sparql" in endpoints  # and the published one


def conforms_to_schema(client, write_client) -> None:
    """The description conforms to the SD vocabulary (domains, ranges, terms: sd-shapes.ttl)."""
    import rdflib
    from pyshacl import validate

    for service in (client, write_client):  # read-only and update-enabled services
        response = service.get("/sparql", headers={"Accept": "text/turtle"})
        data = rdflib.Graph().parse(data=response.text, format="turtle")
        conforms, _, report = validate(data, shacl_graph=str(SHAPES), advanced=True)
        assert conforms, report


CHECKS: dict[str, Callable] = {
    "returns-rdf": returns_rdf,
    "has-endpoint-triple": has_endpoint_triple,
    "conforms-to-schema": conforms_to_schema,
}


def test_checks_cover_the_manifest(manifest) -> None:
    assert sorted(CHECKS) == sorted(e.name for e in manifest("sd_entry"))


def test_service_description(sd_entry, read_client, write_client) -> None:
    CHECKS[sd_entry.name](read_client, write_client)


def test_update_service_is_described_only_when_enabled(read_client, write_client) -> None:
    def languages(client) -> set[str]:
        dataset = description(client)
        return {q.object.value for q in dataset.quads_for_predicate(ox.NamedNode(SD + "supportedLanguage"))}

    assert SD + "SPARQL11Update" not in languages(read_client)
    assert SD + "SPARQL11Update" in languages(write_client)
    dataset = description(write_client)
    endpoints = {q.object.value for q in dataset.quads_for_predicate(ox.NamedNode(SD + "endpoint"))}
    assert "http://testserver/update" in endpoints


def test_named_graphs_are_the_live_graphs(read_client) -> None:
    dataset = description(read_client)
    names = {q.object.value for q in dataset.quads_for_predicate(ox.NamedNode(SD + "name"))}
    assert names == {f"http://kasei.us/2009/09/sparql/data/data{n}.rdf" for n in (1, 2, 3)}


def test_the_shapes_catch_a_wrong_description() -> None:
    """sd-shapes.ttl itself: a description with a literal endpoint, an unknown language and an
    invented sd: term does not conform."""
    import rdflib
    from pyshacl import validate

    wrong = """
        @prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
        [] a sd:Service ; sd:endpoint "http://example.org/sparql" ; sd:supportedLanguage sd:SPARQL12Query ;
           sd:resultsFormat <http://www.w3.org/ns/formats/Turtle> .
    """
    conforms, report_graph, _ = validate(rdflib.Graph().parse(data=wrong, format="turtle"),
                                         shacl_graph=str(SHAPES), advanced=True)
    assert not conforms
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert len(list(report_graph.subjects(rdflib.RDF.type, sh.ValidationResult))) == 3
