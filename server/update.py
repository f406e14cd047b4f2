"""SPARQL 1.1 Protocol, update operation, at ``/update``: off by default (403), and when enabled
(``allow_update``) only with the bearer token (401). ``POST`` only: an update is never accepted
by ``GET`` (405 here; 400 on ``/sparql``).

Requests: ``application/sparql-update`` (the update is the body) or
``application/x-www-form-urlencoded`` (``update=…``); ``using-graph-uri`` and
``using-named-graph-uri`` in the URL or the form. What an update may touch is decided by
:mod:`carbonkg.server.update_plan`. Updates run in the server process, one at a time, without a
hard time limit (only the token holder can send them).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from carbonkg.server import inputs
from carbonkg.server.problems import OTHER_METHODS, Problem, method_not_allowed
from carbonkg.server.runtime import Runtime, syntax_problem
from carbonkg.server.settings import Settings
from carbonkg.server.update_plan import plan_update

router = APIRouter(tags=["SPARQL Update"])


@router.post(
    "/update",
    name="update",
    status_code=204,
    summary="Run a SPARQL 1.1 Update (needs allow_update and the bearer token)",
    responses={
        204: {"description": "the update was applied"},
        400: {"description": "malformed update or protocol error"},
        401: {"description": "no or wrong bearer token"},
        403: {"description": "updates disabled, a protected graph, or SERVICE/LOAD not on the allow-list"},
        413: {"description": "request body over the size limit"},
        415: {"description": "unsupported request media type or charset"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                inputs.SPARQL_UPDATE: {"schema": {"type": "string"}},
                inputs.FORM: {
                    "schema": {
                        "type": "object",
                        "required": ["update"],
                        "properties": {
                            "update": {"type": "string"},
                            "using-graph-uri": {"type": "array", "items": {"type": "string"}},
                            "using-named-graph-uri": {"type": "array", "items": {"type": "string"}},
                        },
                    }
                },
            },
        }
    },
)
async def update(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    runtime: Runtime = request.app.state.runtime
    inputs.require_writer(request, settings)
    essence, parameters = inputs.content_type(request)
    fields = list(request.query_params.multi_items())
    if essence == inputs.FORM:
        inputs.require_utf8(essence, parameters)
        fields += inputs.parse_form(await inputs.read_body(request, settings.max_request_bytes))
        if inputs.values(fields, "query"):
            raise Problem(400, "Bad request", "a query goes to /sparql, not /update", slug="bad-request")
        text = inputs.one_operation(fields, "update", "in the URL and the form")
        if text is None:
            raise Problem(400, "Bad request", "the form has no `update` field", slug="bad-request")
    elif essence == inputs.SPARQL_UPDATE:
        inputs.require_utf8(essence, parameters)
        if inputs.values(fields, "update"):
            raise Problem(
                400,
                "Bad request",
                "a request carries one update: with application/sparql-update the body is the update, "
                "so the URL must not have an `update` parameter",
                slug="bad-request",
            )
        text = inputs.decode_utf8(await inputs.read_body(request, settings.max_request_bytes), "update")
    else:
        given = f"{essence} is not an update" if essence else "a POST to /update needs a Content-Type"
        raise Problem(
            415,
            "Unsupported media type",
            f"{given}: /update accepts {inputs.SPARQL_UPDATE} and {inputs.FORM}",
            slug="unsupported-media-type",
        )
    if not text.strip():
        raise Problem(400, "Bad request", "the update is empty", slug="bad-request")
    # off the event loop: the syntax check evaluates the update on an empty in-memory store
    plan = await asyncio.to_thread(
        plan_update,
        text,
        base=settings.update_endpoint,
        catalog=runtime.catalog(),
        using=inputs.values(fields, "using-graph-uri"),
        using_named=inputs.values(fields, "using-named-graph-uri"),
        allow_list=settings.allow_service,
    )

    def run(raw) -> None:
        raw.update(plan.text, base_iri=settings.update_endpoint)

    try:
        await runtime.write(run)
    except SyntaxError as exc:
        raise syntax_problem(str(exc), what="update") from None
    except (RuntimeError, ValueError, OSError) as exc:
        raise Problem(400, "Update failed", f"the update was not applied: {exc}", slug="update-failed") from None
    return Response(status_code=204)


@router.api_route("/update", methods=["GET", "HEAD", *OTHER_METHODS], include_in_schema=False)
async def update_other(request: Request) -> Response:
    raise method_not_allowed(request, "POST")
