"""The query library itself: headers, parameter types, safe binding, the CLI."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from pyparsing import ParseException
from rdflib.plugins.sparql import prepareQuery

from carbonkg import queries as Q
from carbonkg.cli import main


def test_every_query_has_a_header_and_parses_bound() -> None:
    names = [q.name for q in Q.list_queries()]
    assert len(names) >= 12
    for q in Q.list_queries():
        assert q.title and q.description and q.kind in Q.KINDS, q.name
        for example in q.examples or ({},):
            text = Q.bind(q, example)
            ox.Store().query(text)  # parses (and runs on an empty store)


def test_every_query_is_standard_sparql() -> None:
    """rdflib's parser knows SPARQL 1.1 and no extension (Oxigraph's LATERAL, ...)."""
    with pytest.raises(ParseException):
        prepareQuery("SELECT * WHERE { ?s ?p ?o LATERAL { SELECT ?x WHERE { ?s ?q ?x } } }")
    for q in Q.list_queries():
        for example in q.examples or ({},):
            prepareQuery(Q.bind(q, example))


def test_parameters_without_value_are_left_unbound() -> None:
    text = Q.bind("totals-by-registry-vintage", {"registry": "verra"})
    assert "VALUES (?registry) { (<https://w3id.org/carbonkg/vocab/registry/verra>) }" in text
    assert "UNDEF" not in text and "?measure" in text
    assert Q.bind("totals-by-registry-vintage", {}) == Q.get_query("totals-by-registry-vintage").sparql
    # an unreadable serial binds ?serial only (its numbering space and numbers stay unbound)
    assert 'VALUES (?serial) { ("no serial here") }' in Q.bind("credit-life", {"serial": "no serial here"})


def test_listing_for_the_query_page() -> None:
    life = Q.get_query("credit-life").as_dict()
    assert life["parameters"][0] == {"name": "serial", "type": "serial", "required": True, "default": None,
                                     "description": life["parameters"][0]["description"]}
    assert "sparql" not in life


def test_values_are_typed_terms_never_query_text() -> None:
    hostile = '2024" } } DROP ALL ; SELECT * WHERE { ?s ?p "'
    text = Q.bind("retirements-by-beneficiary", {"beneficiary": hostile})
    assert str(ox.Literal(hostile)) in text  # escaped by pyoxigraph as one literal
    assert list(ox.Store().query(text)) == []
    with pytest.raises(Q.ParameterError):
        Q.bind("retirements-by-beneficiary", {"year": "2024 } "})
    with pytest.raises(Q.ParameterError):
        Q.bind("fact-provenance", {"subject": "https://x> } ; DROP ALL ; <y"})
    with pytest.raises(Q.ParameterError):
        Q.bind("totals-by-registry-vintage", {"registry": "nowhere"})
    with pytest.raises(Q.ParameterError):
        Q.bind("totals-by-registry-vintage", {"nosuch": "1"})
    with pytest.raises(Q.ParameterError):
        Q.bind("credit-life", {})
    with pytest.raises(Q.QueryNotFound):
        Q.get_query("nosuch")


def test_types() -> None:
    p = Q.Parameter("x", "year")
    assert Q.convert(p, "2024") == ox.Literal("2024", datatype=ox.NamedNode(Q.XSD + "gYear"))
    assert Q.convert(Q.Parameter("r", "registry"), "verra") == ox.NamedNode("https://w3id.org/carbonkg/vocab/registry/verra")
    assert Q.convert(Q.Parameter("c", "country"), "us") == ox.NamedNode("https://w3id.org/carbonkg/vocab/country/US")
    assert Q.convert(Q.Parameter("l", "concept:label-type"), "icvcm-ccp").value.endswith("/label-type/icvcm-ccp")
    assert Q.parse_serial_param("VCS-VCU-941467100") == ("VCS-VCU", 941467100, 941467100)
    assert Q.parse_serial_param("19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1") == (
        "VCS-VCU", 941467007, 941467431)
    assert Q.parse_serial_param("CDC_7_3_1_323_14_CO_1_2_2019 22410-28813") == ("CDC_7_3_1_323_14_CO_1_2_2019", 22410, 28813)


def test_header_errors() -> None:
    with pytest.raises(ValueError, match="@title"):
        Q.parse_query("x", "SELECT * WHERE { ?s ?p ?o }")
    with pytest.raises(ValueError, match="unknown type"):
        Q.parse_query("x", "# @title T\n# @param a blob\nSELECT * WHERE { ?s ?p ?o }")
    with pytest.raises(ValueError, match="WHERE"):
        Q.parse_query("x", "# @title T\nASK {}")


def test_cli_named_query(store, capsys) -> None:
    code = main(["query", "--named", "export-loads", "--param", "registry=verra", "--store", str(store.path),
                 "--format", "csv"])
    out = capsys.readouterr().out
    assert code == 0 and "transactions.csv" in out and "projects.csv" in out
    assert main(["query", "--named", "credit-life", "--store", str(store.path)]) == 2
