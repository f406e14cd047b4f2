"""The application: :func:`create_app` builds it from a :class:`~carbonkg.server.settings.Settings`.

One router per concern (``sparql``, ``update``, ``graph_store``, ``health``); the store, the query
workers and the spool folder belong to the lifespan (:class:`~carbonkg.server.runtime.Runtime`).
Other routers (VoID, DCAT, metrics, linked-data pages, a query page) plug in through
``extra_routers`` or ``app.include_router`` and reach the runtime as ``request.app.state.runtime``.

CORS: off by default. With ``cors_origins`` set, those origins may *read* cross-origin: GET, HEAD
and POST (POST carries long queries) with the ``Accept`` and ``Content-Type`` headers, and the
result-limit headers exposed. ``Authorization`` is not allowed cross-origin, so writes are never
possible from another site's scripts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from carbonkg import __version__
from carbonkg.server import graph_store, health, linked_data, metrics, problems, queries_api, query_page, sparql, update, void
from carbonkg.server.responses import RESULT_HEADERS
from carbonkg.server.runtime import Runtime
from carbonkg.server.settings import Settings

DESCRIPTION = """SPARQL 1.1 Query (`/sparql`), Update (`/update`, when enabled) and the Graph Store
HTTP Protocol (`/graph`) over the carbonkg knowledge graph of carbon-credit registries.
Errors are RFC 9457 problem details."""


def create_app(settings: Settings | None = None, *, extra_routers: Sequence[APIRouter] = ()) -> FastAPI:
    settings = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = await Runtime.open(settings)
        try:
            yield
        finally:
            await app.state.runtime.close()

    app = FastAPI(
        title="carbonkg SPARQL service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # Swagger UI and ReDoc load third-party scripts; /openapi.json is the document
        redoc_url=None,
    )
    app.state.settings = settings
    problems.install(app)
    # innermost middleware, so that CORS and metrics see the requests it answers
    app.add_middleware(sparql.QueryGetShortcut, app_router=app.router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=["Accept", "Content-Type"],
            expose_headers=list(RESULT_HEADERS),
            allow_credentials=False,
            max_age=600,
        )
    metrics.install(app)  # outermost middleware: counts and times every request
    for router in (sparql.router, update.router, graph_store.router, health.router, queries_api.router, query_page.router, linked_data.router, void.router, metrics.router, *extra_routers):
        app.include_router(router)
    return app
