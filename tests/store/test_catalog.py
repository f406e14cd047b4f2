"""The embedded store's catalog as marker graphs: records survive any IRI, markers never show in
answers, and queries use the union default graph exactly when it holds nothing but live graphs."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from carbonkg.loaders.pipeline import load_file
from carbonkg.store import EmbeddedStore
from carbonkg.store.catalog import (
    CATALOG_BASE,
    MERGED_GRAPH,
    ExportState,
    StaticGraph,
    export_marker,
    merged_marker,
    read_catalog,
    static_marker,
    user_marker,
)
from carbonkg.store.embedded import dataset_options

EXPORTS = Path(__file__).resolve().parents[2] / "data" / "registry-exports"
ODD = "https://example.org/a b?x=1&y=%2F#frag"  # characters a marker's query string must escape


def test_markers_round_trip_any_iri() -> None:
    state = ExportState(ODD, ODD + "/graph/1", "ab" * 32)
    entry = StaticGraph("https://w3id.org/carbonkg/graph/vocab/x&y", "vocab/x&y", "cd" * 32)
    catalog = read_catalog([export_marker(state), static_marker(entry), user_marker(ODD + "u"), ODD + "/graph/1"])
    assert catalog.export_states == {ODD: state}
    assert catalog.static_graphs == {entry.graph_iri: entry}
    assert catalog.user == {ODD + "u"}
    assert set(catalog.live) == {state.graph_iri, entry.graph_iri, ODD + "u"}
    assert catalog.union_exact  # the only data graph is live; absent live graphs add nothing
    assert not read_catalog([export_marker(state), "https://example.org/orphan"]).union_exact
    for marker in (export_marker(state), static_marker(entry), user_marker(ODD)):
        ox.NamedNode(marker)  # a valid IRI
        assert catalog.is_protected(marker)


def test_markers_of_another_kind_are_ignored() -> None:
    catalog = read_catalog([CATALOG_BASE + "/future?what=1", CATALOG_BASE + "/export?export=x"])
    assert not catalog.live and not catalog.export_states and catalog.union_exact


@pytest.fixture
def loaded(tmp_path: Path) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path / "store")
    for name in ("projects.csv", "transactions.csv"):
        assert load_file(store, EXPORTS / "verra" / name).status == "loaded"
    return store


def _count(store: EmbeddedStore, **options) -> int:
    rows = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", **options)
    return int(next(iter(rows))["n"].value)


def test_union_when_only_live_graphs(loaded: EmbeddedStore, tmp_path: Path) -> None:
    """A store without the merged graph (written by an earlier version, read-only here) answers
    over the union default graph when it holds nothing but live graphs."""
    loaded.raw.update(f"DROP GRAPH <{MERGED_GRAPH}> ; DROP GRAPH <{merged_marker()}>")
    loaded.close()
    loaded = EmbeddedStore(tmp_path / "store", read_only=True)
    catalog = loaded.catalog()
    assert catalog.union_exact and not catalog.merged
    assert dataset_options(catalog)["use_default_graph_as_union"] is True
    # the union answers exactly what the explicit list answers, and no catalog record shows
    live = loaded.live_graphs()
    explicit = _count(loaded, default_graph=[*live, ox.DefaultGraph()], named_graphs=live)
    assert _count(loaded) == explicit == len(loaded)
    base = ox.Literal(CATALOG_BASE)
    mentions = f"ASK {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), {base}) || STRSTARTS(STR(?o), {base})) }}"
    assert not bool(loaded.query(mentions))
    graphs = {r["g"].value for r in loaded.query("SELECT ?g WHERE { GRAPH ?g {} }")}
    assert graphs == {g.value for g in live}


def test_graph_list_while_a_graph_is_not_live(loaded: EmbeddedStore) -> None:
    """A version graph being loaded (or left by a crash) is in the store but not live: queries
    name the live graphs until it is registered or collected."""
    before = _count(loaded)
    staging = ox.NamedNode(loaded.export_state(next(iter(loaded.catalog().export_states))).graph_iri + "-staging")
    loaded.raw.add(ox.Quad(ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p"), ox.Literal("x"), staging))
    catalog = loaded.catalog()  # a writable handle reads the catalog afresh
    assert not catalog.union_exact and "default_graph" in dataset_options(catalog)
    assert _count(loaded) == before
    assert loaded.collect_garbage() == 1
    assert loaded.catalog().union_exact and _count(loaded) == before


def test_read_only_handle_sees_markers_of_its_snapshot(loaded: EmbeddedStore, tmp_path: Path) -> None:
    expected = dict(loaded.catalog().export_states)
    loaded.close()
    reader = EmbeddedStore(tmp_path / "store", read_only=True)
    assert dict(reader.catalog().export_states) == expected and reader.catalog().union_exact


def test_catalog_graph_of_an_earlier_version_becomes_markers(loaded: EmbeddedStore, tmp_path: Path) -> None:
    """Stores written by carbonkg 0.1 kept the catalog as triples in ``<base>graph/catalog``; the
    next writer turns them into markers, so nothing has to be loaded again."""
    expected = loaded.catalog()
    ck, store_ns = "https://w3id.org/carbonkg/ontology#", "https://w3id.org/carbonkg/store#"
    legacy = ox.NamedNode(CATALOG_BASE)
    quads = []
    for state in expected.export_states.values():
        e = ox.NamedNode(state.export_iri)
        quads += [ox.Quad(e, ox.NamedNode(ck + "currentGraph"), ox.NamedNode(state.graph_iri), legacy),
                  ox.Quad(e, ox.NamedNode(ck + "sha256"), ox.Literal(state.sha256), legacy)]
    static = ox.NamedNode("https://w3id.org/carbonkg/graph/ontology")
    user = ox.NamedNode("https://example.org/mine")
    quads += [ox.Quad(static, ox.NamedNode(store_ns + "staticGraph"), ox.Literal("ontology"), legacy),
              ox.Quad(static, ox.NamedNode(store_ns + "sourceSha256"), ox.Literal("ef" * 32), legacy),
              ox.Quad(user, ox.NamedNode(store_ns + "staticGraph"), ox.Literal("user"), legacy),
              ox.Quad(user, ox.NamedNode(store_ns + "userGraph"), ox.Literal("true"), legacy)]
    loaded.raw.update("DROP ALL")  # markers and data gone; put the data back with the old catalog
    loaded.close()
    raw = ox.Store(str(tmp_path / "store"))
    raw.extend(quads)
    for state in expected.export_states.values():
        raw.add(ox.Quad(ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p"), ox.Literal("x"), ox.NamedNode(state.graph_iri)))
    raw.flush()
    del raw
    import gc

    gc.collect()
    store = EmbeddedStore(tmp_path / "store")
    catalog = store.catalog()
    assert dict(catalog.export_states) == dict(expected.export_states)
    assert catalog.static_graphs[static.value].sha256 == "ef" * 32
    assert catalog.user == {user.value}
    assert not store.raw.contains_named_graph(legacy)
    assert catalog.merged  # and the merged graph is built from what is live
    assert store.raw.contains_named_graph(ox.NamedNode(next(iter(expected.export_states.values())).graph_iri))
