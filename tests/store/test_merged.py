"""The merged graph: the default graph of queries holds each triple of the live graphs once.

Two exports often state the same triple (a listing's name in a registry's projects file and in
its transactions file). SPARQL's default graph is their RDF merge, so such a triple counts once;
Oxigraph 0.5 and Virtuoso answer over a union of graphs with one solution per copy. These tests
use tiny synthetic N-Triples exports (the property under test is set semantics across exports,
which needs controlled overlaps), then the real Verra exports, on the embedded store and on the
remote engines.
"""

from __future__ import annotations

import random
from pathlib import Path

import pyoxigraph as ox
import pytest

from carbonkg.loaders.pipeline import load_file
from carbonkg.store import EmbeddedStore
from carbonkg.store.catalog import MERGED_GRAPH, merged_marker

EXPORTS = Path(__file__).resolve().parents[2] / "data" / "registry-exports"
EX = "https://example.org/"
A, B, C = (f"https://w3id.org/carbonkg/id/test/export/{n}.csv" for n in "abc")


def nt(*triples: tuple[str, str, str]) -> bytes:
    """N-Triples of (subject, predicate, object) under EX; a bare number is an xsd:integer."""
    def term(o: str) -> str:
        return f'"{o}"^^<http://www.w3.org/2001/XMLSchema#integer>' if o.isdigit() else o
    return "".join(f"<{EX}{s}> <{EX}{p}> {term(o)} .\n" for s, p, o in triples).encode()


def total(store, pattern: str = "?s ?p ?o") -> int:
    return int(next(iter(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")))["n"].value)


def merged_triples(store: EmbeddedStore) -> set[tuple[str, str, str]]:
    return {(str(q.subject), str(q.predicate), str(q.object))
            for q in store.raw.quads_for_pattern(None, None, None, ox.NamedNode(MERGED_GRAPH))}


def live_triples(store: EmbeddedStore) -> set[tuple[str, str, str]]:
    catalog = store.catalog()
    return {(str(q.subject), str(q.predicate), str(q.object))
            for g in (*catalog.exports, *catalog.static) for q in store.raw.quads_for_pattern(None, None, None, ox.NamedNode(g))}


def test_a_triple_two_exports_state_counts_once() -> None:
    store = EmbeddedStore()
    store.replace_export(A, "a1", nt(("x", "name", '"X"'), ("x", "quantity", "10")))
    store.replace_export(B, "b1", nt(("x", "name", '"X"'), ("y", "quantity", "5")))
    assert total(store) == 3
    assert next(iter(store.query(f"SELECT (SUM(?q) AS ?t) WHERE {{ ?s <{EX}quantity> ?q }}")))["t"].value == "15"
    # which export states it is still asked with GRAPH: both do
    assert total(store, f"GRAPH ?g {{ <{EX}x> <{EX}name> ?o }}") == 2
    # the merged graph is no named graph of the dataset
    graphs = {r["g"].value for r in store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    assert MERGED_GRAPH not in graphs and len(graphs) == 2


def test_replacing_and_removing_exports_keep_the_merge_exact() -> None:
    store = EmbeddedStore()
    store.replace_export(A, "a1", nt(("x", "name", '"X"'), ("x", "quantity", "10")))
    store.replace_export(B, "b1", nt(("x", "name", '"X"')))
    store.replace_export(A, "a2", nt(("x", "quantity", "11")))  # A no longer states the name; B does
    assert total(store, f'<{EX}x> <{EX}name> "X"') == 1
    assert total(store, f"<{EX}x> <{EX}quantity> ?q") == 1
    store.remove_export(B)  # now nothing states the name
    assert total(store, f'<{EX}x> <{EX}name> "X"') == 0
    assert merged_triples(store) == live_triples(store)


def test_random_loads_keep_the_merged_graph_equal_to_the_live_triples() -> None:
    """Random versions of three exports drawn from a small pool of triples (so that they overlap),
    replaced and removed in random order: after each step the merged graph is the set of the
    live graphs' triples."""
    rng = random.Random(20261126)
    pool = [(f"s{i % 4}", f"p{i % 3}", f'"{i % 5}"') for i in range(30)]
    store = EmbeddedStore()
    for step in range(40):
        export = rng.choice((A, B, C))
        if rng.random() < 0.2:
            store.remove_export(export)
        else:
            store.replace_export(export, f"v{step}", nt(*rng.sample(pool, rng.randint(0, 8))))
        assert merged_triples(store) == live_triples(store), step
        assert total(store) == len(live_triples(store))


def test_an_interrupted_or_missing_merged_graph_is_built_on_open(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    store.replace_export(A, "a1", nt(("x", "name", '"X"')))
    store.replace_export(B, "b1", nt(("x", "name", '"X"'), ("y", "name", '"Y"')))
    expected = merged_triples(store)
    # as if written by an earlier version, or a build cut short: no marker, a partial graph
    store.raw.update(f"DROP GRAPH <{merged_marker()}> ; DELETE WHERE {{ GRAPH <{MERGED_GRAPH}> {{ <{EX}y> ?p ?o }} }}"
                     f"; INSERT DATA {{ GRAPH <{MERGED_GRAPH}> {{ <{EX}stale> <{EX}p> 1 }} }}")
    store.close()
    reader = EmbeddedStore(tmp_path / "store", read_only=True)
    assert not reader.catalog().merged and total(reader) == 3  # the union of the live graphs, duplicates and all
    del reader
    store = EmbeddedStore(tmp_path / "store")  # a writable open builds it
    assert store.catalog().merged and merged_triples(store) == expected and total(store) == 2


def test_static_graphs_and_user_triples_are_in_the_default_graph(tmp_path: Path) -> None:
    store = EmbeddedStore()
    turtle = tmp_path / "one.ttl"
    turtle.write_text(f"<{EX}x> <{EX}name> \"X\" . <{EX}o> <{EX}p> [ <{EX}q> 1 ] .\n")
    store.replace_export(A, "a1", nt(("x", "name", '"X"')))
    store.put_static_graph("test", [turtle])
    assert total(store) == 3 and merged_triples(store) == live_triples(store)
    turtle.write_text(f"<{EX}o> <{EX}p> [ <{EX}q> 2 ] .\n")  # reloaded: the name stays (A states it)
    store.put_static_graph("test", [turtle])
    assert total(store) == 3 and merged_triples(store) == live_triples(store)
    assert total(store, f"?b <{EX}q> 1") == 0
    store.raw.update(f"INSERT DATA {{ <{EX}u> <{EX}p> 1 }}")  # SPARQL Update's default graph
    store.forget_catalog()
    assert total(store) == 4


def test_real_exports_overlap_and_count_once(tmp_path: Path) -> None:
    """The Verra projects and transactions files both describe listings: their shared triples
    count once, and a listing once."""
    store = EmbeddedStore(tmp_path / "store")
    for name in ("projects.csv", "transactions.csv"):
        assert load_file(store, EXPORTS / "verra" / name).status == "loaded"
    live = live_triples(store)
    union = sum(1 for g in store.catalog().live for _ in store.raw.quads_for_pattern(None, None, None, ox.NamedNode(g)))
    assert union > len(live)  # the two files do state triples in common
    assert total(store) == len(live)
    listings = "PREFIX ck: <https://w3id.org/carbonkg/ontology#> SELECT (COUNT(?l) AS ?n) (COUNT(DISTINCT ?l) AS ?d) WHERE { ?l a ck:ProjectListing }"
    row = next(iter(store.query(listings)))
    assert row["n"] == row["d"]


def test_every_engine_keeps_a_merged_graph(store) -> None:
    """The same steps on the embedded store, Oxigraph server and Virtuoso (tests/store/conftest.py)."""
    store.replace_export(A, "a1", nt(("x", "name", '"X"'), ("x", "quantity", "10")))
    store.replace_export(B, "b1", nt(("x", "name", '"X"'), ("y", "quantity", "5")))
    assert store.catalog().merged
    assert total(store) == 3
    store.replace_export(A, "a2", nt(("x", "quantity", "11")))
    assert total(store) == 3 and total(store, f'<{EX}x> <{EX}name> "X"') == 1
    store.remove_export(B)
    assert total(store) == 1
