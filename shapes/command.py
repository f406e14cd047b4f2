"""``carbonkg validate``: validate a store, print the report, optionally store it as a graph.

Exit status: 0 when no result is a violation, 1 when some are, 2 for usage errors (an unknown
shape set, a store folder that does not exist).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from carbonkg.errors import UsageError


def run_validate(args: argparse.Namespace) -> int:
    from carbonkg.loaders.pipeline import default_store_path
    from carbonkg.shapes.report import render, render_turtle
    from carbonkg.shapes.validate import REPORT_GRAPH, resolve_sets, validate_store
    from carbonkg.store import EmbeddedStore

    sets = resolve_sets(args.shapes)  # raises UsageError for an unknown set
    path = Path(args.store) if args.store else default_store_path()
    if not path.is_dir():
        raise UsageError(f"no store at {path} (load exports first: carbonkg load PATH --store {path})")
    if args.limit is not None and args.limit < 0:
        raise UsageError("--limit must not be negative")
    store = EmbeddedStore(path, read_only=not args.save_report)
    report = validate_store(store, sets=sets, engine=args.engine)
    sys.stdout.write(render(report, args.format, limit=args.limit))
    if args.save_report:
        with tempfile.TemporaryDirectory(prefix="carbonkg-report-") as tmp:
            turtle = Path(tmp) / "report.ttl"
            turtle.write_text(render_turtle(report), encoding="utf-8")
            graph = store.put_static_graph(REPORT_GRAPH, [turtle])
        store.flush()
        print(f"report stored in graph <{graph}>", file=sys.stderr)
    return 0 if report.conforms else 1
