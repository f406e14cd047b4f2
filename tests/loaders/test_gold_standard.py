"""Gold Standard loader on the real exports (data/registry-exports/gold-standard).

Every check compares the RDF with the CSV cells read and parsed independently here (csv module,
int/Decimal/date.fromisoformat, string splitting), not with the loader's own parsers. Malformed
input is tested with tiny synthetic files written to tmp_path: the real header plus one real row
with one cell broken.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, RDFS, Literal, Namespace, URIRef

from carbonkg.loaders import gold_standard
from carbonkg.loaders.pipeline import FileResult, LoadRun, all_specs, convert_file, detect_spec, load_file, open_source
from carbonkg.loaders.readers import header_signature, normalise_name, open_table
from carbonkg.store import EmbeddedStore

from loader_helpers import convert_all

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "data" / "registry-exports"
GS = EXPORTS / "gold-standard"
FILES = {"projects": GS / "projects.csv", "issuances": GS / "issuances.csv", "retirements": GS / "retirements.csv"}

CK = Namespace("https://w3id.org/carbonkg/ontology#")
CSVW = Namespace("http://www.w3.org/ns/csvw#")
PROV = Namespace("http://www.w3.org/ns/prov#")
DCT = Namespace("http://purl.org/dc/terms/")
ID = "https://w3id.org/carbonkg/id/"
VOCAB = "https://w3id.org/carbonkg/vocab/"
SDG = "http://metadata.un.org/sdg/"


def listing(gsid: str) -> URIRef:
    return URIRef(f"{ID}gold-standard/project/{gsid}")


def concept(scheme: str, slug: str) -> URIRef:
    return URIRef(f"{VOCAB}{scheme}/{slug}")


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def gs_serial(cell: str) -> tuple[str, int, int]:
    """Independent split of a GS serial: prefix, start, end (the last two dash fields)."""
    prefix, start, end = cell.rsplit("-", 2)
    return prefix, int(start), int(end)


def kyoto_serial(cell: str) -> tuple[int, int, str]:
    first, last = cell.split(" - ")
    a, b = first.split("-"), last.split("-")
    return int(a[2]), int(b[2]), a[-1]


def block_iri(cell: str) -> URIRef:
    if cell.startswith("GS"):
        prefix, start, end = gs_serial(cell)
    else:
        start, end, _ = kyoto_serial(cell)
        party, ocp = cell.split("-")[0], int(cell.split("-")[3])
        prefix = f"KP-{party}-{ocp}"
    return URIRef(f"{ID}gold-standard/block/{prefix}/{start}-{end}")


def norm(text: str) -> str:
    """Cells are loaded with white space collapsed (the loaders' text rule)."""
    return " ".join(text.split())


def one(graph: rdflib.Graph, s: URIRef, p: URIRef) -> rdflib.term.Node:
    values = list(graph.objects(s, p))
    assert len(values) == 1, (s, p, values)
    return values[0]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[FileResult, rdflib.Graph]]:
    return convert_all(FILES, tmp_path_factory.mktemp("gs"))


# ------------------------------------------------------------------------- whole files


@pytest.mark.parametrize("kind", list(FILES))
def test_real_file_loads_completely(kind: str, converted: dict) -> None:
    path = FILES[kind]
    result = load_file(EmbeddedStore(None), path)
    expected_rows = len(csv_rows(path))
    assert result.status == "loaded", [str(e) for e in result.errors]
    assert result.errors == []
    assert (result.registry, result.table, result.rows) == ("gold-standard", kind, expected_rows)
    # nothing in these files is left uninterpreted (see the report in the module docstring)
    assert dict(result.uninterpreted.counts) == {}
    _, graph = converted[kind]
    assert len(set(graph.subjects(RDF.type, CSVW.Row))) == expected_rows
    export = URIRef(f"{ID}gold-standard/export/{path.name}")
    assert one(graph, export, CK.rowCount).toPython() == expected_rows


@pytest.mark.parametrize("kind", list(FILES))
def test_no_blank_nodes_and_every_entity_is_described(kind: str, converted: dict) -> None:
    _, graph = converted[kind]
    assert not any(isinstance(t, rdflib.BNode) for triple in graph for t in triple)
    described = set(graph.objects(None, CSVW.describes))
    entity_classes = {CK.ProjectListing, CK.CreditBlock, CK.Issuance, CK.Retirement, CK.Cancellation,
                      CK.RetirementOrCancellation, CK.LabelAttestation, CK.CrossRegistryLink, CK.Organisation,
                      CK.Methodology, CK.MethodologyVersion}
    minted = {s for cls in entity_classes for s in graph.subjects(RDF.type, cls)}
    assert minted and minted <= described


@pytest.mark.parametrize("kind", list(FILES))
def test_detection_picks_this_spec_and_no_other_registry_matches(kind: str) -> None:
    table = open_table(FILES[kind])
    spec = detect_spec(table)
    assert (spec.registry, spec.table) == ("gold-standard", kind)
    header = header_signature(table.header)
    for other in all_specs():
        if other.registry != "gold-standard":
            assert not {normalise_name(c) for c in other.identifying_columns} <= header, other.key
    # the issuances header is a subset of the retirements header: there both GS specs fit and the
    # more specific retirements signature wins; the retirements spec never fits an issuances file
    matching = {s.table for s in gold_standard.SPECS
                if {normalise_name(c) for c in s.identifying_columns} <= header}
    assert matching == ({"issuances", "retirements"} if kind == "retirements" else {kind})


def test_no_gold_standard_spec_matches_another_registrys_file() -> None:
    for path in sorted(EXPORTS.glob("*/*.csv")):
        if path.parent.name == "gold-standard":
            continue
        header = header_signature(open_table(path).header)
        for spec in gold_standard.SPECS:
            assert not {normalise_name(c) for c in spec.identifying_columns} <= header, (path, spec.key)


# ------------------------------------------------------------------------- spot checks


def test_projects_values(converted: dict) -> None:
    _, graph = converted["projects"]
    rows = csv_rows(FILES["projects"])
    kinds = {"POA": CK.ProgrammeOfActivities, "VPA": CK.ComponentActivity}
    for row in rows:
        node = listing(row["GSID"])
        assert one(graph, node, CK.nativeId) == Literal(row["GSID"])
        assert one(graph, node, RDFS.label) == Literal(norm(row["Project Name"]))
        assert one(graph, node, CK.statusText) == Literal(row["Status"])
        assert one(graph, node, CK.projectStatus) == concept("project-status", row["Status"].lower())
        goals = {URIRef(f"{SDG}{int(g)}") for g in row["Sustainable Development Goals"].split(",") if g}
        assert set(graph.objects(node, CK.contributesToSDG)) == goals
        assert one(graph, node, CK.estimatedAnnualReductions).toPython() == Decimal(row["Estimated Annual Credits"])
        assert one(graph, node, CK.sizeText) == Literal(row["Size"])
        assert one(graph, node, CK.countryText) == Literal(row["Country"])
        assert one(graph, node, DCT.description) == Literal(norm(row["Description"]))
        developer = one(graph, node, CK.developer)
        assert one(graph, developer, CK.orgName) == Literal(norm(row["Project Developer Name"]))
        types = set(graph.objects(node, RDF.type))
        kind = kinds.get(row["Programme of Activities"])
        assert types == {CK.ProjectListing} | ({kind} if kind else set())
        parents = set(graph.objects(node, CK.partOfProgrammeOfActivities))
        if row["POA GSID"]:
            parent = listing(str(int(float(row["POA GSID"]))))
            assert parents == {parent}
            assert CK.ProgrammeOfActivities in set(graph.objects(parent, RDF.type))
        else:
            assert parents == set()
    # spot values written out by hand from the file
    haiti = listing("23574")
    assert one(graph, haiti, CK.hostCountry) == concept("country", "HT")
    assert one(graph, haiti, CK.projectType) == concept("project-type", "energy-efficiency-domestic")


def _credit_checks(graph: rdflib.Graph, row: dict[str, str]) -> URIRef:
    """What the issuances and retirements files both say about a serial block."""
    block = block_iri(row["Serial Number"])
    node = listing(row["GSID"])
    assert one(graph, block, CK.serialNumber) == Literal(row["Serial Number"])
    assert one(graph, block, CK.quantity).toPython() == Decimal(row["Quantity"])
    assert one(graph, block, CK.blockOf) == node
    assert int(str(one(graph, block, CK.vintageYear))) == int(row["Vintage"])
    assert one(graph, block, CK.unitKind) == concept("unit-kind", row["Product Type"].lower())
    assert one(graph, block, CK.statusText) == Literal(row["Credit Status"])
    if row["Serial Number"].startswith("GS"):
        prefix, start, end = gs_serial(row["Serial Number"])
        assert one(graph, block, CK.serialPrefix) == Literal(prefix)
        assert one(graph, block, CK.serialBatch) == Literal(prefix.rsplit("-", 1)[1])
    else:
        start, end, _ = kyoto_serial(row["Serial Number"])
    assert one(graph, block, CK.serialStart).toPython() == start
    assert one(graph, block, CK.serialEnd).toPython() == end
    labels = {"Emission Reduction": "emission-reduction-label", "Emission Removal": "emission-removal-label",
              "ICVCM CCP": "icvcm-ccp"}
    expected = {concept("label-type", labels[item.strip()]) for item in row["Label"].split(",") if item.strip()}
    attestations = set(graph.objects(block, CK.hasLabel))
    assert {one(graph, a, CK.labelType) for a in attestations} == expected
    for attestation in attestations:
        assert one(graph, attestation, CK.labelSubject) == block
        assert one(graph, attestation, PROV.wasAttributedTo) == concept("registry", "gold-standard")
    # "Article Six Authorization" is "Not Applicable" on every row: no authorisation attestation
    assert row["Article Six Authorization"] == "Not Applicable"
    assert concept("label-type", "article6-authorisation") not in set(graph.objects(None, CK.labelType))
    assert one(graph, node, CK.countryText) == Literal(row["Country"])
    return block


def test_issuances_values(converted: dict) -> None:
    _, graph = converted["issuances"]
    for row in csv_rows(FILES["issuances"]):
        block = _credit_checks(graph, row)
        issuance = one(graph, block, PROV.wasGeneratedBy)
        assert (issuance, RDF.type, CK.Issuance) in graph
        assert (issuance, CK.generatedBlock, block) in graph
        assert one(graph, issuance, CK.issuedFor) == listing(row["GSID"])
        assert one(graph, issuance, CK.eventDate).toPython() == date.fromisoformat(row["Issuance Date"][:10])
        assert str(one(graph, issuance, PROV.endedAtTime)).startswith(row["Issuance Date"])
        assert one(graph, issuance, CK.monitoringPeriodStart).toPython() == date.fromisoformat(row["Monitoring Period Start"])
        assert one(graph, issuance, CK.monitoringPeriodEnd).toPython() == date.fromisoformat(row["Monitoring Period End"])
        if row["Serial Number"].startswith("GS"):
            assert issuance == URIRef(f"{ID}gold-standard/issuance/{gs_serial(row['Serial Number'])[0]}")
    # a methodology with its version
    node = listing("10718")
    method, release = URIRef(f"{ID}gold-standard/methodology/gs-tpddtec"), URIRef(f"{ID}gold-standard/methodology/gs-tpddtec-v3-1")
    assert set(graph.objects(node, CK.methodology)) == {method, release}
    assert one(graph, node, CK.methodologyText) == Literal("GS TPDDTEC v3.1")
    assert one(graph, release, CK.versionOf) == method
    assert one(graph, release, CK.versionNumber) == Literal("v3.1")
    acm = URIRef(f"{ID}gold-standard/methodology/acm0002")
    assert one(graph, acm, CK.methodologyCode) == Literal("ACM0002")
    assert one(graph, acm, RDFS.label) == Literal("Grid-connected electricity generation from renewable sources")


def test_cer_rows_link_to_their_cdm_project(converted: dict) -> None:
    _, graph = converted["issuances"]
    cer = [row for row in csv_rows(FILES["issuances"]) if row["Product Type"] == "CER"]
    assert len(cer) == 2
    links = list(graph.subjects(RDF.type, CK.CrossRegistryLink))
    assert len(links) == 1
    for row in cer:
        _, _, cdm_id = kyoto_serial(row["Serial Number"])
        assert cdm_id == "7014"
        subject, cdm = listing(row["GSID"]), URIRef(f"{ID}cdm/project/{cdm_id}")
        assert (subject, CK.transitionedFrom, cdm) in graph
        assert one(graph, cdm, CK.recordedIn) == concept("registry", "cdm")
        link = links[0]
        assert one(graph, link, CK.linkSubject) == subject and one(graph, link, CK.linkObject) == cdm
        assert Literal(f"Serial Number: {row['Serial Number']}") in set(graph.objects(link, CK.linkEvidence))


def test_retirements_values(converted: dict) -> None:
    _, graph = converted["retirements"]
    classes = {"Retired": CK.Retirement, "Canceled": CK.Cancellation}
    reasons = {"Voluntary": "voluntary-use", "Compliance": "compliance-use"}
    seen = set()
    for row in csv_rows(FILES["retirements"]):
        block = _credit_checks(graph, row)
        event = one(graph, block, PROV.wasInvalidatedBy)
        seen.add(row["Credit Status"])
        assert (event, RDF.type, classes[row["Credit Status"]]) in graph
        assert one(graph, event, CK.affectsBlock) == block
        assert one(graph, event, CK.quantity).toPython() == Decimal(row["Quantity"])
        dates = [d.toPython() for d in graph.objects(event, CK.eventDate)]
        assert dates == ([date.fromisoformat(row["Retirement Date"])] if row["Retirement Date"] else [])
        names = set(graph.objects(event, CK.beneficiaryName))
        assert names == ({Literal(norm(row["Using Entity"]))} if row["Using Entity"] else set())
        orgs = set(graph.objects(event, CK.beneficiary))
        if row["Using Entity"] in ("", "Not Disclosed"):
            assert orgs == set()
        else:
            assert {one(graph, o, CK.orgName) for o in orgs} == {Literal(norm(row["Using Entity"]))}
        if row["Use Case"]:
            assert one(graph, event, CK.purposeText) == Literal(row["Use Case"])
            assert one(graph, event, CK.retirementReason) == concept("retirement-reason", reasons[row["Use Case"]])
        else:
            assert set(graph.objects(event, CK.retirementReason)) == set()
        notes = set(graph.objects(event, CK.note))
        assert notes == ({Literal(norm(row["Note"]))} if row["Note"].strip() else set())
        # the retired block points at its batch's issuance, which does not list it as generated
        issuance = one(graph, block, PROV.wasGeneratedBy)
        assert one(graph, issuance, CK.eventDate).toPython() == date.fromisoformat(row["Issuance Date"])
        assert (issuance, CK.generatedBlock, block) not in graph
    assert seen == {"Retired", "Canceled"}


def test_issuance_iris_meet_across_files(converted: dict) -> None:
    _, issued = converted["issuances"]
    _, retired = converted["retirements"]
    shared = set(issued.subjects(RDF.type, CK.Issuance)) & set(retired.subjects(RDF.type, CK.Issuance))
    assert {str(s).rsplit("/", 1)[1] for s in shared} == {"GS1-1-KE-GS11603-16-2024-30255",
                                                          "GS1-1-KE-GS11603-16-2025-30256"}
    # GSID 11603 is in both files and in no project row: one listing IRI for both
    assert (listing("11603"), RDF.type, CK.ProjectListing) in issued
    assert (listing("11603"), RDF.type, CK.ProjectListing) in retired


# ------------------------------------------------------------------------------ errors


def _synthetic(tmp_path: Path, kind: str, column: str, value: str, *, drop: str | None = None) -> Path:
    """A synthetic file: the real header and first real row of ``kind``, one cell changed."""
    rows = csv_rows(FILES[kind])
    row = dict(rows[0])
    if column:
        row[column] = value
    header = [h for h in rows[0] if h != drop]
    path = tmp_path / f"{kind}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerow(row)
    return path


@pytest.mark.parametrize(("kind", "column", "value", "reason"), [
    ("issuances", "Issuance Date", "2026-13-45T10:00:00", "is not a valid calendar date"),
    ("retirements", "Retirement Date", "10/04/2026x", "is not a date (expected YYYY-MM-DD[THH:MM[:SS[.ffffff]][Z|+HH:MM]], M/D/YYYY [h:mm[:ss] AM|PM])"),
    ("issuances", "Quantity", "19,14x", "is not a number"),
    ("projects", "Estimated Annual Credits", "about 60000", "is not a number"),
    ("projects", "POA GSID", "12856.5", "is not a whole number"),
    ("projects", "Sustainable Development Goals", "4,13,19", "names SDG 19; goals are numbered 1 to 17"),
    ("issuances", "Vintage", "24", "is not a year between 1900 and 2100"),
    ("issuances", "Serial Number", "GS1-1-UG-GS11236-16-2024-30307-1",
     "is not a Gold Standard serial (expected GSa-b-CC-GSproject-type-YYYY-batch-start-end or a Kyoto range "
     "PP-T-START-OCP-CP-LULUCF-PROJECT - PP-T-END-OCP-CP-LULUCF-PROJECT)"),
    ("retirements", "Serial Number", "GS1-1-KE-GS11603-16-2025-30256-5463-110", "has its end number before its start number"),
])
def test_bad_cells_reject_the_file(tmp_path: Path, kind: str, column: str, value: str, reason: str) -> None:
    path = _synthetic(tmp_path, kind, column, value)
    result = load_file(EmbeddedStore(None), path)
    assert result.status == "rejected"
    assert [str(e) for e in result.errors] == [f"{path}, row 1, column '{column}': {value!r} {reason}"]


def test_empty_serial_is_an_error(tmp_path: Path) -> None:
    path = _synthetic(tmp_path, "issuances", "Serial Number", "")
    result = load_file(EmbeddedStore(None), path)
    assert result.status == "rejected"
    assert [str(e) for e in result.errors] == [
        f"{path}, row 1, column 'Serial Number': '' is empty; every Gold Standard credit row names its serial block"]


def test_missing_required_column(tmp_path: Path) -> None:
    path = _synthetic(tmp_path, "issuances", "", "", drop="Quantity")
    result = load_file(EmbeddedStore(None), path, registry="gold-standard", kind="issuances")
    assert result.status == "rejected"
    (error,) = result.errors
    header = ", ".join(repr(h) for h in csv_rows(FILES["issuances"])[0] if h != "Quantity")
    assert str(error) == (f"{path}: missing required column 'Quantity' (expected: 'GSID', 'Serial Number', "
                          f"'Quantity', 'Issuance Date'; found: {header})")


def test_same_file_twice_gives_the_same_triples(tmp_path: Path) -> None:
    run = LoadRun(run_id="twice")
    texts = []
    for n in (1, 2):
        sink = tmp_path / f"{n}.nt"
        convert_file(open_source(FILES["retirements"]), sink, run=run)
        texts.append(sink.read_text(encoding="utf-8"))
    assert texts[0] == texts[1]


def test_unexpected_article_six_value_is_reported_not_attested(tmp_path: Path) -> None:
    # synthetic: the first real issuance with a value the loader cannot read as an authorisation
    path = _synthetic(tmp_path, "issuances", "Article Six Authorization", "Pending")
    result = load_file(EmbeddedStore(None), path)
    assert result.status == "loaded"
    assert dict(result.uninterpreted.counts) == {("Article Six Authorization", "article6-authorisation", "Pending"): 1}
    sink = tmp_path / "out.nt"
    convert_file(open_source(path), sink)
    graph = rdflib.Graph().parse(sink, format="nt")
    assert concept("label-type", "article6-authorisation") not in set(graph.objects(None, CK.labelType))
