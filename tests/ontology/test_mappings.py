"""The alignment modules (ontology/alignments/*.ttl) and the SSSOM mapping tables
(ontology/mappings/*.sssom.tsv)."""

from __future__ import annotations

import csv
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from carbonkg.ontology.resources import CK_NAMESPACE, alignment_paths, module_paths, package_dir

ALIGNMENTS_DIR = package_dir() / "alignments"
MAPPINGS_DIR = package_dir() / "mappings"
ALIGNMENT_BASE = "https://w3id.org/carbonkg/ontology/alignments/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
RELEASE_DATE = "2026-11-26"
VERSION = "0.1.0"
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")

EXPECTED_ALIGNMENTS = {"prov", "dcat-csvw", "schema", "org", "omg-commons", "oeo", "qudt", "geosparql"}
EXPECTED_TABLES = {"cadt-v1", "cadt-v2", "offsetsdb"}
DECLARATION_KINDS = {
    OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDFS.Datatype, OWL.NamedIndividual,
}


@cache
def module_graph() -> Graph:
    graph = Graph()
    for path in module_paths():
        graph.parse(path, format="turtle")
    return graph


@cache
def ck_declared() -> frozenset[str]:
    """Every ck: IRI the ontology modules declare (as class, property, datatype or individual)."""
    return frozenset(
        str(s) for s, kind in module_graph().subject_objects(RDF.type)
        if kind in DECLARATION_KINDS and str(s).startswith(CK_NAMESPACE)
    )


#################################################################
# Alignments
#################################################################

ALIGNMENT_FILES = sorted(ALIGNMENTS_DIR.glob("*.ttl"))

#: predicates an alignment may state about a ck: term (links, never new definitions)
ALIGNMENT_PREDICATES = {
    RDFS.subClassOf, RDFS.subPropertyOf,
    SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch,
    URIRef("http://qudt.org/schema/qudt/hasUnit"), URIRef("http://qudt.org/schema/qudt/hasQuantityKind"),
}


@cache
def alignment_graph(path: Path) -> Graph:
    return Graph().parse(path, format="turtle")


def test_the_alignment_modules_are_there() -> None:
    assert {path.stem for path in ALIGNMENT_FILES} == EXPECTED_ALIGNMENTS
    assert set(alignment_paths()) == set(ALIGNMENT_FILES)


@pytest.mark.parametrize("path", ALIGNMENT_FILES, ids=lambda p: p.name)
def test_alignment_parses_with_rdflib_and_pyoxigraph(path: Path) -> None:
    triples = len(alignment_graph(path))
    assert triples > 0
    assert sum(1 for _ in pyoxigraph.parse(path=path, format=pyoxigraph.RdfFormat.TURTLE)) == triples


@pytest.mark.parametrize("path", ALIGNMENT_FILES, ids=lambda p: p.name)
def test_alignment_starts_with_a_comment_explaining_it(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    comment = []
    for line in lines:
        if not line.startswith("#"):
            break
        comment.append(line)
    assert len(comment) >= 5, f"{path.name} must open with a comment that explains its choices"


@pytest.mark.parametrize("path", ALIGNMENT_FILES, ids=lambda p: p.name)
def test_alignment_header(path: Path) -> None:
    graph = alignment_graph(path)
    iri = URIRef(ALIGNMENT_BASE + path.stem)
    assert set(graph.subjects(RDF.type, OWL.Ontology)) == {iri}
    assert not list(graph.triples((None, OWL.imports, None))), "alignments reference, never import"
    assert graph.value(iri, OWL.versionIRI) == URIRef(f"{ALIGNMENT_BASE}{path.stem}/{VERSION}")
    assert graph.value(iri, OWL.versionInfo) == Literal(VERSION)
    assert graph.value(iri, DCTERMS.license) == URIRef(CC_BY)
    for date_property in (DCTERMS.created, DCTERMS.modified):
        assert graph.value(iri, date_property) == Literal(RELEASE_DATE, datatype=XSD_DATE)
    for text_property in (DCTERMS.title, DCTERMS.description):
        values = list(graph.objects(iri, text_property))
        assert len(values) == 1 and isinstance(values[0], Literal) and values[0].language == "en"


@pytest.mark.parametrize("path", ALIGNMENT_FILES, ids=lambda p: p.name)
def test_alignment_references_only_declared_ck_terms(path: Path) -> None:
    graph = alignment_graph(path)
    used = {str(term) for triple in graph for term in triple if isinstance(term, URIRef)}
    used |= {str(o.datatype) for o in graph.objects() if isinstance(o, Literal) and o.datatype}
    undeclared = sorted(iri for iri in used if iri.startswith(CK_NAMESPACE) and iri not in ck_declared())
    assert not undeclared, f"{path.name} references ck: terms the modules do not declare: {undeclared}"


@pytest.mark.parametrize("path", ALIGNMENT_FILES, ids=lambda p: p.name)
def test_alignment_only_links_ck_terms(path: Path) -> None:
    """An alignment states links from ck: terms to external terms; it does not (re)define ck:
    terms, link ck: terms to each other, or repeat an axiom of the modules."""
    graph = alignment_graph(path)
    modules = module_graph()
    for s, p, o in graph:
        if isinstance(s, URIRef) and str(s).startswith(ALIGNMENT_BASE):
            continue  # the header
        assert str(s).startswith(CK_NAMESPACE), f"{path.name}: subject {s} is not a ck: term"
        assert p in ALIGNMENT_PREDICATES, f"{path.name}: {s} {p} is not an alignment predicate"
        assert isinstance(o, URIRef) and not str(o).startswith(CK_NAMESPACE), (
            f"{path.name}: {s} {p} {o} must point to an external IRI"
        )
        assert (s, p, o) not in modules, f"{path.name} repeats a module axiom: {s} {p} {o}"


def test_no_subclass_of_schema_project_or_organization() -> None:
    """schema:Project is a subclass of schema:Organization: projects and listings get closeMatch."""
    forbidden = {URIRef("http://schema.org/Project"), URIRef("http://schema.org/Organization")}
    for path in ALIGNMENT_FILES:
        for s, o in alignment_graph(path).subject_objects(RDFS.subClassOf):
            assert o not in forbidden, f"{path.name}: {s} rdfs:subClassOf {o}"
    schema = alignment_graph(ALIGNMENTS_DIR / "schema.ttl")
    for term in ("Project", "ProjectListing"):
        assert (URIRef(CK_NAMESPACE + term), SKOS.closeMatch, URIRef("http://schema.org/Project")) in schema


#################################################################
# SSSOM tables
#################################################################

TABLE_FILES = sorted(MAPPINGS_DIR.glob("*.sssom.tsv"))
COLUMNS = ["subject_id", "subject_label", "predicate_id", "object_id", "object_label", "mapping_justification", "comment"]
SSSOM_PREDICATES = {
    "skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch", "skos:relatedMatch",
    "owl:equivalentClass", "owl:equivalentProperty", "rdfs:subClassOf", "rdfs:subPropertyOf",
}
NO_TERM = "sssom:NoTermFound"
JUSTIFICATION = "semapv:ManualMappingCuration"
SUBJECT_PREFIX = {"cadt-v1": "cadt1", "cadt-v2": "cadt2", "offsetsdb": "offsetsdb"}
#: external vocabularies a row may map to directly (terms carbonkg data uses as they are)
EXTERNAL_OBJECT_PREFIXES = {"rdfs", "dcterms", "prov", "schema", "geo"}
CURIE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*):(\S+)$")


def _scalar(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def read_yaml_block(text: str) -> dict:
    """The subset of YAML the SSSOM metadata blocks use: top-level ``key: value`` scalars (plain
    or quoted) and one level of nested ``key: value`` mappings (curie_map)."""
    data: dict = {}
    current: dict | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.startswith((" ", "\t")):
            if current is None or ":" not in line:
                raise ValueError(f"line {number}: unexpected indentation: {line!r}")
            key, _, value = line.strip().partition(":")
            current[key.strip()] = _scalar(value)
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"line {number}: not a key: value line: {line!r}")
        if value.strip():
            data[key.strip()] = _scalar(value)
            current = None
        else:
            current = data[key.strip()] = {}
    return data


def read_sssom(path: Path) -> tuple[dict, list[str], list[dict[str, str]]]:
    """(metadata, header, rows) of an SSSOM TSV with its metadata in '#' lines at the top."""
    lines = path.read_text(encoding="utf-8").splitlines()
    meta_lines = []
    while lines and lines[0].startswith("#"):
        meta_lines.append(lines.pop(0)[1:])
    metadata = read_yaml_block("\n".join(meta_lines))
    reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader)
    rows = []
    for number, cells in enumerate(reader, start=2):
        assert len(cells) == len(header), f"{path.name} data line {number} has {len(cells)} cells, not {len(header)}"
        rows.append(dict(zip(header, cells)))
    return metadata, header, rows


@cache
def table(name: str) -> tuple[dict, list[str], list[dict[str, str]]]:
    return read_sssom(MAPPINGS_DIR / f"{name}.sssom.tsv")


def expand(curie: str, curie_map: dict[str, str]) -> str:
    match = CURIE.match(curie)
    assert match, f"{curie!r} is not a CURIE"
    prefix, local = match.groups()
    assert prefix in curie_map, f"prefix {prefix!r} of {curie} is not in the curie_map"
    return curie_map[prefix] + local


def test_the_mapping_tables_are_there() -> None:
    assert {path.name.removesuffix(".sssom.tsv") for path in TABLE_FILES} == EXPECTED_TABLES


def test_yaml_reader() -> None:
    text = 'curie_map:\n  ck: https://w3id.org/carbonkg/ontology#\n  a: "b"\nversion: "0.1.0"\ndate: 2026-11-26\n'
    assert read_yaml_block(text) == {
        "curie_map": {"ck": "https://w3id.org/carbonkg/ontology#", "a": "b"},
        "version": "0.1.0",
        "date": "2026-11-26",
    }
    with pytest.raises(ValueError):
        read_yaml_block("  orphan: value\n")


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_metadata(name: str) -> None:
    metadata, _, _ = table(name)
    assert metadata["mapping_set_id"] == f"https://w3id.org/carbonkg/mappings/{name}.sssom.tsv"
    assert metadata["mapping_set_version"] == VERSION
    assert metadata["license"] == CC_BY
    assert metadata["mapping_date"] == RELEASE_DATE
    for key in ("mapping_set_title", "mapping_set_description", "subject_source", "object_source"):
        assert metadata.get(key), f"{name}: metadata lacks {key}"
    curie_map = metadata["curie_map"]
    assert isinstance(curie_map, dict)
    assert curie_map[SUBJECT_PREFIX[name]] == f"https://w3id.org/carbonkg/{name}/field/"
    assert curie_map["ck"] == CK_NAMESPACE
    assert curie_map["sssom"] == "https://w3id.org/sssom/"
    assert curie_map["semapv"] == "https://w3id.org/semapv/vocab/"
    assert curie_map["skos"] == str(SKOS)


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_metadata_agrees_with_pyyaml_when_available(name: str) -> None:
    yaml = pytest.importorskip("yaml")
    lines = (MAPPINGS_DIR / f"{name}.sssom.tsv").read_text(encoding="utf-8").splitlines()
    block = "\n".join(line[1:] for line in lines if line.startswith("#"))
    parsed = {key: (value if isinstance(value, dict) else str(value)) for key, value in yaml.safe_load(block).items()}
    assert parsed == table(name)[0]


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_columns(name: str) -> None:
    _, header, rows = table(name)
    assert header == COLUMNS
    assert rows


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_every_curie_expands(name: str) -> None:
    metadata, _, rows = table(name)
    curie_map = metadata["curie_map"]
    for row in rows:
        for column in ("subject_id", "predicate_id", "object_id", "mapping_justification"):
            assert expand(row[column], curie_map).startswith(("http://", "https://"))
        assert row["subject_id"].startswith(SUBJECT_PREFIX[name] + ":")


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_ck_objects_exist_in_the_ontology(name: str) -> None:
    metadata, _, rows = table(name)
    missing = sorted(
        {row["object_id"] for row in rows if expand(row["object_id"], metadata["curie_map"]).startswith(CK_NAMESPACE)}
        - {"ck:" + iri[len(CK_NAMESPACE):] for iri in ck_declared()}
    )
    assert not missing, f"{name} maps to ck: terms the modules do not declare: {missing}"


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_objects_are_carbonkg_or_reused_external_terms(name: str) -> None:
    _, _, rows = table(name)
    for row in rows:
        prefix = row["object_id"].split(":", 1)[0]
        assert row["object_id"] == NO_TERM or prefix == "ck" or prefix in EXTERNAL_OBJECT_PREFIXES, row["subject_id"]


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_predicates_and_justification(name: str) -> None:
    _, _, rows = table(name)
    for row in rows:
        assert row["predicate_id"] in SSSOM_PREDICATES, row["subject_id"]
        assert row["mapping_justification"] == JUSTIFICATION, row["subject_id"]


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_unmapped_rows_say_why_and_mapped_rows_name_the_term(name: str) -> None:
    _, _, rows = table(name)
    for row in rows:
        assert row["comment"] == row["comment"].strip(), row["subject_id"]
        if row["object_id"] == NO_TERM:
            assert row["comment"], f"{row['subject_id']} maps to nothing and must say why"
            assert not row["object_label"], row["subject_id"]
        else:
            assert row["object_label"], f"{row['subject_id']} needs the object's label"


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_no_duplicate_subjects(name: str) -> None:
    _, _, rows = table(name)
    duplicates = [subject for subject, count in Counter(row["subject_id"] for row in rows).items() if count > 1]
    assert not duplicates


#################################################################
# Completeness of the field lists
#################################################################

#: fields per entity; the totals below must not shrink silently
FIELDS_PER_ENTITY = {
    "cadt-v1": {
        "project": 23, "unit": 23, "issuance": 7, "label": 10, "labelUnit": 3, "location": 6,
        "estimation": 5, "rating": 7, "coBenefit": 3, "relatedProject": 5, "organization": 3,
    },
    "cadt-v2": {
        "program": 5, "methodology": 7, "stakeholder": 5, "label": 5, "project": 16, "projectMethodology": 5,
        "validation": 8, "verification": 7, "location": 7, "estimation": 6, "rating": 6, "coBenefit": 3,
        "issuance": 6, "unit": 19, "unitLabel": 5, "aefT1Submission": 10, "aefT2Authorizations": 24,
        "aefT3Actions": 32, "aefT4Holdings": 21, "aefT5AuthorizedEntities": 13,
    },
    "offsetsdb": {"project": 18, "credit": 12},
}

#: the fields shared/docs/data-model.md names (sections 1 and 2); AEF fields by their short names
DATA_MODEL_FIELDS = {
    "cadt-v1": {
        "project": "warehouseProjectId orgUid currentRegistry registryOfOrigin projectId originProjectId program "
                   "projectName projectLink description projectDeveloper sector projectType projectStatus "
                   "projectStatusDate coveredByNDC ndcInformation unitMetric methodology methodology2 "
                   "validationBody validationDate",
        "unit": "unitOwner countryJurisdictionOfOwner inCountryJurisdictionOfOwner serialNumberBlock "
                "serialNumberPattern unitBlockStart unitBlockEnd unitCount vintageYear unitType unitStatus "
                "unitStatusReason unitRegistryLink marketplace marketplaceLink marketplaceIdentifier "
                "correspondingAdjustmentDeclaration correspondingAdjustmentStatus",
        "issuance": "startDate endDate verificationApproach verificationReportDate verificationBody",
        "label": "label labelType creditingPeriodStartDate creditingPeriodEndDate validityPeriodStartDate "
                 "validityPeriodEndDate unitQuantity labelLink",
        "labelUnit": "warehouseUnitId labelId",
        "location": "country inCountryRegion geographicIdentifier fileId",
        "estimation": "creditingPeriodStart creditingPeriodEnd unitCount",
        "rating": "ratingType ratingRangeLowest ratingRangeHighest rating ratingLink",
        "coBenefit": "cobenefit",
        "relatedProject": "relatedProjectId relationshipType registry",
        "organization": "orgUid",
    },
    "cadt-v2": {
        "program": "programName programRegistry programRegistryId programDescription",
        "methodology": "methodologyCode methodologyName methodologyType methodologyVersion methodologyDate "
                       "methodologyLink",
        "stakeholder": "stakeholderName stakeholderType stakeholderLink",
        "label": "labelName labelType labelLink labelDate",
        "project": "cadTrustProjectId cadTrustReferenceProjectId projectRegistryName projectId "
                   "projectCreditingProgram projectName projectLink projectDescription projectSector projectType "
                   "projectSubtype projectStatus projectStatusDate projectUnitMetric",
        "validation": "validationId validationType validationBody validationDate validationCreditPeriodStartDate "
                      "validationCreditPeriodEndDate",
        "verification": "verificationId verificationStartDate verificationEndDate verificationBody",
        "location": "locationCountry locationRegion locationGis locationMapType locationMapFileLink",
        "estimation": "estimationStartDate estimationEndDate estimationUnitCount estimationReferenceNo",
        "rating": "ratingType ratingName ratingValue ratingLink",
        "coBenefit": "cobenefit",
        "issuance": "issuanceId issuanceDate cadTrustVerificationId cadTrustProjectMethodologyId cadTrustLocationId",
        "unit": "unitSerialId unitStartBlock unitEndBlock unitCount unitType unitVintageYear unitStatus "
                "unitStatusReason unitStatusDate unitRetirementDetail unitRetirementBeneficiary "
                "unitRetirementBeneficiaryId unitLink unitMetric unitCurrentOwner unitItmosReferenceId",
        "unitLabel": "labelUnitDate labelUnitDescription",
        "aefT1Submission": "party version reportYear submissionDate reviewStatus resultCheck ndcFirstYear "
                           "ndcLastYear referenceReviewReport",
        "aefT2Authorizations": "id date cooperativeApproachId version quantity metric gwpValue applicableNonGhgMetric "
                               "sector activityType purposesForAuthorization authorizedPartyId authorizedEntityId "
                               "oimpAuthorizedParty authorizedTimeframe authorizationTerms authorizationDocumentation "
                               "firstTransferDefinitionOimp additionalInformation",
        "aefT3Actions": "date type subtype cooperativeApproachId authorizationId firstTransferringPartyId "
                        "partyItmoRegistryId itmoFirstId itmoLastId unitRegistryId unitFirstId unitLastId metric "
                        "gwpValue quantityTCo2 quantityNonGhg mitigationType vintageYear transferringPartyId "
                        "acquiringPartyId purposeOfUseOimp usingParticipatingPartyId usingAuthorizedEntityId "
                        "itmoUsedYear consistencyCheckResult additionalInformation",
        "aefT4Holdings": "cooperativeApproachId authorizationId firstTransferringPartyId partyItmoRegistryId "
                         "itmoFirstId itmoLastId unitRegistryId unitFirstId unitLastId metric gwpValue quantityTCo2 "
                         "quantityNonGhg mitigationType vintageYear",
        "aefT5AuthorizedEntities": "authorizationDate name incorporationCountry id cooperativeApproachId conditions "
                                   "changeConditions additionalInformation",
    },
    "offsetsdb": {
        "project": "project_id name registry proponent protocol protocol_unassigned category project_type "
                   "project_type_source status country is_compliance listed_at first_issuance_at "
                   "first_retirement_at issued retired project_url",
        "credit": "id project_id quantity vintage transaction_date transaction_type retirement_account "
                  "retirement_reason retirement_note retirement_beneficiary retirement_beneficiary_harmonized "
                  "transaction_url",
    },
}


def field_name(entity: str, short: str) -> str:
    """AEF fields carry their table name: aefT2Authorizations + purposesForAuthorization."""
    if entity.startswith("aefT"):
        return entity + short[0].upper() + short[1:]
    return short


def subjects_by_entity(name: str) -> dict[str, set[str]]:
    _, _, rows = table(name)
    found: dict[str, set[str]] = {}
    for row in rows:
        entity, _, field = row["subject_id"].split(":", 1)[1].partition(".")
        found.setdefault(entity, set()).add(field)
    return found


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_fields_per_entity(name: str) -> None:
    assert {entity: len(fields) for entity, fields in subjects_by_entity(name).items()} == FIELDS_PER_ENTITY[name]


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_every_data_model_field_is_listed(name: str) -> None:
    found = subjects_by_entity(name)
    missing = [
        f"{entity}.{field_name(entity, short)}"
        for entity, fields in DATA_MODEL_FIELDS[name].items()
        for short in fields.split()
        if field_name(entity, short) not in found.get(entity, set())
    ]
    assert not missing, f"{name} lacks fields named in the data model: {missing}"


def test_aef_t2_authorisation_fields_map_to_authorisation_properties() -> None:
    _, _, rows = table("cadt-v2")
    objects = {row["subject_id"]: row["object_id"] for row in rows}
    t2 = "cadt2:aefT2Authorizations.aefT2Authorizations"
    assert objects[t2 + "Id"] == "ck:authorisationId"
    assert objects[t2 + "Quantity"] == "ck:authorisedQuantity"
    assert objects[t2 + "PurposesForAuthorization"] == "ck:authorisationPurpose"
    assert objects[t2 + "AuthorizedTimeframe"] == "ck:authorisedTimeframe"
    assert objects[t2 + "AuthorizationTerms"] == "ck:authorisationTerms"
    assert objects[t2 + "AuthorizationDocumentation"] == "ck:authorisationDocument"
    assert objects[t2 + "FirstTransferDefinitionOimp"] == "ck:firstTransferDefinition"


#################################################################
# README
#################################################################


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_readme_counts_and_unmapped_fields_match_the_table(name: str) -> None:
    readme = (MAPPINGS_DIR / "README.md").read_text(encoding="utf-8")
    _, _, rows = table(name)
    unmapped = [row for row in rows if row["object_id"] == NO_TERM]
    counts = rf"\|\s*`{re.escape(name)}\.sssom\.tsv`\s*\|[^|\n]*\|\s*{len(rows)}\s*\|\s*{len(rows) - len(unmapped)}\s*\|\s*{len(unmapped)}\s*\|"
    assert re.search(counts, readme), f"README's count row for {name} is out of date"
    missing = [row["subject_id"] for row in unmapped if f"`{row['subject_id'].split(':', 1)[1]}`" not in readme]
    assert not missing, f"README does not list these unmapped fields: {missing}"
