"""The Cercarbono loader on the real bundled exports (projects, issuances, retirements).

Every check compares the graph with the CSV cells read independently here (csv + ast); the only
synthetic files are the malformed copies built in tmp_path for the error cases, each made from
the real header and a real row with one cell broken (said so where they are built).
"""

from __future__ import annotations

import ast
import csv
from decimal import Decimal
from pathlib import Path

import pytest

from carbonkg import iris
from carbonkg.loaders import TABLE_SPECS, cercarbono
from carbonkg.loaders.pipeline import detect_spec, iter_files, load_file
from carbonkg.loaders.readers import header_signature, normalise_name, open_table
from carbonkg.store import EmbeddedStore

from loader_helpers import rejected

EXPORTS = Path(__file__).resolve().parents[2] / "data" / "registry-exports"
FOLDER = EXPORTS / "cercarbono"
FILES = {"projects": FOLDER / "projects.csv", "issuances": FOLDER / "issuances.csv", "retirements": FOLDER / "retirements.csv"}
CK = "https://w3id.org/carbonkg/ontology#"
VOCAB = "https://w3id.org/carbonkg/vocab/"
CSVW = "http://www.w3.org/ns/csvw#"


def read_rows(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(1 << 27)
    with path.open(encoding="utf-8", newline="") as handle:
        return [r for r in csv.DictReader(handle) if any((v or "").strip() for v in r.values())]


@pytest.fixture(scope="module")
def loaded() -> tuple[EmbeddedStore, dict[str, object]]:
    store = EmbeddedStore(None)
    results = {kind: load_file(store, path) for kind, path in FILES.items()}
    return store, results


def values(store: EmbeddedStore, subject: str, predicate: str) -> set[str]:
    return {s["o"].value for s in store.query(f"SELECT ?o WHERE {{ <{subject}> <{predicate}> ?o }}")}


def one(store: EmbeddedStore, subject: str, predicate: str) -> str:
    found = values(store, subject, predicate)
    assert len(found) == 1, (subject, predicate, found)
    return next(iter(found))


# ----------------------------------------------------------------------------- files


@pytest.mark.parametrize("kind", list(FILES))
def test_real_file_loads_every_row(loaded, kind: str) -> None:
    store, results = loaded
    result = results[kind]
    assert result.status == "loaded", [str(e) for e in result.errors]
    assert not result.errors
    assert (result.registry, result.table) == ("cercarbono", kind)
    assert result.rows == len(read_rows(FILES[kind]))
    export = iris.export("cercarbono", FILES[kind].name)
    n = store.query(f"SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ <{export}> <{CSVW}row> ?r . ?r a <{CSVW}Row> }}")
    assert int(next(iter(n))[0].value) == result.rows


@pytest.mark.parametrize("kind", list(FILES))
def test_detected_from_header(kind: str) -> None:
    spec = detect_spec(open_table(FILES[kind]))
    assert (spec.registry, spec.table) == ("cercarbono", kind)


def test_signatures_match_no_other_registry_file() -> None:
    for path in iter_files([EXPORTS]):
        signature = header_signature(open_table(path).header)
        for spec in cercarbono.SPECS:
            fits = {normalise_name(c) for c in spec.identifying_columns} <= signature
            assert fits == (path == FILES[spec.table]), (spec.key, path)
    assert sum(1 for s in TABLE_SPECS if s.registry == "cercarbono") == 3


def test_every_value_is_interpreted(loaded) -> None:
    _, results = loaded
    for name in ("projects", "issuances", "retirements"):
        assert dict(results[name].uninterpreted.counts) == {}, name


# -------------------------------------------------------------------------- projects


def test_projects_spot_checks(loaded) -> None:
    store, _ = loaded
    rows = read_rows(FILES["projects"])
    for row in rows:
        listing = iris.project_listing("cercarbono", row["id"])
        assert one(store, listing, CK + "nativeId") == row["id"]
        assert row["name"] in values(store, listing, "http://www.w3.org/2000/01/rdf-schema#label")
        assert f"code: {row['code']}" in values(store, listing, CK + "note")
        assert one(store, listing, CK + "statusText") == row["stage"]
        if row["annualEstimated"]:
            assert Decimal(one(store, listing, CK + "estimatedAnnualReductions")) == Decimal(row["annualEstimated"])
        if row["owner_id"]:
            owner = iris.organisation("cercarbono", row["owner_id"], is_id=True)
            assert values(store, listing, CK + "owner") == {owner}
            assert row["owner"] in values(store, owner, CK + "orgName")
        if row["verifier"]:
            verifier = one(store, listing, CK + "verificationBody")
            assert row["verifier"] in values(store, verifier, CK + "orgName")
        # sectors: one concept per distinct description
        sectors = {s["description"] for s in ast.literal_eval(row["sector"])}
        assert len(values(store, listing, CK + "sector")) == len(sectors)
        # locations: distinct entries, with country, region, city and the point as lon lat
        locations = []
        for entry in ast.literal_eval(row["locations"]):
            if entry not in locations:
                locations.append(entry)
        assert len(values(store, listing, CK + "location")) == len(locations)
        for n, entry in enumerate(locations, 1):
            location = iris.location(listing, n)
            assert one(store, location, CK + "countryText") == entry["country"]
            assert one(store, location, CK + "country") == iris.country("CO")
            assert one(store, location, CK + "subdivision") == entry["region"]
            assert one(store, location, CK + "placeName") == entry["city"]
            point = entry["data_map"]
            wkt = store.query(f"""SELECT ?w WHERE {{ <{location}> <http://www.opengis.net/ont/geosparql#hasGeometry>
                               / <http://www.opengis.net/ont/geosparql#asWKT> ?w }}""")
            found = [s["w"] for s in wkt]
            if point["latitude"] == "":
                assert found == []
            else:
                assert len(found) == 1 and found[0].datatype.value.endswith("#wktLiteral")
                lon, lat = found[0].value.removeprefix("POINT(").removesuffix(")").split()
                assert (float(lon), float(lat)) == (point["longitude"], point["latitude"])
        # every batch in the serials cell is a block of this listing with its issued quantity
        for batch in ast.literal_eval(row["serials"]):
            block = iris.record("cercarbono", "block", batch["serial"])
            assert one(store, block, CK + "blockOf") == listing
            assert Decimal(one(store, block, CK + "quantity")) == batch["issued_quantity"]
            assert one(store, block, CK + "unitKind") == VOCAB + "unit-kind/cercarbono-credit"


def test_methodology_and_programme(loaded) -> None:
    store, _ = loaded
    row = read_rows(FILES["projects"])[0]
    assert row["quantification_method"].startswith("CDM - AR-ACM0003: ")
    listing = iris.project_listing("cercarbono", row["id"])
    method = one(store, listing, CK + "methodology")
    assert method == iris.methodology("cdm", "AR-ACM0003")
    assert one(store, method, CK + "methodologyCode") == "AR-ACM0003"
    assert one(store, method, CK + "underProgramme") == VOCAB + "programme/cdm"
    assert one(store, listing, CK + "methodologyText") == row["quantification_method"]
    assert one(store, listing, CK + "underProgramme") == VOCAB + "programme/cercarbono-programme"
    # "Not defined" yields no methodology at all
    undefined = [r for r in read_rows(FILES["projects"]) if r["quantification_method"] == "Not defined"]
    assert undefined
    for r in undefined:
        assert values(store, iris.project_listing("cercarbono", r["id"]), CK + "methodology") == set()


# ------------------------------------------------------------------------- issuances

LABELS = {"ICC": "colombian-carbon-tax", "CV": "voluntary-compensation-eligible"}


def test_issuances_spot_checks(loaded) -> None:
    store, _ = loaded
    for row in read_rows(FILES["issuances"]):
        key = row["serial"]
        project = key.split("_")[1]
        listing = iris.project_listing("cercarbono", project)
        block = iris.record("cercarbono", "block", key)
        issuance = iris.record("cercarbono", "issuance", key)
        assert one(store, block, CK + "blockOf") == listing
        assert Decimal(one(store, block, CK + "quantity")) == Decimal(row["issued_quantity"])
        start, end = (p.strip() for p in row["vintage_of_credits"].split("/"))
        assert one(store, block, CK + "vintageStart") == start
        assert one(store, block, CK + "vintageEnd") == end
        assert one(store, block, CK + "vintageYear") == end[:4]
        assert one(store, block, CK + "isBuffer") == row["is_buffer"].lower()
        assert one(store, block, CK + "serialNumber") == key
        assert one(store, issuance, CK + "eventDate") == row["issuance_date"][:10]
        assert one(store, issuance, "http://www.w3.org/ns/prov#endedAtTime").startswith(row["issuance_date"][:19])
        assert one(store, issuance, CK + "generatedBlock") == block
        assert one(store, block, "http://www.w3.org/ns/prov#wasGeneratedBy") == issuance
        assert one(store, issuance, CK + "issuedFor") == listing
        verification = one(store, issuance, CK + "basedOnVerification")
        assert one(store, verification, CK + "verificationId") == row["verification"]
        goals = {f"http://metadata.un.org/sdg/{g['code']}" for g in ast.literal_eval(row["global_goals"])}
        assert values(store, block, CK + "contributesToSDG") == goals
        labels = {VOCAB + "label-type/" + LABELS[e["code"]] for e in ast.literal_eval(row["elegible"])}
        found = {s["t"].value for s in store.query(
            f"SELECT ?t WHERE {{ <{block}> <{CK}hasLabel> ?l . ?l <{CK}labelType> ?t }}")}
        assert found == labels
        if row["year"] != end[:4]:
            assert values(store, issuance, CK + "note") == {f"year: {row['year']}"}


def test_issuance_of_a_project_missing_from_the_projects_file_still_has_its_listing(loaded) -> None:
    store, _ = loaded
    keys = [r["serial"] for r in read_rows(FILES["issuances"])]
    known = {r["id"] for r in read_rows(FILES["projects"])}
    orphan = next(k for k in keys if k.split("_")[1] not in known)
    listing = iris.project_listing("cercarbono", orphan.split("_")[1])
    assert one(store, listing, CK + "nativeId") == orphan.split("_")[1]
    assert one(store, iris.record("cercarbono", "block", orphan), CK + "blockOf") == listing


# ----------------------------------------------------------------------- retirements

REASONS = {"Colombian Carbon Tax": "colombian-carbon-tax", "Voluntary compensation": "voluntary-use"}


def test_retirements_spot_checks(loaded) -> None:
    store, _ = loaded
    for row in read_rows(FILES["retirements"]):
        key, first, last = row["serial"], int(row["from"]), int(row["to"])
        listing = iris.project_listing("cercarbono", row["project_id"])
        block = iris.block("cercarbono", key, first, last)
        event = iris.record("cercarbono", "retirement", key, f"{first}-{last}")
        assert int(one(store, block, CK + "serialStart")) == first
        assert int(one(store, block, CK + "serialEnd")) == last
        assert one(store, block, CK + "serialPrefix") == key
        assert one(store, block, CK + "serialBatch") == key
        assert one(store, block, CK + "blockOf") == listing
        assert Decimal(one(store, block, CK + "quantity")) == Decimal(row["quantity"])
        assert row["vintage"] in values(store, block, CK + "vintageYear")
        assert one(store, event, f"{'http://www.w3.org/1999/02/22-rdf-syntax-ns#'}type") == CK + "Retirement"
        assert one(store, event, CK + "affectsBlock") == block
        assert one(store, block, "http://www.w3.org/ns/prov#wasInvalidatedBy") == event
        assert Decimal(one(store, event, CK + "quantity")) == Decimal(row["quantity"])
        assert one(store, event, CK + "eventDate") == row["date"][:10]
        assert one(store, event, CK + "purposeText") == row["certificate_destination"]
        assert one(store, event, CK + "retirementReason") == VOCAB + "retirement-reason/" + REASONS[row["certificate_destination"]]
        assert one(store, event, CK + "beneficiaryName") == row["end_user"]
        beneficiaries = values(store, event, CK + "beneficiary")
        if row["end_user"] == "Not public":
            assert beneficiaries == set()
        else:
            assert len(beneficiaries) == 1
            assert row["end_user"] in values(store, next(iter(beneficiaries)), CK + "orgName")
        taxpayers = {s["n"].value for s in store.query(f"""SELECT ?n WHERE {{ <{event}> <{CK}participation> ?p .
            ?p <{CK}role> <{VOCAB}role/taxpayer> ; <http://www.w3.org/ns/prov#agent> ?o . ?o <{CK}orgName> ?n }}""")}
        # one organisation per name slug: spellings that differ only in punctuation share it
        assert (row["passive_subject"] in taxpayers) if row["passive_subject"] else taxpayers == set()
        assert one(store, event, CK + "certificateUrl") == row["public_consult"]


def test_retired_range_joins_the_issued_batch(loaded) -> None:
    """The retired block and the issuance batch of the same key meet on the serial prefix."""
    store, _ = loaded
    row = next(r for r in read_rows(FILES["retirements"]) if r["serial"] == "CDC_1_1_1_321_14_1")
    retired = iris.block("cercarbono", row["serial"], int(row["from"]), int(row["to"]))
    batch = iris.record("cercarbono", "block", row["serial"])
    assert one(store, retired, CK + "serialPrefix") == one(store, batch, CK + "serialPrefix")


# ------------------------------------------------------------------------ error cases


def _broken_copy(tmp_path: Path, kind: str, column: str, value: str, *, drop: str | None = None) -> Path:
    """Synthetic: the real header and first data row of a Cercarbono file, with one cell replaced
    (or one column removed)."""
    source = FILES[kind]
    row = read_rows(source)[0]
    header = [h for h in row if h != drop]
    row[column] = value
    target = tmp_path / "cercarbono" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerow(row)
    return target


def test_bad_date_is_rejected_with_its_place(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "issuances", "issuance_date", "2019-13-07T18:33:46.000Z")
    assert rejected(path) == [f"{path}, row 1, column 'issuance_date': '2019-13-07T18:33:46.000Z' is not a valid calendar date"]


def test_bad_number_is_rejected_with_its_place(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "issuances", "issued_quantity", "62,74O")
    assert rejected(path) == [f"{path}, row 1, column 'issued_quantity': '62,74O' is not a number"]


def test_bad_serial_key_is_rejected_with_its_place(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "retirements", "serial", "CDC-1-2009")
    assert rejected(path) == [
        f"{path}, row 1, column 'serial': 'CDC-1-2009' is not a Cercarbono serial key "
        "(expected STD_[R_]PROJECT_..._[YYYY][_BF|_BFC|_BFI][_YYYY], e.g. CDC_1_1_1_321_14_1_2009)"]


def test_bad_unit_range_is_rejected_with_its_place(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "retirements", "to", "4000")  # before 'from' (4426)
    assert rejected(path) == [f"{path}, row 1, column 'to': '4000' has its end number before its start number"]


def test_bad_literal_cell_is_rejected_with_its_place(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "projects", "locations", "[{'city': 'Planeta Rica'")
    assert rejected(path) == [f"{path}, row 1, column 'locations': \"[{{'city': 'Planeta Rica'\" is not a Python literal"]


def test_bad_field_inside_the_serials_cell_names_the_batch(tmp_path: Path) -> None:
    row = read_rows(FILES["projects"])[0]
    cell = row["serials"].replace("'2019-03-07T18:33:46.000Z'", "'2019-03-32T18:33:46.000Z'", 1)
    path = _broken_copy(tmp_path, "projects", "serials", cell)
    assert rejected(path) == [f"{path}, row 1, column 'serials': '2019-03-32T18:33:46.000Z' is not a valid calendar date "
                               "(batch 'CDC_1_1_1_321_14_1', field 'issuance_date')"]


def test_missing_required_column_isrejected(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "issuances", "serial", "CDC_1_1_1_321_14_1", drop="issuance_date")
    (message,) = rejected(path)
    assert message == (
        f"{path}: missing required column 'issuance_date' (expected: 'serial', 'issued_quantity', 'issuance_date'; "
        "found: 'verification', 'serial', 'issued_quantity', 'year', 'is_buffer', 'vintage_of_credits', "
        "'global_goals', 'elegible')")
