"""The generated concept shapes are up to date with the ontology's vocabularies, and every shape
file parses and compiles for the fast path."""

from __future__ import annotations

from carbonkg.shapes import build
from carbonkg.shapes.fast import compile_shapes
from carbonkg.shapes.validate import SETS, load_shapes, resolve_sets

import pytest


def test_concepts_ttl_is_up_to_date() -> None:
    for path, text in build.outputs().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: python -m carbonkg.shapes.build"


@pytest.mark.parametrize("shape_set", list(SETS))
def test_each_set_loads_and_compiles_alone(shape_set: str) -> None:
    plan = compile_shapes(load_shapes([shape_set]))
    assert plan.checks or plan.sparql or plan.native


def test_unknown_set_is_a_usage_error() -> None:
    from carbonkg.errors import UsageError

    with pytest.raises(UsageError):
        resolve_sets(["nope"])
    assert resolve_sets(["all"]) == list(SETS)
