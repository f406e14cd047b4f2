"""SPARQL 1.1 Service Description, answered by ``GET /sparql`` without a query.

It names the endpoint as the client reached it (``sd:endpoint``, the request URL without its
query string) and, when different, as published under the public base; the languages (SPARQL 1.1
Query; Update on a second service at ``/update`` when enabled); result formats; features; the
default dataset (the union of the live graphs) with every live graph as a named graph; and the
limits (time, result count, request size) as a comment.
"""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import Response

from carbonkg import __version__
from carbonkg.server import conneg, inputs
from carbonkg.server.execute import RDF_FORMATS
from carbonkg.server.settings import Settings

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_COMMENT = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
DCT_TITLE = ox.NamedNode("http://purl.org/dc/terms/title")
SIMPLE_ENTAILMENT = ox.NamedNode("http://www.w3.org/ns/entailment/Simple")

#: format IRIs (https://www.w3.org/ns/formats/) of the answers the endpoint can give
RESULT_FORMAT_IRIS = {
    "json": "SPARQL_Results_JSON",
    "xml": "SPARQL_Results_XML",
    "csv": "SPARQL_Results_CSV",
    "tsv": "SPARQL_Results_TSV",
    "turtle": "Turtle",
    "ntriples": "N-Triples",
    "jsonld": "JSON-LD",
    "rdfxml": "RDF_XML",
}
INPUT_FORMAT_IRIS = ("Turtle", "N-Triples", "JSON-LD", "RDF_XML")
PREFIXES = {"sd": SD, "formats": FORMATS, "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "dcterms": "http://purl.org/dc/terms/"}


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def describe(settings: Settings, endpoint: str, update_endpoint: str, named_graphs: list[str]) -> list[ox.Triple]:
    """The service description as triples."""
    service = ox.NamedNode(settings.sparql_endpoint + "#service")
    triples = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, DCT_TITLE, ox.Literal(f"carbonkg SPARQL service {__version__}")),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL10Query")),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        ox.Triple(service, _sd("defaultEntailmentRegime"), SIMPLE_ENTAILMENT),
    ]
    if endpoint != settings.sparql_endpoint:
        triples.append(ox.Triple(service, _sd("endpoint"), ox.NamedNode(settings.sparql_endpoint)))
    for name in RESULT_FORMAT_IRIS.values():
        triples.append(ox.Triple(service, _sd("resultFormat"), ox.NamedNode(FORMATS + name)))
    if settings.allow_service:
        triples.append(ox.Triple(service, _sd("feature"), _sd("BasicFederatedQuery")))
    limits = (
        f"Limits: a query runs at most {settings.query_timeout_s:g} s (then 503); an answer carries at most "
        f"{settings.max_results} solutions or triples (a longer one is cut and marked: header "
        f"Carbonkg-Result-Truncated, and a note in the body where the format allows); a request body is at "
        f"most {settings.max_request_bytes} bytes (then 413). SERVICE and LOAD reach only the IRIs on the "
        f"server's allow-list ({len(settings.allow_service)} entries)."
    )
    triples.append(ox.Triple(service, RDFS_COMMENT, ox.Literal(limits, language="en")))

    dataset = ox.BlankNode()
    default_graph = ox.BlankNode()
    triples += [
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#seeAlso"), ox.NamedNode(settings.base_iri + "void")),  # VoID statistics
        ox.Triple(dataset, _sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, RDF_TYPE, _sd("Graph")),
        ox.Triple(
            default_graph,
            RDFS_COMMENT,
            ox.Literal("the union of every named graph below and of the store's own default graph", language="en"),
        ),
    ]
    for iri in named_graphs:
        node = ox.BlankNode()
        triples += [
            ox.Triple(dataset, _sd("namedGraph"), node),
            ox.Triple(node, RDF_TYPE, _sd("NamedGraph")),
            ox.Triple(node, _sd("name"), ox.NamedNode(iri)),
        ]

    if settings.allow_update:
        updates = ox.NamedNode(settings.update_endpoint + "#service")
        triples += [
            ox.Triple(updates, RDF_TYPE, _sd("Service")),
            ox.Triple(updates, _sd("endpoint"), ox.NamedNode(update_endpoint)),
            ox.Triple(updates, _sd("supportedLanguage"), _sd("SPARQL11Update")),
            ox.Triple(updates, _sd("defaultDataset"), dataset),
            ox.Triple(
                updates,
                RDFS_COMMENT,
                ox.Literal("needs a bearer token; graphs loaded from registry exports cannot be changed", language="en"),
            ),
        ]
        for name in INPUT_FORMAT_IRIS:
            triples.append(ox.Triple(updates, _sd("inputFormat"), ox.NamedNode(FORMATS + name)))
    return triples


async def description_response(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    runtime = request.app.state.runtime
    accept = request.headers.get("accept")
    format_param = (inputs.values(list(request.query_params.multi_items()), "format") or [None])[-1]
    fmt = conneg.choose("graph", accept, format_param)
    if fmt is None:
        raise conneg.not_acceptable("graph", accept, format_param)
    endpoint = str(request.url.replace(query="", fragment=""))
    update_endpoint = str(request.url_for("update"))
    triples = describe(settings, endpoint, update_endpoint, list(runtime.catalog().live))
    prefixes = PREFIXES if fmt.name == "turtle" else None
    body = ox.serialize(triples, None, RDF_FORMATS[fmt.name], prefixes=prefixes) or b""
    return Response(body, media_type=fmt.media_type, headers={"Vary": "Accept"})
