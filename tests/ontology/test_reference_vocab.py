"""The SKOS vocabularies generated from ontology/reference/ by ontology/build_vocab.py."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SKOS

from carbonkg.ontology import build_vocab
from carbonkg.ontology.slugs import slug

CK = Namespace("https://w3id.org/carbonkg/ontology#")
VOCAB = "https://w3id.org/carbonkg/vocab/"
COMMITTED = build_vocab.VOCAB_DIR
REFERENCE = build_vocab.REFERENCE_DIR


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out_dir = tmp_path_factory.mktemp("vocab")
    return out_dir, build_vocab.build_all(out_dir)


@pytest.fixture(scope="module")
def graphs() -> dict[str, Graph]:
    return {name: Graph().parse(COMMITTED / name, format="turtle") for name in build_vocab.OUTPUT_FILES}


@pytest.mark.parametrize("name", build_vocab.OUTPUT_FILES)
def test_committed_file_is_up_to_date(regenerated: tuple[Path, dict[str, int]], name: str) -> None:
    out_dir, _ = regenerated
    assert (COMMITTED / name).read_bytes() == (out_dir / name).read_bytes(), (
        f"ontology/vocab/{name} differs from what ontology/build_vocab.py generates; "
        "re-run `python -m carbonkg.ontology.build_vocab` and commit the result"
    )


@pytest.mark.parametrize("name", build_vocab.OUTPUT_FILES)
def test_file_parses_and_is_marked_generated(
    regenerated: tuple[Path, dict[str, int]], graphs: dict[str, Graph], name: str
) -> None:
    _, counts = regenerated
    path = COMMITTED / name
    assert path.read_text(encoding="utf-8").startswith("# GENERATED FILE - DO NOT EDIT BY HAND.\n")
    quads = list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(quads) == len(graphs[name]) == counts[name]


def test_sdg_goals_and_targets(graphs: dict[str, Graph]) -> None:
    g = graphs["sdg.ttl"]
    scheme = URIRef(VOCAB + "sdg")
    goals = set(g.subjects(SKOS.topConceptOf, scheme))
    assert goals == {URIRef(f"http://metadata.un.org/sdg/{n}") for n in range(1, 18)}
    targets = set(g.subjects(SKOS.broader, None))
    assert len(targets) == 169
    assert set(g.subjects(RDF.type, SKOS.Concept)) == goals | targets
    for target in targets:
        (goal,) = g.objects(target, SKOS.broader)
        assert goal in goals and (goal, SKOS.narrower, target) in g
        (notation,) = g.objects(target, SKOS.notation)
        assert str(target) == f"http://metadata.un.org/sdg/{notation}"
        assert str(notation).split(".")[0] == str(goal).rsplit("/", 1)[1]
    goal13 = URIRef("http://metadata.un.org/sdg/13")
    assert set(g.objects(goal13, SKOS.prefLabel)) == {Literal("Goal 13: Climate Action", lang="en")}
    assert set(g.objects(goal13, SKOS.notation)) == {Literal("13")}
    target132 = URIRef("http://metadata.un.org/sdg/13.2")
    assert set(g.objects(target132, SKOS.prefLabel)) == {Literal("Target 13.2", lang="en")}


def test_country_us(graphs: dict[str, Graph]) -> None:
    g = graphs["country.ttl"]
    us = URIRef(VOCAB + "country/US")
    assert (us, SKOS.inScheme, URIRef(VOCAB + "country")) in g
    assert set(g.objects(us, SKOS.notation)) == {
        Literal("US", datatype=CK.ISO3166Alpha2Code),
        Literal("USA", datatype=CK.ISO3166Alpha3Code),
        Literal("840", datatype=CK.UNM49Code),
    }
    # UNTERM English Short is "United States of America (the)"; the "(the)" is dropped.
    assert set(g.objects(us, SKOS.prefLabel)) == {Literal("United States of America", lang="en")}
    assert set(g.objects(us, SKOS.exactMatch)) == {URIRef("http://www.wikidata.org/entity/Q30")}


def test_country_m49_is_zero_padded(graphs: dict[str, Graph]) -> None:
    g = graphs["country.ttl"]
    assert Literal("004", datatype=CK.UNM49Code) in set(g.objects(URIRef(VOCAB + "country/AF"), SKOS.notation))


def test_country_preflabels_are_unique(graphs: dict[str, Graph]) -> None:
    g = graphs["country.ttl"]
    concepts = set(g.subjects(SKOS.inScheme, URIRef(VOCAB + "country")))
    assert len(concepts) > 240
    labels = []
    for concept in concepts:
        (label,) = g.objects(concept, SKOS.prefLabel)  # exactly one each
        assert label.language == "en"
        labels.append(str(label))
    assert [label for label, n in Counter(labels).items() if n > 1] == []


def test_country_only_wikidata_external_links(graphs: dict[str, Graph]) -> None:
    g = graphs["country.ttl"]
    for obj in g.objects(None, SKOS.exactMatch):
        assert str(obj).startswith("http://www.wikidata.org/entity/Q")


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_every_cadt_picklist_value_has_exactly_one_concept(graphs: dict[str, Graph], version: str) -> None:
    g = graphs[f"cadt-{version}.ttl"]
    picklists = json.loads((REFERENCE / f"cadtrust-{version}-picklists.json").read_text(encoding="utf-8"))
    assert set(g.subjects(RDF.type, SKOS.ConceptScheme)) == {
        URIRef(f"{VOCAB}cadt-{version}/{name}") for name in picklists
    }
    for name, values in picklists.items():
        scheme = URIRef(f"{VOCAB}cadt-{version}/{name}")
        concepts = set(g.subjects(SKOS.inScheme, scheme))
        assert len(concepts) == len(set(values)), name
        for value in values:
            matches = [c for c in concepts if (c, SKOS.notation, Literal(value)) in g]
            assert len(matches) == 1, (name, value, matches)
            (concept,) = matches
            assert str(concept).startswith(f"{scheme}/{slug(value)}")
            assert set(g.objects(concept, SKOS.prefLabel)) == {Literal(value.strip(), lang="en")}
            assert (concept, SKOS.topConceptOf, scheme) in g


def test_slug() -> None:
    assert slug("Pending Export") == "pending-export"
    assert slug("Reduction - nature") == "reduction-nature"
    assert slug("  NDC and IMP ") == "ndc-and-imp"
    assert slug("kt (Kiloton)") == "kt-kiloton"
    assert slug("gCO2eq/kWh") == "gco2eq-kwh"
    assert slug("TÜV SÜD") == "tuv-sud"
    assert slug("Enviro-Accès Inc.") == "enviro-acces-inc"
    assert slug("--") == ""
