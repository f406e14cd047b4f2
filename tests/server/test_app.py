"""The application around the protocols: settings, startup (static graphs), /health, the OpenAPI
document, CORS, the public base and local paths, and the `serve`/`query` commands."""

from __future__ import annotations

import gc
import io
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from server_helpers import build_store, essence, serve

from carbonkg.cli import build_parser
from carbonkg.cli import main as cli_main
from carbonkg.server.commands import run_query
from carbonkg.server.settings import Settings
from carbonkg.server.static_graphs import static_sources, sync_static_graphs
from carbonkg.store.embedded import STATIC_GRAPH_BASE, EmbeddedStore


def test_settings_from_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CARBONKG_STORE_PATH", str(tmp_path))
    monkeypatch.setenv("CARBONKG_BASE_IRI", "https://kg.example.org/carbon")
    monkeypatch.setenv("CARBONKG_ALLOW_SERVICE", "https://query.wikidata.org/sparql, https://dbpedia.org/*")
    monkeypatch.setenv("CARBONKG_CORS_ORIGINS", '["https://app.example.org"]')
    monkeypatch.setenv("CARBONKG_QUERY_TIMEOUT_S", "5")
    settings = Settings()
    assert settings.store_path == tmp_path
    assert settings.base_iri == "https://kg.example.org/carbon/"
    assert settings.allow_service == ["https://query.wikidata.org/sparql", "https://dbpedia.org/*"]
    assert settings.cors_origins == ["https://app.example.org"]
    assert settings.query_timeout_s == 5
    assert (settings.host, settings.port, settings.allow_update, settings.max_results) == ("127.0.0.1", 8000, False, 10_000)
    assert settings.public_iri("/graph/ontology") == "https://kg.example.org/carbon/graph/ontology"
    assert settings.local_path("https://kg.example.org/carbon/id/verra/project/1") == "/id/verra/project/1"
    assert settings.local_path("https://elsewhere.example/x") is None


def test_updates_need_a_token(tmp_path) -> None:
    with pytest.raises(ValueError, match="allow_update needs an update_token"):
        Settings(store_path=tmp_path, allow_update=True)


def test_health_and_openapi(read_client) -> None:
    r = read_client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["store"] == {"mode": "read-only", "graphs": 3, "generation": 0}
    assert body["workers"]["size"] == 2 and body["workers"]["alive"] == 2
    spec = read_client.get("/openapi.json").json()
    assert spec["info"]["title"] == "carbonkg SPARQL service"
    assert {"/sparql", "/update", "/graph", "/graph/{path}", "/health"} <= set(spec["paths"])
    assert set(spec["paths"]["/sparql"]) == {"get", "head", "post"}
    assert "application/sparql-query" in spec["paths"]["/sparql"]["post"]["requestBody"]["content"]
    assert read_client.get("/docs").status_code == 404  # no third-party UI assets


def test_no_cors_by_default(read_client) -> None:
    r = read_client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://app.example.org"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_when_configured(protocol_store: Path) -> None:
    with serve(protocol_store, cors_origins=["https://app.example.org"]) as client:
        r = client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://app.example.org"})
        assert r.headers["access-control-allow-origin"] == "https://app.example.org"
        assert "carbonkg-result-limit" in r.headers["access-control-expose-headers"].lower()
        preflight = client.options(
            "/sparql",
            headers={"Origin": "https://app.example.org", "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "content-type"},
        )
        assert preflight.status_code == 200
        # writes carry a bearer token, which is not allowed cross-origin
        preflight = client.options(
            "/update",
            headers={"Origin": "https://app.example.org", "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "authorization"},
        )
        assert preflight.status_code == 400
        r = client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


def test_static_graphs_load_once_and_reload_when_changed(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    sources = static_sources()
    assert "ontology" in sources and "vocab/country" in sources
    small = {"ontology": sources["ontology"], "vocab/sdg": sources["vocab/sdg"]}
    assert sync_static_graphs(store, small) == ["ontology", "vocab/sdg"]
    assert sync_static_graphs(store, small) == []  # unchanged: nothing written
    copy = tmp_path / "sdg.ttl"
    copy.write_bytes(sources["vocab/sdg"][0].read_bytes() + b"\n<urn:x:a> <urn:x:b> <urn:x:c> .\n")
    assert sync_static_graphs(store, {**small, "vocab/sdg": [copy]}) == ["vocab/sdg"]
    assert ox.Quad(ox.NamedNode("urn:x:a"), ox.NamedNode("urn:x:b"), ox.NamedNode("urn:x:c"),
                   ox.NamedNode(STATIC_GRAPH_BASE + "vocab/sdg")) in store.raw
    del store
    gc.collect()


def test_startup_loads_the_ontology_served_on_its_public_path(tmp_path: Path) -> None:
    store = build_store(tmp_path / "store")
    with serve(store, load_static_graphs=True) as client:
        names = {g for g in client.get("/sparql", headers={"Accept": "application/n-triples"}).text.split() if "/graph/" in g}
        assert "<https://w3id.org/carbonkg/graph/ontology>" in names
        # /graph/ontology on this server is <https://w3id.org/carbonkg/graph/ontology>
        r = client.get("/graph/ontology", headers={"Accept": "text/turtle"})
        assert r.status_code == 200
        triples = list(ox.parse(r.content, ox.RdfFormat.TURTLE))
        assert ox.NamedNode("https://w3id.org/carbonkg/ontology") in {t.subject for t in triples}
        ask = "ASK { <https://w3id.org/carbonkg/ontology#Issuance> a <http://www.w3.org/2002/07/owl#Class> }"
        assert client.get("/sparql", params={"query": ask}).json()["boolean"] is True


def test_query_command(protocol_store: Path, tmp_path: Path, capsys) -> None:
    out = io.BytesIO()
    settings = Settings(store_path=protocol_store, load_static_graphs=False)
    assert run_query("SELECT ?s { ?s a ?t } ORDER BY ?s", settings, "csv", out) == 0
    assert out.getvalue().decode().splitlines() == ["s"] + [f"http://kasei.us/2009/09/sparql/data/data{n}.rdf" for n in (1, 2, 3)]
    query_file = tmp_path / "q.rq"
    query_file.write_text("ASK FROM <http://kasei.us/2009/09/sparql/data/data2.rdf> { <http://kasei.us/2009/09/sparql/data/data2.rdf> ?p ?o }")
    out = io.BytesIO()
    assert run_query(query_file.read_text(), settings, None, out) == 0
    assert json.loads(out.getvalue()) == {"head": {}, "boolean": True}
    assert cli_main(["query", "-e", "SELECT * {", "--store", str(protocol_store)]) == 1
    assert "syntax error at line 1, column 11" in capsys.readouterr().err
    assert cli_main(["query", "-e", "ASK {}", "--store", str(protocol_store), "--format", "turtle"]) == 2
    assert cli_main(["query", "-e", "SELECT * { SERVICE <http://127.0.0.1:9/> {} }", "--store", str(protocol_store)]) == 1
    assert cli_main(["query", str(tmp_path / "missing.rq"), "--store", str(protocol_store)]) == 2
    assert cli_main(["query", "-e", "ASK {}", "--store", str(tmp_path / "nowhere")]) == 2


def test_query_command_formats_are_the_servers() -> None:
    from carbonkg.cli import QUERY_FORMATS
    from carbonkg.server.conneg import ALL_FORMATS

    assert sorted(QUERY_FORMATS) == sorted(ALL_FORMATS)


@pytest.mark.parametrize("environment,logged", [({}, False), ({"CARBONKG_ACCESS_LOG": "true"}, True)])
def test_serve_writes_no_access_log_unless_asked(monkeypatch, tmp_path, environment, logged) -> None:
    import uvicorn

    from carbonkg.server.commands import serve as serve_command

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    options = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: options.update(kwargs))
    assert serve_command(Settings(store_path=tmp_path)) == 0
    assert options["access_log"] is logged


def test_serve_command_arguments() -> None:
    args = build_parser().parse_args(["serve", "--store", "var/x", "--port", "8123"])
    assert (args.store, args.host, args.port) == ("var/x", None, 8123)
    args = build_parser().parse_args(["load", "data"])  # the existing commands are untouched
    assert args.paths == ["data"]


def test_store_written_by_another_process_is_seen(tmp_path: Path) -> None:
    """A read-only service notices a loader's writes (the store's files change) and reopens."""
    import time

    from server_helpers import add_user_graph

    store = build_store(tmp_path / "store", {"http://example.org/a": b"<http://e/a> <http://e/p> <http://e/o> .\n"})
    with serve(store) as client:
        assert client.get("/health").json()["store"]["graphs"] == 1
        writer = EmbeddedStore(store)  # the service holds a read-only snapshot: a writer may open
        add_user_graph(writer, "http://example.org/b", b"<http://e/b> <http://e/p> <http://e/o> .\n")
        writer.flush()
        del writer
        gc.collect()
        time.sleep(1.1)  # the service checks the store's files at most once a second
        r = client.get("/sparql", params={"query": "ASK { GRAPH <http://example.org/b> { ?s ?p ?o } }"})
        assert r.json()["boolean"] is True
        assert essence(r.headers["content-type"]) == "application/sparql-results+json"


def test_queries_in_the_server_process(protocol_store: Path) -> None:
    """query_workers = 0: no worker processes (for debugging), same answers."""
    with serve(protocol_store, query_workers=0) as client:
        assert client.get("/health").json()["workers"]["mode"] == "inline"
        r = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
        assert r.json()["results"]["bindings"][0]["n"]["value"] == "3"


def test_get_and_head_sparql_are_answered_past_the_router(protocol_store: Path, monkeypatch) -> None:
    """GET/HEAD /sparql skip FastAPI's routing and dependency solving (sparql.QueryGetShortcut):
    answers, problems and the service description are the same as through the router."""
    from fastapi.routing import APIRoute

    with serve(protocol_store) as client:
        async def routed(self, scope, receive, send) -> None:
            raise AssertionError("routed")

        monkeypatch.setattr(APIRoute, "handle", routed)
        r = client.get("/sparql", params={"query": "ASK {}"})
        assert r.status_code == 200 and r.json()["boolean"] is True
        assert r.headers["carbonkg-result-count"] == "1" and r.headers["vary"] == "Accept"
        head = client.head("/sparql", params={"query": "ASK {}"})
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == r.headers["content-length"]
        bad = client.get("/sparql", params={"query": "ASK {"})
        assert bad.status_code == 400 and essence(bad.headers["content-type"]) == "application/problem+json"
        assert bad.json()["instance"] == "/sparql" and bad.json()["line"] == 1
        description = client.get("/sparql", headers={"Accept": "text/turtle"})
        assert description.status_code == 200 and b"sd:endpoint" in description.content  # (url_for works)
        with pytest.raises(AssertionError, match="routed"):  # every other route goes through the router
            client.get("/health")


def test_named_graphs_are_the_live_graphs_whenever_a_query_may_read_them(read_client) -> None:
    """Queries without GRAPH run without the list of live graphs; with GRAPH (any case, glued),
    the named graphs are the live graphs only, never the catalog's marker graphs."""
    from server_helpers import PROTOCOL_GRAPHS

    def column(query: str, var: str) -> list[str]:
        r = read_client.get("/sparql", params={"query": query})
        assert r.status_code == 200, r.text
        return sorted(b[var]["value"] for b in r.json()["results"]["bindings"])

    for query in ("SELECT DISTINCT ?g { GRAPH ?g { } }", "select distinct ?g {graph?g{}}",
                  "SELECT DISTINCT ?g { ?s ?p ?o OPTIONAL { GrApH ?g { ?s ?p ?o } } }"):
        assert column(query, "g") == sorted(PROTOCOL_GRAPHS)
    union = column("SELECT ?s ?p ?o { ?s ?p ?o }", "s")
    assert union and union == column("SELECT ?s { GRAPH ?g { ?s ?p ?o } }", "s")
