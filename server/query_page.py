"""The query page at ``/``: a SPARQL editor, the query library one click away, results as a table
with links, downloads in every result format, errors and the result limit shown plainly.

The editor is CodeMirror 6 with its SPARQL mode (``@codemirror/legacy-modes``), installed from the
npm registry by ``make install`` (``npm ci`` in ``server/frontend``) into
``server/frontend/node_modules`` (ignored by git) and served from there at ``/vendor/…`` as the
packages' own ES modules, resolved by an import map that this module builds from the installed
``package.json`` files: no bundler, no copy of third-party code in the repository, no CDN. When the
modules are not installed, or fail to load in the browser, the page says the editor is unavailable
and works with a plain text area.

Everything the page runs goes through the service's own endpoints: ``POST /sparql`` for the
editor's query (the worker pool, time and result limits of every query), ``GET /queries`` and
``GET /queries/{name}?…&format=sparql`` for the library (:mod:`carbonkg.server.queries_api`), and
download links ``/sparql?query=…&format=…``. IRIs under the public base link to their local
paths (``<base>id/…`` -> ``/id/…``), where the linked-data pages answer.

Routes: ``GET /`` (the page), ``GET /static/query.js`` and ``/static/query.css`` (this page's own
script and style, in ``server/static``), ``GET /vendor/<package>/<file>`` (installed modules:
``.js``, ``.mjs`` and ``.css`` files only).
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from carbonkg import __version__
from carbonkg.server.problems import Problem

log = logging.getLogger(__name__)

router = APIRouter(tags=["Query page"])

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
FRONTEND = HERE / "frontend"
#: where `npm ci` installs the editor's modules (module attribute: tests point it elsewhere)
NODE_MODULES = FRONTEND / "node_modules"
#: the packages the page imports; the editor is available only when all are installed
EDITOR_PACKAGES = (
    "@codemirror/state",
    "@codemirror/view",
    "@codemirror/language",
    "@codemirror/commands",
    "@codemirror/autocomplete",
    "@codemirror/search",
    "@codemirror/legacy-modes",
    "@lezer/highlight",
)
#: prefixes declared at the top of the editor's first query (and offered by its completion)
PREFIXES = (
    ("ck", "https://w3id.org/carbonkg/ontology#"),
    ("csvw", "http://www.w3.org/ns/csvw#"),
    ("prov", "http://www.w3.org/ns/prov#"),
    ("dcat", "http://www.w3.org/ns/dcat#"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
)
#: further well-known prefixes used to abbreviate IRIs in result tables
DISPLAY_PREFIXES = (
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("owl", "http://www.w3.org/2002/07/owl#"),
    ("dcterms", "http://purl.org/dc/terms/"),
    ("schema", "http://schema.org/"),
)
DEFAULT_BODY = """
# Project listings of every registry, with their registry and host country
SELECT DISTINCT ?listing ?label ?registry ?country
WHERE {
  ?listing a ck:ProjectListing ;
           ck:recordedIn ?registry .
  OPTIONAL { ?listing rdfs:label ?label }
  OPTIONAL { ?listing ck:hostCountry ?country }
}
LIMIT 50
"""
_OWN_FILES = {"query.js": "text/javascript; charset=utf-8", "query.css": "text/css; charset=utf-8"}
_VENDOR_TYPES = {".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8"}

# the same options as the linked-data pages' environment: query.html extends their base.html
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


def default_query() -> str:
    width = max(len(name) for name, _ in PREFIXES) + 1
    lines = [f"PREFIX {(name + ':').ljust(width)} <{iri}>" for name, iri in PREFIXES]
    return "\n".join(lines) + "\n" + DEFAULT_BODY


def script_json(value: Any) -> Markup:
    """JSON safe inside a ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


# -- the editor's modules ------------------------------------------------------------------------


def _esm_entry(package: dict[str, Any]) -> str | None:
    """The ES module entry of an installed package (``exports["."]``, ``module``, ``main``)."""
    exports = package.get("exports")
    if isinstance(exports, dict) and not any(key.startswith(".") for key in exports):
        exports = {".": exports}  # conditions at the top level
    if isinstance(exports, str):
        exports = {".": exports}
    target: Any = exports.get(".") if isinstance(exports, dict) else None
    while isinstance(target, dict):
        target = next((target[c] for c in ("import", "module", "browser", "default") if c in target), None)
    if isinstance(target, str):
        return target
    for key in ("module", "main"):
        if isinstance(package.get(key), str):
            return package[key]
    return None


def _packages(root: Path) -> list[Path]:
    found = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.name.startswith("@") and entry.is_dir():
            found += [sub for sub in sorted(entry.iterdir()) if (sub / "package.json").is_file()]
        elif (entry / "package.json").is_file():
            found.append(entry)
    return found


@lru_cache(maxsize=8)
def _import_map(root: str, stamp: float, url_root: str) -> tuple[dict[str, Any] | None, dict[str, str], str]:
    """(import map or None, installed versions, why the editor is unavailable); ``url_root`` is
    the path the application is served under (ASGI ``root_path``), usually empty."""
    path = Path(root)
    imports: dict[str, str] = {}
    versions: dict[str, str] = {}
    for package_dir in _packages(path):
        try:
            package = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        name = package.get("name") or package_dir.relative_to(path).as_posix()
        versions[name] = str(package.get("version", ""))
        prefix = f"{url_root}/vendor/{name}/"
        imports[name + "/"] = prefix
        entry = _esm_entry(package)
        if entry is not None:
            imports[name] = prefix + entry.removeprefix("./")
    missing = [p for p in EDITOR_PACKAGES if p not in versions]
    if missing:
        return None, versions, f"its modules are not installed ({', '.join(missing)} missing): run `make install`"
    return {"imports": imports}, versions, ""


def editor_modules(url_root: str = "") -> tuple[dict[str, Any] | None, dict[str, str], str]:
    root = NODE_MODULES
    if not root.is_dir():
        return None, {}, "its modules are not installed: run `make install` (npm ci in server/frontend)"
    lock = root / ".package-lock.json"
    stamp = (lock if lock.exists() else root).stat().st_mtime
    return _import_map(str(root), stamp, url_root)


# -- routes --------------------------------------------------------------------------------------


def _library_for_page() -> tuple[list[dict[str, Any]], str]:
    from carbonkg.server.queries_api import library_entries

    try:
        return library_entries(), ""
    except Exception as exc:  # a broken library file must not take the page down
        log.exception("the query library could not be read")
        return [], f"the query library could not be read ({type(exc).__name__}: {exc})"


@router.get("/", summary="The query page", response_class=HTMLResponse)
async def query_page(request: Request) -> HTMLResponse:
    settings = request.app.state.settings
    root = request.scope.get("root_path", "").rstrip("/")
    imports, versions, unavailable = editor_modules(root)
    library, library_error = _library_for_page()
    config = {
        "root": root,
        "base": settings.base_iri,
        "prefixes": dict(PREFIXES),
        "displayPrefixes": dict((*PREFIXES, *DISPLAY_PREFIXES)),
        "maxResults": settings.max_results,
        "timeout": settings.query_timeout_s,
        "editor": imports is not None,
    }
    html = _env.get_template("query.html").render(
        version=__version__,
        config=script_json(config),
        import_map=script_json(imports) if imports is not None else None,
        editor_version=versions.get("@codemirror/view", ""),
        editor_unavailable=unavailable,
        default_query=default_query(),
        prefixes=PREFIXES,
        library=library,
        library_json=script_json(library),
        library_error=library_error,
        settings=settings,
        root=root,
    )
    return HTMLResponse(html)


@router.get("/static/query.js", include_in_schema=False)
@router.get("/static/query.css", include_in_schema=False)
async def own_static(request: Request) -> Response:
    name = request.url.path.rsplit("/", 1)[-1]
    return FileResponse(STATIC / name, media_type=_OWN_FILES[name], headers={"Cache-Control": "no-cache"})


@router.get("/vendor/{path:path}", include_in_schema=False)
async def vendor(path: str) -> Response:
    root = NODE_MODULES.resolve()
    target = (root / path).resolve()
    media_type = _VENDOR_TYPES.get(target.suffix)
    if media_type is None or not target.is_relative_to(root) or not target.is_file():
        raise Problem(404, "Not found", f"no editor module is served at /vendor/{path}", slug="not-found")
    return FileResponse(target, media_type=media_type, headers={"Cache-Control": "public, max-age=600"})
