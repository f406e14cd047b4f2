"""ACR loader (and the shared APX helpers) on the real American Carbon Registry exports.

Expected values are computed from the CSV cells with the csv module and the standard library,
independently of the loader's parsers.
"""

from __future__ import annotations

import csv
import doctest
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, Literal, URIRef

from carbonkg import iris
from carbonkg.loaders import TABLE_SPECS, acr, apx, vocab
from carbonkg.loaders.pipeline import convert_file, load_file, open_source
from carbonkg.loaders.readers import header_signature, normalise_name, open_table
from carbonkg.ontology.resources import vocabulary_paths
from carbonkg.store import EmbeddedStore

from loader_helpers import (
    CK, CSVW, EXPORTS, PROV, RegistryExports, concept, csv_rows, decimal, gmt, labels_of, rejected,
    serial_parts, us_date, value, write_csv, yes_labels,
)

REGISTRY = "american-carbon-registry"
EXPORTS_OF = RegistryExports(REGISTRY, acr.SPECS)
FILES = EXPORTS_OF.files
converted, row_iri, described, one, broken_copy = (
    EXPORTS_OF.converted, EXPORTS_OF.row_iri, EXPORTS_OF.described, EXPORTS_OF.one, EXPORTS_OF.broken_copy,
)


LABEL_COLUMNS = {c: apx.LABEL_FLAGS[c] for c in acr.LABELS}


# ------------------------------------------------------------------------- shared helpers


def test_doctests() -> None:
    result = doctest.testmod(apx)
    assert result.attempted >= 1 and result.failed == 0


def test_label_columns_agree_with_the_vocabularies() -> None:
    """Every yes/no header names, in the SKOS vocabularies, the label and period used for it."""
    for header, (label, period) in apx.LABEL_FLAGS.items():
        assert vocab.lookup("label-type", header) == iris.concept("label-type", label), header
        expected_period = iris.concept("compliance-period", period) if period else None
        assert vocab.lookup("compliance-period", header) == expected_period, header
    for canonical, aliases in apx.CORSIA_ALIASES.items():
        for alias in aliases:
            assert vocab.lookup("compliance-period", alias) == vocab.lookup("compliance-period", canonical)


def test_conversion_targets_are_vocabulary_concepts() -> None:
    concepts = rdflib.Graph()
    for path in vocabulary_paths():
        if path.name in {"carbonkg-cancellation-reason.ttl", "carbonkg-programme.ttl"}:
            concepts.parse(path, format="turtle")
    skos_concept = URIRef("http://www.w3.org/2004/02/skos/core#Concept")
    for reason, programme in apx.CONVERSION_TARGETS.items():
        assert (concept("cancellation-reason", reason), RDF.type, skos_concept) in concepts
        if programme:
            assert (concept("programme", programme), RDF.type, skos_concept) in concepts


# ---------------------------------------------------------------------- files as a whole


@pytest.mark.parametrize("spec", acr.SPECS, ids=lambda s: s.table)
def test_detection_picks_this_spec_and_no_other_file_matches_it(spec) -> None:
    assert open_source(FILES[spec.table]).spec is spec
    needed = {normalise_name(c) for c in spec.identifying_columns}
    matching = [p for p in sorted(EXPORTS.glob("*/*.csv")) if needed <= header_signature(open_table(p).header)]
    assert matching == [FILES[spec.table]]
    # and no other loader's spec claims this file
    header = header_signature(open_table(FILES[spec.table]).header)
    others = [s.key for s in TABLE_SPECS if s is not spec and {normalise_name(c) for c in s.identifying_columns} <= header]
    assert others == []


@pytest.mark.parametrize("table", list(FILES))
def test_real_file_loads_with_one_csvw_row_per_data_row(table: str) -> None:
    result = load_file(EmbeddedStore(None), FILES[table])
    assert result.status == "loaded", [str(e) for e in result.errors]
    assert result.errors == []
    assert (result.registry, result.table) == (REGISTRY, table)
    expected = len(csv_rows(FILES[table]))
    assert result.rows == expected
    _, graph = converted(table)
    assert len(set(graph.subjects(RDF.type, CSVW.Row))) == expected


@pytest.mark.parametrize("table", list(FILES))
def test_nothing_uninterpreted(table: str) -> None:
    result, _ = converted(table)
    assert dict(result.uninterpreted.counts) == {}


@pytest.mark.parametrize("table", list(FILES))
def test_every_minted_entity_is_described_by_a_row(table: str) -> None:
    _, graph = converted(table)
    described_all = set(graph.objects(None, CSVW.describes))
    provenance = {CK.RegistryExport, CK.LoadRun, CSVW.Row, URIRef("http://www.w3.org/ns/dcat#Dataset")}
    minted = {s for s, cls in graph.subject_objects(RDF.type) if cls not in provenance and isinstance(s, URIRef)}
    minted -= {s for s in minted if set(graph.objects(s, RDF.type)) & provenance}
    assert minted - described_all == set()


def test_conversion_is_deterministic() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "a.nt", Path(tmp) / "b.nt"
        convert_file(open_source(FILES["cancellations"]), a)
        convert_file(open_source(FILES["cancellations"]), b)
        strip = lambda p: {l for l in p.read_text().splitlines() if "/load/" not in l and "prov#startedAtTime" not in l}  # noqa: E731
        assert strip(a) == strip(b)


# ------------------------------------------------------------------------------ projects


def test_projects_spot_checks() -> None:
    _, graph = converted("projects")
    links = 0
    for n, row in enumerate(csv_rows(FILES["projects"]), start=1):
        listing = URIRef(iris.project_listing(REGISTRY, row["Project ID"]))
        assert listing in described(graph, "projects", n, CK.ProjectListing)
        assert value(graph, listing, CK.nativeId) == Literal(row["Project ID"])
        assert value(graph, listing, rdflib.RDFS.label) == Literal(row["Project Name"])
        assert value(graph, listing, CK.hostCountry) == concept("country", row["Project Site Country"])
        assert value(graph, listing, CK.creditingPeriodEnd) == Literal(us_date(row["Current Crediting Period End Date"]))
        assert value(graph, listing, CK.statusDate) == Literal(gmt(row["Project Status Date"]).date())
        registered = row["Total Number of Credits Registered "]
        assert decimal(graph, listing, CK.registeredQuantity) == (Decimal(registered) if registered else None)
        voluntary = row["Voluntary Status"]
        assert value(graph, listing, CK.statusText) == (Literal(voluntary) if voluntary else None)
        if voluntary:
            assert value(graph, listing, CK.projectStatus) == concept("project-status", voluntary.lower())
        compliance = {"Not ARB or Ecology Eligible": "not-compliance-eligible", "ARB Completed": "completed",
                      "Ecology Completed": "completed", "Ecology Inactive": "inactive"}
        assert value(graph, listing, CK.complianceStatus) == concept(
            "project-status", compliance[row["Compliance Program Status (ARB or Ecology)"]])
        goals = {int(g.split(":")[0]) for g in row["Sustainable Development Goal(s)"].split(";")}
        assert set(graph.objects(listing, CK.contributesToSDG)) == {URIRef(iris.sdg(g)) for g in goals}
        peer_id = row["Compliance Program ID (ARB or Ecology)"]
        peers = set(graph.objects(listing, CK.compliancePeerOf))
        if peer_id:
            registry = "arb" if peer_id.startswith("CA") else "washington-ecology"
            peer = URIRef(iris.project_listing(registry, peer_id))
            assert peers == {peer}
            assert (peer, CK.nativeId, Literal(peer_id)) in graph
            link = one(graph, "projects", n, CK.CrossRegistryLink)
            assert value(graph, link, CK.linkObject) == peer
            assert value(graph, link, CK.linkEvidence) == Literal(f"Compliance Program ID (ARB or Ecology): {peer_id}")
            links += 1
        else:
            assert peers == set()
    assert links == 13  # 11 CAOD… (ARB) and 2 ECYOD… (Washington Ecology)
    assert (URIRef(iris.project_listing(REGISTRY, "ACR1007")), CK.compliancePeerOf,
            URIRef(iris.project_listing("arb", "CAOD1007"))) in graph
    assert (URIRef(iris.project_listing(REGISTRY, "ACR902")), CK.compliancePeerOf,
            URIRef(iris.project_listing("washington-ecology", "ECYOD902"))) in graph


# ----------------------------------------------------------------------------- issuances


def test_issuances_spot_checks() -> None:
    _, graph = converted("issuances")
    contributions = 0
    for n, row in enumerate(csv_rows(FILES["issuances"]), start=1):
        issuance = one(graph, "issuances", n, CK.Issuance)
        block = value(graph, issuance, CK.generatedBlock)
        assert (block, PROV.wasGeneratedBy, issuance) in graph
        assert value(graph, issuance, CK.issuedFor) == URIRef(iris.project_listing(REGISTRY, row["Project ID"]))
        issued = gmt(row["Date Issued (GMT)"])
        assert value(graph, issuance, CK.eventDate) == Literal(issued.date())
        assert str(value(graph, issuance, PROV.endedAtTime)).startswith(issued.isoformat())
        assert decimal(graph, issuance, CK.quantity) == Decimal(row["Total Credits Issued"])
        assert decimal(graph, issuance, CK.bufferQuantity) == Decimal(row["Credits Issued to Buffer Pool"])
        assert value(graph, issuance, CK.monitoringPeriodStart) == Literal(us_date(row["ReportingPeriodBegin"]))
        assert value(graph, issuance, CK.monitoringPeriodEnd) == Literal(us_date(row["ReportingPeriodEnd"]))
        assert decimal(graph, block, CK.quantity) == Decimal(row["Credits Issued to Project"])
        assert str(value(graph, block, CK.vintageYear)) == row["Vintage"]
        assert value(graph, block, CK.unitKind) == concept("unit-kind", "ert")
        assert labels_of(graph, block) == yes_labels(row, LABEL_COLUMNS)
        removal = (block, CK.unitType, concept("unit-type", "removal")) in graph
        assert removal == (row["Verified Removal"] == "Yes")
        transferred = Decimal(row["Credits Transferred to Buffer Pool"])
        found = described(graph, "issuances", n, CK.BufferContribution)
        if transferred:
            (contribution,) = found
            assert decimal(graph, contribution, CK.quantity) == transferred
            assert value(graph, contribution, CK.affectsBlock) == block
            contributions += 1
        else:
            assert found == []
    assert contributions == 5


def test_issuances_of_one_project_time_and_vintage_stay_apart() -> None:
    # ACR506 has two rows issued 10/16/2025 11:22:56 PM for vintage 2025 (1,939 and 13,518 credits)
    _, graph = converted("issuances")
    listing = URIRef(iris.project_listing(REGISTRY, "ACR506"))
    quantities = {decimal(graph, i, CK.quantity) for i in graph.subjects(CK.issuedFor, listing)}
    assert quantities == {Decimal(1939), Decimal(13518)}


# --------------------------------------------------------------------------- retirements


RETIREMENT_REASONS = {"On Behalf of Third Party": "on-behalf-of-third-party", "Environmental Benefit": "environmental-benefit"}


def test_retirements_spot_checks() -> None:
    _, graph = converted("retirements")
    for n, row in enumerate(csv_rows(FILES["retirements"]), start=1):
        event = one(graph, "retirements", n, CK.Retirement)
        block = value(graph, event, CK.affectsBlock)
        prefix, start, end = serial_parts(row["Credit Serial Numbers"])
        assert block == URIRef(iris.block(REGISTRY, prefix, start, end))
        assert (block, PROV.wasInvalidatedBy, event) in graph
        assert value(graph, block, CK.serialPrefix) == Literal(prefix)
        assert int(value(graph, block, CK.serialStart)) == start
        assert int(value(graph, block, CK.serialEnd)) == end
        assert decimal(graph, block, CK.quantity) == decimal(graph, event, CK.quantity) == Decimal(row["Quantity of Credits"])
        assert str(value(graph, block, CK.vintageYear)) == row["Vintage"]
        assert value(graph, block, CK.vintageStart) == Literal(us_date(row["Vintage Assignment Period Start Date"]))
        assert value(graph, block, CK.vintageEnd) == Literal(us_date(row["Vintage Assignment Period End Date"]))
        assert str(value(graph, block, PROV.generatedAtTime)).startswith(gmt(row["Date Issued (GMT)"]).isoformat())
        assert value(graph, block, CK.blockOf) == URIRef(iris.project_listing(REGISTRY, row["Project ID"]))
        effective = gmt(row["Status Effective (GMT)"])
        assert value(graph, event, CK.eventDate) == Literal(effective.date())
        assert value(graph, event, CK.beneficiaryName) == Literal(" ".join(row["Retired on Behalf of"].split()))
        assert value(graph, event, CK.retirementReason) == concept(
            "retirement-reason", RETIREMENT_REASONS[row["Retirement Reason"]])
        assert value(graph, event, CK.reasonText) == Literal(row["Retirement Reason"])
        assert value(graph, event, CK.purposeText) == Literal(" ".join(row["Purpose of Retirement"].split()))
        holder = value(graph, event, CK.accountHolder)
        assert value(graph, holder, CK.orgName) == Literal(row["Account Holder"])
        assert labels_of(graph, block) == yes_labels(row, LABEL_COLUMNS)


def test_corsia_pilot_phase_attestations() -> None:
    _, graph = converted("retirements")
    rows = [n for n, r in enumerate(csv_rows(FILES["retirements"]), start=1) if r[apx.CORSIA_PILOT] == "Yes"]
    assert len(rows) == 6
    for n in rows:
        block = value(graph, one(graph, "retirements", n, CK.Retirement), CK.affectsBlock)
        attestation = URIRef(f"{block}/label/corsia-eligible-corsia-pilot-phase-2021-2023")
        assert value(graph, attestation, CK.compliancePeriod) == concept("compliance-period", "corsia-pilot-phase-2021-2023")
        assert value(graph, attestation, CK.labelStatus) == concept("label-status", "eligible")
        assert value(graph, attestation, CK.labelText) == Literal(f"{apx.CORSIA_PILOT}: Yes")


# ------------------------------------------------------------------------- cancellations


CANCELLATION_TYPES = {
    "Convert to ARB offset credits": (CK.Conversion, "conversion-to-arb-offset-credits", "california-compliance-offset-program"),
    "Convert to Ecology offset credits": (CK.Conversion, "conversion-to-washington-ecology-offset-credits",
                                          "washington-ecology-offset-program"),
    "Removal of credits from the registry": (CK.Cancellation, "removal-from-registry", None),
}


def test_cancellations_spot_checks() -> None:
    _, graph = converted("cancellations")
    kinds: dict[URIRef, int] = {}
    for n, row in enumerate(csv_rows(FILES["cancellations"]), start=1):
        cls, reason, programme = CANCELLATION_TYPES[row["Cancellation Type"]]
        event = one(graph, "cancellations", n, cls)
        kinds[cls] = kinds.get(cls, 0) + 1
        prefix, start, end = serial_parts(row["Credit Serial Numbers"])
        block = URIRef(iris.block(REGISTRY, prefix, start, end))
        assert value(graph, event, CK.affectsBlock) == block
        assert (block, PROV.wasInvalidatedBy, event) in graph
        assert decimal(graph, event, CK.quantity) == Decimal(row["Quantity of Credits"])
        assert value(graph, event, CK.eventDate) == Literal(gmt(row["Status Effective  (GMT)"]).date())
        assert value(graph, event, CK.cancellationReason) == concept("cancellation-reason", reason)
        assert value(graph, event, CK.reasonText) == Literal(row["Cancellation Type"])
        assert value(graph, event, CK.targetProgramme) == (concept("programme", programme) if programme else None)
        assert value(graph, event, CK.eventType) == concept("event-type", "conversion" if cls == CK.Conversion else "cancellation")
        assert value(graph, event, CK.note) == (Literal(row["Cancellation Details"]) if row["Cancellation Details"] else None)
        holder = value(graph, event, CK.accountHolder)
        assert value(graph, holder, CK.orgName) == Literal(row["Account Holder"])
        assert labels_of(graph, block) == yes_labels(row, LABEL_COLUMNS)
    assert kinds == {CK.Conversion: 32, CK.Cancellation: 2}  # 27 to ARB + 5 to Ecology; 2 removals


def test_account_holders_are_keyed_by_name_not_by_ahid() -> None:
    # "ahID" is 1 on every row while "Account Holder" names 17 different holders
    rows = csv_rows(FILES["cancellations"])
    assert {r["ahID"] for r in rows} == {"1"}
    _, graph = converted("cancellations")
    holders = {value(graph, e, CK.accountHolder) for e in graph.subjects(CK.accountHolder, None)}
    assert len(holders) == len({r["Account Holder"] for r in rows}) == 17


# --------------------------------------------------------------------------------- errors


def test_bad_date_rejects_the_file(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "retirements", "Status Effective (GMT)", "13/45/2025 7:17:56 PM")
    assert rejected(path) == [
        f"{path}, row 1, column 'Status Effective (GMT)': '13/45/2025 7:17:56 PM' is not a valid M/D/YYYY "
        "(pass dayfirst=True for D/M/YYYY) date"
    ]


def test_bad_number_rejects_the_file(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "issuances", "Total Credits Issued", "74,34x")
    assert rejected(path) == [f"{path}, row 1, column 'Total Credits Issued': '74,34x' is not a number"]


def test_bad_serial_rejects_the_file(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "cancellations", "Credit Serial Numbers", "ACR-US-1185-2025-3078-1-85847")
    assert rejected(path) == [
        f"{path}, row 1, column 'Credit Serial Numbers': 'ACR-US-1185-2025-3078-1-85847' is not an ACR serial "
        "(expected ACR-CC-PROJECT-YYYY-BATCH-START to END)"
    ]


def test_bad_flag_rejects_the_file(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "issuances", "ARB Eligible", "Maybe")
    assert rejected(path) == [f"{path}, row 1, column 'ARB Eligible': 'Maybe' is not a yes/no value"]


def test_missing_required_column_rejects_the_file(tmp_path: Path) -> None:
    # synthetic: the real issuances header and first row without "Date Issued (GMT)"
    with FILES["issuances"].open(encoding="utf-8-sig", newline="") as fh:
        records = list(csv.reader(fh))
    drop = records[0].index("Date Issued (GMT)")
    keep = [i for i in range(len(records[0])) if i != drop]
    path = write_csv(tmp_path / "issuances.csv", [records[0][i] for i in keep], [[records[1][i] for i in keep]])
    (message,) = rejected(path)
    assert message.startswith(
        f"{path}: missing required column 'Date Issued (GMT)' (expected: 'Project ID', 'Date Issued (GMT)', "
        "'Total Credits Issued'; found: 'Vintage', "
    )


def test_empty_serial_rejects_the_file(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "retirements", "Credit Serial Numbers", "")
    assert rejected(path) == [
        f"{path}, row 1, column 'Credit Serial Numbers': '' is empty; every retirement and cancellation row "
        "names its serial block"
    ]


def test_disagreeing_values_are_loaded_as_published(tmp_path: Path) -> None:
    # synthetic: a real retirement row (serial 1 to 85847... here row 1) whose quantity no longer
    # matches its serial range: loaded, with the quantity as published
    path = broken_copy(tmp_path, "retirements", "Quantity of Credits", "7")
    assert load_file(EmbeddedStore(None), path).status == "loaded"
    with tempfile.TemporaryDirectory() as tmp:
        sink = Path(tmp) / "out.nt"
        convert_file(open_source(path), sink)
        graph = rdflib.Graph().parse(sink, format="nt")
    (event,) = graph.subjects(RDF.type, CK.Retirement)
    block = value(graph, event, CK.affectsBlock)
    assert decimal(graph, event, CK.quantity) == decimal(graph, block, CK.quantity) == Decimal(7)
    assert int(value(graph, block, CK.serialEnd)) - int(value(graph, block, CK.serialStart)) + 1 == 4212
