"""The query page (``/``), its static files and editor modules, and the query library over HTTP
(``/queries``, ``/queries/{name}``), with the TestClient. The page in a real browser:
``tests/browser``.

``/queries/{name}`` is tested against the real binding code of :mod:`carbonkg.queries` with a
small stub library of fixed queries (so that every validation rule has a query to exercise it,
whatever the real library holds), and against the real library for what every real query must
do: be listed, and bind its own examples.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from server_helpers import serve

import carbonkg.queries as library
from carbonkg.loaders.pipeline import load_paths
from carbonkg.server import query_page, queries_api
from carbonkg.store.embedded import EmbeddedStore

EXPORT = Path(__file__).resolve().parents[2] / "data" / "registry-exports" / "art-trees" / "projects.csv"
LIMIT = 5

LISTINGS = """# @title Listings of a registry
# @kind listing
# @description
#   The project listings that a registry records.
# @param registry registry required
#   The registry, by slug.
# @param since year optional
#   Not used by the query; a typed parameter to validate.
# @example registry=art-trees

PREFIX ck: <https://w3id.org/carbonkg/ontology#>
SELECT DISTINCT ?listing WHERE {
  ?listing a ck:ProjectListing ; ck:recordedIn ?registry .
}
ORDER BY ?listing
"""
LISTING_GRAPH = """# @title Listings as a graph
# @kind listing
# @param registry registry default=art-trees

PREFIX ck: <https://w3id.org/carbonkg/ontology#>
CONSTRUCT { ?listing a ck:ProjectListing } WHERE {
  ?listing a ck:ProjectListing ; ck:recordedIn ?registry .
}
"""
SLOW = """# @title Every triple with every triple with every triple
# @kind aggregate

SELECT (COUNT(*) AS ?n) WHERE {
  ?a ?b ?c . ?d ?e ?f . ?g ?h ?i .
}
"""
HOSTILE = """# @title </script><script>alert(1)</script>
# @kind lookup
# @description
#   <b>not bold</b> & friends

SELECT ?s WHERE {
  ?s ?p ?o
}
"""


def stub_library(texts: dict[str, str]) -> SimpleNamespace:
    queries = {name: library.parse_query(name, text) for name, text in texts.items()}

    def get_query(name: str):
        try:
            return queries[name]
        except KeyError:
            raise library.QueryNotFound(name) from None

    return SimpleNamespace(
        list_queries=lambda: list(queries.values()),
        get_query=get_query,
        bind=library.bind,
        PAGING=library.PAGING,
        ParameterError=library.ParameterError,
        QueryNotFound=library.QueryNotFound,
    )


STUB = stub_library({"listings": LISTINGS, "listing-graph": LISTING_GRAPH, "slow": SLOW})


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("query-page") / "store"
    handle = EmbeddedStore(path)
    results = list(load_paths(handle, [EXPORT]))
    assert [r.status for r in results] == ["loaded"]
    handle.flush()
    del handle
    gc.collect()
    return path


@pytest.fixture(scope="module")
def client(store: Path) -> Iterator[TestClient]:
    with serve(store, max_results=LIMIT) as client:
        yield client


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    monkeypatch.setattr(queries_api, "_library", lambda: STUB)
    return STUB


# -- the page --------------------------------------------------------------------------------------


def page_json(html: str, element_id: str):
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert match, element_id
    return json.loads(match.group(1))


def test_the_page_has_the_editor_prefixes_and_library(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    textarea = re.search(r'<textarea id="query" name="query"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    for name, iri in query_page.PREFIXES:
        assert re.search(rf"PREFIX {name}:\s+&lt;{re.escape(iri)}&gt;", textarea), name
    assert [n for n, _ in query_page.PREFIXES] == ["ck", "csvw", "prov", "dcat", "skos", "rdfs", "xsd"]
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', html, re.S).group(1))["imports"]
    for package in query_page.EDITOR_PACKAGES:
        assert imports[package + "/"] == f"/vendor/{package}/"
    assert imports["@codemirror/view"].startswith("/vendor/@codemirror/view/") and imports["@codemirror/view"].endswith(".js")
    assert '<script type="module" src="/static/query.js">' in html
    config = page_json(html, "page-config")
    assert config["base"] == "https://w3id.org/carbonkg/" and config["editor"] is True
    assert config["maxResults"] == LIMIT
    listed = page_json(html, "library-data")
    assert [q["name"] for q in listed] == [q.name for q in library.list_queries()]
    for q in library.list_queries():
        assert f'data-name="{q.name}"' in html
    assert 'href="/catalog"' in html  # the site's navigation (base.html)
    assert "unavailable" not in html


def test_the_starter_query_runs(client: TestClient) -> None:
    r = client.post("/sparql", data={"query": query_page.default_query()})
    assert r.status_code == 200, r.text
    assert r.json()["head"]["vars"] == ["listing", "label", "registry", "country"]


def test_the_library_and_its_text_are_escaped_in_the_page(client: TestClient, monkeypatch) -> None:
    monkeypatch.setattr(queries_api, "_library", lambda: stub_library({"hostile": HOSTILE}))
    html = client.get("/").text
    assert "<script>alert(1)" not in html
    assert "<b>not bold</b>" not in html
    listed = page_json(html, "library-data")
    assert listed[0]["title"] == "</script><script>alert(1)</script>"
    assert "&lt;/script&gt;" in html  # the list entry, escaped as HTML


def test_a_broken_library_does_not_break_the_page(client: TestClient, monkeypatch) -> None:
    def broken():
        raise ValueError("bad.rq: the header has no @title")

    monkeypatch.setattr(queries_api, "_library", lambda: SimpleNamespace(list_queries=broken))
    r = client.get("/")
    assert r.status_code == 200
    assert "the query library could not be read" in r.text and "no @title" in r.text


def test_without_the_modules_the_page_says_the_editor_is_unavailable(client: TestClient, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(query_page, "NODE_MODULES", tmp_path / "missing")
    html = client.get("/").text
    assert "importmap" not in html
    assert "The SPARQL editor is unavailable" in html and "plain text area" in html
    assert page_json(html, "page-config")["editor"] is False
    assert '<textarea id="query" name="query"' in html
    assert client.get("/vendor/@codemirror/view/dist/index.js").status_code == 404


def test_a_partial_install_is_unavailable_too(client: TestClient, monkeypatch, tmp_path) -> None:
    package = tmp_path / "node_modules" / "@codemirror" / "state"
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": "@codemirror/state", "version": "6.0.0",
                                                      "exports": {"import": "./dist/index.js"}}))
    monkeypatch.setattr(query_page, "NODE_MODULES", tmp_path / "node_modules")
    html = client.get("/").text
    assert "The SPARQL editor is unavailable" in html and "@codemirror/view" in html


@pytest.mark.parametrize(
    ("package", "entry"),
    [
        ({"exports": {"import": "./dist/index.js", "require": "./dist/index.cjs"}}, "./dist/index.js"),
        ({"exports": {".": {"types": "./x.d.ts", "import": "./esm/x.js"}}}, "./esm/x.js"),
        ({"exports": {".": {"node": {"import": "./n.js"}, "default": "./d.js"}}}, "./d.js"),
        ({"exports": "./only.js"}, "./only.js"),
        ({"exports": {"./mode/*": {"import": "./mode/*.js"}}}, None),
        ({"module": "src/m.js", "main": "dist/m.cjs"}, "src/m.js"),
        ({"main": "index.js"}, "index.js"),
        ({}, None),
    ],
)
def test_module_entries(package: dict, entry: str | None) -> None:
    assert query_page._esm_entry(package) == entry


def test_own_static_files(client: TestClient) -> None:
    js = client.get("/static/query.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert 'import("@codemirror/view")' in js.text
    css = client.get("/static/query.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ".tok-keyword" in css.text


def test_editor_modules_are_served_from_the_install(client: TestClient) -> None:
    assert query_page.NODE_MODULES.is_dir(), "server/frontend/node_modules is missing: run `make install`"
    html = client.get("/").text
    imports = json.loads(re.search(r'<script type="importmap">(.*?)</script>', html, re.S).group(1))["imports"]
    for specifier, url in imports.items():
        if not specifier.endswith("/"):
            r = client.get(url)
            assert r.status_code == 200, url
            assert r.headers["content-type"].startswith("text/javascript")
    sparql_mode = client.get("/vendor/@codemirror/legacy-modes/mode/sparql.js")
    assert sparql_mode.status_code == 200 and "export const sparql" in sparql_mode.text


@pytest.mark.parametrize(
    "path",
    [
        "/vendor/@codemirror/view/package.json",  # not a module
        "/vendor/../query_page.py",
        "/vendor/%2e%2e/%2e%2e/query_page.py",
        "/vendor/@codemirror/view/dist/nope.js",
        "/vendor/",
        "/static/other.js",
    ],
)
def test_nothing_else_is_served(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


# -- GET /queries --------------------------------------------------------------------------------------


def test_the_real_library_is_listed(client: TestClient) -> None:
    r = client.get("/queries")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    listed = r.json()["queries"]
    real = library.list_queries()
    assert [q["name"] for q in listed] == [q.name for q in real]
    for entry, query in zip(listed, real, strict=True):
        assert entry["title"] == query.title
        assert entry["description"] == query.description
        assert entry["sparql"] == query.sparql
        assert entry["href"] == f"/queries/{query.name}"
        assert [p["name"] for p in entry["parameters"]] == [p.name for p in query.parameters]
        for p in entry["parameters"]:
            assert set(p) >= {"name", "type", "required", "default", "description"}


@pytest.mark.parametrize("query", library.list_queries(), ids=lambda q: q.name)
def test_every_real_query_binds_its_examples(client: TestClient, query) -> None:
    for example in query.examples or [{}]:
        r = client.get(f"/queries/{query.name}", params={**example, "format": "sparql"})
        if not example and any(p.required and p.default is None for p in query.parameters):
            assert r.status_code == 400
            continue
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/sparql-query")
        assert r.text == library.bind(query, example)
        ox_query_text = r.text
        assert ("VALUES (" in ox_query_text) == bool(query.parameters)


def test_the_list_is_stubbable(client: TestClient, stub) -> None:
    r = client.get("/queries")
    names = [q["name"] for q in r.json()["queries"]]
    assert names == ["listings", "listing-graph", "slow"]
    head = client.head("/queries")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(r.content))


# -- GET /queries/{name} ---------------------------------------------------------------------------------


def test_a_library_query_runs_like_a_sparql_query(client: TestClient, stub) -> None:
    r = client.get("/queries/listings", params={"registry": "art-trees"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/sparql-results+json"
    data = r.json()
    assert data["head"]["vars"] == ["listing"]
    iris = [b["listing"]["value"] for b in data["results"]["bindings"]]
    assert iris and all(i.startswith("https://w3id.org/carbonkg/id/art-trees/project/") for i in iris)
    # the result limit of every query, marked
    assert r.headers["carbonkg-result-limit"] == str(LIMIT)
    assert r.headers["carbonkg-result-count"] == str(len(iris)) == str(LIMIT)
    assert r.headers["carbonkg-result-truncated"] == "true"
    assert data["truncated"] is True
    # the same answer as /sparql gives for the bound text
    text = client.get("/queries/listings", params={"registry": "art-trees", "format": "sparql"}).text
    same = client.get("/sparql", params={"query": text})
    assert same.json() == data


@pytest.mark.parametrize(
    ("params", "headers", "media_type"),
    [
        ({"format": "json"}, {}, "application/sparql-results+json"),
        ({"format": "xml"}, {}, "application/sparql-results+xml"),
        ({"format": "csv"}, {}, "text/csv"),
        ({"format": "tsv"}, {}, "text/tab-separated-values"),
        ({}, {"Accept": "text/csv"}, "text/csv"),
        ({}, {"Accept": "application/sparql-results+xml"}, "application/sparql-results+xml"),
        ({}, {"Accept": "text/tab-separated-values;q=0.5, text/csv;q=0.9"}, "text/csv"),
        ({"format": "sparql"}, {}, "application/sparql-query"),
        ({"format": "rq"}, {"Accept": "text/csv"}, "application/sparql-query"),
        ({}, {"Accept": "application/sparql-query"}, "application/sparql-query"),
        ({}, {"Accept": "text/csv, application/sparql-query;q=0.5"}, "text/csv"),
    ],
)
def test_every_result_format(client: TestClient, stub, params, headers, media_type) -> None:
    r = client.get("/queries/listings", params={"registry": "art-trees", **params}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media_type
    if media_type == "text/csv":
        lines = r.text.strip().splitlines()
        assert lines[0] == "listing" and len(lines) == LIMIT + 1
    if media_type == "application/sparql-query":
        assert '<https://w3id.org/carbonkg/vocab/registry/art-trees>' in r.text
        # the optional ?since without a value is left out of the row (unbound), not UNDEF
        assert "VALUES (?registry) { (<https://w3id.org/carbonkg/vocab/registry/art-trees>) }" in r.text


@pytest.mark.parametrize(
    ("params", "media_type"),
    [
        ({}, "text/turtle"),
        ({"format": "turtle"}, "text/turtle"),
        ({"format": "ntriples"}, "application/n-triples"),
        ({"format": "jsonld"}, "application/ld+json"),
        ({"format": "rdfxml"}, "application/rdf+xml"),
    ],
)
def test_graph_formats(client: TestClient, stub, params, media_type) -> None:
    r = client.get("/queries/listing-graph", params=params)  # the default registry
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media_type
    if media_type == "application/n-triples":
        triples = list(ox.parse(r.content, ox.RdfFormat.N_TRIPLES))
        assert len(triples) == LIMIT


def test_head(client: TestClient, stub) -> None:
    r = client.head("/queries/listings", params={"registry": "art-trees", "format": "csv"})
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["carbonkg-result-count"] == str(LIMIT)
    r = client.head("/queries/listings", params={"registry": "art-trees", "format": "sparql"})
    assert r.status_code == 200 and r.content == b"" and int(r.headers["content-length"]) > 0


@pytest.mark.parametrize(
    ("params", "parameter", "detail"),
    [
        ({}, "registry", "needs parameter registry"),
        ({"registry": ""}, "registry", "needs parameter registry"),
        ({"registry": "nowhere"}, "registry", "unknown registry 'nowhere'"),
        ({"registry": "art-trees", "since": "20x4"}, "since", "not a valid year"),
        ({"registry": "art-trees", "bogus": "1"}, "bogus", "has no parameter 'bogus'"),
        ({"registry": ["art-trees", "verra"]}, "registry", "given 2 times"),
        ({"registry": "art-trees", "limit": "ten"}, "limit", "must be a whole number"),
        ({"registry": "art-trees", "offset": "-3"}, "offset", "must be a whole number"),
        ({"registry": "art-trees", "offset": ["1", "2"]}, "offset", "given 2 times"),
    ],
)
def test_invalid_parameters_are_named(client: TestClient, stub, params, parameter, detail) -> None:
    r = client.get("/queries/listings", params=params)
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"] == "https://w3id.org/carbonkg/problems/invalid-parameter"
    assert problem["title"] == "Invalid parameter"
    assert problem["parameter"] == parameter
    assert problem["query"] == "listings"
    assert detail in problem["detail"]


def test_pages_of_a_listing(client: TestClient, stub) -> None:
    whole = client.get("/queries/listings", params={"registry": "art-trees", "format": "csv"}).text.splitlines()
    r = client.get("/queries/listings", params={"registry": "art-trees", "format": "csv", "limit": "2", "offset": "1"})
    assert r.status_code == 200 and r.headers["carbonkg-result-count"] == "2"
    assert r.text.splitlines() == [whole[0], *whole[2:4]]
    text = client.get("/queries/listings", params={"registry": "art-trees", "limit": "2", "format": "sparql"}).text
    assert text.rstrip().endswith("LIMIT 2")


def test_an_unknown_query_is_404(client: TestClient, stub) -> None:
    r = client.get("/queries/nothing-like-it")
    assert r.status_code == 404
    problem = r.json()
    assert problem["available"] == ["listings", "listing-graph", "slow"]
    assert "nothing-like-it" in problem["detail"]


def test_format_errors_are_those_of_sparql(client: TestClient, stub) -> None:
    r = client.get("/queries/listings", params={"registry": "art-trees", "format": "turtle"})
    assert r.status_code == 406 and r.json()["title"] == "Not acceptable"
    r = client.get("/queries/listings", params={"registry": "art-trees", "format": "yaml"})
    assert r.status_code == 400 and "unknown format" in r.json()["detail"]
    r = client.get("/queries/listings", params={"registry": "art-trees"}, headers={"Accept": "image/png"})
    assert r.status_code == 406


def test_other_methods(client: TestClient, stub) -> None:
    r = client.post("/queries/listings")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
    r = client.delete("/queries")
    assert r.status_code == 405 and r.headers["allow"] == "GET"


def test_library_queries_have_the_time_limit_of_every_query(store: Path, monkeypatch) -> None:
    monkeypatch.setattr(queries_api, "_library", lambda: STUB)
    with serve(store, query_timeout_s=0.5, query_workers=1) as slow_client:
        r = slow_client.get("/queries/slow")
        assert r.status_code == 503
        assert r.json()["type"].endswith("/problems/query-timeout")
        assert slow_client.get("/queries/listings", params={"registry": "art-trees"}).status_code == 200
