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

Command = Callable[[argparse.Namespace], int]


def _cmd_docs(args: argparse.Namespace) -> int:
    from carbonkg.ontology.docs import build_docs, serve_docs

    index = build_docs(Path(args.out))
    print(f"ontology documentation written to {index}")
    if args.serve:
        serve_docs(index.parent, host=args.host, port=args.port)
    return 0


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
