"""CAR loader on the real Climate Action Reserve exports.

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
from carbonkg.loaders import TABLE_SPECS, car
from carbonkg.loaders.pipeline import convert_file, load_file, open_source
from carbonkg.loaders.readers import header_signature, normalise_name, open_table
from carbonkg.store import EmbeddedStore

from loader_helpers import (
    CK, CSVW, EXPORTS, PROV, RegistryExports, concept, csv_rows, decimal, labels_of, rejected,
    serial_parts, us_date, value, write_csv, yes_labels,
)

REGISTRY = "climate-action-reserve"
EXPORTS_OF = RegistryExports(REGISTRY, car.SPECS)
FILES = EXPORTS_OF.files
converted, row_iri, described, one, broken_copy = (
    EXPORTS_OF.converted, EXPORTS_OF.row_iri, EXPORTS_OF.described, EXPORTS_OF.one, EXPORTS_OF.broken_copy,
)



#: CAR's CORSIA headers lack the "(Pilot Phase)" / "(First Phase)" of ACR and ART
LABEL_COLUMNS = {
    "ARB Eligible": ("california-arb", None),
    "WA ECO Eligible": ("washington-ecology", None),
    "Eligible for CORSIA 2021-2023 Compliance Period": ("corsia-eligible", "corsia-pilot-phase-2021-2023"),
    "Eligible for CORSIA 2024-2026 Compliance Period": ("corsia-eligible", "corsia-first-phase-2024-2026"),
    "Corresponding Adjustment": ("correspondingly-adjusted", None),
    "CCP Approved": ("icvcm-ccp", None),
}
UNIT_TYPES = {"Reduction": "reduction", "Removal": "removal", "": None}
PROJECT_STATUSES = {"Listed": "listed", "Completed": "completed", "Registered": "registered", "Transitioned": "transitioned"}
COMPLIANCE_STATUSES = {
    "Proposed Project": "proposed", "Not ARB or WA ECO Eligible": "not-compliance-eligible",
    "Not ARB Eligible": "not-compliance-eligible", "Not WA Eligible": "not-compliance-eligible",
    "Active ARB Project": "active", "Active Registry Project": "active", "Completed": "completed",
    "Inactive": "inactive", "Terminated": "terminated",
}


def test_doctests() -> None:
    result = doctest.testmod(car)
    assert result.attempted >= 2 and result.failed == 0


def test_protocol_split_on_every_real_value() -> None:
    seen = set()
    for table in ("issuances", "retirements", "cancellations"):
        for row in csv_rows(FILES[table]):
            text = row["Protocol and Version"]
            name, version = car.split_protocol(text)
            assert version is not None, text
            assert text in (f"{name} - {version}", f"{name}, {version}")
            seen.add(version)
    assert "Version 3.0" in seen and "November 14, 2014" in seen


# ---------------------------------------------------------------------- files as a whole


@pytest.mark.parametrize("spec", car.SPECS, ids=lambda s: s.table)
def test_detection_picks_this_spec_and_no_other_file_matches_it(spec) -> None:
    assert open_source(FILES[spec.table]).spec is spec
    needed = {normalise_name(c) for c in spec.identifying_columns}
    matching = [p for p in sorted(EXPORTS.glob("*/*.csv")) if needed <= header_signature(open_table(p).header)]
    assert matching == [FILES[spec.table]]
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
def test_every_value_is_interpreted(table: str) -> None:
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


# ------------------------------------------------------------------------------ projects


def test_projects_spot_checks() -> None:
    _, graph = converted("projects")
    linked = 0
    for n, row in enumerate(csv_rows(FILES["projects"]), start=1):
        listing = URIRef(iris.project_listing(REGISTRY, row["Project ID"]))
        assert listing in described(graph, "projects", n, CK.ProjectListing)
        assert value(graph, listing, rdflib.RDFS.label) == Literal(row["Project Name"])
        assert value(graph, listing, CK.hostCountry) == concept("country", row["Project Site Country"])
        assert value(graph, listing, CK.projectStatus) == concept("project-status", PROJECT_STATUSES[row["Status"]])
        assert value(graph, listing, CK.statusText) == Literal(row["Status"])
        statuses = {row[c] for c in ("Compliance Program Status", "ARB Project Status", "WA ECO Project Status") if row[c]}
        assert set(graph.objects(listing, CK.complianceStatus)) == {
            concept("project-status", COMPLIANCE_STATUSES[s]) for s in statuses}
        listed = row["Project Listed Date"]
        assert value(graph, listing, CK.listingDate) == (Literal(us_date(listed)) if listed else None)
        registered = row["Project Registered Date"]
        assert value(graph, listing, CK.registrationDate) == (Literal(us_date(registered)) if registered else None)
        total = row["Total Number of Offset Credits Registered "]
        assert decimal(graph, listing, CK.registeredQuantity) == (Decimal(total) if total else None)
        # organisations are keyed on the slug of the name, so one may carry several spellings
        owner = value(graph, listing, CK.owner)
        assert Literal(row["Project Owner"]) in set(graph.objects(owner, CK.orgName))
        operators = {str(name) for o in graph.objects(listing, CK.projectOperator) for name in graph.objects(o, CK.orgName)}
        expected_operators = {row[c] for c in ("Offset Project Operator", "Authorized Project Designee")
                              if row[c] and row[c] != "none"}
        assert expected_operators <= operators
        assert len(set(graph.objects(listing, CK.projectOperator))) == len(expected_operators)
        # compliance peers: "ARB ID" is an ARB id; "Compliance Program ID" repeats it here; "WA ECO" is empty
        peers = {URIRef(iris.project_listing("arb", row[c])) for c in ("ARB ID", "Compliance Program ID") if row[c]}
        assert row["WA ECO"] == ""
        assert set(graph.objects(listing, CK.compliancePeerOf)) == peers
        if peers:
            (peer,) = peers
            link = URIRef(iris.link(str(listing), "compliancePeerOf", str(peer)))
            evidence = {str(e) for e in graph.objects(link, CK.linkEvidence)}
            assert evidence == {f"{c}: {row[c]}" for c in ("ARB ID", "Compliance Program ID") if row[c]}
            linked += 1
        aggregate = row["Cooperative/ Aggregate ID"]
        assert value(graph, listing, CK.partOfProgrammeOfActivities) == (
            URIRef(iris.project_listing(REGISTRY, aggregate)) if aggregate else None)
    assert linked == 30  # 4 of 34 projects have no ARB id


# ----------------------------------------------------------------------------- issuances


def test_issuances_spot_checks() -> None:
    _, graph = converted("issuances")
    compliance = 0
    for n, row in enumerate(csv_rows(FILES["issuances"]), start=1):
        issuance = one(graph, "issuances", n, CK.Issuance)
        block = value(graph, issuance, CK.generatedBlock)
        assert (block, PROV.wasGeneratedBy, issuance) in graph
        assert value(graph, issuance, CK.issuedFor) == URIRef(iris.project_listing(REGISTRY, row["Project ID"]))
        assert value(graph, issuance, CK.eventDate) == Literal(us_date(row["Date Issued"]))
        assert value(graph, issuance, PROV.endedAtTime) is None  # dates only
        total = Decimal(row["Total Offset Credits Issued"])
        assert decimal(graph, issuance, CK.quantity) == decimal(graph, block, CK.quantity) == total
        buffer = row["Offset Credits Currently in Reserve Buffer Pool"]
        assert decimal(graph, issuance, CK.bufferQuantity) == (Decimal(buffer) if buffer else None)
        notes = {str(x) for x in graph.objects(issuance, CK.note)}
        expected_notes = {f"{c}: {row[c]}" for c in ("Offset Credits Intended for Compliance Buffer Pool",
                                                    "Zero-Credit Reporting Period") if row[c]}
        assert notes == expected_notes
        period = row["Crediting Period"]
        assert value(graph, issuance, CK.creditingPeriodText) == (Literal(period) if period else None)
        assert str(value(graph, block, CK.vintageYear)) == row["Vintage"]
        unit_type = UNIT_TYPES[row["Reduction/Removal"]]
        assert value(graph, block, CK.unitType) == (concept("unit-type", unit_type) if unit_type else None)
        assert labels_of(graph, block) == yes_labels(row, LABEL_COLUMNS)
        name, version = car.split_protocol(row["Protocol and Version"])
        release = value(graph, block, CK.methodology)
        assert value(graph, release, CK.versionNumber) == Literal(version)
        assert value(graph, value(graph, release, CK.versionOf), rdflib.RDFS.label) == Literal(name)
        assert described(graph, "issuances", n, CK.Conversion) == []  # "Converted to VCUs" is empty
        cancellations = described(graph, "issuances", n, CK.Cancellation)
        cancelled = row["Canceled for Compliance"]
        if cancelled:
            # a conversion whose target (ARB or Washington) the column does not name: a cancellation
            (cancellation,) = cancellations
            assert decimal(graph, cancellation, CK.quantity) == Decimal(cancelled)
            assert value(graph, cancellation, CK.cancellationReason) == concept(
                "cancellation-reason", "conversion-to-compliance-offset-credits")
            assert value(graph, cancellation, CK.eventType) == concept("event-type", "cancellation")
            assert value(graph, cancellation, CK.affectsBlock) == block
            assert value(graph, cancellation, CK.note) == Literal(f"Canceled for Compliance: {cancelled}")
            invalidated = (block, PROV.wasInvalidatedBy, cancellation) in graph
            assert invalidated == (Decimal(cancelled) == total)  # CAR1316: 25,411 of 25,412
            compliance += 1
        else:
            assert cancellations == []
    assert compliance == 13


def test_canceled_for_compliance_matches_the_roc_cancellation() -> None:
    """data-model section 5: CAR2056 issuance "Canceled for Compliance" 260294 = cancellation of
    CAR-ROC-US-2056-129-2283-WV-2025-8969-1 to 260294."""
    _, issuances = converted("issuances")
    _, cancellations = converted("cancellations")
    listing = URIRef(iris.project_listing(REGISTRY, "CAR2056"))
    (from_issuance,) = [e for e in issuances.subjects(CK.eventFor, listing) if (e, RDF.type, CK.Cancellation) in issuances]
    (from_cancellation,) = [e for e in cancellations.subjects(CK.eventFor, listing)]
    block = value(cancellations, from_cancellation, CK.affectsBlock)
    assert block == URIRef(iris.block(REGISTRY, "CAR-ROC-US-2056-129-2283-WV-2025-8969", 1, 260294))
    assert decimal(issuances, from_issuance, CK.quantity) == decimal(cancellations, from_cancellation, CK.quantity) == 260294
    assert value(cancellations, block, CK.unitKind) == concept("unit-kind", "roc")


def test_credits_converted_to_vcus(tmp_path: Path) -> None:
    # synthetic: the sample column is empty, so a real issuance row gets a quantity in it
    path = broken_copy(tmp_path, "issuances", "Offset Credits Converted to VCUs", "1,000.0")
    with tempfile.TemporaryDirectory() as tmp:
        sink = Path(tmp) / "out.nt"
        convert_file(open_source(path), sink)
        graph = rdflib.Graph().parse(sink, format="nt")
    (conversion,) = graph.subjects(RDF.type, CK.Conversion)
    assert decimal(graph, conversion, CK.quantity) == Decimal(1000)
    assert value(graph, conversion, CK.targetProgramme) == concept("programme", "vcs")
    assert value(graph, conversion, CK.cancellationReason) == concept("cancellation-reason", "conversion-to-vcus")
    assert value(graph, conversion, CK.eventType) == concept("event-type", "conversion")
    (block,) = graph.subjects(RDF.type, CK.CreditBlock)
    assert value(graph, conversion, CK.affectsBlock) == value(graph, conversion, CK.convertedFrom) == block


# --------------------------------------------------------------------------- retirements


RETIREMENT_REASONS = {
    "On Behalf of Third Party": "on-behalf-of-third-party",
    "Environmental Benefit": "environmental-benefit",
    "Retirement for Person or Organization": "retirement-for-person-or-organisation",
    "Other": "other",
}
UNIT_KINDS = {"1": "crt", "ROC": "roc"}


def test_retirements_spot_checks() -> None:
    _, graph = converted("retirements")
    for n, row in enumerate(csv_rows(FILES["retirements"]), start=1):
        event = one(graph, "retirements", n, CK.Retirement)
        block = value(graph, event, CK.affectsBlock)
        prefix, start, end = serial_parts(row["Offset Credit Serial Numbers"])
        assert block == URIRef(iris.block(REGISTRY, prefix, start, end))
        assert (block, PROV.wasInvalidatedBy, event) in graph
        assert int(value(graph, block, CK.serialStart)) == start and int(value(graph, block, CK.serialEnd)) == end
        assert value(graph, block, CK.unitKind) == concept("unit-kind", UNIT_KINDS[prefix.split("-")[1]])
        assert decimal(graph, block, CK.quantity) == decimal(graph, event, CK.quantity) == Decimal(row["Quantity of Offset Credits"])
        assert str(value(graph, block, CK.vintageYear)) == row["Vintage"]
        assert value(graph, event, CK.eventDate) == Literal(us_date(row["Status Effective"]))
        assert value(graph, event, CK.retirementReason) == concept("retirement-reason", RETIREMENT_REASONS[row["Retirement Reason"]])
        assert value(graph, event, CK.reasonText) == Literal(row["Retirement Reason"])
        details = " ".join(row["Retirement Reason Details"].split())
        assert value(graph, event, CK.note) == (Literal(details) if details else None)
        holder = value(graph, event, CK.accountHolder)
        assert value(graph, holder, CK.orgName) == Literal(" ".join(row["Account Holder"].split()))
        unit_type = UNIT_TYPES[row["Reduction/Removal"]]
        assert value(graph, block, CK.unitType) == (concept("unit-type", unit_type) if unit_type else None)
        assert labels_of(graph, block) == yes_labels(row, LABEL_COLUMNS)
        reversible = row["Reversible/Non-Reversible"]
        assert value(graph, block, CK.note) == (Literal(f"Reversible/Non-Reversible: {reversible}") if reversible else None)


def test_activity_area_types_become_project_types() -> None:
    _, graph = converted("retirements")
    listing = URIRef(iris.project_listing(REGISTRY, "CAR1568"))  # Forestry - MX; Improved Forest Management
    assert set(graph.objects(listing, CK.projectType)) >= {
        concept("project-type", "forest-carbon"), concept("project-type", "improved-forest-management")}


# ------------------------------------------------------------------------- cancellations


CANCELLATION_REASONS = {
    "ARB": ("conversion-to-arb-offset-credits", "california-compliance-offset-program"),
    "WA ECO": ("conversion-to-washington-ecology-offset-credits", "washington-ecology-offset-program"),
}


def test_cancellations_spot_checks() -> None:
    _, graph = converted("cancellations")
    for n, row in enumerate(csv_rows(FILES["cancellations"]), start=1):
        reason, programme = CANCELLATION_REASONS[row["Cancellation Reason"]]
        event = one(graph, "cancellations", n, CK.Conversion)
        prefix, start, end = serial_parts(row["Offset Credit Serial Numbers"])
        block = URIRef(iris.block(REGISTRY, prefix, start, end))
        assert value(graph, event, CK.affectsBlock) == value(graph, event, CK.convertedFrom) == block
        assert (block, PROV.wasInvalidatedBy, event) in graph
        assert value(graph, block, CK.unitKind) == concept("unit-kind", "roc")
        assert decimal(graph, event, CK.quantity) == Decimal(row["Quantity of Offset Credits"])
        assert value(graph, event, CK.eventDate) == Literal(us_date(row["Status Effective"]))
        assert value(graph, event, CK.cancellationReason) == concept("cancellation-reason", reason)
        assert value(graph, event, CK.targetProgramme) == concept("programme", programme)
        assert value(graph, event, CK.reasonText) == Literal(row["Cancellation Reason"])
        assert value(graph, event, CK.eventType) == concept("event-type", "conversion")
    assert len(set(graph.subjects(RDF.type, CK.Conversion))) == 34


# --------------------------------------------------------------------------------- errors


def test_bad_date_rejects_the_file(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "issuances", "Date Issued", "02/30/2026")
    assert rejected(path) == [
        f"{path}, row 1, column 'Date Issued': '02/30/2026' is not a valid M/D/YYYY (pass dayfirst=True for D/M/YYYY) date"
    ]


def test_bad_number_rejects_the_file(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "issuances", "Canceled for Compliance", "26o294.0")
    assert rejected(path) == [f"{path}, row 1, column 'Canceled for Compliance': '26o294.0' is not a number"]


def test_bad_serial_rejects_the_file(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "retirements", "Offset Credit Serial Numbers", "CAR-2-US-1335-31-983-KS-2025-9205-1 to 5000")
    assert rejected(path) == [
        f"{path}, row 1, column 'Offset Credit Serial Numbers': 'CAR-2-US-1335-31-983-KS-2025-9205-1 to 5000' "
        "is not a CAR serial (expected CAR-1|ROC-CC-PROJECT-TYPE-DEVELOPER-ST-YYYY-BATCH-START to END)"
    ]


def test_missing_required_column_rejects_the_file(tmp_path: Path) -> None:
    # synthetic: the real cancellations header and first row without "Status Effective"
    with FILES["cancellations"].open(encoding="utf-8-sig", newline="") as fh:
        records = list(csv.reader(fh))
    drop = records[0].index("Status Effective")
    keep = [i for i in range(len(records[0])) if i != drop]
    path = write_csv(tmp_path / "cancellations.csv", [records[0][i] for i in keep], [[records[1][i] for i in keep]])
    (message,) = rejected(path)
    assert message.startswith(
        f"{path}: missing required column 'Status Effective' (expected: 'Offset Credit Serial Numbers', "
        "'Quantity of Offset Credits', 'Status Effective', 'Project ID', 'Cancellation Reason'; found: 'Vintage', "
    )
