"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the service answers, its own or the framework's (404, 405, validation), is one
:class:`Problem`: a status, a short fixed ``title`` per kind of problem, a ``detail`` that says what
was wrong with this request, and a ``type`` IRI under the public base (``<base>problems/<slug>``)
naming the kind. Extra members (``line``, ``column``, ``available``…) carry machine-readable facts.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """An error answered to the client as problem details."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug
        self.headers = headers or {}
        self.extensions = extensions

    def body(self, base_iri: str, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"{base_iri}problems/{self.slug}" if self.slug else "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


def method_not_allowed(request: Request, allow: str) -> Problem:
    """405 with the methods a path accepts (``allow``: ``"GET, POST"``)."""
    return Problem(
        405,
        "Method not allowed",
        f"{request.method} is not allowed on {request.url.path}; use {allow}",
        slug="method-not-allowed",
        headers={"Allow": allow},
    )


#: methods answered 405 by the routers' catch-all routes
OTHER_METHODS = ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    settings = getattr(request.app.state, "settings", None)
    base = settings.base_iri if settings is not None else "about:blank#"
    return JSONResponse(
        problem.body(base, request.url.path),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` as problem details."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 404:
            problem = Problem(404, "Not found", f"nothing is served at {request.url.path}", slug="not-found")
        elif exc.status_code == 405:
            allow = headers.get("Allow", "")
            problem = Problem(
                405,
                "Method not allowed",
                f"{request.method} is not allowed on {request.url.path}" + (f"; use {allow}" if allow else ""),
                slug="method-not-allowed",
            )
        else:
            detail = exc.detail if isinstance(exc.detail, str) else _phrase(exc.status_code)
            problem = Problem(exc.status_code, _phrase(exc.status_code), detail)
        problem.headers.update(headers)
        return problem_response(request, problem)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        problem = Problem(400, "Bad request", f"{where}: {first['msg']}", slug="bad-request", errors=errors)
        return problem_response(request, problem)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        problem = Problem(500, "Internal server error", "the server failed to answer; the error is logged", slug="internal")
        return problem_response(request, problem)
