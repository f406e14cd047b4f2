"""The query library over HTTP: ``GET /queries`` and ``GET /queries/{name}?param=…``.

- ``GET /queries``: every query of :mod:`carbonkg.queries` as JSON: name, title, description,
  kind, parameters (name, type, required, default, description), the graphs it reads, its
  examples, its SPARQL text and its ``href``.
- ``GET /queries/{name}?param=…``: the query with its parameters bound (by
  :func:`carbonkg.queries.bind`: typed terms in a ``VALUES`` row, never pasted text), run exactly as
  ``/sparql`` runs a query (:func:`carbonkg.server.sparql.answer_query`: the same checks, worker
  pool, time limit, result limit and headers), in the format ``Accept`` or ``format=`` chooses
  (json, xml, csv, tsv; turtle, ntriples, jsonld, rdfxml for CONSTRUCT/DESCRIBE).
  ``format=sparql`` (or ``Accept: application/sparql-query``) answers the bound query text
  instead of running it: what the query page puts in its editor.

Every query also takes ``limit`` and ``offset`` (whole numbers), which become its ``LIMIT`` and
``OFFSET``: a page of a long listing (the listings are ordered, so pages are stable).

A parameter that the query does not take, is given twice, is missing while required, or is not of
its type is a 400 problem (``/problems/invalid-parameter``) whose ``parameter`` member names it.
An unknown query is a 404 problem listing the known names. ``format`` is reserved for the answer
format and cannot be a library parameter name.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from carbonkg.server import conneg, inputs
from carbonkg.server.problems import OTHER_METHODS, Problem, method_not_allowed
from carbonkg.server.safety import analyse_query
from carbonkg.server.sparql import answer_query

log = logging.getLogger(__name__)

router = APIRouter(tags=["Query library"])

#: the bound query text, as an answer format of /queries/{name}
SPARQL_TEXT = conneg.Format("sparql", "application/sparql-query; charset=utf-8", (), ("rq",))
#: query parameters that are not library parameters
RESERVED = ("format",)

_ANSWERS = {
    200: {
        "description": "the query's results in the negotiated format, or its bound text (format=sparql)",
        "content": {
            **{f.essence: {} for f in conneg.SOLUTION_FORMATS},
            **{f.essence: {} for f in conneg.GRAPH_FORMATS},
            SPARQL_TEXT.essence: {},
        },
    },
    400: {"description": "a parameter is unknown, repeated, missing or not of its type (problem names it)"},
    404: {"description": "no library query has that name"},
    406: {"description": "no acceptable format for this kind of result"},
    503: {"description": "the query ran past the time limit, or all workers are busy"},
}


def _library() -> Any:
    """The query library module (imported late: a broken library must not break the service)."""
    import carbonkg.queries as library

    return library


def describe(query: Any) -> dict[str, Any]:
    """One library query as ``GET /queries`` lists it."""
    entry = dict(query.as_dict())
    entry["sparql"] = query.sparql
    entry["href"] = f"/queries/{query.name}"
    return entry


def library_entries() -> list[dict[str, Any]]:
    return [describe(q) for q in _library().list_queries()]


@router.get("/queries", summary="The query library", response_description="every library query")
@router.head("/queries", summary="Headers of the GET answer")
async def list_library(request: Request) -> Response:
    response = JSONResponse({"queries": library_entries()})
    if request.method == "HEAD":
        return Response(status_code=200, headers={"Content-Length": str(len(response.body))},
                        media_type="application/json")
    return response


@router.api_route("/queries", methods=["POST", *OTHER_METHODS], include_in_schema=False)
async def list_other(request: Request) -> Response:
    raise method_not_allowed(request, "GET")


_RUN_DESCRIPTION = (
    "The query's own parameters (see `GET /queries`) are given as URL parameters by name, e.g. "
    "`/queries/credit-life?serial=ACR-US-1185-2025-3078-500`. Every query also takes `limit` and `offset` "
    "(whole numbers; its LIMIT and OFFSET) for paging, and `format` (json, xml, csv, tsv; turtle, ntriples, "
    "jsonld, rdfxml; sparql for the bound query text)."
)


@router.get("/queries/{name}", summary="Run a library query with parameters", description=_RUN_DESCRIPTION,
            responses=_ANSWERS)
@router.head("/queries/{name}", summary="Headers of the GET answer", responses=_ANSWERS)
async def run_library_query(request: Request, name: str) -> Response:
    library = _library()
    try:
        query = library.get_query(name)
    except library.QueryNotFound:
        known = [q.name for q in library.list_queries()]
        raise Problem(
            404,
            "Not found",
            f"the query library has no query {name!r}; it has: {', '.join(known) or 'none'}",
            slug="not-found",
            available=known,
        ) from None
    fields = list(request.query_params.multi_items())
    params: dict[str, list[str]] = {}
    for key, value in fields:
        if key not in RESERVED:
            params.setdefault(key, []).append(value)
    text = bound_text(library, query, params)
    format_param = (inputs.values(fields, "format") or [None])[-1]
    if wants_text(text, request.headers.get("accept"), format_param):
        body = b"" if request.method == "HEAD" else text.encode("utf-8")
        headers = {"Vary": "Accept"}
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(text.encode("utf-8")))
        return Response(body, media_type=SPARQL_TEXT.media_type, headers=headers)
    return await answer_query(request, text, [(k, v) for k, v in fields if k in RESERVED])


@router.api_route("/queries/{name}", methods=["POST", *OTHER_METHODS], include_in_schema=False)
async def run_other(request: Request, name: str) -> Response:
    raise method_not_allowed(request, "GET, HEAD")


def invalid_parameter(query: Any, parameter: str | None, detail: str) -> Problem:
    extensions: dict[str, Any] = {"query": query.name}
    if parameter is not None:
        extensions["parameter"] = parameter
    return Problem(400, "Invalid parameter", detail, slug="invalid-parameter", **extensions)


_NAMED = re.compile(r"parameter '?([A-Za-z_][A-Za-z0-9_]*)'?")


def bound_text(library: Any, query: Any, params: dict[str, list[str]]) -> str:
    """The query text with ``params`` bound; a 400 problem naming the parameter otherwise."""
    declared = {p.name: p for p in query.parameters}
    takes = ", ".join(f"{p.name} ({p.type})" for p in query.parameters) or "no parameters"
    for key, values in params.items():
        if key not in declared and key not in library.PAGING:
            raise invalid_parameter(query, key, f"query {query.name!r} has no parameter {key!r}; it takes {takes}"
                                                f" (and limit, offset for paging)")
        if len(values) > 1:
            raise invalid_parameter(query, key, f"parameter {key} is given {len(values)} times; give it once")
    for p in query.parameters:
        given = params.get(p.name, [None])[0]
        absent = given is None or (given == "" and p.type != "string")
        if absent and p.required and p.default is None:
            raise invalid_parameter(query, p.name, f"query {query.name!r} needs parameter {p.name} ({p.type})")
    try:
        return library.bind(query, {k: v[0] for k, v in params.items()})
    except library.ParameterError as exc:
        message = str(exc)
        match = _NAMED.search(message)
        named = match.group(1) if match and (match.group(1) in declared or match.group(1) in library.PAGING) else None
        if named is None:  # the message does not say which: the one parameter it quotes
            named = next((k for k in params if k in message), None)
        raise invalid_parameter(query, named, message) from None


def wants_text(text: str, accept: str | None, format_param: str | None) -> bool:
    """Whether the client asks for the bound query text rather than its results."""
    if format_param:
        key = format_param.strip().lower()
        return key == SPARQL_TEXT.name or key in SPARQL_TEXT.names or key == SPARQL_TEXT.essence
    if not accept or SPARQL_TEXT.essence not in accept.lower():
        return False
    kind = analyse_query(text, base=None).result_kind or "solutions"
    return conneg.negotiate(accept, (*conneg.FORMATS_BY_KIND[kind], SPARQL_TEXT)) is SPARQL_TEXT
