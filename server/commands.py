"""What ``carbonkg serve`` and ``carbonkg query`` do (the argparse layer is :mod:`carbonkg.cli`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

from carbonkg.errors import UsageError
from carbonkg.server import conneg
from carbonkg.server.settings import Settings

def serve(settings: Settings) -> int:
    import uvicorn

    from carbonkg.server.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        proxy_headers=True,  # X-Forwarded-Proto/For from a proxy on this host: endpoint IRIs as clients see them
        log_level="info",
        access_log=settings.access_log,
    )
    return 0


def run_query(text: str, settings: Settings, fmt: str | None, out: IO[bytes] | None = None) -> int:
    """Run one query over the store, in this process, writing every result (no limit) to ``out``."""
    from carbonkg.server.dataset import DatasetSpec
    from carbonkg.server.execute import Executor, QueryTask
    from carbonkg.server.problems import Problem
    from carbonkg.server.runtime import syntax_problem
    from carbonkg.server.safety import analyse_query, check_remote_calls

    out = out if out is not None else sys.stdout.buffer
    store: Path | str = settings.store_url or Path(settings.store_path)
    if isinstance(store, Path) and not store.is_dir():
        raise UsageError(f"no store at {store} (load exports first: carbonkg load PATH --store {store})")
    analysis = analyse_query(text, base=settings.sparql_endpoint)
    if analysis.is_update:
        raise UsageError("this is a SPARQL Update; `carbonkg query` runs queries only")
    try:
        check_remote_calls(text, analysis.remote_calls, settings.allow_service)
    except Problem as problem:
        print(f"carbonkg: {problem.detail}", file=sys.stderr)
        return 1
    formats: dict[str, str | None] = {
        kind: (fmt if fmt in {f.name for f in offers} else None) if fmt else offers[0].name
        for kind, offers in conneg.FORMATS_BY_KIND.items()
    }
    kind = analysis.result_kind
    if kind is not None and formats[kind] is None:
        raise UsageError(f"--format {fmt} cannot carry {conneg.KIND_WORDS[kind]}; use one of: "
                         + ", ".join(f.name for f in conneg.FORMATS_BY_KIND[kind]))
    dataset = DatasetSpec.from_request((), (), analysis.from_graphs, analysis.from_named_graphs)
    task = QueryTask(text, settings.sparql_endpoint, dataset, formats, max_results=None,
                     reads_named_graphs=analysis.reads_named_graphs)
    from carbonkg.errors import CarbonkgError

    try:
        executor = Executor(store)
        executor.refresh(0)
        answer = executor.run(task, out)
    except SyntaxError as exc:
        print(f"carbonkg: {syntax_problem(str(exc)).detail}", file=sys.stderr)
        return 1
    except CarbonkgError as exc:  # a remote engine refused or failed
        print(f"carbonkg: {exc}", file=sys.stderr)
        return 1
    if answer.format is None:
        raise UsageError(f"--format {fmt} cannot carry {conneg.KIND_WORDS[answer.kind]}")
    out.flush()
    return 0
