"""SPARQL 1.1 Graph Store HTTP Protocol at ``/graph``.

Graphs are named indirectly (``/graph?graph=<IRI>``, ``/graph?default``) or directly: the path
``/graph/<rest>`` names the graph ``<base>graph/<rest>``, the public IRI of that path (so
``/graph/ontology`` is the ontology, on localhost as under the published domain).

- ``GET``/``HEAD``: open to all; the graph in the negotiated RDF format (through the query workers,
  so the time and result limits apply); 404 for a graph that is not live. ``?default`` is the
  store's own default graph (where writes without a graph go), not the union queries see.
- ``PUT`` (replace), ``POST`` (merge; to ``/graph`` alone: create a new graph, 201 + Location) and
  ``DELETE``: only with ``allow_update`` and the bearer token; never on the loaders' graphs (403).
  Uploads are Turtle, N-Triples, JSON-LD or RDF/XML (RDF/XML is screened with defusedxml: a DTD,
  hence any entity or external reference, is refused), at most ``max_request_bytes``. Content and
  catalog registration change in one transaction.
"""

from __future__ import annotations

import re
import uuid

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from carbonkg.server import conneg, inputs
from carbonkg.server.dataset import DatasetSpec, register_user_graphs, unregister_user_graphs
from carbonkg.server.execute import QueryTask
from carbonkg.server.problems import Problem
from carbonkg.server.responses import answer_response
from carbonkg.server.runtime import Runtime
from carbonkg.server.settings import Settings

router = APIRouter(tags=["Graph Store"])

DEFAULT = ""  # the store's own default graph
UPLOAD_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"]
_RESPONSES = {
    200: {"description": "the graph", "content": {f.essence: {} for f in conneg.GRAPH_FORMATS}},
    201: {"description": "graph created (POST to /graph: its IRI in Location)"},
    204: {"description": "graph replaced, merged or deleted"},
    400: {"description": "no graph named, or a malformed upload"},
    401: {"description": "no or wrong bearer token"},
    403: {"description": "writes disabled, or a graph maintained by the loaders"},
    404: {"description": "no such graph"},
    406: {"description": "no acceptable RDF format"},
    413: {"description": "upload over the size limit"},
    415: {"description": "unsupported upload format"},
}


def _direct_iri(request: Request, settings: Settings) -> str:
    """The public IRI of the request path, kept percent-encoded as the client sent it."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if raw else request.url.path
    path = path.split("?", 1)[0]
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    iri = settings.public_iri(path)
    if _BAD_IRI.search(iri):
        raise Problem(400, "Bad request", f"the path {path!r} does not name a graph: it is not an IRI path", slug="bad-request")
    return iri


def _target(request: Request, settings: Settings, direct: bool) -> str | None:
    """The graph a request names: an IRI, DEFAULT, or None when it names none."""
    params = request.query_params
    graphs = params.getlist("graph")
    has_default = "default" in params
    if direct:
        if graphs or has_default:
            raise Problem(
                400, "Bad request", "a graph named by its path takes no ?graph or ?default parameter", slug="bad-request"
            )
        return _direct_iri(request, settings)
    if graphs and has_default:
        raise Problem(400, "Bad request", "name one graph: ?graph=<IRI> or ?default, not both", slug="bad-request")
    if len(graphs) > 1:
        raise Problem(400, "Bad request", f"name one graph: this request has {len(graphs)} graph parameters", slug="bad-request")
    if has_default:
        return DEFAULT
    if graphs:
        iri = graphs[0]
        if not iri or _BAD_IRI.search(iri):
            raise Problem(400, "Bad request", f"{iri!r} is not an IRI", slug="bad-request")
        try:
            ox.NamedNode(iri)
        except ValueError as exc:
            raise Problem(400, "Bad request", f"{iri!r} is not an absolute IRI: {exc}", slug="bad-request") from None
        return iri
    return None


def _exists(runtime: Runtime, iri: str) -> bool:
    if iri == DEFAULT:
        return True
    return runtime.graph_exists(iri)


def _graph_name(iri: str) -> str:
    return "the default graph" if iri == DEFAULT else f"<{iri}>"


async def _read(request: Request, direct: bool) -> Response:
    settings: Settings = request.app.state.settings
    runtime: Runtime = request.app.state.runtime
    iri = _target(request, settings, direct)
    if iri is None:
        raise Problem(400, "Bad request", "name a graph: ?graph=<IRI> or ?default", slug="bad-request")
    accept = request.headers.get("accept")
    format_param = request.query_params.get("format")
    fmt = conneg.choose("graph", accept, format_param)
    if fmt is None:
        raise conneg.not_acceptable("graph", accept, format_param)
    if not _exists(runtime, iri):
        raise Problem(404, "Graph not found", f"this store has no graph {_graph_name(iri)}", slug="graph-not-found")
    if iri == DEFAULT:
        sparql, spec = "CONSTRUCT WHERE { ?s ?p ?o }", DatasetSpec(store_default=True)
    else:
        sparql, spec = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}", DatasetSpec((), (iri,))
    task = QueryTask(
        sparql=sparql,
        base_iri=settings.graph_store,
        dataset=spec,
        formats={"graph": fmt.name, "solutions": None, "boolean": None},
        max_results=settings.max_results,
        limit_doc=settings.sparql_endpoint + "#result-limit",
    )
    answer = await runtime.query(task)
    return answer_response(answer, settings, head=request.method == "HEAD")


async def _upload(request: Request, settings: Settings, base: str) -> str:
    """The request body as N-Triples text (for INSERT DATA)."""
    essence, parameters = inputs.content_type(request)
    if essence is None:
        raise Problem(
            415,
            "Unsupported media type",
            "an upload needs a Content-Type: " + ", ".join(sorted(set(UPLOAD_FORMATS) - {"application/x-turtle"})),
            slug="unsupported-media-type",
        )
    if essence == "multipart/form-data" and request.method == "POST":
        body = await inputs.read_body(request, settings.max_request_bytes)
        return "".join(_parse_rdf(payload, part_type, base) for part_type, payload in _parts(request, body))
    if essence not in UPLOAD_FORMATS:
        raise _unsupported(essence)
    inputs.require_utf8(essence, parameters)
    body = await inputs.read_body(request, settings.max_request_bytes)
    return _parse_rdf(body, essence, base)


def _unsupported(essence: str) -> Problem:
    return Problem(
        415,
        "Unsupported media type",
        f"{essence} is not an RDF graph format this store accepts: "
        + ", ".join(sorted(set(UPLOAD_FORMATS) - {"application/x-turtle"}))
        + " (or multipart/form-data of those, by POST)",
        slug="unsupported-media-type",
    )


def _parse_rdf(body: bytes, essence: str, base: str) -> str:
    """An RDF upload as N-Triples lines; 415 for a format that is not accepted, 400 if malformed."""
    fmt = UPLOAD_FORMATS.get(essence)
    if fmt is None:
        raise _unsupported(essence)
    if fmt == ox.RdfFormat.RDF_XML:
        _screen_xml(body)
    try:
        quads = list(ox.parse(body, fmt, base_iri=base, without_named_graphs=True, rename_blank_nodes=True))
    except SyntaxError as exc:
        match = re.search(r"line (\d+) column (\d+)", str(exc))
        extra = {"line": int(match.group(1)), "column": int(match.group(2))} if match else {}
        raise Problem(400, "Malformed RDF", f"the {essence} body does not parse: {exc}", slug="rdf-syntax", **extra) from None
    if not quads:
        return ""
    return (ox.serialize((q.triple for q in quads), None, ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")


def _parts(request: Request, body: bytes) -> list[tuple[str, bytes]]:
    """The (media type, payload) of each part of a multipart/form-data upload (GSP §5.5)."""
    from email import policy
    from email.parser import BytesParser

    header = request.headers["content-type"].encode("latin-1")
    message = BytesParser(policy=policy.HTTP).parsebytes(b"Content-Type: " + header + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise Problem(400, "Bad request", "the multipart/form-data body has no parts", slug="bad-request")
    parts = []
    for part in message.iter_parts():
        media_type = part.get_content_type()
        if media_type == "text/plain" and part.get_filename():  # no type given: go by the file name
            guessed = ox.RdfFormat.from_extension(part.get_filename().rsplit(".", 1)[-1])
            media_type = guessed.media_type if guessed else media_type
        payload = part.get_payload(decode=True) or b""
        parts.append((media_type.split(";")[0].strip().lower(), payload))
    return parts


def _screen_xml(body: bytes) -> None:
    """Refuse RDF/XML with a DTD: no entity expansion (billion laughs), no external references (XXE)."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise Problem(
            400,
            "Unsafe RDF/XML",
            f"RDF/XML with a document type declaration (DTD), entities or external references is refused "
            f"({exc.__class__.__name__})",
            slug="unsafe-xml",
        ) from None
    except ParseError as exc:
        raise Problem(400, "Malformed RDF", f"the RDF/XML body is not well-formed XML: {exc}", slug="rdf-syntax") from None


def _registration(op: str, iri: str) -> str:
    return register_user_graphs([iri]) if op == "INSERT" else unregister_user_graphs([iri])


def _insert(iri: str, ntriples: str) -> str:
    if not ntriples:
        return ""
    if iri == DEFAULT:
        return f"INSERT DATA {{\n{ntriples}\n}}"
    return f"INSERT DATA {{ GRAPH <{iri}> {{\n{ntriples}\n}} }}"


async def _write(request: Request, direct: bool) -> Response:
    settings: Settings = request.app.state.settings
    runtime: Runtime = request.app.state.runtime
    inputs.require_writer(request, settings)
    iri = _target(request, settings, direct)
    method = request.method
    location = None
    if iri is None:
        if method != "POST":
            raise Problem(400, "Bad request", "name a graph: ?graph=<IRI> or ?default", slug="bad-request")
        iri = f"{settings.graph_store}/{uuid.uuid4().hex}"  # POST to the graph store: a new graph
        location = iri
    if iri != DEFAULT and runtime.catalog().is_protected(iri):
        raise Problem(
            403,
            "Graph not allowed",
            f"<{iri}> is maintained by the loaders (registry exports, ontology, vocabularies or the catalog) "
            "and cannot be changed through the Graph Store Protocol",
            slug="protected-graph",
            graph=iri,
        )
    existed = _exists(runtime, iri)
    if method == "DELETE":
        if not existed:
            raise Problem(404, "Graph not found", f"this store has no graph {_graph_name(iri)}", slug="graph-not-found")
        if iri == DEFAULT:
            steps = ["CLEAR DEFAULT"]
        else:
            steps = [f"DROP SILENT GRAPH <{iri}>", _registration("DELETE", iri)]
        status = 204
    else:
        ntriples = await _upload(request, settings, iri or settings.graph_store)
        if iri == DEFAULT:
            steps = (["CLEAR DEFAULT"] if method == "PUT" else []) + [_insert(iri, ntriples)]
        elif method == "PUT":
            steps = [f"DROP SILENT GRAPH <{iri}>", f"CREATE GRAPH <{iri}>", _insert(iri, ntriples), _registration("INSERT", iri)]
        else:
            steps = [f"CREATE SILENT GRAPH <{iri}>", _insert(iri, ntriples), _registration("INSERT", iri)]
        status = 204 if existed else 201
    text = " ;\n".join(step for step in steps if step)
    if text:
        await runtime.write(lambda raw: raw.update(text))
    headers = {"Location": location} if location else {}
    return Response(status_code=status, headers=headers)


async def graph_store(request: Request) -> Response:
    """Graph Store, indirect identification (``?graph=<IRI>``, ``?default``; POST alone creates a graph)."""
    if request.method in ("GET", "HEAD"):
        return await _read(request, direct=False)
    return await _write(request, direct=False)


async def graph_direct(request: Request, path: str) -> Response:
    """Graph Store, direct identification: ``/graph/<path>`` names ``<base>graph/<path>``."""
    if request.method in ("GET", "HEAD"):
        return await _read(request, direct=True)
    return await _write(request, direct=True)


for _method in _METHODS:  # one route per method: distinct OpenAPI operations
    router.add_api_route("/graph", graph_store, methods=[_method], responses=_RESPONSES,
                         summary=f"{_method} a graph named by ?graph or ?default")
    router.add_api_route("/graph/{path:path}", graph_direct, methods=[_method], responses=_RESPONSES,
                         summary=f"{_method} a graph named by its path")
