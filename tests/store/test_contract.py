"""One contract, three stores: the embedded pyoxigraph store, Oxigraph server over HTTP and
Virtuoso over HTTP, all loaded by the real pipeline (``load_file``) from the bundled Verra exports.

Synthetic data appears only where a real file cannot show the case: a changed export (built in
tmp_path from the real one, its last row removed).
"""

from __future__ import annotations

import csv
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox
import pytest

from carbonkg import iris
from carbonkg.loaders.pipeline import LoadRun, convert_file, load_file, open_source
from carbonkg.store import CATALOG_GRAPH, EmbeddedStore, RemoteStore, RemoteStoreError

ENGINES = ("embedded", "oxigraph", "virtuoso")  # as in conftest.py

EXPORTS = Path(__file__).resolve().parents[2] / "data" / "registry-exports"
PROJECTS = EXPORTS / "verra" / "projects.csv"
TRANSACTIONS = EXPORTS / "verra" / "transactions.csv"
VERRA = (PROJECTS, TRANSACTIONS)
ONTOLOGY = Path(__file__).resolve().parents[2] / "ontology"
CK = "https://w3id.org/carbonkg/ontology#"
PREFIXES = f"""PREFIX ck: <{CK}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX csvw: <http://www.w3.org/ns/csvw#>
"""


class SimulatedCrash(BaseException):
    """A kill: nothing of the store's own error handling runs."""


def fixed_run() -> LoadRun:
    """The same load run for every store, so their provenance triples are the same."""
    return LoadRun(started=datetime(2026, 1, 1, tzinfo=timezone.utc), run_id="contract")


def load(store, paths=VERRA) -> dict[str, object]:
    results = {}
    for path in paths:
        result = load_file(store, path, run=fixed_run())
        assert result.status == "loaded", [str(e) for e in result.errors]
        results[path.name] = result
    return results


def answer(store, sparql: str, **options):
    """A query's answer as a comparable value: a set of rows, a boolean, or a set of triples."""
    result = store.query(PREFIXES + sparql, **options)
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        return {tuple(None if s[n] is None else str(s[n]) for n in names) for s in result}
    return {str(t) for t in result}


def count(store, sparql: str, **options) -> int:
    rows = list(store.query(PREFIXES + sparql, **options))
    return int(rows[0][0].value)


def distinct_triples(paths=VERRA) -> int:
    """The oracle: distinct triples per file as the loaders write them, summed over files."""
    total = 0
    with tempfile.TemporaryDirectory(prefix="carbonkg-oracle-") as tmp:
        for path in paths:
            sink = Path(tmp) / "triples.nt"
            convert_file(open_source(path), sink, run=fixed_run())
            total += len(set(ox.parse(path=str(sink), format=ox.RdfFormat.N_TRIPLES)))
    return total


def export_iri(path: Path) -> str:
    return iris.export("verra", path.name)


def without_last_row(source: Path, folder: Path) -> Path:
    """A changed export: the real file with its last data row removed (same name, so same export)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows[:-1])
    return target


def graph_has_triples(store, graph_iri: str) -> bool:
    """Whether a (possibly not live) graph holds anything, asked through the store itself."""
    if isinstance(store, EmbeddedStore):
        return store.raw.contains_named_graph(ox.NamedNode(graph_iri)) and any(
            True for _ in store.raw.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri)))
    return bool(store.query(f"ASK {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}", named_graphs=[graph_iri]))


ROW_COUNT = "SELECT ?n WHERE {{ <{export}> ck:rowCount ?n }}"

#: queries every store must answer alike (compared as sets)
QUERIES = {
    "all triples": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",
    "types": "SELECT ?type (COUNT(?x) AS ?n) WHERE { ?x a ?type } GROUP BY ?type",
    "projects join optional filter": """
        SELECT ?p ?label ?country ?estimate WHERE {
          ?p a ck:ProjectListing ; rdfs:label ?label .
          OPTIONAL { ?p ck:hostCountry ?country }
          OPTIONAL { ?p ck:estimatedAnnualReductions ?estimate }
          FILTER (!BOUND(?estimate) || ?estimate > 50000)
        }""",
    "dates": """
        SELECT ?p ?start WHERE { ?p ck:creditingPeriodStart ?start FILTER (YEAR(?start) >= 2015) }""",
    "rows per export, through GRAPH": """
        SELECT ?e ?n (COUNT(?r) AS ?rows) WHERE {
          GRAPH ?g { ?e ck:rowCount ?n ; csvw:row ?r }
        } GROUP BY ?e ?n""",
    "issued quantity per vintage": """
        SELECT ?year (SUM(?q) AS ?total) WHERE { ?b a ck:CreditBlock ; ck:vintageYear ?year ; ck:quantity ?q }
        GROUP BY ?year""",
    "ask project": 'ASK { ?p a ck:ProjectListing ; ck:nativeId ?id FILTER (STR(?id) = "5962") }',
    "ask nothing": "ASK { ?p a ck:ProjectListing ; ck:nativeId \"no such project\" }",
    "ask catalog is not visible": "ASK { ?e ck:currentGraph ?g }",
    "construct labels": """
        CONSTRUCT { ?p rdfs:label ?l ; ck:hostCountry ?c } WHERE {
          ?p a ck:ProjectListing ; rdfs:label ?l OPTIONAL { ?p ck:hostCountry ?c } }""",
    "construct everything": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
}


# -- the same answers on every store -------------------------------------------------------------


@pytest.fixture(scope="module")
def _loaded_once(request, open_engine_store):
    stores = {engine: open_engine_store(request, engine) for engine in ENGINES}
    for store in stores.values():
        load(store)
    return {engine: (store, _pointers(store)) for engine, store in stores.items()}


def _pointers(store) -> list:
    return [store.export_state(export_iri(p)) for p in VERRA]


@pytest.fixture
def loaded_everywhere(_loaded_once):
    """The Verra exports loaded into each of the three stores, once per module; reloaded if a
    test in between reset a shared engine."""
    for engine, (store, pointers) in list(_loaded_once.items()):
        if _pointers(store) != pointers:
            store.clear()
            load(store)
            _loaded_once[engine] = (store, _pointers(store))
    return {engine: store for engine, (store, _) in _loaded_once.items()}


def test_same_triples_count_everywhere(loaded_everywhere) -> None:
    expected = distinct_triples()
    counts = {name: len(store) for name, store in loaded_everywhere.items()}
    assert counts == dict.fromkeys(ENGINES, expected)
    queried = {name: count(store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
               for name, store in loaded_everywhere.items()}
    assert queried == dict.fromkeys(ENGINES, expected)


@pytest.mark.parametrize("name", list(QUERIES))
def test_same_answers_everywhere(loaded_everywhere, name: str) -> None:
    answers = {engine: answer(store, QUERIES[name]) for engine, store in loaded_everywhere.items()}
    reference = answers["embedded"]
    assert reference not in (set(), None)
    if name == "ask nothing" or name == "ask catalog is not visible":
        assert reference is False
    for engine in ENGINES[1:]:
        assert answers[engine] == reference, (
            f"{engine} differs from embedded: only embedded {sorted(reference - answers[engine])[:5] if isinstance(reference, set) else reference}, "
            f"only {engine} {sorted(answers[engine] - reference)[:5] if isinstance(reference, set) else answers[engine]}"
        )


def test_same_catalog_pointers_everywhere(loaded_everywhere) -> None:
    """Each store's catalog points every export at one live version graph with the file's sha256."""
    for engine, store in loaded_everywhere.items():
        live = {g.value for g in store.live_graphs()}
        for path in VERRA:
            state = store.export_state(export_iri(path))
            assert state is not None, engine
            assert state.sha256 == open_source(path).sha256
            assert state.graph_iri in live
            assert state.graph_iri.startswith(export_iri(path) + "/graph/" + state.sha256[:12])
        assert len(live) == len(VERRA)


def test_query_results_are_pyoxigraph_objects_everywhere(loaded_everywhere) -> None:
    for engine, store in loaded_everywhere.items():
        select = store.query(PREFIXES + "SELECT ?p WHERE { ?p a ck:ProjectListing } LIMIT 3")
        assert isinstance(select, ox.QuerySolutions), engine
        assert [v.value for v in select.variables] == ["p"]
        rows = list(select)
        assert len(rows) == 3 and all(isinstance(r["p"], ox.NamedNode) for r in rows)
        assert isinstance(store.query("ASK { ?s ?p ?o }"), ox.QueryBoolean)
        triples = store.query(PREFIXES + "CONSTRUCT { ?p a ck:ProjectListing } WHERE { ?p a ck:ProjectListing }")
        listed = list(triples)
        assert len(listed) == 82 and all(isinstance(t, ox.Triple) for t in listed), engine
        again = store.query(PREFIXES + "CONSTRUCT { ?p a ck:ProjectListing } WHERE { ?p a ck:ProjectListing }")
        parsed = list(ox.parse(again.serialize(format=ox.RdfFormat.N_TRIPLES), ox.RdfFormat.N_TRIPLES))
        assert {q.triple for q in parsed} == set(listed)


# -- loading semantics, on each store ------------------------------------------------------------


def test_unchanged_file_is_skipped(store) -> None:
    first = load(store)
    live = store.live_graphs()
    for path in VERRA:
        again = load_file(store, path, run=fixed_run())
        assert again.status == "skipped"
        assert again.graph == first[path.name].graph
    assert store.live_graphs() == live


def test_changed_file_replaces_only_its_graph(store, tmp_path) -> None:
    load(store)
    before = {p.name: store.export_state(export_iri(p)) for p in VERRA}
    size_before = len(store)
    rows_before = count(store, ROW_COUNT.format(export=export_iri(TRANSACTIONS)))

    changed = without_last_row(TRANSACTIONS, tmp_path / "verra")
    result = load_file(store, changed, run=fixed_run())
    assert result.status == "loaded"

    after = {p.name: store.export_state(export_iri(p)) for p in VERRA}
    assert after["projects.csv"] == before["projects.csv"]  # untouched
    assert after["transactions.csv"].graph_iri != before["transactions.csv"].graph_iri
    assert after["transactions.csv"].sha256 == open_source(changed).sha256
    assert count(store, ROW_COUNT.format(export=export_iri(TRANSACTIONS))) == rows_before - 1
    assert {g.value for g in store.live_graphs()} == {after["projects.csv"].graph_iri, after["transactions.csv"].graph_iri}
    assert not graph_has_triples(store, before["transactions.csv"].graph_iri)  # the old version is gone
    assert graph_has_triples(store, before["projects.csv"].graph_iri)
    assert len(store) == size_before - (distinct_triples([TRANSACTIONS]) - distinct_triples([changed]))


def test_interrupted_load_leaves_previous_version_visible(store, tmp_path, monkeypatch) -> None:
    load(store)
    before = store.export_state(export_iri(TRANSACTIONS))
    rows_before = count(store, ROW_COUNT.format(export=export_iri(TRANSACTIONS)))
    answers_before = answer(store, QUERIES["all triples"])

    def crash(*args, **kwargs):
        raise SimulatedCrash("killed before the pointer switch")

    monkeypatch.setattr(type(store), "_switch", crash)
    changed = without_last_row(TRANSACTIONS, tmp_path / "verra")
    with pytest.raises(SimulatedCrash):
        load_file(store, changed, run=fixed_run())
    monkeypatch.undo()

    assert store.export_state(export_iri(TRANSACTIONS)) == before
    assert count(store, ROW_COUNT.format(export=export_iri(TRANSACTIONS))) == rows_before
    assert answer(store, QUERIES["all triples"]) == answers_before
    live = {g.value for g in store.live_graphs()}
    # the half-done version is in the store but no query sees it; garbage collection removes it
    orphans = [g for g in _version_graphs(store, TRANSACTIONS) if g not in live]
    assert len(orphans) == 1 and graph_has_triples(store, orphans[0])
    assert store.collect_garbage() == 1
    assert not graph_has_triples(store, orphans[0])
    assert store.collect_garbage() == 0
    # and the next load goes through
    assert load_file(store, changed, run=fixed_run()).status == "loaded"
    assert count(store, ROW_COUNT.format(export=export_iri(TRANSACTIONS))) == rows_before - 1


def _version_graphs(store, path: Path) -> list[str]:
    prefix = export_iri(path) + "/graph/"
    if isinstance(store, EmbeddedStore):
        return [g.value for g in store.raw.named_graphs() if isinstance(g, ox.NamedNode) and g.value.startswith(prefix)]
    rows = store.query(f"SELECT ?g WHERE {{ ?g <https://w3id.org/carbonkg/store#versionOf> <{export_iri(path)}> }}",
                       default_graph=[CATALOG_GRAPH.value])
    return [r["g"].value for r in rows]


def test_remove_export(store) -> None:
    load(store)
    graph = store.export_state(export_iri(PROJECTS)).graph_iri
    assert store.remove_export(export_iri(PROJECTS)) is True
    assert store.export_state(export_iri(PROJECTS)) is None
    assert not graph_has_triples(store, graph)
    assert [g.value for g in store.live_graphs()] == [store.export_state(export_iri(TRANSACTIONS)).graph_iri]
    assert answer(store, "ASK { ?p a ck:ProjectListing ; ck:estimatedAnnualReductions ?e }") is False
    assert store.remove_export(export_iri(PROJECTS)) is False
    assert len(store) == distinct_triples([TRANSACTIONS])


def test_static_graph(store) -> None:
    load(store, [PROJECTS])
    iri = store.put_static_graph("ontology", [ONTOLOGY / "core.ttl"])
    assert ox.NamedNode(iri) in store.live_graphs()
    expected = len(set(ox.parse(path=str(ONTOLOGY / "core.ttl"), format=ox.RdfFormat.TURTLE)))
    assert count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}") == expected
    # ontology terms and data are queried together
    assert answer(store, "ASK { ?p a ck:ProjectListing . ck:ProjectListing a ?k }") is True
    # putting it again replaces its content
    store.put_static_graph("ontology", [ONTOLOGY / "provenance.ttl"])
    expected = len(set(ox.parse(path=str(ONTOLOGY / "provenance.ttl"), format=ox.RdfFormat.TURTLE)))
    assert count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}") == expected
    assert sum(1 for g in store.live_graphs() if g.value == iri) == 1


def test_empty_store_answers_nothing(store) -> None:
    assert store.live_graphs() == []
    assert answer(store, "SELECT ?s WHERE { ?s ?p ?o }") == set()
    assert answer(store, "ASK { GRAPH ?g { ?s ?p ?o } }") is False
    assert store.export_state(export_iri(PROJECTS)) is None
    assert len(store) == 0


def test_flush_is_harmless(store) -> None:
    load(store, [PROJECTS])
    store.flush()
    assert store.export_state(export_iri(PROJECTS)) is not None


# -- remote only: failures half-way through an upload --------------------------------------------


def test_failed_upload_is_discarded_and_previous_stays(request, open_engine_store, remote_engine, tmp_path, monkeypatch) -> None:
    store = open_engine_store(request, remote_engine, slice_bytes=64 << 10)  # many slices
    load(store)
    before = store.export_state(export_iri(TRANSACTIONS))
    real_gsp = RemoteStore._gsp
    calls = []

    def failing_gsp(self, method, graph_iri, body):
        calls.append(method)
        if len(calls) == 3:
            raise RemoteStoreError("connection reset (simulated)")
        return real_gsp(self, method, graph_iri, body)

    monkeypatch.setattr(RemoteStore, "_gsp", failing_gsp)
    with pytest.raises(RemoteStoreError, match="simulated"):
        load_file(store, without_last_row(TRANSACTIONS, tmp_path / "verra"), run=fixed_run())
    monkeypatch.undo()
    assert calls == ["PUT", "POST", "POST"]
    assert store.export_state(export_iri(TRANSACTIONS)) == before
    assert _version_graphs(store, TRANSACTIONS) == [before.graph_iri]  # the partial upload was dropped
    assert store.collect_garbage() == 0


def test_killed_upload_is_collected(request, open_engine_store, remote_engine, tmp_path, monkeypatch) -> None:
    store = open_engine_store(request, remote_engine, slice_bytes=64 << 10)
    load(store)
    before = store.export_state(export_iri(TRANSACTIONS))
    real_gsp = RemoteStore._gsp
    calls = []

    def killed_gsp(self, method, graph_iri, body):
        calls.append(method)
        if len(calls) == 3:
            raise SimulatedCrash("killed mid-upload")
        return real_gsp(self, method, graph_iri, body)

    monkeypatch.setattr(RemoteStore, "_gsp", killed_gsp)
    with pytest.raises(SimulatedCrash):
        load_file(store, without_last_row(TRANSACTIONS, tmp_path / "verra"), run=fixed_run())
    monkeypatch.undo()
    assert store.export_state(export_iri(TRANSACTIONS)) == before
    orphans = [g for g in _version_graphs(store, TRANSACTIONS) if g != before.graph_iri]
    assert len(orphans) == 1 and graph_has_triples(store, orphans[0])
    assert store.collect_garbage(min_age=3600) == 0  # too young: another loader may still be at it
    assert store.collect_garbage() == 1
    assert not graph_has_triples(store, orphans[0])


def test_answers_are_of_one_state_while_another_process_loads(request, open_engine_store, remote_engine, tmp_path, monkeypatch) -> None:
    """A load by another process that replaces (and drops) a graph while a query is answered:
    the answer from before the switch is not handed out; the query is asked again."""
    reader = open_engine_store(request, remote_engine)
    load(reader)
    writer = request.getfixturevalue(f"{remote_engine}_server").store()
    request.addfinalizer(writer.close)
    rows_before = count(reader, ROW_COUNT.format(export=export_iri(TRANSACTIONS)))
    changed = without_last_row(TRANSACTIONS, tmp_path / "verra")
    real_query = RemoteStore._query
    asked = []

    def query_then_load(self, sparql, form, default, named, **kwargs):
        result = real_query(self, sparql, form, default, named, **kwargs)
        if self is reader and "rowCount" in sparql:
            asked.append(named)  # the live graphs (the default graph is the merged graph)
            if len(asked) == 1:  # the other process switches and drops right after this answer
                assert load_file(writer, changed, run=fixed_run()).status == "loaded"
        return result

    monkeypatch.setattr(RemoteStore, "_query", query_then_load)
    assert count(reader, ROW_COUNT.format(export=export_iri(TRANSACTIONS))) == rows_before - 1
    assert len(asked) == 2 and asked[0] != asked[1]


def test_sliced_upload_equals_one_piece(request, open_engine_store, remote_engine) -> None:
    whole = open_engine_store(request, remote_engine)
    load(whole)
    reference = answer(whole, QUERIES["all triples"])
    sliced = open_engine_store(request, remote_engine, slice_bytes=10_000)
    load(sliced)
    assert answer(sliced, QUERIES["all triples"]) == reference


# -- answers an engine cut short raise, never come back partial ----------------------------------

HEAVY_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?x ?y ?z }"
HEAVY_SELECT = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?x ?y ?z }"
HEAVY_GRAPH_SELECT = "SELECT * WHERE { GRAPH ?g { ?a ?b ?c . ?d ?e ?f . ?x ?y ?z } }"
#: Oxigraph server checks its timeout often enough in this one (the three-way count runs ~15 s)
HEAVY_PAIR_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"
# Never an ORDER BY over such joins: Oxigraph server does not cancel the sort on its timeout
# and materialises every row (gigabytes) after the client has given up.


def test_virtuoso_row_cap_raises(request, open_engine_store, virtuoso_server) -> None:
    """Virtuoso caps answers at [SPARQL] ResultSetMaxRows and says so only in X-SPARQL-MaxRows."""
    store = open_engine_store(request, "virtuoso")
    load(store)
    everything = answer(store, QUERIES["construct everything"])
    with virtuoso_server.ini_setting("SPARQL", "ResultSetMaxRows", "5"):
        with pytest.raises(RemoteStoreError, match=r"X-SPARQL-MaxRows") as caught:
            store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
        assert "5 rows" in str(caught.value) and caught.value.status == 200
        with pytest.raises(RemoteStoreError, match=r"X-SPARQL-MaxRows"):
            store.query("SELECT DISTINCT ?type WHERE { ?s a ?type }")
        # the cap does not apply to CONSTRUCT (one result "row" to Virtuoso): the answer is whole
        assert answer(store, QUERIES["construct everything"]) == everything
        with pytest.raises(RemoteStoreError, match=r"X-SPARQL-MaxRows"):  # exactly the cap: cannot tell, so no
            store.query("SELECT ?s WHERE { ?s ?p ?o } LIMIT 5")
        # answers under the cap are fine, the store's own bookkeeping too
        assert len(list(store.query("SELECT ?s WHERE { ?s ?p ?o } LIMIT 4"))) == 4
        assert bool(store.query("ASK { ?s ?p ?o }")) is True
        assert count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") > 5
        assert len(store.live_graphs()) == 2
    assert len(list(store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }"))) > 5  # the ini is back


def test_virtuoso_anytime_timeout_raises(request, open_engine_store) -> None:
    """With a ``timeout`` parameter Virtuoso answers 200 with what it had when time ran out and
    says so only in X-SQL-State: S1TAT."""
    store = open_engine_store(request, "virtuoso")
    load(store)
    started = time.monotonic()
    with pytest.raises(RemoteStoreError, match=r"X-SQL-State S1TAT"):
        # over the live graphs, not the merged graph, whose cost Virtuoso estimates over its limit (400 s)
        store.query(HEAVY_COUNT, params={"timeout": 1000}, default_graph=store.live_graphs())
    assert time.monotonic() - started < 30


def test_virtuoso_hard_timeout_raises(request, open_engine_store, virtuoso_server) -> None:
    """Without the ``timeout`` parameter, [SPARQL] MaxQueryExecutionTime ends the query with an
    error status (500, S1T00 SR171), which the store reports."""
    store = open_engine_store(request, "virtuoso")
    load(store)
    with virtuoso_server.ini_setting("SPARQL", "MaxQueryExecutionTime", "1"):
        with pytest.raises(RemoteStoreError, match=r"answered 500 .*SR171: Transaction timed out") as caught:
            store.query(HEAVY_COUNT, default_graph=store.live_graphs())  # see the test above
    assert caught.value.status == 500


@pytest.fixture(scope="module")
def oxigraph_timeout_server(tmp_path_factory, start_engine):
    """A second Oxigraph server, its queries timing out after one second, with the Verra exports."""
    engine = start_engine("oxigraph", tmp_path_factory.mktemp("oxigraph-timeout"), "--timeout-s", "1")
    store = engine.store()
    load(store)
    yield store
    store.close()
    engine.stop()


@pytest.mark.parametrize("sparql", [HEAVY_PAIR_COUNT, HEAVY_GRAPH_SELECT], ids=["count", "select-graph"])
def test_oxigraph_server_timeout_raises(oxigraph_timeout_server, sparql: str) -> None:
    """On its own timeout (``--timeout-s``) Oxigraph server ends the answer it is streaming
    with a plain-text message, after a 200 status: only parsing the whole answer tells."""
    store = oxigraph_timeout_server
    started = time.monotonic()
    with pytest.raises(RemoteStoreError, match=r"incomplete or malformed.*cancelled"):
        store.query(sparql)
    assert time.monotonic() - started < 30


def test_answer_streamed_past_the_deadline_raises(request, open_engine_store) -> None:
    """Oxigraph server (0.5) does not always apply its own timeout to a streamed answer (a plain
    join over default-graph-uri graphs streams on): the store's deadline covers the whole answer."""
    store = open_engine_store(request, "oxigraph", timeout=2)
    load(store)
    started = time.monotonic()
    with pytest.raises(RemoteStoreError, match=r"no complete answer .* within 2 s"):
        store.query(HEAVY_SELECT)
    assert time.monotonic() - started < 15


def test_answer_over_the_size_bound_raises(request, open_engine_store, remote_engine) -> None:
    store = open_engine_store(request, remote_engine, max_answer_bytes=200_000)
    load(store)
    with pytest.raises(RemoteStoreError, match=r"larger than 200,000 bytes"):
        store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
    assert len(list(store.query("SELECT ?s WHERE { ?s ?p ?o } LIMIT 10"))) == 10


def test_virtuoso_without_credentials_cannot_write(virtuoso_server) -> None:
    """The anonymous endpoints answer queries but refuse writes unless SPARQL_UPDATE is granted
    to the SPARQL user: the test instance grants nothing, the store signs in as dba instead."""
    anonymous = RemoteStore.virtuoso(virtuoso_server.base_url, timeout=30)
    try:
        before = anonymous.export_state(export_iri(PROJECTS))  # reading is allowed
        with pytest.raises(RemoteStoreError, match="SECURITY") as caught:
            anonymous.replace_export(export_iri(PROJECTS), "ab" * 32, b"<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n")
        assert caught.value.status in (401, 403, 500)
        assert anonymous.export_state(export_iri(PROJECTS)) == before
    finally:
        anonymous.close()


def test_wkt_literals_everywhere(request, open_engine_store) -> None:
    """A known difference, pinned: Virtuoso turns geo:wktLiteral values into its own geometry
    type on load (datatype virtrdf:Geometry, coordinates cut to about 14 significant digits);
    the Oxigraph stores keep them as written. Seen on the Cercarbono export (171 literals)."""
    wkt = "http://www.opengis.net/ont/geosparql#wktLiteral"
    triple = f'<https://w3id.org/carbonkg/id/x/geometry/1> <http://www.opengis.net/ont/geosparql#asWKT> "POINT(-75.58408635215012 8.412918740997307)"^^<{wkt}> .\n'
    found = {}
    for engine in ENGINES:
        store = open_engine_store(request, engine)
        store.replace_export("https://w3id.org/carbonkg/id/x/export/geo.csv", "ab" * 32, triple.encode())
        [row] = list(store.query("SELECT ?w WHERE { ?g <http://www.opengis.net/ont/geosparql#asWKT> ?w }"))
        found[engine] = (row["w"].value, row["w"].datatype.value)
    assert found["embedded"] == found["oxigraph"] == ("POINT(-75.58408635215012 8.412918740997307)", wkt)
    value, datatype = found["virtuoso"]
    assert datatype == "http://www.openlinksw.com/schemas/virtrdf#Geometry"
    x, y = (float(v) for v in value.removeprefix("POINT(").removesuffix(")").split())
    assert abs(x + 75.58408635215012) < 1e-9 and abs(y - 8.412918740997307) < 1e-9
