"""IRI minting: deterministic, readable, and registries never collide."""

from __future__ import annotations

import doctest

import pytest

from carbonkg import iris


def test_doctests() -> None:
    failures, tried = doctest.testmod(iris)
    assert tried > 0 and failures == 0


def test_same_native_id_in_two_registries_gives_two_iris() -> None:
    assert iris.project_listing("verra", "1340") != iris.project_listing("gold-standard", "1340")


def test_identifiers_are_percent_encoded_not_hashed() -> None:
    assert iris.project_listing("isometric", "prj 01/ä") == "https://w3id.org/carbonkg/id/isometric/project/prj%2001%2F%C3%A4"
    assert iris.record("verra", "issuance", "a/b", "c") == "https://w3id.org/carbonkg/id/verra/issuance/a%2Fb/c"


def test_organisation_names_differing_in_accents_case_and_punctuation_meet() -> None:
    assert iris.organisation("arb", "TÜV SÜD") == iris.organisation("arb", "Tuv Sud")


@pytest.mark.parametrize("bad", ["", "   "])
def test_empty_identifiers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        iris.project_listing("verra", bad)


def test_unknown_registry_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown registry"):
        iris.project_listing("nowhere", "1")
