"""ontology/namespaces.py (the closed ``CK`` namespace) is generated from the Turtle modules by
ontology/gen_namespaces.py and must not drift from them."""

from __future__ import annotations

import pytest
from rdflib import OWL, RDF, RDFS, Graph, URIRef

from carbonkg.ontology import gen_namespaces
from carbonkg.ontology.namespaces import CK
from carbonkg.ontology.resources import CK_NAMESPACE, ontology_graph

REGENERATE = "run python -m carbonkg.ontology.gen_namespaces"
KINDS = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDFS.Datatype)


def assert_no_drift(committed: str, generated: str) -> None:
    assert committed == generated, f"ontology/namespaces.py is out of date with the Turtle modules: {REGENERATE}"


def owned_terms(graph: Graph) -> set[str]:
    return {
        str(subject)[len(CK_NAMESPACE):]
        for kind in KINDS
        for subject in graph.subjects(RDF.type, kind)
        if isinstance(subject, URIRef) and str(subject).startswith(CK_NAMESPACE)
    }


def ck_names() -> list[str]:
    return sorted(name for name in CK.__annotations__ if not name.startswith("_"))


def test_generated_module_matches_the_turtle() -> None:
    assert_no_drift(gen_namespaces.target_path().read_text(encoding="utf-8"), gen_namespaces.render())


def test_drift_is_reported_with_the_command_to_run() -> None:
    committed = gen_namespaces.render()
    stale = committed.replace("    CreditBlock: URIRef  # Class\n", "")
    assert stale != committed
    with pytest.raises(AssertionError, match=REGENERATE):
        assert_no_drift(stale, committed)


def test_a_term_added_to_the_turtle_changes_the_generated_module(monkeypatch: pytest.MonkeyPatch) -> None:
    graph = ontology_graph()
    graph.add((URIRef(CK_NAMESPACE + "BrandNewClass"), RDF.type, OWL.Class))
    monkeypatch.setattr(gen_namespaces, "ontology_graph", lambda: graph)
    generated = gen_namespaces.render()
    assert "    BrandNewClass: URIRef  # Class\n" in generated
    with pytest.raises(AssertionError, match=REGENERATE):
        assert_no_drift(gen_namespaces.target_path().read_text(encoding="utf-8"), generated)


def test_namespace_holds_exactly_the_owned_terms() -> None:
    assert set(ck_names()) == owned_terms(ontology_graph())


def test_every_term_resolves() -> None:
    names = ck_names()
    assert len(names) > 100
    wrong = []
    for name in names:
        term = getattr(CK, name)
        if not (isinstance(term, URIRef) and term == URIRef(CK_NAMESPACE + name) and CK[name] == term and term in CK):
            wrong.append(f"CK.{name} -> {term!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("typo", ["serialStrat", "Creditblock", "projectlisting", "ProjectListings"])
def test_typo_raises_attribute_error(typo: str) -> None:
    with pytest.raises(AttributeError):
        getattr(CK, typo)
    with pytest.raises(AttributeError):
        CK[typo]
    assert URIRef(CK_NAMESPACE + typo) not in CK
