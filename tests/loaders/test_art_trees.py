"""ART TREES loader on the real ART exports (jurisdictional programmes on the APX platform).

Expected values are computed from the CSV cells with the csv module and the standard library,
independently of the loader's parsers.
"""

from __future__ import annotations

import csv
import doctest
from decimal import Decimal
from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, Literal, URIRef

from carbonkg import iris
from carbonkg.loaders import TABLE_SPECS, apx, art_trees
from carbonkg.loaders.pipeline import load_file, open_source
from carbonkg.loaders.readers import header_signature, normalise_name, open_table
from carbonkg.store import EmbeddedStore

from loader_helpers import (
    CK, CSVW, EXPORTS, PROV, RegistryExports, concept, csv_rows, decimal, gmt, labels_of, rejected,
    serial_parts, us_date, value, write_csv, yes_labels,
)

REGISTRY = "art-trees"
EXPORTS_OF = RegistryExports(REGISTRY, art_trees.SPECS)
FILES = EXPORTS_OF.files
converted, row_iri, described, one, broken_copy = (
    EXPORTS_OF.converted, EXPORTS_OF.row_iri, EXPORTS_OF.described, EXPORTS_OF.one, EXPORTS_OF.broken_copy,
)



LABEL_COLUMNS = {c: apx.LABEL_FLAGS[c] for c in art_trees.LABELS}
#: "Program  Country" values of the sample (written upper case, some in ISO's inverted form)
COUNTRIES = {
    "BHUTAN": "BT", "BOLIVIA": "BO", "BRAZIL": "BR", "CONGO, THE DEMOCRATIC REPUBLIC OF THE": "CD",
    "COSTA RICA": "CR", "ECUADOR": "EC", "GABON": "GA", "GHANA": "GH", "MEXICO": "MX", "NEPAL": "NP",
    "PERU": "PE", "UGANDA": "UG", "GUYANA": "GY", "COTE D'IVOIRE": "CI",
}
PROGRAMMES = {
    "ART - The REDD+ Environmental Excellence Standard (TREES)": ("art-trees", "trees-credit"),
    "FCPF - Carbon Fund Methodological Framework": ("fcpf-carbon-fund", "fcpf-emission-reduction"),
}
STANDARDS = {"ART": PROGRAMMES["ART - The REDD+ Environmental Excellence Standard (TREES)"],
             "FCPF": PROGRAMMES["FCPF - Carbon Fund Methodological Framework"]}


def test_doctests() -> None:
    result = doctest.testmod(art_trees)
    assert result.attempted >= 3 and result.failed == 0


# ---------------------------------------------------------------------- files as a whole


@pytest.mark.parametrize("spec", art_trees.SPECS, ids=lambda s: s.table)
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


def check_programme_listing(graph: rdflib.Graph, table: str, n: int, row: dict[str, str]) -> URIRef:
    listing = URIRef(iris.project_listing(REGISTRY, row["Program ID"]))
    assert listing in described(graph, table, n, CK.JurisdictionalProgramme)
    assert (listing, RDF.type, CK.ProjectListing) in graph
    assert value(graph, listing, CK.nativeId) == Literal(row["Program ID"])
    assert value(graph, listing, rdflib.RDFS.label) == Literal(row["Program Name"])
    assert value(graph, listing, CK.hostCountry) == concept("country", COUNTRIES[row["Program  Country"]])
    assert value(graph, listing, CK.countryText) == Literal(row["Program  Country"])
    programme, _ = PROGRAMMES[row["Crediting Program and Standard"]]
    assert value(graph, listing, CK.underProgramme) == concept("programme", programme)
    assert value(graph, listing, CK.projectType) == concept("project-type", "forest-carbon")
    jurisdiction = " ".join(row["Program Jurisdiction(s)"].split())
    place = value(graph, value(graph, listing, CK.location), CK.placeName) if jurisdiction else None
    assert place == (Literal(jurisdiction) if jurisdiction else None)
    return listing


# ------------------------------------------------------------------------------ projects


def test_projects_spot_checks() -> None:
    _, graph = converted("projects")
    for n, row in enumerate(csv_rows(FILES["projects"]), start=1):
        listing = check_programme_listing(graph, "projects", n, row)
        developer = value(graph, listing, CK.developer)
        assert value(graph, developer, CK.orgName) == Literal(row["Sovereign Program Developer"])
        assert value(graph, listing, CK.projectStatus) == concept("project-status", row["Status"].lower())
        assert value(graph, listing, CK.initialCreditingPeriodStart) == Literal(us_date(row["Initial Crediting Period Start Date"]))
        body = row["Verification Body"]
        vvb = value(graph, listing, CK.verificationBody)
        assert (value(graph, vvb, CK.orgName) if vvb else None) == (Literal(body) if body else None)


# ----------------------------------------------------------------------------- issuances


def test_issuances_spot_checks() -> None:
    _, graph = converted("issuances")
    for n, row in enumerate(csv_rows(FILES["issuances"]), start=1):
        listing = check_programme_listing(graph, "issuances", n, row)
        issuance = one(graph, "issuances", n, CK.Issuance)
        block = value(graph, issuance, CK.generatedBlock)
        assert value(graph, issuance, CK.issuedFor) == listing
        assert (block, PROV.wasGeneratedBy, issuance) in graph
        assert value(graph, issuance, CK.eventDate) == Literal(us_date(row["Date Approved"]))
        total = Decimal(row["Total Emission Reductions/Removals"])
        buffer = Decimal(row["Credits Deposited in Buffer"])
        verified = Decimal(row["Credits Verified"])
        assert decimal(graph, issuance, CK.quantity) == total
        assert decimal(graph, issuance, CK.bufferQuantity) == buffer
        assert decimal(graph, block, CK.quantity) == verified
        assert total == verified + buffer  # as published: issued = verified credits + buffer
        assert str(value(graph, block, CK.vintageYear)) == row["Vintage"]
        programme, unit = PROGRAMMES[row["Crediting Program and Standard"]]
        assert value(graph, block, CK.underProgramme) == concept("programme", programme)
        assert value(graph, block, CK.unitKind) == concept("unit-kind", unit)
        assert labels_of(graph, block) == yes_labels(row, LABEL_COLUMNS)
        release = value(graph, issuance, CK.methodology)
        assert value(graph, release, CK.versionNumber) == Literal(row["Standard Version"])


# --------------------------------------------------------------------------- retirements


RETIREMENT_REASONS = {
    "Contribution Towards Corporate Climate Pledge AND Host Country NDC": "contribution-to-corporate-pledge-and-host-country-ndc",
    "Contribution Towards Corporate Climate Pledge": "contribution-to-corporate-climate-pledge",
}


def test_retirements_spot_checks() -> None:
    _, graph = converted("retirements")
    for n, row in enumerate(csv_rows(FILES["retirements"]), start=1):
        check_programme_listing(graph, "retirements", n, row)
        event = one(graph, "retirements", n, CK.Retirement)
        block = value(graph, event, CK.affectsBlock)
        prefix, start, end = serial_parts(row["Credit Serial Numbers"])
        assert block == URIRef(iris.block(REGISTRY, prefix, start, end))
        assert (block, PROV.wasInvalidatedBy, event) in graph
        programme, unit = STANDARDS[prefix.split("-")[0]]
        assert value(graph, block, CK.underProgramme) == concept("programme", programme)
        assert value(graph, block, CK.unitKind) == concept("unit-kind", unit)
        assert decimal(graph, block, CK.quantity) == decimal(graph, event, CK.quantity) == Decimal(row["Quantity of Credits"])
        assert str(value(graph, block, CK.vintageYear)) == row["Vintage"]
        assert str(value(graph, block, PROV.generatedAtTime)).startswith(gmt(row["Date Approved"]).isoformat())
        assert value(graph, event, CK.eventDate) == Literal(us_date(row["Status Effective"]))
        assert value(graph, event, CK.retirementReason) == concept("retirement-reason", RETIREMENT_REASONS[row["Retirement Reason"]])
        assert value(graph, event, CK.reasonText) == Literal(row["Retirement Reason"])
        assert value(graph, event, CK.purposeText) == Literal(" ".join(row["Purpose of Retirement"].split()))
        beneficiary = row["Retired on Behalf of"]
        assert value(graph, event, CK.beneficiaryName) == (Literal(beneficiary) if beneficiary else None)
        holder = value(graph, event, CK.accountHolder)
        assert value(graph, holder, CK.orgName) == Literal(row["Account Holder"])
        assert labels_of(graph, block) == yes_labels(row, LABEL_COLUMNS)


def test_double_claim_retirements() -> None:
    # "Contribution Towards Corporate Climate Pledge AND Host Country NDC" (data-model section 5)
    text = "Contribution Towards Corporate Climate Pledge AND Host Country NDC"
    rows = [r for r in csv_rows(FILES["retirements"]) if r["Retirement Reason"] == text]
    assert len(rows) == 5
    _, graph = converted("retirements")
    reason = concept("retirement-reason", "contribution-to-corporate-pledge-and-host-country-ndc")
    events = set(graph.subjects(CK.retirementReason, reason))
    assert {value(graph, e, CK.reasonText) for e in events} == {Literal(text)}
    assert {value(graph, e, CK.eventFor) for e in events} == {
        URIRef(iris.project_listing(REGISTRY, r["Program ID"])) for r in rows}
    assert len(events) == 5


# ------------------------------------------------------------------------- cancellations


def test_cancellations_spot_checks() -> None:
    _, graph = converted("cancellations")
    operators = {"ALL NIPPON AIRWAYS CO., LTD, PHASE 1": "ALL NIPPON AIRWAYS CO., LTD",
                 "Japan Airlines, Co. LTD First Compliance Period": "Japan Airlines, Co. LTD"}
    for n, row in enumerate(csv_rows(FILES["cancellations"]), start=1):
        check_programme_listing(graph, "cancellations", n, row)
        event = one(graph, "cancellations", n, CK.Cancellation)
        prefix, start, end = serial_parts(row["Credit Serial Numbers"])
        block = URIRef(iris.block(REGISTRY, prefix, start, end))
        assert value(graph, event, CK.affectsBlock) == block
        assert (block, PROV.wasInvalidatedBy, event) in graph
        assert decimal(graph, event, CK.quantity) == Decimal(row["Quantity of Credits"])
        assert value(graph, event, CK.eventDate) == Literal(us_date(row["Status Effective"]))
        assert value(graph, event, CK.cancellationReason) == concept("cancellation-reason", "corsia-compliance")
        assert value(graph, event, CK.reasonText) == Literal(row["Cancellation Reason"])
        assert value(graph, event, CK.note) == Literal(row["Cancellation Details"])
        operator = operators[row["Cancellation Details"]]
        assert value(graph, event, CK.beneficiaryName) == Literal(operator)
        assert value(graph, value(graph, event, CK.beneficiary), CK.orgName) == Literal(operator)
        assert value(graph, event, CK.compliancePeriod) is None  # the phase text is not mapped (see corsia_operator)
        holder = value(graph, event, CK.accountHolder)
        assert value(graph, holder, CK.orgName) == Literal(row["Account Holder"])
        assert labels_of(graph, block) == yes_labels(row, LABEL_COLUMNS) == {
            ("corsia-eligible", None), ("corsia-eligible", "corsia-pilot-phase-2021-2023"),
            ("corsia-eligible", "corsia-first-phase-2024-2026")}


# --------------------------------------------------------------------------------- errors


def test_bad_date_rejects_the_file(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "cancellations", "Date Approved", "2/28/2024 13:18:54 PM")
    assert rejected(path) == [
        f"{path}, row 1, column 'Date Approved': '2/28/2024 13:18:54 PM' is not a valid 12-hour time"
    ]


def test_bad_number_rejects_the_file(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "issuances", "Credits Deposited in Buffer", "535 461")
    assert rejected(path) == [f"{path}, row 1, column 'Credits Deposited in Buffer': '535 461' is not a number"]


def test_bad_serial_rejects_the_file(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "retirements", "Credit Serial Numbers", "FCPF-CI-130-2023-20-46404 to 1")
    assert rejected(path) == [
        f"{path}, row 1, column 'Credit Serial Numbers': 'FCPF-CI-130-2023-20-46404 to 1' "
        "has its end number before its start number"
    ]


def test_missing_required_column_rejects_the_file(tmp_path: Path) -> None:
    # synthetic: the real retirements header and first row without "Quantity of Credits"
    with FILES["retirements"].open(encoding="utf-8-sig", newline="") as fh:
        records = list(csv.reader(fh))
    drop = records[0].index("Quantity of Credits")
    keep = [i for i in range(len(records[0])) if i != drop]
    path = write_csv(tmp_path / "retirements.csv", [records[0][i] for i in keep], [[records[1][i] for i in keep]])
    (message,) = rejected(path)
    assert message.startswith(
        f"{path}: missing required column 'Quantity of Credits' (expected: 'Credit Serial Numbers', "
        "'Quantity of Credits', 'Status Effective', 'Program ID'; found: 'Vintage', "
    )


def test_row_without_programme_id_is_an_error(tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "projects", "Program ID", " ")
    assert rejected(path) == [f"{path}, row 1, column 'Program ID': '' is empty; every ART row names its programme"]
