"""HTML documentation of the ontology, generated with pyLODE from the Turtle modules, plus the
vocabularies' Turtle copied beside it so the documentation folder is self-contained."""

from __future__ import annotations

import functools
import http.server
import logging
import shutil
from pathlib import Path

from carbonkg.ontology.resources import module_paths, ontology_graph, vocabulary_paths

log = logging.getLogger(__name__)


def render_html() -> str:
    from pylode import OntPub  # heavy import, only when documentation is asked for

    return OntPub(ontology_graph(), sort_subjects=True).make_html()


def build_docs(out_dir: Path) -> Path:
    """Write ``index.html`` (the ontology), ``carbonkg.ttl`` (all modules merged) and the
    vocabularies' Turtle into ``out_dir``; return the index path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.html"
    index.write_text(render_html(), encoding="utf-8")
    ontology_graph().serialize(out_dir / "carbonkg.ttl", format="turtle")
    vocab_dir = out_dir / "vocab"
    vocab_dir.mkdir(exist_ok=True)
    for path in vocabulary_paths():
        shutil.copyfile(path, vocab_dir / path.name)
    log.info("documentation of %d modules written to %s", len(module_paths()), out_dir)
    return index


def serve_docs(folder: Path, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer((host, port), handler) as server:
        print(f"serving the ontology documentation on http://{host}:{port}/ (Ctrl-C stops)")
        server.serve_forever()
