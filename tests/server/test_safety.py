"""Finding SERVICE and LOAD (and the dataset clauses) before a request runs: the tokeniser must see
every real keyword and none that is inside a string, a comment, an IRI, a prefixed name or a
variable. Cross-checked against rdflib's algebra, which has the real parse tree."""

from __future__ import annotations

import functools

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonkg.server.problems import Problem
from carbonkg.server.safety import analyse_query, check_remote_calls, find_remote_calls, is_allowed, tokenize

BASE = "https://w3id.org/carbonkg/sparql"
WD = "https://query.wikidata.org/sparql"

# (query, the SERVICE IRIs it really calls)
CORPUS = [
    ("SELECT * { ?s ?p ?o }", []),
    (f"SELECT * {{ SERVICE <{WD}> {{ ?s ?p ?o }} }}", [WD]),
    (f"select * {{ service silent <{WD}> {{ ?s ?p ?o }} }}", [WD]),
    (f"SELECT * {{ SeRvIcE <{WD}> {{ ?s ?p ?o }} }}", [WD]),
    ("PREFIX wd: <https://query.wikidata.org/>\nSELECT * { SERVICE wd:sparql { ?s ?p ?o } }", [WD]),
    ("BASE <https://query.wikidata.org/>\nSELECT * { SERVICE <sparql> { ?s ?p ?o } }", [WD]),
    ("SELECT * { ?s ?p 'SERVICE <http://evil.example/> { }' }", []),
    ('SELECT * { ?s ?p """a\nSERVICE <http://evil.example/> {}\n""" }', []),
    ("SELECT * { ?s ?p ?o } # SERVICE <http://evil.example/> { }", []),
    ("PREFIX service: <http://x/>\nSELECT * { ?s service:x ?service }", []),
    ("SELECT * { ?s <http://x/SERVICE> ?o . ?s ?p \"x\"@service }", []),
    (f"SELECT * {{ {{ SELECT * {{ SERVICE <{WD}> {{ ?a ?b ?c }} }} }} }}", [WD]),
    (f"SELECT * {{ ?s ?p ?o FILTER(?o < 3) SERVICE <{WD}> {{ ?s ?p ?o }} FILTER(?o > 1) }}", [WD]),
    (f"SELECT * {{ ?s ?p ?o . #comment with <\nSERVICE <{WD}> {{ ?s ?p ?o }} }}", [WD]),
    (f"SELECT * {{ SERVICE <{WD}> {{ ?s ?p ?o }} SERVICE <http://b.example/sparql> {{ ?o ?p ?s }} }}", [WD, "http://b.example/sparql"]),
    ("SELECT * { ?s ?p 'it\\'s SERVICE <http://evil.example/> {}' }", []),
]


@pytest.mark.parametrize("query,services", CORPUS, ids=range(len(CORPUS)))
def test_service_calls_are_found(query: str, services: list[str]) -> None:
    calls = analyse_query(query, base=BASE).remote_calls
    assert [c.iri for c in calls if c.keyword == "SERVICE"] == services


@pytest.mark.parametrize("query,services", CORPUS, ids=range(len(CORPUS)))
def test_tokeniser_agrees_with_rdflib_algebra(query: str, services: list[str]) -> None:
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if getattr(node, "name", None) == "ServiceGraphPattern":
                found.append(str(node["term"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(translateQuery(parseQuery(query), base=BASE).algebra)
    assert sorted(found) == sorted(services)


def test_variable_service_is_refused() -> None:
    text = "SELECT * { SERVICE ?endpoint { ?s ?p ?o } VALUES ?endpoint { <http://a.example/> } }"
    with pytest.raises(Problem) as info:
        check_remote_calls(text, analyse_query(text, base=BASE).remote_calls, ["http://a.example/"])
    assert info.value.status == 403
    assert info.value.detail.startswith("SERVICE ?endpoint (a variable endpoint) at line 1, column 12 is not allowed")


def test_allow_list_exact_and_prefix() -> None:
    assert is_allowed(WD, [WD])
    assert not is_allowed(WD + "/x", [WD])
    assert is_allowed("https://query.wikidata.org/bigdata/namespace/wdq/sparql", ["https://query.wikidata.org/*"])
    assert not is_allowed("https://query.wikidata.org.evil.example/", ["https://query.wikidata.org/*"])
    assert not is_allowed(None, ["*"])


def test_load_is_found_in_updates() -> None:
    text = "PREFIX ex: <http://data.example/>\nload silent ex:dump.ttl into graph <http://g> ; CLEAR GRAPH <http://g>"
    calls = find_remote_calls(tokenize(text), BASE)
    assert [(c.keyword, c.iri) for c in calls] == [("LOAD", "http://data.example/dump.ttl")]
    with pytest.raises(Problem) as info:
        check_remote_calls(text, calls, [])
    assert info.value.detail == (
        "LOAD <http://data.example/dump.ttl> at line 2, column 1 is not allowed: this server contacts only the "
        "IRIs on its allow-list (CARBONKG_ALLOW_SERVICE), which is empty"
    )


def test_analyses_are_remembered_per_text_and_base() -> None:
    from carbonkg.server import safety

    query = f"SELECT * {{ SERVICE <{WD}> {{ ?s ?p ?o }} }}"
    first = analyse_query(query, base=BASE)
    assert analyse_query(query, base=BASE) is first  # the same text again: not tokenised again
    assert analyse_query(query, base="http://other.example/") is not first
    with pytest.raises(AttributeError):
        first.remote_calls = []  # type: ignore[misc]  # shared between requests: read-only
    long = query + " #" + "x" * safety._CACHE_CHARS  # too long to be kept
    assert analyse_query(long, base=BASE) is not analyse_query(long, base=BASE)
    assert [c.iri for c in analyse_query(long, base=BASE).remote_calls] == [WD]


def test_form_and_dataset_clauses() -> None:
    analysis = analyse_query(
        "PREFIX g: <http://g.example/>\n# SELECT in a comment\nask from g:one FROM <two> from named g:three { }",
        base="http://base.example/x",
    )
    assert analysis.form == "ASK"
    assert analysis.from_graphs == ["http://g.example/one", "http://base.example/two"]
    assert analysis.from_named_graphs == ["http://g.example/three"]
    assert analyse_query("INSERT DATA { <a> <b> <c> }", base=BASE).is_update
    assert analyse_query("  describe <x>", base=BASE).result_kind == "graph"


_filler = st.sampled_from(["?s", "?p", "<http://x/y>", "ex:z", "'lit'", '"SERVICE"', "42", ".", "# SERVICE <http://e/>\n"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_filler, max_size=12), st.booleans(), st.sampled_from(["SERVICE", "service", "Service"]))
def test_a_real_service_keyword_is_never_missed(filler: list[str], silent: bool, keyword: str) -> None:
    body = " ".join(filler)
    query = f"PREFIX ex: <http://ex/>\nSELECT * {{ {body} \n {keyword}{' SILENT' if silent else ''} <http://remote.example/sparql> {{ ?a ?b ?c }} }}"
    calls = analyse_query(query, base=BASE).remote_calls
    assert [c.iri for c in calls] == ["http://remote.example/sparql"]


# oxigraph reads a keyword glued to what follows (no word boundary): each of these really calls
# the remote endpoint in oxigraph (checked below on an empty store, against port 9, which
# oxigraph refuses before any connection), and each must be refused here.
GLUED_QUERIES = [
    "PREFIX : <http://127.0.0.1:9/> SELECT * { SERVICE:x { ?s ?p ?o } }",
    "PREFIX ex: <http://127.0.0.1:9/> SELECT * { SERVICEex:x { ?s ?p ?o } }",
    "PREFIX ex: <http://127.0.0.1:9/> SELECT * { SeRvIcEex:x{ ?s ?p ?o } }",
    "PREFIX ex: <http://127.0.0.1:9/> SELECT * { SERVICE SILENTex:x { ?s ?p ?o } }",
    "PREFIX ex: <http://127.0.0.1:9/> SELECT * { ?a ?b ?c OPTIONAL { SERVICEex:x { ?s ?p ?o } } }",
    "PREFIX ex: <http://127.0.0.1:9/> SELECT * { SERVICESILENT ex:x { ?s ?p ?o } }",
]


@pytest.mark.parametrize("query", GLUED_QUERIES, ids=range(len(GLUED_QUERIES)))
def test_glued_service_keywords_are_refused(query: str) -> None:
    import pyoxigraph as ox

    try:  # oxigraph's own reading: a SERVICE call (or, with SILENT, a swallowed one)
        results = list(ox.Store().query(query))
        assert "SILENT" in query.upper() and len(results) == 1
    except OSError as exc:
        assert "port 9" in str(exc)
    calls = analyse_query(query, base=BASE).remote_calls
    assert calls and all(c.keyword == "SERVICE" for c in calls)
    with pytest.raises(Problem) as info:
        check_remote_calls(query, calls, ["http://127.0.0.1:9/*"])  # even when the IRI would be allowed
    assert info.value.status == 403


def test_a_glued_prefix_declaration_is_read_as_oxigraph_reads_it() -> None:
    query = "PREFIX : <http://allowed.example/> PREFIX: <http://127.0.0.1:9/> SELECT * { SERVICE :x { ?s ?p ?o } }"
    (call,) = analyse_query(query, base=BASE).remote_calls
    assert call.iri == "http://127.0.0.1:9/x"


def test_prefixes_that_merely_look_like_keywords_are_fine() -> None:
    query = "PREFIX services: <http://e/> PREFIX load: <http://l/> SELECT * { ?s services:offered ?o ; load:x ?y }"
    assert analyse_query(query, base=BASE).remote_calls == []


@pytest.mark.parametrize(
    "update",
    [
        "PREFIX ex: <http://127.0.0.1:9/> LOADex:x",
        "PREFIX : <http://127.0.0.1:9/> LOAD:x",
        "PREFIX ex: <http://127.0.0.1:9/> LOAD SILENTex:x",
    ],
)
def test_glued_load_is_refused(update: str) -> None:
    calls = find_remote_calls(tokenize(update), BASE, update=True)
    assert calls and calls[0].keyword == "LOAD"
    with pytest.raises(Problem):
        check_remote_calls(update, calls, ["*"])


# -- whether a query may read named graphs (then, and only then, the live graphs are named to the store)


def test_queries_that_may_read_named_graphs() -> None:
    def reads(query: str) -> bool:
        return analyse_query(query, base=BASE).reads_named_graphs

    assert not reads("SELECT * { ?s ?p ?o }")
    assert not reads("SELECT * { ?graph <http://x/GRAPH> 'GRAPH ?g { }' } # GRAPH ?g { }")
    assert not reads("PREFIX ex: <http://x/> SELECT * { ?s ex:graph ?o . ?s ?p \"x\"@graph }")
    assert reads("SELECT * { GRAPH ?g { ?s ?p ?o } }")
    assert reads("select * { graph ?g { } }")
    assert reads("SELECT * { GRAPH<http://g/1> { ?s ?p ?o } }")
    assert reads("PREFIX : <http://g/> SELECT * { GRAPH:1 { ?s ?p ?o } }")  # oxigraph: GRAPH, then :1
    assert reads("PREFIX graph: <http://x/> SELECT * { ?s graph:p ?o }")  # a prefix "graph": counted, to be safe


# (fragment, whether it has a GRAPH keyword)
_GRAPH_FRAGMENTS = [
    ("?s ?p ?o .", False),
    ("GRAPH ?g { ?s ?p ?o }", True),
    ("graph ?g { }", True),
    ("GRAPH:1 { ?s ?p ?x }", True),
    ("GRAPH<http://g/2>{?s ?p ?y}", True),
    ("FILTER NOT EXISTS { GrApH ?h { ?s ?p 'b' } }", True),
    ("?s ?p 'GRAPH ?g { }' .", False),
    ("?s <http://x/GRAPH> ?o .", False),
    ("?graph ?p ?o .", False),
    ("# GRAPH ?g { }\n", False),
    ("OPTIONAL { ?s :graph ?z }", False),
]


@functools.lru_cache(maxsize=1)
def _named_graph_store() -> ox.Store:
    """Two graphs with a triple each, and an empty one (as a catalog marker is)."""
    store = ox.Store()
    for n in (1, 2):
        store.add(ox.Quad(ox.NamedNode(f"http://g/s{n}"), ox.NamedNode("http://g/p"), ox.Literal("b"),
                          ox.NamedNode(f"http://g/{n}")))
    store.add_graph(ox.NamedNode("http://g/empty"))
    return store


def _answers(query: str, **dataset: object) -> list[str]:
    return sorted(str(s) for s in _named_graph_store().query(query, use_default_graph_as_union=True, **dataset))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_GRAPH_FRAGMENTS), min_size=1, max_size=5))
def test_a_query_said_not_to_read_named_graphs_answers_the_same_without_them(fragments: list[tuple[str, bool]]) -> None:
    """oxigraph's answer over the union default graph without named graphs equals its answer with
    every named graph whenever the analysis says the query reads none (the server then leaves the
    list of live graphs out), and a real GRAPH keyword is never missed."""
    query = "PREFIX : <http://g/> SELECT * { " + " ".join(text for text, _ in fragments) + " }"
    reads = analyse_query(query, base=BASE).reads_named_graphs
    assert reads == any(has_graph for _, has_graph in fragments)
    if not reads:
        assert _answers(query, named_graphs=[]) == _answers(query)


def test_named_graphs_matter_to_graph_patterns() -> None:
    """The check above can fail: with GRAPH, the named graphs change the answer."""
    query = "SELECT ?g { GRAPH ?g { } }"
    assert _answers(query, named_graphs=[]) == [] != _answers(query)
