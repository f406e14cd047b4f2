"""``/health``: is the service able to answer queries? For load balancers and ``make run`` checks.

200 with ``"status": "ok"`` when the store is open and at least one query worker is alive (or
queries run in the server process); 503 with ``"status": "unavailable"`` otherwise.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from carbonkg import __version__

router = APIRouter(tags=["Service"])


@router.get("/health", summary="Service health", responses={503: {"description": "no query worker alive"}})
async def health(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    workers = runtime.runner.stats()
    store_open = runtime.store is not None
    ok = store_open and (workers["mode"] == "inline" or workers["alive"] > 0)
    body = {
        "status": "ok" if ok else "unavailable",
        "version": __version__,
        "store": {
            "mode": "read-write" if runtime.writable else "read-only",
            "graphs": len(runtime.catalog().live) if store_open else 0,
            "generation": runtime.generation,
        },
        "workers": workers,
        "uptime_s": round(time.time() - runtime.started, 1),
    }
    return JSONResponse(body, status_code=200 if ok else 503, headers={"Cache-Control": "no-store"})
