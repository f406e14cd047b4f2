"""Every carbonkg shape against a valid example and its invalid examples, by both paths.

All examples are validated together, once per path: example N is the valid graph with its own
namespace (http://example.org/cN/) and serial prefixes, so examples cannot interfere. For each
example the results whose focus node is in its namespace must be exactly the expected ones
(shape, focus node, severity) and nothing else; the valid example has none. The fast path
(SPARQL on Oxigraph, all examples in one store) and pySHACL (each example alone, over a
pyoxigraph store) must give the same results, compared on focus node, path, value, source shape,
severity and constraint component.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pyoxigraph as ox
import pytest
from rdflib import Graph

from carbonkg.shapes.fast import FastValidator
from carbonkg.shapes.model import CKSH
from carbonkg.shapes.reference import validate_oxigraph
from carbonkg.shapes.validate import Data, load_shapes

from .cases import BASE, EX, Case, all_cases, apply, shape_names

SHAPES = load_shapes()
BASE_GRAPH = Graph().parse(BASE, format="turtle")
CASES: list[Case] = [Case("valid", [])] + all_cases(SHAPES, BASE_GRAPH)


def _severity(shape: str) -> str:
    from rdflib import URIRef
    from rdflib.namespace import SH as RSH

    return str(SHAPES.value(URIRef(CKSH + shape), RSH.severity))


def _copy(index: int, graph: Graph) -> str:
    text = graph.serialize(format="nt")
    text = text.replace(EX, f"http://example.org/c{index}/")
    return re.sub(r'"([PQR])0(-|")', lambda m: f'"{m[1]}{index}{m[2]}', text)


@pytest.fixture(scope="module")
def combined() -> Data:
    store = ox.Store()
    for index, case in enumerate(CASES):
        store.load(_copy(index, apply(case, BASE_GRAPH)), ox.RdfFormat.N_TRIPLES)
    return Data.from_oxigraph(store)


def _by_case(results) -> dict[int, set]:
    grouped = defaultdict(set)
    for r in results:
        m = re.match(r"<http://example\.org/c(\d+)/([^>]*)>", r.focus)
        assert m, f"result outside the examples: {r}"
        grouped[int(m[1])].add(r)
    return grouped


@pytest.fixture(scope="module")
def fast_results(combined):
    return _by_case(FastValidator(SHAPES).validate(combined.run))


def _reference(index: int) -> set:
    """pySHACL (over a pyoxigraph store) on this example alone, in its own namespace."""
    store = ox.Store()
    store.load(_copy(index, apply(CASES[index], BASE_GRAPH)), ox.RdfFormat.N_TRIPLES)
    return {r.key for r in validate_oxigraph(store, SHAPES)}


def test_every_shape_has_an_invalid_example() -> None:
    covered = {c.shape for c in CASES}
    assert shape_names(SHAPES) - covered == set()


def test_every_shape_has_iri_message_and_severity() -> None:
    from rdflib import BNode
    from rdflib.namespace import RDF
    from rdflib.namespace import SH as RSH

    shapes = set(SHAPES.subjects(RDF.type, RSH.NodeShape)) | set(SHAPES.subjects(RDF.type, RSH.PropertyShape))
    shapes |= set(SHAPES.objects(None, RSH.property))
    for shape in shapes:
        assert not isinstance(shape, BNode), "every shape has an IRI"
        assert SHAPES.value(shape, RSH.message) is not None, f"{shape} has no sh:message"
        assert SHAPES.value(shape, RSH.severity) is not None, f"{shape} has no sh:severity"


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c.id for c in CASES])
def test_example(index: int, fast_results) -> None:
    case = CASES[index]
    expected = {(CKSH + case.shape, f"<http://example.org/c{index}/{focus}>", _severity(case.shape))
                for focus in case.expect}
    got = {(r.shape, r.focus, r.severity) for r in fast_results.get(index, ())}
    assert got == expected
    assert _reference(index) == {r.key for r in fast_results.get(index, ())}

