"""SPARQL 1.1 Protocol, query operation, at ``/sparql``.

- ``GET /sparql?query=…`` (query in the URL), ``POST`` with ``application/x-www-form-urlencoded``
  (``query=…`` in the body; dataset parameters may also be in the URL), ``POST`` with
  ``application/sparql-query`` (the query is the body; dataset parameters in the URL);
- ``default-graph-uri`` / ``named-graph-uri`` choose the dataset (they override the query's
  ``FROM``/``FROM NAMED``); graphs that are not live are empty;
- the answer's format follows ``Accept`` or a ``format`` parameter (:mod:`carbonkg.server.conneg`);
- ``GET /sparql`` without a query answers the service description.

Updates are not accepted here: they go to ``/update`` (:mod:`carbonkg.server.update`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from carbonkg.server import conneg, inputs
from carbonkg.server.dataset import DatasetSpec
from carbonkg.server.execute import QueryTask
from carbonkg.server.problems import OTHER_METHODS, Problem, method_not_allowed, problem_response
from carbonkg.server.responses import answer_response
from carbonkg.server.runtime import Runtime
from carbonkg.server.safety import analyse_query, check_remote_calls
from carbonkg.server.service_description import description_response
from carbonkg.server.settings import Settings

router = APIRouter(tags=["SPARQL"])

_QUERY_DOC = "a SPARQL 1.1 query"
_RESPONSES = {
    200: {
        "description": "query results (SELECT, ASK) or an RDF graph (CONSTRUCT, DESCRIBE), in the negotiated format",
        "content": {
            **{f.essence: {} for f in conneg.SOLUTION_FORMATS},
            **{f.essence: {} for f in conneg.GRAPH_FORMATS},
        },
    },
    400: {"description": "malformed query, or a protocol error (problem details)"},
    403: {"description": "SERVICE to an IRI that is not on the allow-list"},
    406: {"description": "no acceptable format for this kind of result"},
    413: {"description": "request body over the size limit"},
    415: {"description": "unsupported request media type or charset"},
    503: {"description": "the query ran past the time limit and was stopped, or all workers are busy"},
}


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def _url_parameter(name: str, description: str, *, array: bool = False) -> dict:
    schema: dict = {"type": "array", "items": {"type": "string"}} if array else {"type": "string"}
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


# The GET parameters are documented here rather than declared as FastAPI ``Query`` parameters: the
# handler reads them from the URL itself (repeats and all, as the protocol requires), and FastAPI's
# validation of four declared parameters cost ~50 µs CPU per request, as much as the rest of the handler.
_GET_PARAMETERS = {
    "parameters": [
        _url_parameter("query", _QUERY_DOC + "; without it, the service description"),
        _url_parameter("default-graph-uri", "graphs merged as the default graph", array=True),
        _url_parameter("named-graph-uri", "graphs available to GRAPH", array=True),
        _url_parameter(
            "format", "answer format, overriding Accept: json, xml, csv, tsv, turtle, ntriples, jsonld, rdfxml"
        ),
    ]
}


@router.get(
    "/sparql",
    summary="Query by GET, or read the service description",
    responses=_RESPONSES,
    openapi_extra=_GET_PARAMETERS,
)
@router.head("/sparql", summary="Headers of the GET answer", responses=_RESPONSES, openapi_extra=_GET_PARAMETERS)
async def query_get(request: Request) -> Response:
    fields = query_string_fields(request.scope["query_string"])
    if inputs.values(fields, "update"):
        raise Problem(
            400,
            "Bad request",
            "SPARQL Update is not accepted by GET: POST it to /update",
            slug="bad-request",
        )
    text = inputs.one_operation(fields, "query", "in the URL")
    if text is None:
        return await description_response(request)
    return await answer_query(request, text, fields)


@router.post(
    "/sparql",
    summary="Query by POST (form or direct)",
    responses=_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                inputs.SPARQL_QUERY: {"schema": {"type": "string"}, "example": "ASK { ?s ?p ?o }"},
                inputs.FORM: {
                    "schema": {
                        "type": "object",
                        "required": ["query"],
                        "properties": {
                            "query": {"type": "string"},
                            "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                            "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                            "format": {"type": "string"},
                        },
                    }
                },
            },
        }
    },
)
async def query_post(request: Request) -> Response:
    settings = get_settings(request)
    essence, parameters = inputs.content_type(request)
    url_fields = list(request.query_params.multi_items())
    if essence is None:
        raise Problem(
            415,
            "Unsupported media type",
            f"a POST to /sparql needs a Content-Type: {inputs.SPARQL_QUERY} (the query as the body) "
            f"or {inputs.FORM} (query=...)",
            slug="unsupported-media-type",
        )
    if essence == inputs.FORM:
        inputs.require_utf8(essence, parameters)
        body = await inputs.read_body(request, settings.max_request_bytes)
        fields = url_fields + inputs.parse_form(body)
        if inputs.values(fields, "update"):
            raise Problem(400, "Bad request", "SPARQL Update is not accepted at /sparql: POST it to /update", slug="bad-request")
        text = inputs.one_operation(fields, "query", "in the URL and the form")
        if text is None:
            raise Problem(400, "Bad request", "the form has no `query` field", slug="bad-request")
        return await answer_query(request, text, fields)
    if essence == inputs.SPARQL_QUERY:
        inputs.require_utf8(essence, parameters)
        if inputs.values(url_fields, "query"):
            raise Problem(
                400,
                "Bad request",
                "a request carries one query: with application/sparql-query the body is the query, "
                "so the URL must not have a `query` parameter",
                slug="bad-request",
            )
        body = await inputs.read_body(request, settings.max_request_bytes)
        text = inputs.decode_utf8(body, "query")
        return await answer_query(request, text, url_fields)
    if essence == inputs.SPARQL_UPDATE:
        raise Problem(
            415,
            "Unsupported media type",
            f"{inputs.SPARQL_UPDATE} is accepted at /update, not at /sparql",
            slug="unsupported-media-type",
        )
    raise Problem(
        415,
        "Unsupported media type",
        f"{essence} is not a query: /sparql accepts {inputs.SPARQL_QUERY} and {inputs.FORM}",
        slug="unsupported-media-type",
    )


@router.api_route("/sparql", methods=OTHER_METHODS, include_in_schema=False)
async def query_other(request: Request) -> Response:
    raise method_not_allowed(request, "GET, HEAD, POST")


#: URLs up to this length have their parameters remembered by :func:`query_string_fields` (at most ``_CACHED_URLS``)
_CACHE_URL_BYTES = 16 * 1024
_CACHED_URLS = 256


def query_string_fields(query_string: bytes) -> Sequence[tuple[str, str]]:
    """The URL's parameters, in order, repeats kept, decoded as Starlette decodes them.

    Remembered for URLs up to ``_CACHE_URL_BYTES`` (bounded LRU): clients send the same queries
    over and over, and percent-decoding one costs ~15 µs."""
    if len(query_string) <= _CACHE_URL_BYTES:
        return _query_string_fields_cached(query_string)
    return _query_string_fields(query_string)


def _query_string_fields(query_string: bytes) -> tuple[tuple[str, str], ...]:
    return tuple(QueryParams(query_string).multi_items())


_query_string_fields_cached = lru_cache(maxsize=_CACHED_URLS)(_query_string_fields)


class QueryGetShortcut:
    """``GET``/``HEAD /sparql`` handed straight to :func:`query_get`, past FastAPI's router.

    The route needs nothing the router adds per request (no parameters to validate, no
    dependencies: the handler reads the URL itself), and matching it among the service's routes
    and solving its (empty) dependencies cost ~40 µs CPU per request, as much as the handler.
    Installed inside the CORS and metrics middlewares, so they see these requests as before; sets
    what the router would (``route``, ``endpoint``, ``router``) and answers problems as the
    exception handler does; any other exception goes on to the server-error handler, as it would."""

    def __init__(self, app: Any, app_router: APIRouter) -> None:
        self.app = app
        self.app_router = app_router  # the application's, for request.url_for
        # this module's GET and HEAD routes: the metrics label requests by their path
        self.routes = {
            method: route
            for route in router.routes
            if getattr(route, "endpoint", None) is query_get
            for method in getattr(route, "methods", ())
        }

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not _is_sparql_path(scope):
            await self.app(scope, receive, send)
            return
        scope["route"], scope["endpoint"], scope["path_params"] = self.routes[scope["method"]], query_get, {}
        scope.setdefault("router", self.app_router)
        request = Request(scope, receive, send)
        try:
            response = await query_get(request)
        except Problem as problem:
            response = problem_response(request, problem)
        await response(scope, receive, send)


def _is_sparql_path(scope: dict) -> bool:
    """Whether the router would see ``/sparql`` (the path, with or without the root path)."""
    path = scope["path"]
    return path == "/sparql" or path == scope.get("root_path", "") + "/sparql"


async def answer_query(request: Request, text: str, fields: Sequence[tuple[str, str]]) -> Response:
    """Check, run and serialise one query; ``fields`` are the protocol parameters."""
    settings = get_settings(request)
    runtime = get_runtime(request)
    if not text.strip():
        raise Problem(400, "Bad request", "the query is empty", slug="bad-request")
    analysis = analyse_query(text, base=settings.sparql_endpoint)
    if analysis.is_update:
        raise Problem(
            400, "Bad request", "this is a SPARQL Update, not a query: POST it to /update", slug="bad-request"
        )
    check_remote_calls(text, analysis.remote_calls, settings.allow_service)
    accept = request.headers.get("accept")
    format_param = (inputs.values(fields, "format") or [None])[-1]
    formats = {}
    for kind in conneg.FORMATS_BY_KIND:
        chosen = conneg.choose(kind, accept, format_param)
        formats[kind] = chosen.name if chosen else None
    kind = analysis.result_kind
    if kind is not None and formats[kind] is None:
        raise conneg.not_acceptable(kind, accept, format_param)
    dataset = DatasetSpec.from_request(
        inputs.values(fields, "default-graph-uri"),
        inputs.values(fields, "named-graph-uri"),
        analysis.from_graphs,
        analysis.from_named_graphs,
    )
    task = QueryTask(
        sparql=text,
        base_iri=settings.sparql_endpoint,
        dataset=dataset,
        formats=formats,
        max_results=settings.max_results,
        limit_doc=settings.sparql_endpoint + "#result-limit",
        reads_named_graphs=analysis.reads_named_graphs,
    )
    answer = await runtime.query(task)
    if answer.format is None:
        raise conneg.not_acceptable(answer.kind, accept, format_param)
    return answer_response(answer, settings, head=request.method == "HEAD")
