"""The ``carbonkg`` console script: one thin argparse layer over the library.

Exit codes: 0 fine, 1 data errors (printed with file, row and column), 2 usage errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from carbonkg import __version__
from carbonkg.errors import UsageError

DEFAULT_DOCS_DIR = Path("var/docs")
#: answer formats of `carbonkg query` (the server's format names, carbonkg.server.conneg)
QUERY_FORMATS = ("json", "csv", "tsv", "xml", "turtle", "ntriples", "jsonld", "rdfxml")

Command = Callable[[argparse.Namespace], int]


def _cmd_docs(args: argparse.Namespace) -> int:
    from carbonkg.ontology.docs import build_docs, serve_docs

    index = build_docs(Path(args.out))
    print(f"ontology documentation written to {index}")
    if args.serve:
        serve_docs(index.parent, host=args.host, port=args.port)
    return 0


def _cmd_load(args: argparse.Namespace) -> int:
    from carbonkg.loaders.pipeline import default_store_path, iter_files, load_file, LoadRun
    from carbonkg.store import open_store

    if (args.registry is None) != (args.table is None):
        raise UsageError("--registry and --table go together")
    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    files = list(iter_files(paths))
    if not files:
        raise UsageError("no export files (.csv, .xlsx) found in " + ", ".join(args.paths))
    store = open_store(args.store or default_store_path())
    run = LoadRun()
    progress = _progress(files, quiet=args.quiet)
    rejected = 0
    totals = [0, 0]
    for path in progress:
        result = load_file(store, path, registry=args.registry, kind=args.table, run=run, force=args.force)
        what = f"{result.registry}/{result.table}" if result.registry else "?"
        line = f"{result.status:8} {path}  [{what}]  rows={result.rows} triples={result.triples} {result.seconds:.2f}s"
        _write(progress, line)
        if result.status == "rejected":
            rejected += 1
            for error in result.errors:
                _write(progress, f"    {error}")
            if result.more_errors:
                _write(progress, f"    ... and {result.more_errors} more errors")
        for (column, kind, value), count in sorted(result.uninterpreted.counts.items()):
            _write(progress, f"    uninterpreted {kind} in {column!r}: {value!r} ({count} rows)")
        totals[0] += result.rows
        totals[1] += result.triples
    from carbonkg.loaders.derived import all_derivations, refresh

    for derived in refresh(store, all_derivations()):
        if derived.status == "computed":
            _write(progress, f"derived  {derived.name}  triples={derived.triples} {derived.seconds:.2f}s")
    store.flush()
    print(f"{len(files) - rejected} of {len(files)} files loaded or unchanged, {rejected} rejected; "
          f"{totals[0]} rows, {totals[1]} triples written; store at {store.path or store}")
    return 1 if rejected else 0


def _server_settings(args: argparse.Namespace, **overrides: object):
    from pydantic import ValidationError

    from carbonkg.server.settings import Settings

    from carbonkg.store import is_remote

    if getattr(args, "store", None) and is_remote(args.store):
        overrides["store_url"] = args.store
    elif getattr(args, "store", None):
        overrides["store_path"] = Path(args.store)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise UsageError(f"invalid settings (CARBONKG_* variables): {problems}") from None


def _cmd_serve(args: argparse.Namespace) -> int:
    from carbonkg.server.commands import serve

    overrides: dict[str, object] = {}
    if args.host is not None:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    return serve(_server_settings(args, **overrides))


def _cmd_query(args: argparse.Namespace) -> int:
    from carbonkg.server.commands import run_query

    if getattr(args, "named", None) is not None:
        text = _named_query_text(args.named, args.param or [])
    elif args.param:
        raise UsageError("--param goes with --named")
    elif args.expression is not None:
        text = args.expression
    else:
        path = Path(args.file)
        if not path.is_file():
            raise UsageError(f"no such query file: {path}")
        text = path.read_text(encoding="utf-8")
    return run_query(text, _server_settings(args), args.format)


def _named_query_text(name: str, pairs: list[str]) -> str:
    """A library query (carbonkg.queries) with its parameters bound as typed RDF terms."""
    from carbonkg import queries

    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--param takes NAME=VALUE, got {pair!r}")
        params[key.strip()] = value
    try:
        return queries.bind(queries.get_query(name), params)
    except queries.QueryNotFound:
        known = ", ".join(q.name for q in queries.list_queries())
        raise UsageError(f"no library query named {name!r} (one of: {known})") from None
    except queries.ParameterError as exc:
        raise UsageError(str(exc)) from None


def _cmd_validate(args: argparse.Namespace) -> int:
    from carbonkg.shapes.command import run_validate

    return run_validate(args)


def _progress(files: list[Path], *, quiet: bool):
    if quiet or not sys.stderr.isatty():
        return files
    from tqdm import tqdm

    return tqdm(files, unit="file", leave=False)


def _write(progress: object, line: str) -> None:
    writer = getattr(progress, "write", None)
    if writer is not None:
        writer(line)
    else:
        print(line)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="carbonkg", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"carbonkg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    docs = sub.add_parser("docs", help="build the HTML documentation of the ontology (pyLODE)")
    docs.add_argument("--out", default=str(DEFAULT_DOCS_DIR), help="output folder (default: %(default)s)")
    docs.add_argument("--serve", action="store_true", help="then serve the folder over HTTP")
    docs.add_argument("--host", default="127.0.0.1")
    docs.add_argument("--port", type=int, default=8000)
    docs.set_defaults(func=_cmd_docs)

    load = sub.add_parser("load", help="load registry exports (files or folders) into the store")
    load.add_argument("paths", nargs="+", metavar="PATH", help="export files, or folders to search for .csv/.xlsx")
    load.add_argument("--store", help="store folder, or a remote engine's URL (oxigraph+http://host:port, "
                      "virtuoso+http://user:password@host:port) (default: $CARBONKG_STORE or var/store)")
    load.add_argument("--registry", help="registry slug, when the header does not tell (with --table)")
    load.add_argument("--table", help="table kind: projects, issuances, transactions, retirements, cancellations")
    load.add_argument("--force", action="store_true", help="reload files even when unchanged")
    load.add_argument("--quiet", action="store_true", help="no progress bar")
    load.set_defaults(func=_cmd_load)

    serve = sub.add_parser("serve", help="serve the SPARQL endpoint (settings: CARBONKG_* environment variables)")
    serve.add_argument("--store", help="store folder, or a remote engine's URL (read-only service) "
                       "(default: $CARBONKG_STORE_URL, $CARBONKG_STORE_PATH, $CARBONKG_STORE or var/store)")
    serve.add_argument("--host", default=None, help="interface to bind (default: $CARBONKG_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default: $CARBONKG_PORT or 8000)")
    serve.set_defaults(func=_cmd_serve)

    query = sub.add_parser("query", help="run a SPARQL query over the store and print every result")
    what = query.add_mutually_exclusive_group(required=True)
    what.add_argument("file", nargs="?", metavar="FILE.rq", help="file holding the query")
    what.add_argument("-e", "--expression", metavar="QUERY", help="the query itself")
    what.add_argument("--named", metavar="NAME", help="a library query by name (carbonkg/queries/NAME.rq)")
    query.add_argument("--param", action="append", metavar="NAME=VALUE",
                       help="a parameter of the --named query (repeatable)")
    query.add_argument("--store", help="store folder or a remote engine's URL "
                       "(default: $CARBONKG_STORE_URL, $CARBONKG_STORE_PATH, $CARBONKG_STORE or var/store)")
    query.add_argument("--format", choices=QUERY_FORMATS, default=None,
                       help="output format (default: json for SELECT/ASK, turtle for CONSTRUCT/DESCRIBE)")
    query.set_defaults(func=_cmd_query)

    validate = sub.add_parser("validate", help="validate the store against the SHACL shapes; exit 1 on violations")
    validate.add_argument("--store", help="store folder (default: $CARBONKG_STORE or var/store)")
    validate.add_argument("--shapes", action="append", metavar="SET",
                          help="shape set: core, registry, cross-registry, labels or all (repeatable; default all)")
    validate.add_argument("--format", choices=("text", "json", "turtle"), default="text", help="report format")
    validate.add_argument("--engine", choices=("fast", "pyshacl"), default="fast",
                          help="fast: SPARQL on the Oxigraph store (default); pyshacl: the reference implementation")
    validate.add_argument("--limit", type=int, default=None, help="text format: list at most N results")
    validate.add_argument("--save-report", action="store_true",
                          help="also store the report (sh:ValidationReport) as the static graph validation-report")
    validate.set_defaults(func=_cmd_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Command | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return func(args)
    except UsageError as exc:
        print(f"carbonkg: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
