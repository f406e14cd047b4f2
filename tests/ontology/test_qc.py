"""Quality checks of the ontology, its vocabularies and the Turtle around them (ontology/qc/README.md).

1. every Turtle file parses with rdflib and with pyoxigraph;
2. the meta-shapes (ontology/qc/meta-shapes.ttl) hold over the modules and vocabularies, and are
   themselves valid SHACL;
3. every SPARQL query ontology/qc/*.rq returns no rows;
4. the OWL 2 RL closure (owlrl) of the modules plus examples finds no inconsistency.

Each check also runs on a small, deliberately broken graph and must catch it, so that a check that
silently stopped working fails too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib.resources import files
from pathlib import Path

import owlrl
import pyoxigraph
import pyshacl
import pytest
from owlrl.Namespaces import ERRNS
from pyshacl.entrypoints import meta_validate
from pyshacl.errors import ReportableRuntimeError
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, SH

from carbonkg.ontology.resources import (
    CK_NAMESPACE,
    ONTOLOGY_IRI,
    alignment_paths,
    example_paths,
    module_paths,
    package_dir,
    vocabulary_paths,
)

ONTOLOGY_DIR = package_dir()
QC_DIR = ONTOLOGY_DIR / "qc"
META_SHAPES = QC_DIR / "meta-shapes.ttl"
SHAPES_DIR = Path(str(files("carbonkg.shapes")))
CK = Namespace(CK_NAMESPACE)
CKQC = Namespace("https://w3id.org/carbonkg/qc#")
EX = Namespace("https://example.org/qc-test/")

PREFIXES = f"""
@prefix ck:      <{CK_NAMESPACE}> .
@prefix ex:      <{EX}> .
@prefix owl:     <http://www.w3.org/2002/07/owl#> .
@prefix rdf:     <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix vann:    <http://purl.org/vocab/vann/> .
@prefix sh:      <http://www.w3.org/ns/shacl#> .
"""


def _relative(path: Path) -> str:
    for root in (ONTOLOGY_DIR.parent, SHAPES_DIR.parent):
        if path.is_relative_to(root):
            return str(path.relative_to(root))
    return str(path)


#################################################################
# 1. Every Turtle file parses with rdflib and pyoxigraph
#################################################################

def turtle_files() -> list[Path]:
    return sorted(ONTOLOGY_DIR.rglob("*.ttl")) + sorted(SHAPES_DIR.glob("*.ttl"))


TURTLE_FILES = turtle_files()


def parse_with_rdflib(path: Path) -> int:
    return len(Graph().parse(path, format="turtle"))


def parse_with_pyoxigraph(path: Path) -> int:
    # no base IRI: a relative IRI in a shipped file is an error, not something to resolve silently
    return sum(1 for _ in pyoxigraph.parse(path=path, format=pyoxigraph.RdfFormat.TURTLE))


def test_turtle_glob_covers_the_ontology() -> None:
    found = set(turtle_files())
    expected = set(module_paths()) | set(vocabulary_paths()) | set(alignment_paths()) | set(example_paths())
    assert expected <= found
    assert META_SHAPES in found


@pytest.mark.parametrize("path", TURTLE_FILES, ids=_relative)
def test_turtle_parses_with_rdflib(path: Path) -> None:
    assert parse_with_rdflib(path) > 0, f"{_relative(path)} holds no triples"


@pytest.mark.parametrize("path", TURTLE_FILES, ids=_relative)
def test_turtle_parses_with_pyoxigraph(path: Path) -> None:
    assert parse_with_pyoxigraph(path) > 0, f"{_relative(path)} holds no triples"


BROKEN_TURTLE = {
    "missing-final-dot": PREFIXES + "ck:A a owl:Class ;\n    rdfs:label \"a\"@en\n",
    "undeclared-prefix": "ck:A a owl:Class .\n",
    "relative-iri": PREFIXES + "<relative> a owl:Class .\n",
}


@pytest.mark.parametrize("name", sorted(BROKEN_TURTLE))
def test_broken_turtle_is_rejected(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.ttl"
    path.write_text(BROKEN_TURTLE[name], encoding="utf-8")
    with pytest.raises(SyntaxError):
        parse_with_pyoxigraph(path)
    if name != "relative-iri":  # rdflib resolves relative IRIs against the file's location
        with pytest.raises(Exception):  # noqa: B017 - rdflib raises several unrelated types
            parse_with_rdflib(path)


#################################################################
# 2. Meta-shapes
#################################################################


@pytest.fixture(scope="module")
def meta_shapes() -> Graph:
    return Graph().parse(META_SHAPES, format="turtle")


def validate_meta(data: Graph, shapes: Graph) -> tuple[bool, Graph, str]:
    conforms, report, text = pyshacl.validate(
        data,
        shacl_graph=shapes,
        advanced=True,  # SPARQL targets (owned terms only)
        meta_shacl=True,  # the shapes themselves are checked against SHACL-SHACL first
        inference="none",
        allow_warnings=False,
    )
    return bool(conforms), report, text


def violations(report: Graph) -> set[tuple[str, str]]:
    """(focus node, result path) of each validation result, as strings."""
    found = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        found.add((str(focus), str(path) if path is not None else ""))
    return found


def test_meta_shapes_hold_for_ontology_and_vocabularies(meta_shapes: Graph) -> None:
    data = Graph()
    for path in [*module_paths(), *vocabulary_paths()]:
        data.parse(path, format="turtle")
    conforms, _, text = validate_meta(data, meta_shapes)
    assert conforms, text


def test_meta_shapes_are_valid_shacl(meta_shapes: Graph) -> None:
    conforms, _, text = meta_validate(meta_shapes, inference="none")
    assert conforms, text


def test_invalid_shapes_are_rejected_by_meta_shacl(meta_shapes: Graph) -> None:
    broken = Graph()
    for triple in meta_shapes:
        broken.add(triple)
    broken.add((CKQC.OwnedTermLabelShape, SH.minCount, Literal("one")))
    conforms, _, text = meta_validate(broken, inference="none")
    assert not conforms and "OwnedTermLabelShape" in text, text
    # and validate_meta, which every meta-shape test goes through, refuses to run with such shapes
    with pytest.raises(ReportableRuntimeError, match="MetaSHACL"):
        validate_meta(Graph(), broken)


GOOD_HEADER = f"""
<{ONTOLOGY_IRI}> a owl:Ontology ;
    dcterms:title "test ontology"@en ;
    dcterms:description "A test."@en ;
    dcterms:license <https://creativecommons.org/licenses/by/4.0/> ;
    dcterms:created "2026-01-01"^^xsd:date ;
    dcterms:modified "2026-01-02"^^xsd:date ;
    owl:versionIRI <https://w3id.org/carbonkg/ontology/0.0.1> ;
    owl:versionInfo "0.0.1" ;
    vann:preferredNamespacePrefix "ck" ;
    vann:preferredNamespaceUri "{CK_NAMESPACE}" .
"""

GOOD_TERMS = f"""
ck:Good a owl:Class ;
    rdfs:label "good"@en , "bon"@fr ;
    skos:definition "A well-annotated class."@en ;
    rdfs:isDefinedBy <{ONTOLOGY_IRI}> .

ex:NotOurs a owl:Class .

ex:scheme a skos:ConceptScheme .
ex:top a skos:Concept ;
    skos:prefLabel "top"@en , "haut"@fr ;
    skos:inScheme ex:scheme ;
    skos:topConceptOf ex:scheme .
"""


def test_meta_shapes_accept_a_minimal_good_graph(meta_shapes: Graph) -> None:
    data = Graph().parse(data=PREFIXES + GOOD_HEADER + GOOD_TERMS, format="turtle")
    conforms, _, text = validate_meta(data, meta_shapes)
    assert conforms, text


SKOS_NS = "http://www.w3.org/2004/02/skos/core#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
DCT_NS = "http://purl.org/dc/terms/"

#: name -> (Turtle added to a good graph, (focus node, result path) the meta-shapes must report)
BROKEN_META = {
    "class-two-english-labels": (
        f'ck:Bad a owl:Class ; rdfs:label "bad"@en , "worse"@en ; skos:definition "B."@en ;'
        f" rdfs:isDefinedBy <{ONTOLOGY_IRI}> .",
        (CK.Bad, RDFS_NS + "label"),
    ),
    "class-label-without-language": (
        f'ck:Bad a owl:Class ; rdfs:label "bad" ; skos:definition "B."@en ; rdfs:isDefinedBy <{ONTOLOGY_IRI}> .',
        (CK.Bad, RDFS_NS + "label"),
    ),
    "property-without-definition": (
        f'ck:bad a owl:ObjectProperty ; rdfs:label "bad"@en ; rdfs:isDefinedBy <{ONTOLOGY_IRI}> .',
        (CK.bad, SKOS_NS + "definition"),
    ),
    "datatype-property-two-definitions": (
        f'ck:bad a owl:DatatypeProperty ; rdfs:label "bad"@en ; skos:definition "B."@en , "C."@en ;'
        f" rdfs:isDefinedBy <{ONTOLOGY_IRI}> .",
        (CK.bad, SKOS_NS + "definition"),
    ),
    "datatype-without-is-defined-by": (
        'ck:BadCode a rdfs:Datatype ; rdfs:label "bad code"@en ; skos:definition "B."@en .',
        (CK.BadCode, RDFS_NS + "isDefinedBy"),
    ),
    "class-defined-by-other-ontology": (
        'ck:Bad a owl:Class ; rdfs:label "bad"@en ; skos:definition "B."@en ; rdfs:isDefinedBy ex:other .',
        (CK.Bad, RDFS_NS + "isDefinedBy"),
    ),
    "header-created-as-prose": (
        f'<{ONTOLOGY_IRI}> dcterms:created "26 November 2026" .',
        (ONTOLOGY_IRI, DCT_NS + "created"),
    ),
    "header-modified-as-datetime": (
        f'<{ONTOLOGY_IRI}> dcterms:modified "2026-11-26T10:00:00"^^xsd:dateTime .',
        (ONTOLOGY_IRI, DCT_NS + "modified"),
    ),
    "header-license-as-literal": (
        f'<{ONTOLOGY_IRI}> dcterms:license "CC-BY-4.0" .',
        (ONTOLOGY_IRI, DCT_NS + "license"),
    ),
    "other-ontology-without-metadata": (
        "ex:otherOntology a owl:Ontology .",
        (str(EX.otherOntology), DCT_NS + "title"),
    ),
    "concept-two-english-preflabels": (
        'ex:bad a skos:Concept ; skos:prefLabel "bad"@en , "worse"@en ; skos:inScheme ex:scheme .',
        (str(EX.bad), SKOS_NS + "prefLabel"),
    ),
    "concept-without-english-preflabel": (
        'ex:bad a skos:Concept ; skos:prefLabel "mauvais"@fr ; skos:inScheme ex:scheme .',
        (str(EX.bad), SKOS_NS + "prefLabel"),
    ),
    "concept-without-scheme": (
        'ex:bad a skos:Concept ; skos:prefLabel "bad"@en .',
        (str(EX.bad), SKOS_NS + "inScheme"),
    ),
    "concept-in-untyped-scheme": (
        'ex:bad a skos:Concept ; skos:prefLabel "bad"@en ; skos:inScheme ex:notAScheme .',
        (str(EX.bad), SKOS_NS + "inScheme"),
    ),
}

#: header properties removed one at a time from the good header
HEADER_PROPERTIES = [
    "dcterms:title",
    "dcterms:description",
    "dcterms:license",
    "dcterms:created",
    "dcterms:modified",
    "owl:versionIRI",
    "owl:versionInfo",
    "vann:preferredNamespacePrefix",
    "vann:preferredNamespaceUri",
]


@pytest.mark.parametrize("name", sorted(BROKEN_META))
def test_meta_shapes_catch_broken_graph(meta_shapes: Graph, name: str) -> None:
    extra, (focus, path) = BROKEN_META[name]
    data = Graph().parse(data=PREFIXES + GOOD_HEADER + GOOD_TERMS + extra, format="turtle")
    conforms, report, text = validate_meta(data, meta_shapes)
    assert not conforms
    assert (str(focus), path) in violations(report), text


@pytest.mark.parametrize("prefixed", HEADER_PROPERTIES)
def test_meta_shapes_catch_missing_header_property(meta_shapes: Graph, prefixed: str) -> None:
    data = Graph().parse(data=PREFIXES + GOOD_HEADER + GOOD_TERMS, format="turtle")
    predicate = data.namespace_manager.expand_curie(prefixed)
    assert (URIRef(ONTOLOGY_IRI), predicate, None) in data
    data.remove((URIRef(ONTOLOGY_IRI), predicate, None))
    conforms, report, text = validate_meta(data, meta_shapes)
    assert not conforms
    assert (ONTOLOGY_IRI, str(predicate)) in violations(report), text


def test_meta_shapes_catch_missing_header(meta_shapes: Graph) -> None:
    data = Graph().parse(data=PREFIXES + GOOD_TERMS, format="turtle")
    conforms, report, text = validate_meta(data, meta_shapes)
    assert not conforms
    assert (ONTOLOGY_IRI, str(RDF.type)) in violations(report), text


#################################################################
# 3. SPARQL QC queries
#################################################################

QUERIES = sorted(QC_DIR.glob("*.rq"))
GRAPH_BASE = "urn:carbonkg:qc:"
ONTOLOGY_GRAPH = GRAPH_BASE + "ontology"

Source = Path | str  # a file, or Turtle text (for the broken graphs below)


def qc_store(graphs: Mapping[str, Iterable[Source]]) -> pyoxigraph.Store:
    """An in-memory store with each source in a named graph: ``ontology`` sources all go into
    <urn:carbonkg:qc:ontology> (the graph the queries take declarations from); any other source
    goes into <urn:carbonkg:qc:KIND/FILE> so that rows name the file."""
    store = pyoxigraph.Store()
    for kind, sources in graphs.items():
        for number, source in enumerate(sources):
            if kind == "ontology":
                graph_name = ONTOLOGY_GRAPH
            elif isinstance(source, Path):
                graph_name = f"{GRAPH_BASE}{kind}/{source.name}"
            else:
                graph_name = f"{GRAPH_BASE}{kind}/inline-{number}"
            target = pyoxigraph.NamedNode(graph_name)
            if isinstance(source, Path):
                store.load(path=source, format=pyoxigraph.RdfFormat.TURTLE, to_graph=target)
            else:
                store.load(PREFIXES + source, format=pyoxigraph.RdfFormat.TURTLE, to_graph=target)
    return store


def run_query(store: pyoxigraph.Store, query: Path) -> list[str]:
    solutions = store.query(query.read_text(encoding="utf-8"), use_default_graph_as_union=True)
    variables = [variable.value for variable in solutions.variables]
    return [
        "  ".join(f"?{name}={solution[name]}" for name in variables if solution[name] is not None)
        for solution in solutions
    ]


@pytest.fixture(scope="module")
def project_store() -> pyoxigraph.Store:
    return qc_store(
        {
            "ontology": module_paths(),
            "vocab": vocabulary_paths(),
            "alignments": alignment_paths(),
            "examples": example_paths(),
            "shapes": sorted(SHAPES_DIR.glob("*.ttl")),
        }
    )


def test_queries_exist() -> None:
    assert len(QUERIES) >= 9


@pytest.mark.parametrize("query", QUERIES, ids=lambda path: path.stem)
def test_qc_query_starts_with_a_comment(query: Path) -> None:
    first = query.read_text(encoding="utf-8").lstrip().splitlines()[0]
    assert first.startswith("#"), f"{query.name} must start with a comment saying what it finds"


@pytest.mark.parametrize("query", QUERIES, ids=lambda path: path.stem)
def test_qc_query_returns_no_rows(project_store: pyoxigraph.Store, query: Path) -> None:
    rows = run_query(project_store, query)
    assert not rows, f"ontology/qc/{query.name} found {len(rows)} problem(s):\n" + "\n".join(rows)


DECLARED = f"""
ck:Thing a owl:Class ; rdfs:label "thing"@en ; skos:definition "A thing."@en ; rdfs:subClassOf ex:Upper .
ck:Other a owl:Class ; rdfs:label "other"@en ; skos:definition "Another thing."@en ; rdfs:subClassOf ck:Thing .
ck:prop a owl:ObjectProperty ; rdfs:label "prop"@en ; skos:definition "Relates things."@en ;
    rdfs:domain ck:Thing ; rdfs:range ck:Other .
ck:Code a rdfs:Datatype ; rdfs:label "code"@en ; skos:definition "A code."@en .
ck:text a owl:DatatypeProperty ; rdfs:label "text"@en ; skos:definition "Some text."@en ; rdfs:range ck:Code .
<{ONTOLOGY_IRI}> a owl:Ontology .
"""

#: query file -> (graphs of a broken dataset, a string that must appear in the rows)
BROKEN_QUERIES: dict[str, tuple[dict[str, list[str]], str]] = {
    "duplicate-label.rq": (
        {"ontology": [DECLARED + 'ck:Thing2 a owl:Class ; rdfs:label "Thing"@en ; rdfs:subClassOf ck:Thing .']},
        str(CK.Thing2),
    ),
    "duplicate-definition.rq": (
        {"ontology": [DECLARED + 'ck:prop2 a owl:ObjectProperty ; skos:definition "Relates things."@en .']},
        str(CK.prop2),
    ),
    "annotation-whitespace.rq": (
        {
            "ontology": [DECLARED + 'ck:Spaced a owl:Class ; rdfs:label "spaced  out"@en ; rdfs:subClassOf ck:Thing .'],
            "vocab": ['ex:c a skos:Concept ; skos:prefLabel " leading"@en ; skos:definition "trailing\\n"@en .'],
        },
        str(CK.Spaced),
    ),
    "class-without-superclass.rq": (
        {"ontology": [DECLARED + "ck:Orphan a owl:Class ; rdfs:subClassOf owl:Thing , ck:Orphan ."]},
        str(CK.Orphan),
    ),
    "subclass-cycle.rq": (
        {"ontology": [DECLARED + "ck:Thing rdfs:subClassOf ck:Other ."]},
        str(CK.Other),
    ),
    "undeclared-ck-iri.rq": (
        {
            "ontology": [DECLARED],
            "vocab": ['ex:c a skos:Concept ; skos:notation "x"^^ck:Cod ; ck:porp ex:d .'],
            "shapes": ["ex:S a sh:NodeShape ; sh:targetClass ck:Thnig ."],
        },
        str(CK.Thnig),
    ),
    "undeclared-domain-range.rq": (
        {"ontology": [DECLARED + "ck:prop2 a owl:ObjectProperty ; rdfs:domain ck:Thing ; rdfs:range ck:prop ."]},
        str(CK.prop2),
    ),
    "deprecated-term-used.rq": (
        {
            "ontology": [
                DECLARED + "ck:Other owl:deprecated true ; dcterms:isReplacedBy ck:Thing ."
                " ck:Older owl:deprecated true ; rdfs:subClassOf ck:Other ."
            ],
        },
        str(CK.prop),  # ck:prop still has rdfs:range ck:Other
    ),
    "vocab-duplicate-preflabel.rq": (
        {"vocab": ['ex:c a skos:Concept ; skos:prefLabel "one"@en , "two"@en , "un"@fr .']},
        str(EX.c),
    ),
}

#: extra expectations: further strings each broken dataset's rows must contain
BROKEN_QUERY_ALSO: dict[str, list[str]] = {
    "annotation-whitespace.rq": [" leading", "trailing"],
    "undeclared-ck-iri.rq": [str(CK.Cod), str(CK.porp), "datatype", "predicate", "object"],
    "deprecated-term-used.rq": [],
}


@pytest.mark.parametrize("query", QUERIES, ids=lambda path: path.stem)
def test_qc_query_catches_broken_graph(query: Path) -> None:
    assert query.name in BROKEN_QUERIES, f"add a broken dataset for ontology/qc/{query.name} to BROKEN_QUERIES"
    graphs, expected = BROKEN_QUERIES[query.name]
    rows = run_query(qc_store(graphs), query)
    text = "\n".join(rows)
    assert expected in text, f"{query.name} did not report {expected}; rows:\n{text}"
    for also in BROKEN_QUERY_ALSO.get(query.name, []):
        assert also in text, f"{query.name} did not report {also}; rows:\n{text}"


def test_deprecated_term_annotations_are_not_flagged() -> None:
    graphs = {"ontology": [DECLARED + "ck:Old a owl:Class ; owl:deprecated true ; dcterms:isReplacedBy ck:Thing ."
                           " ck:Thing dcterms:replaces ck:Old ."]}
    assert run_query(qc_store(graphs), QC_DIR / "deprecated-term-used.rq") == []


def test_declared_and_clean_graph_is_not_flagged() -> None:
    """A concept that is skos:topConceptOf a scheme and also skos:broader another concept of that
    scheme is allowed; so are a class and a property whose labels differ only by "has"."""
    graphs = {
        "ontology": [DECLARED + 'ck:thing a owl:ObjectProperty ; rdfs:label "has thing"@en ; skos:definition "Has."@en .'],
        "vocab": [
            'ex:s a skos:ConceptScheme . ex:a a skos:Concept ; skos:prefLabel "a"@en , "a"@fr ; skos:inScheme ex:s ;'
            ' skos:topConceptOf ex:s . ex:b a skos:Concept ; skos:prefLabel "b"@en ; skos:inScheme ex:s ;'
            ' skos:topConceptOf ex:s ; skos:broader ex:a ; skos:notation "B"^^ck:Code .'
        ],
    }
    store = qc_store(graphs)
    for query in QUERIES:
        assert run_query(store, query) == [], query.name


#################################################################
# 4. OWL 2 RL closure
#################################################################

PROV = Namespace("http://www.w3.org/ns/prov#")
ID = Namespace("https://w3id.org/carbonkg/id/example/")

SAMPLE = f"""
@prefix id: <{ID}> .
id:registry a ck:Registry ; rdfs:label "Example Registry" .
id:programme a ck:CreditingProgramme ; ck:programmeRecordedIn id:registry ; ck:operatedBy id:operator .
id:developer a ck:Organisation ; ck:orgName "Example Developer Ltd" .
id:buyer ck:orgName "Example Buyer plc" .
id:listing a ck:ProjectListing ;
    ck:nativeId "1507" ;
    ck:recordedIn id:registry ;
    ck:underProgramme id:programme ;
    ck:developer id:developer ;
    ck:registrationDate "2019-05-01"^^xsd:date ;
    ck:estimatedAnnualReductions "12000.5"^^xsd:decimal .
id:issuance a ck:Issuance ;
    ck:recordedIn id:registry ;
    ck:issuedFor id:listing ;
    ck:generatedBlock id:block ;
    ck:eventDate "2021-03-04"^^xsd:date ;
    ck:quantity "1000"^^xsd:decimal .
id:block a ck:CreditBlock ;
    ck:recordedIn id:registry ;
    ck:blockOf id:listing ;
    ck:serialNumber "EX-1507-2020-1-1000" ;
    ck:serialPrefix "EX-1507-2020" ;
    ck:serialStart 1 ;
    ck:serialEnd 1000 ;
    ck:quantity "1000"^^xsd:decimal ;
    ck:vintageYear "2020"^^xsd:gYear .
id:retirement a ck:Retirement ;
    ck:recordedIn id:registry ;
    ck:affectsBlock id:block ;
    ck:eventFor id:listing ;
    ck:quantity "250"^^xsd:decimal ;
    ck:eventDate "2022-01-15"^^xsd:date ;
    ck:beneficiary id:buyer ;
    ck:beneficiaryName "Example Buyer plc" .
"""


def sample_graph() -> Graph:
    """The data the closure runs over besides the modules: ontology/examples/*.ttl, plus a small
    built-in graph with one project listing, issuance, credit block and retirement."""
    graph = Graph().parse(data=PREFIXES + SAMPLE, format="turtle")
    for path in example_paths():
        graph.parse(path, format="turtle")
    return graph


def rl_closure(graph: Graph) -> Graph:
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    return graph


def inconsistencies(closed: Graph) -> list[str]:
    """What makes an OWL RL closure inconsistent: owlrl's own error reports (it adds
    ``[] a err:ErrorMessage ; err:error "..."`` for disjointness, sameAs/differentFrom, owl:Nothing,
    ill-typed literals and the like), plus direct checks of the closed graph."""
    problems = [f"owlrl: {message}" for message in closed.objects(None, ERRNS.error)]
    for member in closed.subjects(RDF.type, OWL.Nothing):
        problems.append(f"{member} is an instance of owl:Nothing")
    for a, b in closed.subject_objects(OWL.differentFrom):
        if a == b or (a, OWL.sameAs, b) in closed or (b, OWL.sameAs, a) in closed:
            problems.append(f"{a} is both owl:sameAs and owl:differentFrom {b}")
    for c1, c2 in closed.subject_objects(OWL.disjointWith):
        for member in closed.subjects(RDF.type, c1):
            if (member, RDF.type, c2) in closed:
                problems.append(f"{member} is an instance of disjoint classes {c1} and {c2}")
    return sorted(set(problems))


@pytest.fixture(scope="module")
def closed_ontology() -> Graph:
    graph = Graph()
    for path in module_paths():
        graph.parse(path, format="turtle")
    graph += sample_graph()
    return rl_closure(graph)


def test_owl_rl_closure_is_consistent(closed_ontology: Graph) -> None:
    problems = inconsistencies(closed_ontology)
    assert not problems, "\n".join(problems)


def test_owl_rl_closure_infers_through_the_ontology(closed_ontology: Graph) -> None:
    """The closure really ran over the ontology's axioms (subclass, sub-property, domain, range)."""
    id_ = ID
    expected = [
        (id_.block, RDF.type, PROV.Entity),  # CreditBlock ⊑ prov:Entity
        (id_.issuance, RDF.type, PROV.Activity),  # Issuance ⊑ CreditEvent ⊑ prov:Activity
        (id_.issuance, PROV.generated, id_.block),  # generatedBlock ⊑ prov:generated
        (id_.retirement, PROV.used, id_.block),  # affectsBlock ⊑ prov:used
        (id_.buyer, RDF.type, CK.Organisation),  # range of ck:participant
        (id_.buyer, RDF.type, PROV.Agent),
        (id_.operator, RDF.type, CK.Organisation),  # range of ck:operatedBy
    ]
    missing = [triple for triple in expected if triple not in closed_ontology]
    assert not missing, missing


#: name -> (Turtle added to the modules and sample, a string the reported problems must contain)
BROKEN_OWL = {
    "disjoint-classes-share-a-member": (
        "ex:A a owl:Class ; owl:disjointWith ex:B . ex:B a owl:Class . ex:x a ex:A , ex:B .",
        "Disjoint classes",
    ),
    "disjointness-met-through-inference": (
        "ck:CreditBlock owl:disjointWith ck:CreditEvent . ex:x ck:blockOf ex:listing ; ck:eventDate \"2020-01-01\"^^xsd:date .",
        str(EX.x),
    ),
    "all-disjoint-classes": (
        "[] a owl:AllDisjointClasses ; owl:members ( ck:Issuance ck:Retirement ck:Transfer ) . ex:y a ck:Issuance , ck:Transfer .",
        str(EX.y),
    ),
    "member-of-nothing": (
        "ex:z a owl:Nothing .",
        "Nothing",
    ),
    "same-and-different": (
        "ex:p owl:sameAs ex:q ; owl:differentFrom ex:q .",
        "sameAs",
    ),
    "ill-typed-literal": (
        'ex:w ck:eventDate "2021-02-30"^^xsd:date .',
        "2021-02-30",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN_OWL))
def test_owl_rl_closure_catches_inconsistency(name: str) -> None:
    extra, expected = BROKEN_OWL[name]
    graph = Graph()
    for path in module_paths():
        graph.parse(path, format="turtle")
    graph += sample_graph()
    graph.parse(data=PREFIXES + extra, format="turtle")
    problems = inconsistencies(rl_closure(graph))
    assert problems, f"{name}: the closure reported nothing"
    assert any(expected in problem for problem in problems), "\n".join(problems)


def test_inconsistency_checks_without_owlrl_messages() -> None:
    """The direct checks catch a clash even in a graph where owlrl left no error message."""
    graph = Graph()
    graph.add((EX.A, OWL.disjointWith, EX.B))
    graph.add((EX.x, RDF.type, EX.A))
    graph.add((EX.x, RDF.type, EX.B))
    graph.add((EX.n, RDF.type, OWL.Nothing))
    graph.add((EX.p, OWL.sameAs, EX.q))
    graph.add((EX.p, OWL.differentFrom, EX.q))
    problems = "\n".join(inconsistencies(graph))
    assert "disjoint classes" in problems
    assert "owl:Nothing" in problems
    assert "owl:differentFrom" in problems
    message = BNode()
    graph.add((message, RDF.type, ERRNS.ErrorMessage))
    graph.add((message, ERRNS.error, Literal("something owlrl found")))
    assert "owlrl: something owlrl found" in inconsistencies(graph)

