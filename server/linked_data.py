"""Linked data: every IRI carbonkg mints dereferences on this server.

Routes
------
- ``GET /id/{path}``: an entity (``https://w3id.org/carbonkg/id/…``): an HTML page for people —
  label, types, every property with its values (IRIs as links to their pages on this server),
  incoming links, the source files and rows that state it (with the raw record), the validation
  results about it — or its triples as Turtle, JSON-LD, N-Triples or RDF/XML for machines.
- ``GET /vocab`` (the concept schemes), ``GET /vocab/{scheme}``, ``GET /vocab/{scheme}/{concept}``:
  the vocabularies, as entities.
- ``GET /ontology``: the ontology: pyLODE documentation (built once, cached) or its triples.

Content negotiation: ``Accept`` with q-values (:mod:`carbonkg.server.conneg`; without ``Accept``,
or with ``*/*``, people get HTML), overridden by ``?format=html|turtle|jsonld|ntriples|rdfxml``;
406 (problem details) when nothing offered fits. Answers carry ``Vary: Accept`` and ``Link``
headers naming the other representations.

Slash and hash IRIs, no 303
---------------------------
Entities have *slash* IRIs and are answered directly with 200 and their description (no 303
redirect to a separate document: the description is served at the IRI, as most linked-data
services do). Three kinds of IRI are *hash* IRIs, resolved by the document before the ``#``:

- rows ``<export>#row=N``: the export's page (``/id/<registry>/export/<file>``) describes the
  export and lists its rows (anchors ``row=N``, paged; a small inline script opens the page that
  holds the row named in the fragment); its RDF carries the export's and its rows' triples;
- ontology terms ``ontology#Term``: ``/ontology``, whose HTML has an anchor per term;
- the service's own nodes (``void#…``, ``catalog``, ``sparql#service``).

An IRI that is the subject of no triple answers 404 — except the name of a live graph (an export's
version graph), which answers 303 to the Graph Store (``/graph?graph=…``).

The RDF of an entity is what the store says *about* it (every triple with it as subject), plus,
for an export, its rows' triples; incoming links are on the HTML page only (ask SPARQL for more).

Public base and local paths
---------------------------
Data IRIs are minted under :data:`carbonkg.iris.BASE`; the service is published under
``settings.base_iri`` (by default the same). A local path names the IRI under the minting base
(and, when the public base differs and nothing is found there, the IRI under the public base), so
``/id/verra/project/1507`` works on localhost, behind the published domain and behind a proxy
that maps another public base to this server. Links on pages are *local* paths
(``<root_path>/id/…``, ``/vocab/…``, ``/ontology#Term``) for IRIs under either base and the IRI
itself otherwise, so they always lead to this server's pages.

Every store read goes through ``runtime.query`` — the query workers, with the service's time limit
— like ``/sparql``; only the catalog (which graph holds which export) is read directly, as
:meth:`~carbonkg.server.runtime.Runtime.catalog` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from carbonkg import iris
from carbonkg.queries import rows as solution_rows
from carbonkg.server import conneg
from carbonkg.server.dataset import DatasetSpec
from carbonkg.server.execute import Answer, QueryTask
from carbonkg.server.problems import Problem
from carbonkg.server.responses import answer_response
from carbonkg.server.settings import Settings

router = APIRouter(tags=["Linked data"])

TEMPLATES = Path(__file__).resolve().parent / "templates"

# -- namespaces ---------------------------------------------------------------------------------

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
CSVW = "http://www.w3.org/ns/csvw#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
SH = "http://www.w3.org/ns/shacl#"
CK = "https://w3id.org/carbonkg/ontology#"
RDF_TYPE = RDF + "type"

#: prefixes for compact display of IRIs (and Turtle answers)
PREFIXES = {
    "ck": CK,
    "cks": iris.BASE + "summary#",
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": SKOS,
    "csvw": CSVW,
    "dcat": DCAT,
    "dcterms": DCTERMS,
    "prov": PROV,
    "sh": SH,
    "void": "http://rdfs.org/ns/void#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "spdx": "http://spdx.org/rdf/terms#",
    "schema": "http://schema.org/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "org": "http://www.w3.org/ns/org#",
    "time": "http://www.w3.org/2006/time#",
    "qudt": "http://qudt.org/schema/qudt/",
}
#: properties whose value names a thing, best first
LABEL_PROPERTIES = (
    SKOS + "prefLabel",
    RDFS + "label",
    CK + "orgName",
    DCTERMS + "title",
    "http://schema.org/name",
    "http://xmlns.com/foaf/0.1/name",
    CK + "fileName",
)

# -- representations ----------------------------------------------------------------------------

HTML = conneg.Format("html", "text/html; charset=utf-8", ("application/xhtml+xml",), ("htm",))
#: entity pages: people first (no Accept, */*: HTML)
PAGE_FORMATS: tuple[conneg.Format, ...] = (HTML, conneg.TURTLE, conneg.JSONLD, conneg.NTRIPLES, conneg.RDFXML)
#: documents about the service (VoID, catalogue): machines first (no Accept, */*: Turtle)
DOCUMENT_FORMATS: tuple[conneg.Format, ...] = (conneg.TURTLE, HTML, conneg.JSONLD, conneg.NTRIPLES, conneg.RDFXML)
RDF_SERIALISERS = {
    "turtle": ox.RdfFormat.TURTLE,
    "jsonld": ox.RdfFormat.JSON_LD,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
FORMAT_LABELS = {"html": "HTML", "turtle": "Turtle", "jsonld": "JSON-LD", "ntriples": "N-Triples", "rdfxml": "RDF/XML"}


def choose_format(request: Request, offers: Sequence[conneg.Format]) -> conneg.Format:
    """The representation a request asks for (``format`` parameter, else ``Accept``); 406 if none."""
    accept = request.headers.get("accept")
    param = request.query_params.get("format")
    fmt = conneg.by_format_parameter(param, offers) if param else conneg.negotiate(accept, offers)
    if fmt is None:
        available = [f.essence for f in offers]
        asked = f"format={param!r}" if param else f"Accept {accept!r}"
        raise Problem(
            406,
            "Not acceptable",
            f"{asked} allows none of the representations of {request.url.path}: {', '.join(available)}",
            slug="not-acceptable",
            available=available,
        )
    return fmt


def alternates(request: Request, offers: Sequence[conneg.Format], current: str | None = None) -> list[dict[str, str]]:
    """Links to every representation of this resource (``?format=…``)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "format"]
    out = []
    for fmt in offers:
        query = urlencode([*params, ("format", fmt.name)])
        out.append(
            {
                "name": fmt.name,
                "label": FORMAT_LABELS.get(fmt.name, fmt.name),
                "type": fmt.essence,
                "href": f"{request.url.path}?{query}",
                "current": fmt.name == current,
            }
        )
    return out


def link_header(links: Iterable[dict[str, str]]) -> str:
    return ", ".join(f'<{a["href"]}>; rel="alternate"; type="{a["type"]}"' for a in links)


# -- templates ----------------------------------------------------------------------------------

_env: Environment | None = None


def templates() -> Environment:
    global _env
    if _env is None:
        _env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=select_autoescape(("html",)),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        _env.filters["thousands"] = lambda n: f"{n:,}" if isinstance(n, int) else n
    return _env


def render(request: Request, template: str, *, head: bool = False, status: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> Response:
    context.setdefault("root", request.scope.get("root_path", "").rstrip("/"))
    body = templates().get_template(template).render(**context).encode("utf-8")
    headers = {"Vary": "Accept", **(headers or {})}
    if head:
        headers["Content-Length"] = str(len(body))
        return Response(status_code=status, headers=headers, media_type=HTML.media_type)
    return HTMLResponse(body, status_code=status, headers=headers, media_type=HTML.media_type)


def rdf_bytes(triples: Iterable[ox.Triple], fmt: conneg.Format) -> bytes:
    prefixes = PREFIXES if fmt.name == "turtle" else None
    return ox.serialize(triples, None, RDF_SERIALISERS[fmt.name], prefixes=prefixes) or b""


# -- store reads through the query workers -----------------------------------------------------


@dataclass
class Rows:
    """A SELECT answer: solutions as ``{variable: term}`` (unbound variables absent)."""

    rows: list[dict[str, Any]]
    truncated: bool = False

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _answer_bytes(answer: Answer) -> bytes:
    if answer.path is None:
        return answer.data or b""
    try:
        return Path(answer.path).read_bytes()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(answer.path)


def discard(answer: Answer) -> None:
    if answer.path is not None:
        with contextlib.suppress(OSError):
            os.unlink(answer.path)


def _task(settings: Settings, sparql: str, dataset: DatasetSpec | None, formats: dict[str, str | None],
          cap: int | None) -> QueryTask:
    return QueryTask(
        sparql=sparql,
        base_iri=settings.sparql_endpoint,
        dataset=dataset if dataset is not None else DatasetSpec(),
        formats=formats,
        max_results=cap,
        limit_doc=settings.sparql_endpoint + "#result-limit",
    )


async def select(request: Request, sparql: str, *, dataset: DatasetSpec | None = None, cap: int | None = None) -> Rows:
    """Run a SELECT in a query worker (time limit as /sparql); ``cap``: most solutions kept."""
    return await select_app(request.app, sparql, dataset=dataset, cap=cap)


async def select_app(app: Any, sparql: str, *, dataset: DatasetSpec | None = None, cap: int | None = None) -> Rows:
    settings: Settings = app.state.settings
    task = _task(settings, sparql, dataset, {"solutions": "json", "boolean": "json", "graph": None}, cap)
    answer = await app.state.runtime.query(task)
    data = _answer_bytes(answer)
    if answer.kind != "solutions":
        raise Problem(500, "Internal server error", "an internal query did not answer solutions", slug="internal")
    return Rows(solution_rows(ox.parse_query_results(data, ox.QueryResultsFormat.JSON)), answer.truncated)


async def construct(request: Request, sparql: str, fmt: conneg.Format, *, dataset: DatasetSpec | None = None) -> Answer:
    """Run a CONSTRUCT in a query worker, serialised as ``fmt``, capped at ``max_results``."""
    settings: Settings = request.app.state.settings
    formats = {"solutions": None, "boolean": None, "graph": fmt.name}
    task = _task(settings, sparql, dataset, formats, settings.max_results)
    return await request.app.state.runtime.query(task)


def iri_term(iri: str) -> str:
    return str(ox.NamedNode(iri))


def as_int(term: Any, default: int = 0) -> int:
    try:
        return int(term.value)
    except (AttributeError, TypeError, ValueError):
        return default


# -- caches that live as long as a store generation ---------------------------------------------


class GenerationCache:
    """Values computed from the store, kept until the store changes (``runtime.generation``);
    concurrent requests for the same missing value wait for one computation."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[int, Any]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def peek(self, key: str) -> tuple[int, Any] | None:
        return self._values.get(key)

    async def get(self, app: Any, key: str, compute: Callable[[], Awaitable[Any]]) -> Any:
        runtime = app.state.runtime
        runtime.check_fresh()
        generation = runtime.generation
        cached = self._values.get(key)
        if cached is not None and cached[0] == generation:
            return cached[1]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._values.get(key)
            if cached is not None and cached[0] == generation:
                return cached[1]
            value = await compute()
            self._values[key] = (generation, value)
            return value


def cache_of(app: Any) -> GenerationCache:
    cache = getattr(app.state, "ld_cache", None)
    if cache is None:
        cache = app.state.ld_cache = GenerationCache()
    return cache


@dataclass(frozen=True)
class ExportGraphs:
    """The catalog's export entries: version graph -> export IRI, and back."""

    export_of: dict[str, str]
    graph_of: dict[str, str]


async def export_graphs(app: Any) -> ExportGraphs:
    async def compute() -> ExportGraphs:
        states = app.state.runtime.catalog().export_states.values()
        export_of = {s.graph_iri: s.export_iri for s in states}
        return ExportGraphs(export_of, {e: g for g, e in export_of.items()})

    return await cache_of(app).get(app, "export-graphs", compute)


# -- IRIs and this server's paths ---------------------------------------------------------------

_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")


class Links:
    """Local paths of IRIs under the minting base or the public base (see the module documentation)."""

    def __init__(self, settings: Settings, root: str = "") -> None:
        self.root = root.rstrip("/")
        self.bases = tuple(dict.fromkeys((iris.BASE, settings.base_iri)))

    def local(self, iri: str) -> str | None:
        for base in self.bases:
            if iri.startswith(base):
                return f"{self.root}/{iri[len(base):]}"
        return None

    def href(self, iri: str) -> str:
        return self.local(iri) or iri


def links_for(request: Request) -> Links:
    return Links(request.app.state.settings, request.scope.get("root_path", ""))


def request_path(request: Request) -> str:
    """The request path as the client sent it (percent-encoding kept, escapes upper-cased), without
    the root path."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if raw else quote(request.url.path, safe="/:@!$&'()*+,;=-._~%")
    path = path.split("?", 1)[0]
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    return _PERCENT.sub(lambda m: m.group(0).upper(), path)


def candidate_iris(settings: Settings, path: str) -> list[str]:
    """The IRIs a local path may name: under the minting base, then under the public base."""
    rest = path.lstrip("/")
    found = []
    for base in dict.fromkeys((iris.BASE, settings.base_iri)):
        iri = base + rest
        if _BAD_IRI.search(iri):
            continue
        try:
            ox.NamedNode(iri)
        except ValueError:
            continue
        found.append(iri)
    if not found:
        raise Problem(404, "Not found", f"{path!r} names no IRI this service mints", slug="not-found")
    return found


def compact(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            local = iri[len(namespace):]
            if "/" not in local and "#" not in local:
                return f"{prefix}:{local}"
    return iri


def short_label(iri: str) -> str:
    """A readable name for an IRI without a label: a compact name, or the tail of a carbonkg IRI."""
    name = compact(iri)
    if name != iri:
        return name
    for base in (iris.ID_BASE, iris.VOCAB_BASE, iris.BASE):
        if iri.startswith(base):
            tail = iri[len(base):]
            if "#row=" in tail:
                export, _, n = tail.partition("#row=")
                return f"row {n} of {export.rsplit('/', 1)[-1]}"
            return tail
    return iri


# -- labels -------------------------------------------------------------------------------------


def _lang_rank(term: Any) -> int:
    lang = getattr(term, "language", None)
    return 0 if lang in (None, "en") or (lang or "").startswith("en-") else 1


_LABEL_MEMO_SIZE = 50_000


async def _empty_memo() -> dict[str, str | None]:
    return {}


async def fetch_labels(request: Request, iris_: Iterable[str], *, limit: int = 1500) -> dict[str, str]:
    """Labels of IRIs (skos:prefLabel, rdfs:label, ck:orgName, dcterms:title…), English first.
    Labels of vocabulary concepts, ontology terms and other non-instance IRIs are remembered for
    the store generation (they recur on every page)."""
    app = request.app
    memo: dict[str, str | None] = await cache_of(app).get(app, "labels", _empty_memo)
    wanted = [i for i in dict.fromkeys(iris_) if not _BAD_IRI.search(i)][:limit]
    found = {i: memo[i] for i in wanted if i in memo}
    ask = [i for i in wanted if i not in memo]
    if ask:
        values = " ".join(iri_term(i) for i in ask)
        props = ", ".join(iri_term(p) for p in LABEL_PROPERTIES)
        rows = await select(
            request,
            f"SELECT DISTINCT ?x ?lp ?l WHERE {{ VALUES ?x {{ {values} }} ?x ?lp ?l "
            f"FILTER (?lp IN ({props}) && isLiteral(?l)) }}",
        )
        best: dict[str, tuple[tuple[int, int, str], str]] = {}
        rank = {p: n for n, p in enumerate(LABEL_PROPERTIES)}
        for row in rows:
            x, label = row["x"].value, row["l"]
            key = (rank.get(row["lp"].value, 99), _lang_rank(label), label.value)
            if x not in best or key < best[x][0]:
                best[x] = (key, label.value)
        if len(memo) > _LABEL_MEMO_SIZE:
            memo.clear()
        for i in ask:
            label = best[i][1] if i in best else None
            found[i] = label
            if not i.startswith(iris.ID_BASE):
                memo[i] = label
    return {i: label for i, label in found.items() if label is not None}


# -- values on pages -----------------------------------------------------------------------------


@dataclass
class Value:
    kind: str  # iri | literal | bnode
    text: str
    href: str | None = None
    iri: str | None = None
    datatype: str | None = None
    lang: str | None = None
    json: list[tuple[str, str]] | None = None  # an rdf:JSON object, as key/value pairs


def value_of(term: Any, links: Links, labels: dict[str, str]) -> Value:
    if isinstance(term, ox.NamedNode):
        return Value("iri", labels.get(term.value) or short_label(term.value), links.href(term.value), term.value)
    if isinstance(term, ox.BlankNode):
        return Value("bnode", f"_:{term.value}")
    datatype = term.datatype.value if term.datatype is not None else None
    value = Value("literal", term.value, lang=term.language)
    if datatype and datatype not in (XSD + "string", RDF + "langString"):
        value.datatype = compact(datatype)
    if datatype == RDF + "JSON":
        value.json = json_pairs(term.value)
    return value


def json_pairs(text: str) -> list[tuple[str, str]] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return [(str(k), v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for k, v in data.items()]


@dataclass
class PropertyValues:
    iri: str
    label: str
    href: str
    values: list[Value] = field(default_factory=list)
    more: bool = False


def property_href(iri: str, links: Links) -> str:
    return links.href(iri)


# -- the entity page -----------------------------------------------------------------------------

OUT_LIMIT = 1000
IN_LIMIT = 300
SOURCE_LIMIT = 50
ONE_HOP_LIMIT = 5
ROWS_PER_PAGE = 100
VALIDATION_LIMIT = 200
LABEL_LIMIT = 60


def _sparql_link(request: Request, query: str) -> str:
    root = request.scope.get("root_path", "").rstrip("/")
    return f"{root}/sparql?{urlencode({'query': query})}"


async def _outgoing(request: Request, iri: str) -> Rows:
    return await select(
        request,
        f"SELECT DISTINCT ?p ?o WHERE {{ {iri_term(iri)} ?p ?o FILTER (?p != <{CSVW}row>) }} "
        f"ORDER BY ?p ?o LIMIT {OUT_LIMIT + 1}",
    )


async def _graphs(request: Request, iri: str) -> Rows:
    return await select(request, f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {iri_term(iri)} ?p ?o }} }} LIMIT 200")


async def _incoming(request: Request, iri: str) -> Rows:
    return await select(
        request,
        # no ORDER BY: a concept many records point at would be sorted whole before the LIMIT
        f"SELECT DISTINCT ?s ?p WHERE {{ ?s ?p {iri_term(iri)} FILTER (?p != <{CSVW}describes>) }} "
        f"LIMIT {IN_LIMIT + 1}",
    )


async def _sources(request: Request, iri: str) -> tuple[Rows, bool]:
    """The rows that describe an entity, or — for one no row describes (an organisation named in
    a listing, a location) — rows of the records that point at it; and whether it is the latter.
    The export and row number are read off the row IRI (``<export>#row=N``, carbonkg.iris.row):
    joining them in makes Oxigraph much slower over the list of live graphs."""
    node = iri_term(iri)
    direct = await select(
        request,
        f"SELECT DISTINCT ?row ?raw WHERE {{ ?row <{CSVW}describes> {node} "
        f"OPTIONAL {{ ?row <{CK}rawRecord> ?raw }} }} LIMIT {SOURCE_LIMIT + 1}",
    )
    if direct.rows or not iri.startswith(iris.ID_BASE):
        return direct, False
    via = await select(
        request,
        f"SELECT DISTINCT ?row ?raw ?via WHERE {{ ?via ?p {node} . ?row <{CSVW}describes> ?via "
        f"OPTIONAL {{ ?row <{CK}rawRecord> ?raw }} }} LIMIT {ONE_HOP_LIMIT}",
    )
    return via, True


def row_parts(row_iri: str) -> tuple[str | None, str, int | None]:
    """(export IRI, file name, row number) of a row IRI ``<export>#row=N``."""
    export, hash_, fragment = row_iri.partition("#")
    if not hash_:
        return None, "", None
    number = fragment.removeprefix("row=")
    file = unquote(export.rsplit("/", 1)[-1])
    return export, file, int(number) if number.isdigit() else None


async def validation_reports(request: Request) -> list[dict[str, Any]]:
    """The sh:ValidationReport nodes in the live graphs (cached per store generation)."""

    async def compute() -> list[dict[str, Any]]:
        rows = await select(
            request,
            f"""SELECT ?report ?g ?conforms ?time WHERE {{ GRAPH ?g {{ ?report a <{SH}ValidationReport>
  OPTIONAL {{ ?report <{SH}conforms> ?conforms }}
  OPTIONAL {{ ?report <{PROV}generatedAtTime>|<{DCTERMS}created>|<{DCTERMS}date> ?time }} }} }} LIMIT 20""",
        )
        return [
            {
                "graph": r["g"].value,
                "conforms": r["conforms"].value if "conforms" in r else None,
                "time": r["time"].value if "time" in r else None,
            }
            for r in rows
        ]

    return await cache_of(request.app).get(request.app, "validation-reports", compute)


async def _validation(request: Request, iri: str) -> dict[str, Any]:
    reports = await validation_reports(request)
    if not reports:
        return {"validated": False, "reports": [], "results": []}
    rows = await select(
        request,
        f"""SELECT DISTINCT ?severity ?message ?path ?shape ?value WHERE {{
  ?result <{SH}focusNode> {iri_term(iri)} ; <{SH}resultSeverity> ?severity .
  OPTIONAL {{ ?result <{SH}resultMessage> ?message }}
  OPTIONAL {{ ?result <{SH}resultPath> ?path FILTER isIRI(?path) }}
  OPTIONAL {{ ?result <{SH}sourceShape> ?shape FILTER isIRI(?shape) }}
  OPTIONAL {{ ?result <{SH}value> ?value }}
}} LIMIT {VALIDATION_LIMIT + 1}""",
    )
    order = {SH + "Violation": 0, SH + "Warning": 1, SH + "Info": 2}
    results = sorted(rows.rows[:VALIDATION_LIMIT], key=lambda r: (order.get(r["severity"].value, 3), str(r.get("message", ""))))
    return {"validated": True, "reports": reports, "results": results, "more": len(rows) > VALIDATION_LIMIT}


def _export_dataset(graph: str) -> DatasetSpec:
    return DatasetSpec((), (graph,))


async def _export_rows(request: Request, iri: str, graph: str, offset: int) -> Rows:
    # rows are read from the export's own graph: over the list of every live graph the same
    # query is 30x slower
    return await select(
        request,
        f"""SELECT ?row ?rownum ?raw (GROUP_CONCAT(STR(?d); separator=" ") AS ?describes) WHERE {{ GRAPH <{graph}> {{
  {iri_term(iri)} <{CSVW}row> ?row .
  OPTIONAL {{ ?row <{CSVW}rownum> ?rownum }}
  OPTIONAL {{ ?row <{CK}rawRecord> ?raw }}
  OPTIONAL {{ ?row <{CSVW}describes> ?d }}
}} }} GROUP BY ?row ?rownum ?raw ORDER BY ?rownum ?row LIMIT {ROWS_PER_PAGE} OFFSET {offset}""",
        dataset=_export_dataset(graph),
    )


async def _row_count(request: Request, iri: str, graph: str) -> int:
    rows = await select(
        request,
        f"SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ GRAPH <{graph}> {{ {iri_term(iri)} <{CSVW}row> ?r }} }}",
        dataset=_export_dataset(graph),
    )
    return as_int(rows.rows[0].get("n")) if rows.rows else 0


def _int_param(request: Request, name: str, default: int = 0) -> int:
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise Problem(400, "Bad request", f"{name} must be a whole number, not {value!r}", slug="bad-request") from None
    if number < 0:
        raise Problem(400, "Bad request", f"{name} must not be negative", slug="bad-request")
    return number


async def entity_page(request: Request, iri: str, head: bool, offers: Sequence[conneg.Format]) -> Response | None:
    """The HTML page of an entity, or None when the store says nothing about it."""
    links = links_for(request)
    outgoing = await _outgoing(request, iri)
    if not outgoing.rows:
        return None
    catalog = await export_graphs(request.app)
    export_graph = catalog.graph_of.get(iri)  # an export: its rows are hash IRIs of its page
    is_table = export_graph is not None
    offset = _int_param(request, "rows") if is_table else 0
    jobs: list[Awaitable[Any]] = [
        _incoming(request, iri),
        _sources(request, iri),
        _graphs(request, iri),
        _validation(request, iri),
    ]
    if export_graph is not None:
        jobs += [_export_rows(request, iri, export_graph, offset), _row_count(request, iri, export_graph)]
    done = await asyncio.gather(*jobs)
    incoming, (sources, one_hop), graphs, validation = done[:4]
    rows, row_count = (done[4], done[5]) if is_table else (Rows([]), 0)

    wanted: list[str] = []
    for r in outgoing.rows[:OUT_LIMIT]:
        wanted.append(r["p"].value)
        if isinstance(r["o"], ox.NamedNode):
            wanted.append(r["o"].value)
    for r in validation["results"]:
        wanted += [r[k].value for k in ("path", "shape", "severity") if k in r]
    wanted += [r["p"].value for r in incoming.rows[:IN_LIMIT]]
    wanted += [r["s"].value for r in incoming.rows[:IN_LIMIT] if isinstance(r["s"], ox.NamedNode)]
    # a label costs an index look-up per live graph: the first LABEL_LIMIT IRIs get theirs
    labels = await fetch_labels(request, [iri, *wanted], limit=LABEL_LIMIT)

    types: list[Value] = []
    props: dict[str, PropertyValues] = {}
    for r in outgoing.rows[:OUT_LIMIT]:
        p, o = r["p"].value, r["o"]
        if p == RDF_TYPE:
            types.append(value_of(o, links, labels))
            continue
        entry = props.get(p)
        if entry is None:
            entry = props[p] = PropertyValues(p, labels.get(p) or compact(p), property_href(p, links))
        entry.values.append(value_of(o, links, labels))

    incoming_groups: dict[str, PropertyValues] = {}
    for r in incoming.rows[:IN_LIMIT]:
        p = r["p"].value
        entry = incoming_groups.get(p)
        if entry is None:
            entry = incoming_groups[p] = PropertyValues(p, labels.get(p) or compact(p), property_href(p, links))
        entry.values.append(value_of(r["s"], links, labels))
    for entry in incoming_groups.values():
        entry.values.sort(key=lambda v: (v.text, v.iri or ""))

    source_rows = []
    for r in sources.rows[:SOURCE_LIMIT]:
        row_iri = r["row"].value
        export, file, rownum = row_parts(row_iri)
        source_rows.append(
            {
                "row": row_iri,
                "href": links.href(row_iri),
                "export": links.href(export) if export else None,
                "export_iri": export,
                "file": file,
                "rownum": rownum,
                "raw": json_pairs(r["raw"].value) if "raw" in r else None,
                "via": value_of(r["via"], links, {}) if "via" in r else None,
            }
        )
    source_rows.sort(key=lambda r: (r["file"], r["export_iri"] or "", r["rownum"] or 0, r["row"]))

    stated_in = []
    for r in graphs.rows:
        g = r["g"].value
        export = catalog.export_of.get(g)
        stated_in.append(
            {
                "graph": g,
                "graph_href": f"{links.root}/graph?{urlencode({'graph': g})}",
                "export": export,
                "export_href": links.href(export) if export else None,
                "name": short_label(export) if export else short_label(g),
            }
        )

    table_rows = []
    for r in rows.rows:
        described = [d for d in r.get("describes", ox.Literal("")).value.split(" ") if d]
        rownum = r["rownum"].value if "rownum" in r else ""
        table_rows.append(
            {
                "anchor": r["row"].value.partition("#")[2] or f"row={rownum}",
                "rownum": rownum,
                "iri": r["row"].value,
                "describes": [{"href": links.href(d), "text": short_label(d)} for d in sorted(described)],
                "raw": json_pairs(r["raw"].value) if "raw" in r else None,
            }
        )

    validation_rows = [
        {
            "severity": compact(r["severity"].value).removeprefix("sh:"),
            "message": r["message"].value if "message" in r else "",
            "path": value_of(r["path"], links, labels) if "path" in r else None,
            "shape": value_of(r["shape"], links, labels) if "shape" in r else None,
            "value": value_of(r["value"], links, labels) if "value" in r else None,
        }
        for r in validation["results"]
    ]

    title = labels.get(iri) or short_label(iri)
    describe = f"DESCRIBE {iri_term(iri)}"
    page_links = alternates(request, offers, "html")
    return render(
        request,
        "ld_entity.html",
        head=head,
        headers={"Link": link_header(a for a in page_links if a["name"] != "html")},
        title=title,
        iri=iri,
        has_label=iri in labels,
        types=types,
        properties=sorted(props.values(), key=lambda e: (e.label.lower(), e.iri)),
        more_properties=len(outgoing.rows) > OUT_LIMIT,
        incoming=sorted(incoming_groups.values(), key=lambda e: (e.label.lower(), e.iri)),
        more_incoming=len(incoming.rows) > IN_LIMIT,
        incoming_query=_sparql_link(request, f"SELECT ?s ?p WHERE {{ ?s ?p {iri_term(iri)} }}"),
        sources=source_rows,
        more_sources=not one_hop and len(sources.rows) > SOURCE_LIMIT,
        one_hop=one_hop,
        stated_in=stated_in,
        validation=validation,
        validation_rows=validation_rows,
        is_table=is_table,
        table_rows=table_rows,
        row_count=row_count,
        rows_offset=offset,
        rows_per_page=ROWS_PER_PAGE,
        alternates=page_links,
        describe_query=_sparql_link(request, describe),
    )


def entity_construct(iri: str) -> str:
    """The triples about an entity: its own and its blank nodes'."""
    node = iri_term(iri)
    return (
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ SELECT DISTINCT ?s ?p ?o WHERE {{ "
        f"{{ {node} ?p ?o BIND({node} AS ?s) }} "
        f"UNION {{ {node} ?x ?s . FILTER isBlank(?s) ?s ?p ?o }} }} }} }}"
    )


def export_construct(iri: str, graph: str) -> str:
    """The triples about an export (a document whose rows are hash IRIs): its own and its rows'."""
    node = iri_term(iri)
    return (
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ SELECT DISTINCT ?s ?p ?o WHERE {{ "
        f"{{ {node} ?p ?o BIND({node} AS ?s) }} "
        f"UNION {{ GRAPH <{graph}> {{ {node} <{CSVW}row> ?s . ?s ?p ?o }} }} }} }} }}"
    )


async def entity_rdf(request: Request, iri: str, fmt: conneg.Format, head: bool,
                     offers: Sequence[conneg.Format]) -> Response | None:
    catalog = await export_graphs(request.app)
    export_graph = catalog.graph_of.get(iri)
    if export_graph is None:
        answer = await construct(request, entity_construct(iri), fmt)
    else:  # an export and its rows: the rows from the export's own graph (much faster)
        live = request.app.state.runtime.catalog().live
        answer = await construct(request, export_construct(iri, export_graph), fmt,
                                 dataset=DatasetSpec(tuple(live), (export_graph,)))
    if answer.count == 0:
        discard(answer)
        return None
    response = answer_response(answer, request.app.state.settings, head=head)
    response.headers["Link"] = link_header(a for a in alternates(request, offers, fmt.name) if a["name"] != fmt.name)
    return response


async def serve_entity(request: Request, path: str) -> Response:
    """An IRI under a base, by its local path: page or triples, 303 for a graph name, else 404."""
    settings: Settings = request.app.state.settings
    fmt = choose_format(request, PAGE_FORMATS)
    head = request.method == "HEAD"
    candidates = candidate_iris(settings, path)
    for iri in candidates:
        if fmt is HTML:
            response = await entity_page(request, iri, head, PAGE_FORMATS)
        else:
            response = await entity_rdf(request, iri, fmt, head, PAGE_FORMATS)
        if response is not None:
            return response
    catalog = request.app.state.runtime.catalog()
    for iri in candidates:
        if catalog.is_live(iri):
            root = request.scope.get("root_path", "").rstrip("/")
            params = [("graph", iri)] + ([("format", fmt.name)] if fmt is not HTML else [])
            return RedirectResponse(f"{root}/graph?{urlencode(params)}", status_code=303, headers={"Vary": "Accept"})
    raise Problem(
        404,
        "Not found",
        f"this store says nothing about <{candidates[0]}>",
        slug="not-found",
        iri=candidates[0],
    )


# -- routes: /id, /vocab -------------------------------------------------------------------------

_RESPONSES = {
    200: {
        "description": "the resource: an HTML page, or its triples",
        "content": {f.essence: {} for f in PAGE_FORMATS},
    },
    303: {"description": "the IRI names a graph: see the Graph Store"},
    404: {"description": "the store has no triple about this IRI"},
    406: {"description": "no acceptable representation"},
}


@router.get("/id/{path:path}", summary="An entity (HTML page or RDF)", responses=_RESPONSES)
@router.head("/id/{path:path}", include_in_schema=False)
async def entity(request: Request, path: str) -> Response:
    return await serve_entity(request, request_path(request))


@router.get("/vocab/{path:path}", summary="A concept scheme or concept", responses=_RESPONSES)
@router.head("/vocab/{path:path}", include_in_schema=False)
async def vocabulary_term(request: Request, path: str) -> Response:
    if not path.strip("/"):
        return await vocabularies(request)
    return await serve_entity(request, request_path(request))


@router.get("/vocab", summary="The concept schemes", responses=_RESPONSES)
@router.head("/vocab", include_in_schema=False)
async def vocabularies(request: Request) -> Response:
    fmt = choose_format(request, PAGE_FORMATS)
    head = request.method == "HEAD"
    query_where = f"?s a <{SKOS}ConceptScheme> . FILTER (STRSTARTS(STR(?s), {json.dumps(iris.VOCAB_BASE)}))"
    if fmt is not HTML:
        answer = await construct(
            request,
            f"CONSTRUCT {{ ?s a <{SKOS}ConceptScheme> ; ?lp ?l }} WHERE {{ {query_where} "
            f"OPTIONAL {{ VALUES ?lp {{ <{SKOS}prefLabel> <{RDFS}label> <{DCTERMS}title> }} ?s ?lp ?l }} }}",
            fmt,
        )
        return answer_response(answer, request.app.state.settings, head=head)
    rows = await select(
        request,
        f"SELECT ?s (COUNT(DISTINCT ?c) AS ?n) WHERE {{ {query_where} OPTIONAL {{ ?c <{SKOS}inScheme> ?s }} }} "
        f"GROUP BY ?s ORDER BY ?s",
    )
    links = links_for(request)
    labels = await fetch_labels(request, [r["s"].value for r in rows])
    schemes = [
        {
            "iri": r["s"].value,
            "href": links.href(r["s"].value),
            "label": labels.get(r["s"].value) or short_label(r["s"].value),
            "concepts": as_int(r.get("n")),
        }
        for r in rows
    ]
    return render(request, "ld_vocab_index.html", head=head, title="Vocabularies", schemes=schemes,
                  alternates=alternates(request, PAGE_FORMATS, "html"))


# -- route: /ontology ----------------------------------------------------------------------------

ONTOLOGY_GRAPH = iris.BASE + "graph/ontology"
_ontology_html: dict[str, str] = {}
_ontology_lock = asyncio.Lock()


def _ontology_digest() -> str:
    import hashlib

    from carbonkg.ontology.resources import module_paths

    sha = hashlib.sha256()
    for path in module_paths():
        sha.update(path.name.encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()


def add_term_anchors(html: str, namespace: str = CK) -> str:
    """pyLODE names its sections after labels (``id="creditblock"``); add an anchor with each term's
    local name (``id="CreditBlock"``) so that ``/ontology#Term`` lands on the term."""
    ids = set(re.findall(r'\sid="([^"]*)"', html))
    opening = re.compile(r'<div class="[^"]*\bentity\b[^"]*" id="([^"]*)">')
    code = re.compile(r"<code>" + re.escape(namespace) + r"([^<#\s]+)</code>")
    matches = list(opening.finditer(html))
    out, last = [], 0
    for n, match in enumerate(matches):
        end = matches[n + 1].start() if n + 1 < len(matches) else len(html)
        found = code.search(html, match.end(), end)
        out.append(html[last:match.end()])
        last = match.end()
        if found:
            local = found.group(1)
            if local != match.group(1) and local not in ids:
                out.append(f'<a id="{local}"></a>')
                ids.add(local)
    out.append(html[last:])
    return "".join(out)


def localise_links(html: str, links: Links) -> str:
    """Links into the carbonkg namespaces lead to this server's pages."""
    for base in links.bases:
        html = html.replace(f'href="{base}', f'href="{links.root}/')
    return html


async def ontology_html(links: Links) -> str:
    digest = await asyncio.to_thread(_ontology_digest)
    key = f"{digest} {links.root} {' '.join(links.bases)}"
    if key not in _ontology_html:
        async with _ontology_lock:
            if key not in _ontology_html:
                from carbonkg.ontology.docs import render_html

                html = await asyncio.to_thread(render_html)
                _ontology_html.clear()
                _ontology_html[key] = localise_links(add_term_anchors(html), links)
    return _ontology_html[key]


def _ontology_file_triples() -> list[ox.Triple]:
    from carbonkg.ontology.resources import module_paths

    triples: dict[ox.Triple, None] = {}
    for path in module_paths():
        for triple in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            triples[triple] = None
    return list(triples)


@router.get("/ontology", summary="The carbonkg ontology (documentation or RDF)", responses=_RESPONSES)
@router.head("/ontology", include_in_schema=False)
async def ontology(request: Request) -> Response:
    fmt = choose_format(request, PAGE_FORMATS)
    head = request.method == "HEAD"
    offers = alternates(request, PAGE_FORMATS, fmt.name)
    link = link_header(a for a in offers if a["name"] != fmt.name)
    if fmt is HTML:
        body = (await ontology_html(links_for(request))).encode("utf-8")
        headers = {"Vary": "Accept", "Link": link}
        if head:
            return Response(status_code=200, headers={**headers, "Content-Length": str(len(body))}, media_type=HTML.media_type)
        return Response(body, headers=headers, media_type=HTML.media_type)
    if request.app.state.runtime.catalog().is_live(ONTOLOGY_GRAPH):
        answer = await construct(
            request,
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?s ?p ?o }} }}",
            fmt,
            dataset=DatasetSpec((), (ONTOLOGY_GRAPH,)),
        )
        response = answer_response(answer, request.app.state.settings, head=head)
        response.headers["Link"] = link
        return response
    # the store was loaded without the static graphs: the ontology's own files
    body = rdf_bytes(await asyncio.to_thread(_ontology_file_triples), fmt)
    headers = {"Vary": "Accept", "Link": link}
    if head:
        return Response(status_code=200, headers={**headers, "Content-Length": str(len(body))}, media_type=fmt.media_type)
    return Response(body, headers=headers, media_type=fmt.media_type)
