"""Self-description: VoID statistics (``/void``) and a DCAT catalogue (``/catalog``).

Both are documents about this service, served by content negotiation (Turtle without ``Accept``
or with ``*/*``; HTML for browsers; JSON-LD, N-Triples, RDF/XML; ``?format=`` overrides), computed
with SPARQL through the query workers (the service's time limit applies) and cached until the store
changes (``runtime.generation``).

VoID (``<base>void``)
---------------------
- ``<base>void#carbonkg``: every triple queries see (the union of the live graphs and the store's
  own default graph), with ``void:sparqlEndpoint``, ``void:uriSpace`` and the vocabularies used;
- one ``void:subset`` per registry — the registry's ``dcat:Dataset`` IRI as the loaders mint it
  (``<base>id/<registry>/dataset/<registry>``), so VoID and DCAT describe the same dataset — plus
  ``<base>void#derived`` (links and summaries computed from the exports), ``<base>void#static``
  (ontology, vocabularies, stored reports) and ``<base>void#user`` (graphs written through the
  service), when they have graphs;
- each of those has one ``void:subset`` per named graph, *named by the graph's IRI* (what ``GRAPH``
  takes in a query), with ``dcterms:source`` (the export), ``void:dataDump`` (the Graph Store URL).

Every dataset has ``void:triples``, ``void:entities``, ``void:classes``, ``void:properties``, and
``void:classPartition`` / ``void:propertyPartition`` (``void:class`` + ``void:entities``;
``void:property`` + ``void:triples``). Counting rules, so that anyone can check them with SPARQL:

- a dataset of several graphs is their RDF merge: a triple stated in two graphs counts once
  (``SELECT DISTINCT ?s ?p ?o``);
- ``void:entities``: distinct IRI subjects; a class partition's: distinct instances of the class;
- ``void:classes``: distinct objects of ``rdf:type``; ``void:properties``: distinct predicates.

DCAT (``<base>catalog``)
------------------------
A ``dcat:Catalog`` with one ``dcat:Dataset`` per registry (the loaders' dataset IRI) and one
``dcat:Distribution`` per loaded export file (the export's IRI), from the loaders' provenance:
file name, size (``dcat:byteSize``), media type (an IANA media-type IRI), SHA-256 (``spdx:checksum``
and ``ck:sha256``), row count (``ck:rowCount``), and when it was loaded (``prov:wasGeneratedBy`` a
``ck:LoadRun`` with ``prov:startedAtTime``; also ``dcterms:issued``). The SPARQL endpoint is a
``dcat:DataService`` (``<base>sparql#service``, the service description's node) with
``dcat:endpointURL`` and ``dcat:servesDataset``.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from carbonkg import __version__, iris
from carbonkg.server import linked_data as ld
from carbonkg.server.dataset import DatasetSpec
from carbonkg.server.settings import Settings

router = APIRouter(tags=["Self-description"])

VOID = "http://rdfs.org/ns/void#"
SD = "http://www.w3.org/ns/sparql-service-description#"
FOAF = "http://xmlns.com/foaf/0.1/"
SPDX = "http://spdx.org/rdf/terms#"
IANA_MEDIA_TYPES = "http://www.iana.org/assignments/media-types/"
DERIVED_BASE = iris.ID_BASE + "derived/"

_TYPE = ox.NamedNode(ld.RDF_TYPE)
_XSD_INTEGER = ox.NamedNode(ld.XSD + "integer")
_XSD_NNI = ox.NamedNode(ld.XSD + "nonNegativeInteger")


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _int(n: int, datatype: ox.NamedNode = _XSD_INTEGER) -> ox.Literal:
    return ox.Literal(str(n), datatype=datatype)


# -- statistics --------------------------------------------------------------------------------


@dataclass
class Stats:
    triples: int = 0
    entities: int = 0
    classes: dict[str, int] = field(default_factory=dict)  # class -> distinct instances
    properties: dict[str, int] = field(default_factory=dict)  # property -> triples


@dataclass
class Subset:
    iri: str
    title: str
    kind: str  # registry | derived | static | user
    graphs: list[str]
    stats: Stats = field(default_factory=Stats)
    registry: str | None = None  # the registry concept's IRI
    slug: str = ""


@dataclass
class Description:
    top: Stats
    subsets: list[Subset]
    graphs: dict[str, Stats]
    sources: dict[str, str]  # graph -> export IRI
    seconds: float = 0.0


_PER_GRAPH = {
    "properties": "SELECT ?g ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ?p",
    "classes": f"SELECT ?g ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s <{ld.RDF_TYPE}> ?c }} }} GROUP BY ?g ?c",
    # isIRI on the distinct subjects, not on every triple: 2-3x faster
    "entities": "SELECT ?g (SUM(IF(isIRI(?s), 1, 0)) AS ?n) WHERE { SELECT DISTINCT ?g ?s WHERE { GRAPH ?g { ?s ?p ?o } } } GROUP BY ?g",
}
_MERGED = {
    "properties": "SELECT ?p (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } } GROUP BY ?p",
    "classes": f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s <{ld.RDF_TYPE}> ?c }} GROUP BY ?c",
    "entities": "SELECT (SUM(IF(isIRI(?s), 1, 0)) AS ?n) WHERE { SELECT DISTINCT ?s WHERE { ?s ?p ?o } }",
}


async def _graph_stats(app: Any, graphs: Iterable[str]) -> dict[str, Stats]:
    """Statistics of each live named graph (a graph is a set: no DISTINCT needed)."""
    stats: dict[str, Stats] = {g: Stats() for g in graphs}
    spec = DatasetSpec((), tuple(stats))
    props, classes, entities = await asyncio.gather(
        *(ld.select_app(app, _PER_GRAPH[k], dataset=spec) for k in ("properties", "classes", "entities"))
    )
    for row in props:
        s = stats.setdefault(row["g"].value, Stats())
        n = ld.as_int(row["n"])
        s.properties[row["p"].value] = n
        s.triples += n
    for row in classes:
        if isinstance(row["c"], ox.NamedNode):
            stats.setdefault(row["g"].value, Stats()).classes[row["c"].value] = ld.as_int(row["n"])
    for row in entities:
        stats.setdefault(row["g"].value, Stats()).entities = ld.as_int(row["n"])
    return stats


async def _merged_stats(app: Any, spec: DatasetSpec) -> Stats:
    """Statistics of the RDF merge of a dataset's graphs."""
    props, classes, entities = await asyncio.gather(
        *(ld.select_app(app, _MERGED[k], dataset=spec) for k in ("properties", "classes", "entities"))
    )
    stats = Stats()
    for row in props:
        n = ld.as_int(row["n"])
        stats.properties[row["p"].value] = n
        stats.triples += n
    for row in classes:
        if isinstance(row["c"], ox.NamedNode):
            stats.classes[row["c"].value] = ld.as_int(row["n"])
    stats.entities = ld.as_int(entities.rows[0].get("n")) if entities.rows else 0
    return stats


def registry_dataset(slug: str) -> str:
    """The registry's dataset IRI, as the loaders mint it (``iris.entity(slug, "dataset", slug)``)."""
    return f"{iris.ID_BASE}{slug}/dataset/{quote(slug, safe='-._~')}"


def group_graphs(settings: Settings, live: Iterable[str], user: Iterable[str], sources: dict[str, str]) -> list[Subset]:
    """The subsets: one per registry (its export graphs), derived, static and user graphs."""
    registries: dict[str, list[str]] = defaultdict(list)
    derived, static = [], []
    user_set = set(user)
    for graph in live:
        export = sources.get(graph)
        if graph in user_set:
            continue
        if export is None:
            static.append(graph)
        elif export.startswith(DERIVED_BASE):
            derived.append(graph)
        elif export.startswith(iris.ID_BASE):
            registries[export[len(iris.ID_BASE):].split("/", 1)[0]].append(graph)
        else:
            static.append(graph)
    subsets = [
        Subset(registry_dataset(slug), slug, "registry", sorted(graphs), registry=iris.concept("registry", slug), slug=slug)
        for slug, graphs in sorted(registries.items())
    ]
    base = settings.base_iri + "void#"
    for key, title, kind, graphs in (
        ("derived", "derived graphs (cross-registry links, summaries)", "derived", derived),
        ("static", "ontology, vocabularies and other static graphs", "static", static),
        ("user", "graphs written through the service", "user", sorted(user_set)),
    ):
        if graphs:
            subsets.append(Subset(base + key, title, kind, sorted(graphs), slug=key))
    return subsets


async def describe(app: Any) -> Description:
    """The VoID statistics of the store as it is now (cached per store generation)."""

    async def compute() -> Description:
        started = time.perf_counter()
        settings: Settings = app.state.settings
        catalog = app.state.runtime.catalog()
        sources = (await ld.export_graphs(app)).export_of
        subsets = group_graphs(settings, catalog.live, catalog.user, sources)
        graph_stats = await _graph_stats(app, catalog.live)
        top = await _merged_stats(app, DatasetSpec())
        for subset in subsets:
            if len(subset.graphs) == 1:
                subset.stats = graph_stats.get(subset.graphs[0], Stats())
            else:
                subset.stats = await _merged_stats(app, DatasetSpec(tuple(subset.graphs), ()))
        labels = await _labels(app, [s.registry for s in subsets if s.registry])
        for subset in subsets:
            if subset.registry and subset.registry in labels:
                subset.title = labels[subset.registry]
        return Description(top, subsets, graph_stats, sources, time.perf_counter() - started)

    return await ld.cache_of(app).get(app, "void", compute)


async def _labels(app: Any, iris_: list[str]) -> dict[str, str]:
    if not iris_:
        return {}
    values = " ".join(ld.iri_term(i) for i in iris_)
    rows = await ld.select_app(
        app,
        f"SELECT ?x ?l WHERE {{ VALUES ?x {{ {values} }} ?x <{ld.SKOS}prefLabel>|<{ld.RDFS}label> ?l }}",
    )
    found: dict[str, tuple[int, str]] = {}
    for row in rows:
        key = (ld._lang_rank(row["l"]), row["l"].value)
        x = row["x"].value
        if x not in found or key < found[x]:
            found[x] = key
    return {x: v for x, (_, v) in found.items()}


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1] if cut > 0 else iri


def stats_triples(node: ox.NamedNode, stats: Stats) -> list[ox.Triple]:
    triples = [
        ox.Triple(node, _n(VOID + "triples"), _int(stats.triples)),
        ox.Triple(node, _n(VOID + "entities"), _int(stats.entities)),
        ox.Triple(node, _n(VOID + "classes"), _int(len(stats.classes))),
        ox.Triple(node, _n(VOID + "properties"), _int(len(stats.properties))),
    ]
    for cls, n in sorted(stats.classes.items()):
        part = ox.BlankNode()
        triples += [
            ox.Triple(node, _n(VOID + "classPartition"), part),
            ox.Triple(part, _n(VOID + "class"), _n(cls)),
            ox.Triple(part, _n(VOID + "entities"), _int(n)),
        ]
    for prop, n in sorted(stats.properties.items()):
        part = ox.BlankNode()
        triples += [
            ox.Triple(node, _n(VOID + "propertyPartition"), part),
            ox.Triple(part, _n(VOID + "property"), _n(prop)),
            ox.Triple(part, _n(VOID + "triples"), _int(n)),
        ]
    return triples


def void_triples(settings: Settings, desc: Description) -> list[ox.Triple]:
    doc = _n(settings.base_iri + "void")
    top = _n(settings.base_iri + "void#carbonkg")
    endpoint = _n(settings.sparql_endpoint)
    title = _n(ld.DCTERMS + "title")
    triples = [
        ox.Triple(doc, _TYPE, _n(VOID + "DatasetDescription")),
        ox.Triple(doc, title, ox.Literal("VoID description of the carbonkg knowledge graph", language="en")),
        ox.Triple(doc, _n(FOAF + "primaryTopic"), top),
        ox.Triple(top, _TYPE, _n(VOID + "Dataset")),
        ox.Triple(top, title, ox.Literal("carbonkg: carbon-credit registries as a knowledge graph", language="en")),
        ox.Triple(
            top,
            _n(ld.DCTERMS + "description"),
            ox.Literal(
                "Everything the SPARQL endpoint's default graph holds: the union of the live named graphs "
                "(one per loaded registry export, derived graphs, ontology and vocabularies). Counts are of "
                "distinct triples; entities are distinct IRI subjects.",
                language="en",
            ),
        ),
        ox.Triple(top, _n(VOID + "sparqlEndpoint"), endpoint),
        ox.Triple(top, _n(VOID + "uriSpace"), ox.Literal(iris.ID_BASE)),
        ox.Triple(top, _n(VOID + "feature"), _n("http://www.w3.org/ns/formats/Turtle")),
        ox.Triple(top, _n(ld.RDFS + "seeAlso"), _n(settings.base_iri + "catalog")),
    ]
    vocabularies = {_namespace(p) for p in desc.top.properties} | {_namespace(c) for c in desc.top.classes}
    for ns in sorted(vocabularies):
        if ns.startswith(("http://", "https://")):
            triples.append(ox.Triple(top, _n(VOID + "vocabulary"), _n(ns)))
    triples += stats_triples(top, desc.top)
    for subset in desc.subsets:
        node = _n(subset.iri)
        triples += [
            ox.Triple(top, _n(VOID + "subset"), node),
            ox.Triple(node, _TYPE, _n(VOID + "Dataset")),
            ox.Triple(node, title, ox.Literal(subset.title)),
            ox.Triple(node, _n(VOID + "sparqlEndpoint"), endpoint),
        ]
        if subset.registry:
            triples.append(ox.Triple(node, _n(ld.DCTERMS + "publisher"), _n(subset.registry)))
        triples += stats_triples(node, subset.stats)
        for graph in subset.graphs:
            gnode = _n(graph)
            source = desc.sources.get(graph)
            triples += [
                ox.Triple(node, _n(VOID + "subset"), gnode),
                ox.Triple(gnode, _TYPE, _n(VOID + "Dataset")),
                ox.Triple(gnode, _TYPE, _n(SD + "Graph")),
                ox.Triple(gnode, title, ox.Literal(ld.short_label(source or graph))),
                ox.Triple(gnode, _n(VOID + "dataDump"), _n(graph_store_url(settings, graph))),
            ]
            if source:
                triples.append(ox.Triple(gnode, _n(ld.DCTERMS + "source"), _n(source)))
            triples += stats_triples(gnode, desc.graphs.get(graph, Stats()))
    return triples


def graph_store_url(settings: Settings, graph: str) -> str:
    """The public URL that reads a graph through the Graph Store."""
    if graph.startswith(settings.graph_store + "/"):
        return graph  # named directly by its path
    return f"{settings.graph_store}?graph={quote(graph, safe='')}"


# -- the DCAT catalogue ---------------------------------------------------------------------------

_DISTRIBUTIONS = f"""SELECT ?g ?export ?dataset ?file ?sha ?size ?media ?rows ?kind ?registry ?run ?started ?version WHERE {{
  GRAPH ?g {{
    ?export a <{ld.CK}RegistryExport> .
    OPTIONAL {{ ?export <{ld.CK}fileName> ?file }}
    OPTIONAL {{ ?export <{ld.CK}sha256> ?sha }}
    OPTIONAL {{ ?export <{ld.DCAT}byteSize> ?size }}
    OPTIONAL {{ ?export <{ld.DCAT}mediaType> ?media }}
    OPTIONAL {{ ?export <{ld.CK}rowCount> ?rows }}
    OPTIONAL {{ ?export <{ld.CK}tableKind> ?kind }}
    OPTIONAL {{ ?export <{ld.CK}recordedIn> ?registry }}
    OPTIONAL {{ ?dataset <{ld.DCAT}distribution> ?export }}
    OPTIONAL {{ ?export <{ld.PROV}wasGeneratedBy> ?run
      OPTIONAL {{ ?run <{ld.PROV}startedAtTime> ?started }}
      OPTIONAL {{ ?run <{ld.CK}loaderVersion> ?version }} }}
  }}
}}"""


@dataclass
class Distribution:
    iri: str
    graph: str
    file: str = ""
    sha256: str = ""
    size: int | None = None
    media_type: str = ""
    rows: int | None = None
    table_kind: str | None = None
    run: str | None = None
    started: ox.Literal | None = None
    loader_version: str = ""


@dataclass
class RegistryDataset:
    iri: str
    slug: str
    title: str
    publisher: str | None
    distributions: list[Distribution] = field(default_factory=list)

    @property
    def modified(self) -> ox.Literal | None:
        times = [d.started for d in self.distributions if d.started is not None]
        return max(times, key=lambda t: t.value) if times else None


async def catalogue(app: Any) -> list[RegistryDataset]:
    """The registries' datasets and their loaded export files (cached per store generation)."""

    async def compute() -> list[RegistryDataset]:
        graphs = await ld.export_graphs(app)
        if not graphs.export_of:
            return []
        rows = await ld.select_app(app, _DISTRIBUTIONS, dataset=DatasetSpec((), tuple(sorted(graphs.export_of))))
        datasets: dict[str, RegistryDataset] = {}
        seen: set[str] = set()
        for row in rows:
            export = row["export"].value
            if export in seen or graphs.export_of.get(row["g"].value) != export:
                continue  # one description per export: the one in its own current graph
            seen.add(export)
            slug = export[len(iris.ID_BASE):].split("/", 1)[0] if export.startswith(iris.ID_BASE) else "other"
            dataset_iri = row["dataset"].value if "dataset" in row else registry_dataset(slug)
            publisher = row["registry"].value if "registry" in row else None
            ds = datasets.get(dataset_iri)
            if ds is None:
                ds = datasets[dataset_iri] = RegistryDataset(dataset_iri, slug, slug, publisher)
            ds.distributions.append(
                Distribution(
                    iri=export,
                    graph=row["g"].value,
                    file=row["file"].value if "file" in row else ld.short_label(export),
                    sha256=row["sha"].value if "sha" in row else "",
                    size=ld.as_int(row["size"]) if "size" in row else None,
                    media_type=row["media"].value if "media" in row else "",
                    rows=ld.as_int(row["rows"]) if "rows" in row else None,
                    table_kind=row["kind"].value if "kind" in row else None,
                    run=row["run"].value if "run" in row else None,
                    started=row.get("started"),
                    loader_version=row["version"].value if "version" in row else "",
                )
            )
        labels = await _labels(app, [d.publisher for d in datasets.values() if d.publisher])
        for ds in datasets.values():
            ds.title = labels.get(ds.publisher or "", ds.slug)
            ds.distributions.sort(key=lambda d: d.file)
        return sorted(datasets.values(), key=lambda d: d.slug)

    return await ld.cache_of(app).get(app, "catalogue", compute)


def media_type_iri(media_type: str) -> ox.NamedNode | None:
    if "/" not in media_type or any(c in media_type for c in ' <>"{}|^`\\'):
        return None
    return _n(IANA_MEDIA_TYPES + media_type.strip())


def catalogue_triples(settings: Settings, datasets: list[RegistryDataset]) -> list[ox.Triple]:
    dct = ld.DCTERMS
    dcat = ld.DCAT
    catalog = _n(settings.base_iri + "catalog")
    service = _n(settings.sparql_endpoint + "#service")
    triples = [
        ox.Triple(catalog, _TYPE, _n(dcat + "Catalog")),
        ox.Triple(catalog, _n(dct + "title"), ox.Literal("carbonkg: carbon-credit registry exports", language="en")),
        ox.Triple(
            catalog,
            _n(dct + "description"),
            ox.Literal(
                "The registry export files loaded into this carbonkg service, one dataset per registry, "
                "and the SPARQL endpoint that serves them as a knowledge graph.",
                language="en",
            ),
        ),
        ox.Triple(catalog, _n(FOAF + "homepage"), _n(settings.base_iri)),
        ox.Triple(catalog, _n(dcat + "service"), service),
        ox.Triple(catalog, _n(ld.RDFS + "seeAlso"), _n(settings.base_iri + "void")),
        ox.Triple(service, _TYPE, _n(dcat + "DataService")),
        ox.Triple(service, _n(dct + "title"), ox.Literal(f"carbonkg SPARQL service {__version__}")),
        ox.Triple(service, _n(dcat + "endpointURL"), _n(settings.sparql_endpoint)),
        ox.Triple(service, _n(dcat + "endpointDescription"), _n(settings.sparql_endpoint)),
        ox.Triple(service, _n(dct + "conformsTo"), _n("https://www.w3.org/TR/sparql11-protocol/")),
    ]
    runs: dict[str, Distribution] = {}
    all_times = []
    for ds in datasets:
        node = _n(ds.iri)
        triples += [
            ox.Triple(catalog, _n(dcat + "dataset"), node),
            ox.Triple(service, _n(dcat + "servesDataset"), node),
            ox.Triple(node, _TYPE, _n(dcat + "Dataset")),
            ox.Triple(node, _n(dct + "title"), ox.Literal(f"{ds.title}: registry exports", language="en")),
            ox.Triple(node, _n(dct + "identifier"), ox.Literal(ds.slug)),
        ]
        if ds.publisher:
            triples.append(ox.Triple(node, _n(dct + "publisher"), _n(ds.publisher)))
        if ds.modified is not None:
            triples.append(ox.Triple(node, _n(dct + "modified"), ds.modified))
            all_times.append(ds.modified)
        for dist in ds.distributions:
            d = _n(dist.iri)
            triples += [
                ox.Triple(node, _n(dcat + "distribution"), d),
                ox.Triple(d, _TYPE, _n(dcat + "Distribution")),
                ox.Triple(d, _n(dct + "title"), ox.Literal(dist.file)),
                ox.Triple(d, _n(ld.CK + "fileName"), ox.Literal(dist.file)),
                ox.Triple(d, _n(dcat + "accessURL"), d),
                ox.Triple(d, _n(dcat + "accessService"), service),
            ]
            if dist.size is not None:
                triples.append(ox.Triple(d, _n(dcat + "byteSize"), _int(dist.size, _XSD_NNI)))
            media = media_type_iri(dist.media_type)
            if media is not None:
                triples.append(ox.Triple(d, _n(dcat + "mediaType"), media))
            if dist.sha256:
                checksum = ox.BlankNode()
                triples += [
                    ox.Triple(d, _n(ld.CK + "sha256"), ox.Literal(dist.sha256)),
                    ox.Triple(d, _n(SPDX + "checksum"), checksum),
                    ox.Triple(checksum, _TYPE, _n(SPDX + "Checksum")),
                    ox.Triple(checksum, _n(SPDX + "algorithm"), _n(SPDX + "checksumAlgorithm_sha256")),
                    ox.Triple(checksum, _n(SPDX + "checksumValue"),
                              ox.Literal(dist.sha256, datatype=_n(ld.XSD + "hexBinary"))),
                ]
            if dist.rows is not None:
                triples.append(ox.Triple(d, _n(ld.CK + "rowCount"), _int(dist.rows)))
            if dist.table_kind:
                triples.append(ox.Triple(d, _n(ld.CK + "tableKind"), _n(dist.table_kind)))
            if dist.run:
                triples.append(ox.Triple(d, _n(ld.PROV + "wasGeneratedBy"), _n(dist.run)))
                runs.setdefault(dist.run, dist)
            if dist.started is not None:
                triples.append(ox.Triple(d, _n(dct + "issued"), dist.started))
    for run, dist in runs.items():
        node = _n(run)
        triples += [
            ox.Triple(node, _TYPE, _n(ld.CK + "LoadRun")),
            ox.Triple(node, _TYPE, _n(ld.PROV + "Activity")),
        ]
        if dist.started is not None:
            triples.append(ox.Triple(node, _n(ld.PROV + "startedAtTime"), dist.started))
        if dist.loader_version:
            triples.append(ox.Triple(node, _n(ld.CK + "loaderVersion"), ox.Literal(dist.loader_version)))
    if all_times:
        triples.append(ox.Triple(catalog, _n(dct + "modified"), max(all_times, key=lambda t: t.value)))
    return triples


# -- routes ---------------------------------------------------------------------------------------

_RESPONSES = {
    200: {"description": "the document, in the negotiated format", "content": {f.essence: {} for f in ld.DOCUMENT_FORMATS}},
    406: {"description": "no acceptable representation"},
    503: {"description": "the statistics could not be computed within the time limit"},
}


def _document(request: Request, fmt: Any, triples: list[ox.Triple]) -> Response:
    body = ld.rdf_bytes(triples, fmt)
    offers = ld.alternates(request, ld.DOCUMENT_FORMATS, fmt.name)
    headers = {"Vary": "Accept", "Link": ld.link_header(a for a in offers if not a["current"])}
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(status_code=200, headers=headers, media_type=fmt.media_type)
    return Response(body, headers=headers, media_type=fmt.media_type)


def _stats_view(stats: Stats) -> dict[str, Any]:
    return {
        "triples": stats.triples,
        "entities": stats.entities,
        "classes": len(stats.classes),
        "properties": len(stats.properties),
    }


@router.get("/void", summary="VoID statistics of the knowledge graph", responses=_RESPONSES)
@router.head("/void", include_in_schema=False)
async def void(request: Request) -> Response:
    fmt = ld.choose_format(request, ld.DOCUMENT_FORMATS)
    settings: Settings = request.app.state.settings
    desc = await describe(request.app)
    if fmt is not ld.HTML:
        return _document(request, fmt, void_triples(settings, desc))
    links = ld.links_for(request)
    subsets = []
    for subset in desc.subsets:
        graphs = []
        for graph in subset.graphs:
            source = desc.sources.get(graph)
            graphs.append(
                {
                    "iri": graph,
                    "name": ld.short_label(source or graph),
                    "href": links.href(source) if source else f"{links.root}/graph?graph={quote(graph, safe='')}",
                    "stats": _stats_view(desc.graphs.get(graph, Stats())),
                }
            )
        subsets.append(
            {
                "iri": subset.iri,
                "title": subset.title,
                "kind": subset.kind,
                "href": links.href(subset.iri) if subset.kind == "registry" else None,
                "stats": _stats_view(subset.stats),
                "graphs": graphs,
            }
        )
    labels = await ld.fetch_labels(request, [*desc.top.classes, *desc.top.properties], limit=2000)

    def partition(items: dict[str, int]) -> list[dict[str, Any]]:
        return [
            {"iri": iri, "href": links.href(iri), "label": labels.get(iri) or ld.compact(iri), "compact": ld.compact(iri), "n": n}
            for iri, n in sorted(items.items(), key=lambda kv: (-kv[1], kv[0]))
        ]

    return ld.render(
        request,
        "ld_void.html",
        head=request.method == "HEAD",
        title="Statistics (VoID)",
        top=_stats_view(desc.top),
        subsets=subsets,
        classes=partition(desc.top.classes),
        properties=partition(desc.top.properties),
        seconds=desc.seconds,
        alternates=ld.alternates(request, ld.DOCUMENT_FORMATS, "html"),
    )


@router.get("/catalog", summary="DCAT catalogue of the loaded registry exports", responses=_RESPONSES)
@router.head("/catalog", include_in_schema=False)
async def catalog(request: Request) -> Response:
    fmt = ld.choose_format(request, ld.DOCUMENT_FORMATS)
    settings: Settings = request.app.state.settings
    datasets = await catalogue(request.app)
    if fmt is not ld.HTML:
        return _document(request, fmt, catalogue_triples(settings, datasets))
    links = ld.links_for(request)
    view = []
    for ds in datasets:
        view.append(
            {
                "iri": ds.iri,
                "href": links.href(ds.iri),
                "title": ds.title,
                "publisher_href": links.href(ds.publisher) if ds.publisher else None,
                "modified": ds.modified.value if ds.modified is not None else "",
                "files": [
                    {
                        "file": d.file,
                        "href": links.href(d.iri),
                        "sha256": d.sha256,
                        "size": d.size,
                        "rows": d.rows,
                        "media_type": d.media_type,
                        "loaded": d.started.value if d.started is not None else "",
                        "run_href": links.href(d.run) if d.run else None,
                    }
                    for d in ds.distributions
                ],
            }
        )
    return ld.render(
        request,
        "ld_catalog.html",
        head=request.method == "HEAD",
        title="Catalogue (DCAT)",
        datasets=view,
        files=sum(len(d["files"]) for d in view),
        endpoint=settings.sparql_endpoint,
        alternates=ld.alternates(request, ld.DOCUMENT_FORMATS, "html"),
    )
