"""Isometric loader on the real exports (data/registry-exports/isometric).

Every check compares the RDF with the CSV cells read and parsed independently here (csv module,
Decimal, date/datetime.fromisoformat, ast.literal_eval), not with the loader's own parsers.
Malformed input is tested with tiny synthetic files written to tmp_path: the real header plus
one real row with one cell broken. Isometric publishes no serial numbers, so there is no bad-serial
case; a bad latitude and a bad ``purposes`` list take its place.
"""

from __future__ import annotations

import ast
import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, RDFS, Literal, Namespace, URIRef

from carbonkg.loaders import isometric
from carbonkg.loaders.pipeline import FileResult, all_specs, convert_file, detect_spec, load_file, open_source
from carbonkg.loaders.readers import header_signature, normalise_name, open_table
from carbonkg.store import EmbeddedStore

from loader_helpers import convert_all

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "data" / "registry-exports"
ISO = EXPORTS / "isometric"
FILES = {"projects": ISO / "projects.csv", "issuances": ISO / "issuances.csv", "retirements": ISO / "retirements.csv"}

CK = Namespace("https://w3id.org/carbonkg/ontology#")
CSVW = Namespace("http://www.w3.org/ns/csvw#")
PROV = Namespace("http://www.w3.org/ns/prov#")
DCT = Namespace("http://purl.org/dc/terms/")
GEO = Namespace("http://www.opengis.net/ont/geosparql#")
SCHEMA = Namespace("http://schema.org/")
ID = "https://w3id.org/carbonkg/id/isometric/"
VOCAB = "https://w3id.org/carbonkg/vocab/"

#: ISO 3166 alpha-3 → alpha-2 for the codes in these files (written out by hand)
ALPHA2 = {"USA": "US", "IND": "IN", "CAN": "CA", "BRA": "BR", "GHA": "GH", "DEU": "DE", "COG": "CG", "CZE": "CZ",
          "MEX": "MX", "CHL": "CL", "CRI": "CR", "TZA": "TZ", "NLD": "NL"}
STATUS = {"under_validation": "under-validation", "validated": "validated",
          "validation_unsuccessful": "validation-unsuccessful", "cancelled": "cancelled"}
PATHWAY = {"biomass_carbon_removal_and_storage": "biomass-carbon-removal-and-storage",
           "enhanced_weathering": "enhanced-weathering", "marine": "marine-carbon-dioxide-removal",
           "direct_air_capture": "direct-air-capture", "reforestation": "reforestation"}
PURPOSE = {"corporate_targets": "corporate-targets", "public_environmental_claims": "public-environmental-claims",
           "other": "other"}


def node(kind: str, key: str) -> URIRef:
    return URIRef(f"{ID}{kind}/{key}")


def concept(scheme: str, slug: str) -> URIRef:
    return URIRef(f"{VOCAB}{scheme}/{slug}")


def norm(text: str) -> str:
    """Cells are loaded with white space collapsed (the loaders' text rule)."""
    return " ".join(text.split())


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def one(graph: rdflib.Graph, s: URIRef, p: URIRef) -> rdflib.term.Node:
    values = list(graph.objects(s, p))
    assert len(values) == 1, (s, p, values)
    return values[0]


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[FileResult, rdflib.Graph]]:
    return convert_all(FILES, tmp_path_factory.mktemp("iso"))


# ------------------------------------------------------------------------- whole files


@pytest.mark.parametrize("kind", list(FILES))
def test_real_file_loads_completely(kind: str, converted: dict) -> None:
    path = FILES[kind]
    result = load_file(EmbeddedStore(None), path)
    expected_rows = len(csv_rows(path))
    assert result.status == "loaded", [str(e) for e in result.errors]
    assert result.errors == []
    assert (result.registry, result.table, result.rows) == ("isometric", kind, expected_rows)
    assert dict(result.uninterpreted.counts) == {}
    _, graph = converted[kind]
    assert len(set(graph.subjects(RDF.type, CSVW.Row))) == expected_rows
    assert one(graph, node("export", path.name), CK.rowCount).toPython() == expected_rows


@pytest.mark.parametrize("kind", list(FILES))
def test_no_blank_nodes_and_every_entity_is_described(kind: str, converted: dict) -> None:
    _, graph = converted[kind]
    assert not any(isinstance(t, rdflib.BNode) for triple in graph for t in triple)
    described = set(graph.objects(None, CSVW.describes))
    entity_classes = {CK.ProjectListing, CK.CreditBlock, CK.Issuance, CK.Retirement, CK.Organisation,
                      CK.Methodology, CK.Location, GEO.Geometry}
    minted = {s for cls in entity_classes for s in graph.subjects(RDF.type, cls)}
    assert minted and minted <= described


@pytest.mark.parametrize("kind", list(FILES))
def test_detection_picks_this_spec_and_no_other_spec_matches(kind: str) -> None:
    table = open_table(FILES[kind])
    spec = detect_spec(table)
    assert (spec.registry, spec.table) == ("isometric", kind)
    header = header_signature(table.header)
    matching = [s.key for s in all_specs() if {normalise_name(c) for c in s.identifying_columns} <= header]
    assert matching == [f"isometric/{kind}"]


def test_no_isometric_spec_matches_another_registrys_file() -> None:
    for path in sorted(EXPORTS.glob("*/*.csv")):
        if path.parent.name == "isometric":
            continue
        header = header_signature(open_table(path).header)
        for spec in isometric.SPECS:
            assert not {normalise_name(c) for c in spec.identifying_columns} <= header, (path, spec.key)


# ------------------------------------------------------------------------- spot checks


def _location(graph: rdflib.Graph, subject: URIRef, row: dict[str, str], prefix: str, key: str) -> None:
    code, lat, lon = row[f"{prefix}.country_code"], row[f"{prefix}.latitude"], row[f"{prefix}.longitude"]
    place = row[f"{prefix}.description"]
    locations = set(graph.objects(subject, CK.location))
    if not (code or lat or lon or place or row[f"{prefix}.country_name"]):
        assert locations == set()
        return
    (location,) = locations
    assert (location, RDF.type, CK.Location) in graph
    if code:
        assert one(graph, location, CK.country) == concept("country", ALPHA2[code])
        assert one(graph, location, CK.countryText) == Literal(code)
    assert set(graph.objects(location, CK.placeName)) == ({Literal(norm(place))} if place else set())
    if lat and lon:
        geometry = one(graph, location, GEO.hasGeometry)
        assert geometry == node("geometry", key)
        wkt = one(graph, geometry, GEO.asWKT)
        assert wkt.datatype == GEO.wktLiteral
        x, y = str(wkt).removeprefix("POINT(").removesuffix(")").split(" ")
        assert (Decimal(x), Decimal(y)) == (Decimal(lon), Decimal(lat))


def _organisation(graph: rdflib.Graph, row: dict[str, str], prefix: str) -> URIRef:
    org = node("org", row[f"{prefix}.id"])
    assert one(graph, org, CK.orgName) == Literal(norm(row[f"{prefix}.name"]))
    domains = set(graph.objects(org, CK.webDomain))
    assert (Literal(row[f"{prefix}.domain"]) in domains) if row[f"{prefix}.domain"] else True
    return org


def test_projects_values(converted: dict) -> None:
    _, graph = converted["projects"]
    for row in csv_rows(FILES["projects"]):
        listing = node("project", row["id"])
        assert one(graph, listing, CK.nativeId) == Literal(row["id"])
        assert one(graph, listing, RDFS.label) == Literal(norm(row["name"]))
        assert one(graph, listing, DCT.identifier) == Literal(row["short_code"])
        assert one(graph, listing, SCHEMA.url) == Literal(row["url"], datatype=rdflib.XSD.anyURI)
        assert one(graph, listing, CK.projectStatus) == concept("project-status", STATUS[row["status"]])
        assert one(graph, listing, CK.projectType) == concept("project-type", PATHWAY[row["pathway"]])
        assert one(graph, listing, CK.methodology) == node("methodology", row["protocol_slug"])
        assert one(graph, listing, CK.hostCountry) == concept("country", ALPHA2[row["country_code"]])
        for column, predicate in (("validator_name", CK.validationBody), ("current_verifier_name", CK.verificationBody)):
            orgs = set(graph.objects(listing, predicate))
            assert {one(graph, o, CK.orgName) for o in orgs} == ({Literal(row[column])} if row[column] else set())
        for column, predicate in (("crediting_period_start", CK.creditingPeriodStart),
                                  ("crediting_period_end", CK.creditingPeriodEnd)):
            values = [v.toPython() for v in graph.objects(listing, predicate)]
            assert values == ([date.fromisoformat(row[column])] if row[column] else [])
        assert one(graph, listing, CK.registeredQuantity).toPython() == Decimal(row["issued_credits_total.credits"])
        assert one(graph, listing, CK.bufferQuantity).toPython() == Decimal(row["issued_buffer_pool_credits_total.credits"])
        supplier = _organisation(graph, row, "supplier.organisation")
        assert (listing, CK.developer, supplier) in graph
        assert Literal(row["supplier.id"]) in set(graph.objects(supplier, DCT.identifier))
        _location(graph, listing, row, "location", row["id"])
        _location(graph, supplier, row, "supplier.location", row["supplier.organisation.id"])


def test_issuances_values(converted: dict) -> None:
    _, graph = converted["issuances"]
    for row in csv_rows(FILES["issuances"]):
        issuance = node("issuance", row["id"])
        listing = node("project", row["project_id"])
        assert (issuance, RDF.type, CK.Issuance) in graph
        assert one(graph, issuance, CK.issuedFor) == listing
        assert one(graph, issuance, PROV.endedAtTime).toPython() == when(row["issued_at"])
        assert one(graph, issuance, CK.eventDate).toPython() == when(row["issued_at"]).date()
        assert one(graph, issuance, CK.quantity).toPython() == Decimal(row["credit_batch_size_total.credits"])
        buffer = Decimal(row["buffer_pool_credit_batch_size_total.credits"])
        assert one(graph, issuance, CK.bufferQuantity).toPython() == buffer
        blocks = {node("block", f"{row['id']}/supplier"): (False, Decimal(row["supplier_credit_batch_size_total.credits"])),
                  node("block", f"{row['id']}/buffer"): (True, buffer)}
        assert set(graph.objects(issuance, CK.generatedBlock)) == set(blocks)
        for block, (is_buffer, quantity) in blocks.items():
            assert one(graph, block, CK.isBuffer).toPython() is is_buffer
            assert one(graph, block, CK.quantity).toPython() == quantity
            assert one(graph, block, CK.blockOf) == listing
            assert one(graph, block, PROV.wasGeneratedBy) == issuance
            assert one(graph, block, CK.unitKind) == concept("unit-kind", "isometric-credit")
        supplier = _organisation(graph, row, "supplier.organisation")
        assert (listing, CK.developer, supplier) in graph
        _location(graph, supplier, row, "supplier.location", row["supplier.organisation.id"])


def test_retirements_values(converted: dict) -> None:
    _, graph = converted["retirements"]
    for row in csv_rows(FILES["retirements"]):
        event = node("retirement", row["retirement_id"])
        block = node("block", row["retirement_id"])
        listing = node("project", row["project_id"])
        assert (event, RDF.type, CK.Retirement) in graph
        assert one(graph, event, CK.eventFor) == listing
        assert one(graph, event, CK.affectsBlock) == block
        assert one(graph, block, PROV.wasInvalidatedBy) == event
        assert one(graph, block, CK.blockOf) == listing
        assert one(graph, event, PROV.endedAtTime).toPython() == when(row["retired_at"])
        quantity = Decimal(row["credit_batch_size_total.credits"])
        assert one(graph, event, CK.quantity).toPython() == quantity
        assert one(graph, block, CK.quantity).toPython() == quantity
        sequestered = date.fromisoformat(row["sequestered_on"])
        assert int(str(one(graph, block, CK.vintageYear))) == sequestered.year
        assert one(graph, block, CK.vintageEnd).toPython() == sequestered
        assert one(graph, event, CK.certificateUrl) == Literal(row["url"], datatype=rdflib.XSD.anyURI)
        assert set(graph.objects(event, CK.note)) == ({Literal(norm(row["notes"]))} if row["notes"] else set())
        purposes = ast.literal_eval(row["purposes"])
        assert set(graph.objects(event, CK.retirementReason)) == {concept("retirement-reason", PURPOSE[p]) for p in purposes}
        assert set(graph.objects(event, CK.purposeText)) == {Literal(p) for p in purposes}
        beneficiary = _organisation(graph, row, "beneficiary")
        assert one(graph, event, CK.beneficiary) == beneficiary
        assert one(graph, event, CK.beneficiaryName) == Literal(norm(row["beneficiary.name"]))
        owner = _organisation(graph, row, "owner")
        assert one(graph, event, CK.accountHolder) == owner
    # one organisation id, one IRI: JPMorganChase is beneficiary and owner of its retirements
    jpm = [r for r in csv_rows(FILES["retirements"]) if r["beneficiary.name"] == "JPMorganChase"]
    assert jpm and all(r["beneficiary.id"] == r["owner.id"] for r in jpm)
    assert one(graph, node("org", jpm[0]["owner.id"]), CK.webDomain) == Literal("jpmorganchase.com")


def test_listing_iris_meet_across_files(converted: dict) -> None:
    _, projects = converted["projects"]
    _, issuances = converted["issuances"]
    _, retirements = converted["retirements"]
    listed = set(projects.subjects(RDF.type, CK.ProjectListing))
    for graph, column in ((issuances, "project_id"), (retirements, "project_id")):
        referenced = set(graph.subjects(RDF.type, CK.ProjectListing))
        assert referenced & listed
        # a project missing from the projects file still gets its listing
        path = FILES["issuances" if graph is issuances else "retirements"]
        assert referenced == {node("project", r[column]) for r in csv_rows(path)}


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
    ("retirements", "retired_at", "2026-02-30T18:21:22.047712Z", "is not a valid calendar date"),
    ("issuances", "issued_at", "14 April 2026",
     "is not a date (expected YYYY-MM-DD[THH:MM[:SS[.ffffff]][Z|+HH:MM]], M/D/YYYY [h:mm[:ss] AM|PM])"),
    ("projects", "crediting_period_start", "2025-11-31", "is not a valid calendar date"),
    ("issuances", "credit_batch_size_total.credits", "2765,37", "is not a number"),
    ("retirements", "credit_batch_size_total.credit_kgs", "531 000", "is not a number"),
    ("projects", "location.latitude", "127.0238", "is not a latitude between -90 and 90"),
    ("retirements", "purposes", "['corporate_targets'", "is not a list (neither JSON nor a Python literal)"),
])
def test_bad_cells_reject_the_file(tmp_path: Path, kind: str, column: str, value: str, reason: str) -> None:
    path = _synthetic(tmp_path, kind, column, value)
    result = load_file(EmbeddedStore(None), path)
    assert result.status == "rejected"
    assert [str(e) for e in result.errors] == [f"{path}, row 1, column '{column}': {value!r} {reason}"]


def test_empty_project_id_is_an_error(tmp_path: Path) -> None:
    path = _synthetic(tmp_path, "retirements", "project_id", "")
    result = load_file(EmbeddedStore(None), path)
    assert result.status == "rejected"
    assert [str(e) for e in result.errors] == [
        f"{path}, row 1, column 'project_id': '' is empty; every Isometric retirement has one"]


def test_missing_required_column(tmp_path: Path) -> None:
    path = _synthetic(tmp_path, "retirements", "", "", drop="project_id")
    result = load_file(EmbeddedStore(None), path, registry="isometric", kind="retirements")
    assert result.status == "rejected"
    (error,) = result.errors
    header = ", ".join(repr(h) for h in csv_rows(FILES["retirements"])[0] if h != "project_id")
    assert str(error) == (f"{path}: missing required column 'project_id' (expected: 'retirement_id', "
                          f"'project_id'; found: {header})")


def test_kilograms_are_used_when_tonnes_are_blank(tmp_path: Path) -> None:
    # synthetic: the first real retirement with its tonnes cell emptied; 531000 kg = 531 t
    path = _synthetic(tmp_path, "retirements", "credit_batch_size_total.credits", "")
    sink = tmp_path / "out.nt"
    convert_file(open_source(path), sink)
    graph = rdflib.Graph().parse(sink, format="nt")
    row = csv_rows(FILES["retirements"])[0]
    event = node("retirement", row["retirement_id"])
    assert one(graph, event, CK.quantity).toPython() == Decimal(row["credit_batch_size_total.credit_kgs"]) / 1000
