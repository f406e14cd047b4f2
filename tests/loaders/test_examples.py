"""The ontology's examples (ontology/examples/*.ttl) are what the loaders write for one real row
of each export: regenerate each and compare as graphs (isomorphism), so a loader change that
alters the output fails here until the examples are regenerated and reviewed."""

from __future__ import annotations

import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, to_isomorphic

from carbonkg.loaders.examples import EXAMPLES, example_graph, example_path


@pytest.mark.parametrize(("export", "rownum"), EXAMPLES, ids=[e for e, _ in EXAMPLES])
def test_example_matches_loader_output(export: str, rownum: int) -> None:
    path = example_path(export)
    assert path.exists(), f"missing example {path}: run python -m carbonkg.loaders.examples"
    committed = Graph().parse(path, format="turtle")
    fresh = example_graph(export, rownum)
    if to_isomorphic(committed) != to_isomorphic(fresh):
        _, only_committed, only_fresh = graph_diff(to_isomorphic(committed), to_isomorphic(fresh))
        pytest.fail(
            f"{path.name} differs from the loaders' output (run python -m carbonkg.loaders.examples and review):\n"
            f"only in example: {sorted(map(str, only_committed))[:10]}\nonly in output: {sorted(map(str, only_fresh))[:10]}"
        )


def test_every_registry_has_an_example() -> None:
    registries = {e.split("/")[0] for e, _ in EXAMPLES}
    assert len(registries) == 8
