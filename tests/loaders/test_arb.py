"""The ARB (CARB compliance offset issuance table) loader on the real bundled export.

Every check compares the graph with the CSV cells read independently here; the only synthetic
files are the malformed copies built in tmp_path for the error cases (the real header and a
real row with one cell broken or one column removed, said so where they are built).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from carbonkg import iris
from carbonkg.loaders import TABLE_SPECS, arb
from carbonkg.loaders.base import Emitter
from carbonkg.loaders.emit import TripleWriter
from carbonkg.loaders.pipeline import detect_spec, iter_files, load_file
from carbonkg.loaders.readers import header_signature, normalise_name, open_table
from carbonkg.store import EmbeddedStore

from loader_helpers import rejected

EXPORTS = Path(__file__).resolve().parents[2] / "data" / "registry-exports"
FILE = EXPORTS / "arb" / "nc-arboc_issuance_sheet3.csv"
CK = "https://w3id.org/carbonkg/ontology#"
VOCAB = "https://w3id.org/carbonkg/vocab/"
CSVW = "http://www.w3.org/ns/csvw#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

#: retirement/invalidation column → (class, retirement-reason slug or None, compliance-period slug or None)
OUTCOMES = {
    "Invalidated or Canceled": ("Invalidation", None, None),
    "Buffer Pool Retired": ("Retirement", "buffer-pool-retirement", None),
    "Retired for Intentional Reversal": ("Retirement", "intentional-reversal-compensation", None),
    "Retired Voluntarily": ("Retirement", "voluntary-use", None),
    "Retired 1st Compliance Period (CA)": ("Retirement", "california-compliance", "california-compliance-period-1"),
    "Retired 2nd Compliance Period (CA)": ("Retirement", "california-compliance", "california-compliance-period-2"),
    "Retired 3rd Compliance Period (CA)": ("Retirement", "california-compliance", "california-compliance-period-3"),
    "Retired 4th Compliance Period (CA)": ("Retirement", "california-compliance", "california-compliance-period-4"),
    "Retired 5th Compliance Period (CA)": ("Retirement", "california-compliance", "california-compliance-period-5"),
    "Retired for Compliance in Quebec": ("Retirement", "quebec-compliance", "quebec"),
}
OPR_REGISTRIES = {"ACR": "american-carbon-registry", "CAR": "climate-action-reserve"}


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [r for r in csv.DictReader(handle) if any((v or "").strip() for v in r.values())]


ROWS = read_rows(FILE)


@pytest.fixture(scope="module")
def loaded():
    store = EmbeddedStore(None)
    return store, load_file(store, FILE)


def values(store: EmbeddedStore, subject: str, predicate: str) -> set[str]:
    return {s["o"].value for s in store.query(f"SELECT ?o WHERE {{ <{subject}> <{predicate}> ?o }}")}


def one(store: EmbeddedStore, subject: str, predicate: str) -> str:
    found = values(store, subject, predicate)
    assert len(found) == 1, (subject, predicate, found)
    return next(iter(found))


def test_real_file_loads_every_row(loaded) -> None:
    store, result = loaded
    assert result.status == "loaded", [str(e) for e in result.errors]
    assert not result.errors
    assert (result.registry, result.table) == ("arb", "arb-issuances")
    assert result.rows == len(ROWS) == 67
    export = iris.export("arb", FILE.name)
    n = store.query(f"SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ <{export}> <{CSVW}row> ?r . ?r a <{CSVW}Row> }}")
    assert int(next(iter(n))[0].value) == result.rows


def test_detected_from_header_and_signature_fits_no_other_file() -> None:
    spec = detect_spec(open_table(FILE))
    assert (spec.registry, spec.table) == ("arb", "arb-issuances")
    needed = {normalise_name(c) for c in arb.ISSUANCES.identifying_columns}
    for path in iter_files([EXPORTS]):
        assert (needed <= header_signature(open_table(path).header)) == (path == FILE), path
    assert [s.key for s in TABLE_SPECS if s.registry == "arb"] == ["arb/arb-issuances"]


def test_every_value_is_interpreted_and_debs_is_attested(loaded) -> None:
    store, result = loaded
    assert dict(result.uninterpreted.counts) == {}
    debs = sum(1 for r in ROWS if r["Provides DEBS"] == "DEBS" and r["CARB Issuance ID"])
    attested = int(next(iter(store.query(
        "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a <https://w3id.org/carbonkg/ontology#labelType> "
        "<https://w3id.org/carbonkg/vocab/label-type/california-debs> }")))[0].value)
    assert attested == debs


def test_listings_links_and_locations(loaded) -> None:
    store, _ = loaded
    for row in ROWS:
        listing = iris.project_listing("arb", row["CARB Project ID"])
        assert one(store, listing, CK + "nativeId") == row["CARB Project ID"]
        assert row["Offset Project Name"] in values(store, listing, "http://www.w3.org/2000/01/rdf-schema#label")
        opr = row["OPR Project ID"]
        peer = iris.project_listing(OPR_REGISTRIES[opr[:3]], opr)
        assert peer in values(store, listing, CK + "compliancePeerOf")
        link = iris.link(listing, "compliancePeerOf", peer)
        assert one(store, link, CK + "linkObject") == peer
        assert f"OPR Project ID: {opr}" in values(store, link, CK + "linkEvidence")
        assert one(store, peer, CK + "nativeId") == opr
        location = iris.location(listing)
        assert row["State"] in values(store, location, CK + "subdivision")
        assert one(store, location, CK + "country") == iris.country("US")
        # the operator at each issuance: all of them on the listing (operators change over time)
        operators = {n for o in values(store, listing, CK + "projectOperator") for n in values(store, o, CK + "orgName")}
        assert row["Offset Project Operator"] in operators
        assert row["Project Documentation"] in values(store, listing, CK + "documentsUrl")


def test_opr_ids_meet_the_opr_registries_own_listings() -> None:
    """The link objects use the ids exactly as the ACR and CAR project exports write them."""
    own = {}
    for folder, column in (("american-carbon-registry", "Project ID"), ("climate-action-reserve", "Project ID")):
        for row in read_rows(EXPORTS / folder / "projects.csv"):
            own[row[column]] = iris.project_listing(folder, row[column])
    shared = {r["OPR Project ID"] for r in ROWS} & set(own)
    assert shared  # e.g. ACR1007 is listed in the ACR projects export
    for opr in shared:
        assert iris.project_listing(OPR_REGISTRIES[opr[:3]], opr) == own[opr]


def test_verra_opr_ids_become_verra_native_ids() -> None:
    # Verra writes its project ids as bare numbers ("1507"); ARB writes Verra OPR ids "VCSOPR2"
    assert all(r["ID"].isdigit() for r in read_rows(EXPORTS / "verra" / "projects.csv"))
    sink = io.StringIO()
    out = Emitter(TripleWriter(sink), "arb", iris.export("arb", "x.csv"))
    out.row_token = "<urn:x:row>"
    assert arb._opr_listing(out, "VCSOPR2") == f"<{iris.project_listing('verra', '2')}>"
    assert arb._opr_listing(out, "ACR1007") == f"<{iris.project_listing('american-carbon-registry', 'ACR1007')}>"
    assert arb._opr_listing(out, "XYZ12") is None


def test_issuances_blocks_and_periods(loaded) -> None:
    store, _ = loaded
    issued = [r for r in ROWS if r["CARB Issuance ID"]]
    assert len(issued) == 66
    for row in issued:
        key = (row["CARB Issuance ID"], row["Reporting Period"])
        issuance = iris.record("arb", "issuance", *key)
        block = iris.record("arb", "block", *key)
        listing = iris.project_listing("arb", row["CARB Project ID"])
        assert one(store, issuance, CK + "nativeId") == row["CARB Issuance ID"]
        assert one(store, issuance, CK + "eventDate") == row["Issuance Date"]
        assert one(store, issuance, CK + "issuedFor") == listing
        assert one(store, issuance, CK + "generatedBlock") == block
        assert one(store, issuance, CK + "monitoringPeriodStart") == row["Reporting Period Start Date"]
        assert one(store, issuance, CK + "monitoringPeriodEnd") == row["Reporting Period End Date"]
        assert row["Verification Body"] in values(store, one(store, issuance, CK + "verificationBody"), CK + "orgName")
        assert row["Offset Project Operator"] in values(store, one(store, issuance, CK + "projectOperator"), CK + "orgName")
        assert one(store, block, CK + "blockOf") == listing
        assert Decimal(one(store, block, CK + "quantity")) == Decimal(row["ARB Offset Credits Issued"])
        assert int(one(store, block, CK + "vintageYear")) == int(float(row["Vintage"]))
        assert one(store, block, CK + "unitKind") == VOCAB + "unit-kind/arboc"
        assert one(store, block, CK + "underProgramme") == VOCAB + "programme/california-compliance-offset-program"
        buffer = values(store, issuance, CK + "bufferQuantity")
        contribution = row["Forest Buffer Account Contribution"]
        assert {Decimal(b) for b in buffer} == ({Decimal(contribution)} if contribution else set())
        verification = one(store, issuance, CK + "basedOnVerification")
        assert one(store, verification, CK + "verificationId") == row["Reporting Period"]
        notes = values(store, issuance, CK + "note")
        if row["Invalidation Timeframe"]:
            assert f"Invalidation Timeframe: {row['Invalidation Timeframe']}" in notes
        if row["Comment"]:
            assert f"Comment: {' '.join(row['Comment'].split())}" in notes


def test_one_undated_event_per_non_zero_retirement_column(loaded) -> None:
    store, _ = loaded
    expected = 0
    for row in ROWS:
        if not row["CARB Issuance ID"]:
            continue
        block = iris.record("arb", "block", row["CARB Issuance ID"], row["Reporting Period"])
        events = {s["e"].value for s in store.query(f"SELECT ?e WHERE {{ ?e <{CK}affectsBlock> <{block}> }}")}
        found = {}
        for event in events:
            found[one(store, event, CK + "reasonText")] = event
        wanted = {c for c in OUTCOMES if row[c] and Decimal(row[c]) != 0}
        assert set(found) == wanted, row["CARB Issuance ID"]
        expected += len(wanted)
        for column in wanted:
            event = found[column]
            cls, reason, period = OUTCOMES[column]
            assert one(store, event, RDF_TYPE) == CK + cls
            assert Decimal(one(store, event, CK + "quantity")) == Decimal(row[column])
            assert values(store, event, CK + "eventDate") == set()  # CARB gives no date
            assert values(store, event, CK + "retirementReason") == ({VOCAB + "retirement-reason/" + reason} if reason else set())
            assert values(store, event, CK + "compliancePeriod") == ({VOCAB + "compliance-period/" + period} if period else set())
            whole = Decimal(row[column]) == Decimal(row["ARB Offset Credits Issued"])
            assert (event in values(store, block, "http://www.w3.org/ns/prov#wasInvalidatedBy")) == whole
    total = store.query(f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ ?e <{CK}affectsBlock> ?b . ?e <{CK}recordedIn> <{VOCAB}registry/arb> }}")
    assert int(next(iter(total))[0].value) == expected


def test_row_30_intentional_reversal_loads_as_a_reversal(loaded) -> None:
    store, _ = loaded
    row = ROWS[29]
    assert (row["Vintage"], row["CARB Issuance ID"], row["Intentional Reversal"]) == ("", "", "-27150.0")
    reversal = iris.record("arb", "reversal", row["CARB Project ID"], row["Reporting Period"], "intentional-reversal")
    assert one(store, reversal, RDF_TYPE) == CK + "CreditEvent"
    assert one(store, reversal, CK + "eventType") == VOCAB + "event-type/reversal"
    assert Decimal(one(store, reversal, CK + "quantity")) == Decimal(row["Intentional Reversal"])
    assert one(store, reversal, CK + "eventDate") == row["Issuance Date"]
    assert one(store, reversal, CK + "monitoringPeriodStart") == row["Reporting Period Start Date"]
    row_iri = iris.row(iris.export("arb", FILE.name), 30)
    described = {s["e"].value for s in store.query(f"SELECT ?e WHERE {{ <{row_iri}> <{CSVW}describes> ?e }}")}
    assert reversal in described
    assert not any("/arb/issuance/" in e or "/arb/block/" in e for e in described)


# ------------------------------------------------------------------------ error cases


def _broken_copy(tmp_path: Path, column: str, value: str, *, drop: str | None = None) -> Path:
    """Synthetic: the real header and first data row of the ARB table, with one cell replaced
    (or one column removed)."""
    row = dict(ROWS[0])
    header = [h for h in row if h != drop]
    row[column] = value
    target = tmp_path / "arb" / FILE.name
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerow(row)
    return target


def test_bad_date_is_rejected_with_its_place(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "Issuance Date", "2024-06-31")
    assert rejected(path) == [f"{path}, row 1, column 'Issuance Date': '2024-06-31' is not a valid calendar date"]


def test_bad_number_is_rejected_with_its_place(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "ARB Offset Credits Issued", "79,56.0")
    assert rejected(path) == [f"{path}, row 1, column 'ARB Offset Credits Issued': '79,56.0' is not a number"]


def test_bad_vintage_is_rejected_with_its_place(tmp_path: Path) -> None:
    # the ARB table has no serial numbers: its identifying value that must parse is the vintage
    path = _broken_copy(tmp_path, "Vintage", "2024.5")
    assert rejected(path) == [f"{path}, row 1, column 'Vintage': '2024.5' is not a whole number"]


def test_issued_credits_without_issuance_id_arerejected(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "CARB Issuance ID", "")
    assert rejected(path) == [f"{path}, row 1, column 'CARB Issuance ID': '' is empty although "
                               "'ARB Offset Credits Issued' is '79565.0'; an issuance row names its CARB issuance"]


def test_missing_required_column_isrejected(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "Vintage", "2024.0", drop="ARB Offset Credits Issued")
    (message,) = rejected(path)
    assert message.startswith(
        f"{path}: missing required column 'ARB Offset Credits Issued' (expected: 'CARB Project ID', "
        "'CARB Issuance ID', 'ARB Offset Credits Issued', 'Issuance Date'; found: 'CARB Project ID', 'OPR Project ID', ")
