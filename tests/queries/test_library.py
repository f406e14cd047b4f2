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


def test_paging_parameters_become_limit_and_offset() -> None:
    text = Q.bind("suspects", {"suspicion": "over-used", "limit": "10", "offset": "20"})
    assert text.rstrip().endswith("LIMIT 10 OFFSET 20")
    assert Q.bind("suspects", {"limit": ""}) == Q.get_query("suspects").sparql  # empty: no paging
    ox.Store().query(text)
    prepareQuery(text)
    for bad in ("-1", "ten", "1.5", "1e3"):
        with pytest.raises(Q.ParameterError, match="parameter limit must be a whole number"):
            Q.bind("suspects", {"limit": bad})
    with pytest.raises(ValueError, match="paging parameter"):
        Q.parse_query("x", "# @title T\n# @param limit integer\nSELECT * WHERE { ?s ?p ?o }")
    with pytest.raises(ValueError, match="ends with LIMIT"):
        Q.parse_query("x", "# @title T\nSELECT * WHERE { ?s ?p ?o } LIMIT 5")


LISTING_ORDER = {  # the order each listing promises (what the summaries' cks:rank encodes)
    "multi-registry-projects": ("listing", "linked", "relation"),
    "conversions": ("originRegistry", "originListing", "vintageYear", "targetListing"),
    "suspects": ("kind", "suspect"),
}


@pytest.mark.parametrize("name", sorted(LISTING_ORDER))
def test_listings_are_ordered_and_pages_are_slices(store, name) -> None:
    """The listings sort by the summary builder's integer rank: the order must be the one the
    query promises, and a page (limit, offset) must be that slice of the whole answer."""
    whole = Q.rows(Q.run_named(store, name, {}))
    assert len(whole) >= 20, name

    def key(row):  # SPARQL orders unbound first; gYear and integers by value, IRIs and strings by text
        return tuple((0, "") if v not in row else (1, int(row[v].value[:4]) if v == "vintageYear" else row[v].value)
                     for v in LISTING_ORDER[name])

    keys = [key(r) for r in whole]
    assert keys == sorted(keys), name
    page = Q.rows(Q.run_named(store, name, {"limit": "7", "offset": "5"}))
    assert page == whole[5:12]
    assert Q.rows(Q.run_named(store, name, {"offset": str(len(whole))})) == []


def test_cli_paging(store, capsys) -> None:
    assert main(["query", "--named", "suspects", "--param", "limit=3", "--store", str(store.path), "--format", "csv"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 1 + 3
    assert main(["query", "--named", "suspects", "--param", "limit=x", "--store", str(store.path)]) == 2
    assert "parameter limit must be a whole number" in capsys.readouterr().err
