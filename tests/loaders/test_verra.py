"""Verra loader on the real exports: every row's values checked against the raw CSV."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import PROV, RDF, XSD

from carbonkg import iris
from carbonkg.loaders.pipeline import LoadRun, convert_file, load_file, open_source
from carbonkg.store import EmbeddedStore

EXPORTS = Path(__file__).resolve().parents[2] / "data" / "registry-exports" / "verra"
CK = Namespace("https://w3id.org/carbonkg/ontology#")


def _rows(name: str) -> list[dict[str, str]]:
    with (EXPORTS / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _graph(name: str, tmp_path: Path) -> Graph:
    sink = tmp_path / f"{name}.nt"
    convert_file(open_source(EXPORTS / name), sink, run=LoadRun(run_id="test"))
    return Graph().parse(sink, format="nt")


@pytest.fixture(scope="module")
def transactions(tmp_path_factory) -> Graph:
    return _graph("transactions.csv", tmp_path_factory.mktemp("verra"))


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> Graph:
    return _graph("projects.csv", tmp_path_factory.mktemp("verra"))


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def test_every_transaction_row_is_a_block_with_its_serial_range_quantity_and_vintage(transactions: Graph) -> None:
    for n, row in enumerate(_rows("transactions.csv"), start=1):
        serial = row["Serial Number"]
        _, start, end = serial.split("-")[:3]
        block = URIRef(iris.block("verra", "VCS-VCU", int(start), int(end)))
        assert (block, RDF.type, CK.CreditBlock) in transactions, n
        assert (block, CK.serialNumber, Literal(serial)) in transactions
        assert transactions.value(block, CK.serialStart).toPython() == int(start)
        assert transactions.value(block, CK.serialEnd).toPython() == int(end)
        assert transactions.value(block, CK.quantity).toPython() == _number(row["Quantity Issued"])
        assert str(transactions.value(block, CK.vintageStart)) == row["Vintage Start"]
        assert str(transactions.value(block, CK.vintageYear)) == row["Vintage End"][:4]
        assert transactions.value(block, CK.blockOf) == URIRef(iris.project_listing("verra", row["ID"]))
        issuance = transactions.value(block, PROV.wasGeneratedBy)
        assert str(transactions.value(issuance, CK.eventDate)) == row["Issuance Date"]
        assert transactions.value(issuance, CK.totalVintageQuantity).toPython() == _number(row["Total Vintage Quantity"])
        retired = transactions.value(block, PROV.wasInvalidatedBy)
        if row["Retirement/Cancellation Date"]:
            assert (retired, RDF.type, CK.RetirementOrCancellation) in transactions
            assert str(transactions.value(retired, CK.eventDate)) == row["Retirement/Cancellation Date"]
            if row["Retirement Beneficiary"]:
                # white space is collapsed in parsed values; the row's ck:rawRecord keeps the cell as published
                assert transactions.value(retired, CK.beneficiaryName) == Literal(" ".join(row["Retirement Beneficiary"].split()))
            if row["Retirement Reason"]:
                assert transactions.value(retired, CK.reasonText) == Literal(" ".join(row["Retirement Reason"].split()))
                assert transactions.value(retired, CK.retirementReason) is not None
        else:
            assert retired is None


def test_additional_certifications_become_label_attestations(transactions: Graph) -> None:
    seen = 0
    for row in _rows("transactions.csv"):
        items = [i.strip() for i in row["Additional Certifications"].split(";") if i.strip()]
        _, start, end = row["Serial Number"].split("-")[:3]
        block = URIRef(iris.block("verra", "VCS-VCU", int(start), int(end)))
        texts = {str(transactions.value(a, CK.labelText)) for a in transactions.objects(block, CK.hasLabel)}
        assert texts == set(items)
        seen += len(items)
    assert seen > 0
    # the 17 Article 6 blocks carry the authorised purposes as concepts
    purposes = set(transactions.objects(None, CK.authorisationPurpose))
    assert {str(p).rsplit("/", 1)[1] for p in purposes} >= {"ndc", "imp", "op"}


def test_projects_values(projects: Graph) -> None:
    for row in _rows("projects.csv"):
        listing = URIRef(iris.project_listing("verra", row["ID"]))
        assert projects.value(listing, CK.nativeId) == Literal(row["ID"])
        assert str(projects.value(listing, CK.statusText)) == row["Status"]
        assert projects.value(listing, CK.projectStatus) is not None
        assert str(projects.value(listing, CK.countryText)) == row["Country/Area"]
        assert projects.value(listing, CK.hostCountry) is not None
        if row["Estimated Annual Emission Reductions"]:
            value = projects.value(listing, CK.estimatedAnnualReductions)
            assert value.datatype == XSD.decimal
            assert value.toPython() == _number(row["Estimated Annual Emission Reductions"])
        if row["Crediting Period Start Date"]:
            assert str(projects.value(listing, CK.creditingPeriodStart)) == row["Crediting Period Start Date"]


def test_nothing_uninterpreted_in_the_real_files() -> None:
    store = EmbeddedStore(None)
    for name in ("projects.csv", "transactions.csv"):
        result = load_file(store, EXPORTS / name)
        assert result.status == "loaded"
        assert not result.uninterpreted.counts, result.uninterpreted.counts


def test_bad_serial_is_rejected_with_file_row_and_column(tmp_path: Path) -> None:
    # synthetic: the real transactions file with row 3's serial broken
    rows = (EXPORTS / "transactions.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    serial = _rows("transactions.csv")[2]["Serial Number"]
    rows[3] = rows[3].replace(serial, serial.replace("-VCS-", "-XYZ-"))
    path = tmp_path / "transactions.csv"
    path.write_text("".join(rows), encoding="utf-8")
    result = load_file(EmbeddedStore(None), path)
    assert result.status == "rejected"
    assert [str(e) for e in result.errors] == [
        f"{path}, row 3, column 'Serial Number': '{serial.replace('-VCS-', '-XYZ-')}' is not a Verra serial "
        "(expected SEQ-START-END-VCS-VCU-CODE-VER-CC-SCOPE-PROJECT-DDMMYYYY-DDMMYYYY-0|1)"
    ]
