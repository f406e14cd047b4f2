"""Cercarbono registry exports (the EcoRegistry platform).

Files (columns in data/registry-exports/README.md):

- ``projects.csv``: one row per project listing: ``id`` (numeric, the native id: the project
  number in every serial batch key and in the retirements' ``project_id``), ``code``
  ("CDC-1"), ``owner``/``owner_id``, ``developer``/``developer_id`` (EcoRegistry organisation
  ids "ECOxC_…"), ``validator``, ``verifier``, ``credits_type``, ``name``, ``description``,
  ``standard``, ``sector``, ``evaluation_criteria``, ``quantification_method``, ``stage``,
  ``locations``, ``serials``, ``annualEstimated``. The cells ``sector``, ``locations`` and
  ``serials`` are *Python literals* (single-quoted lists of dicts), read with
  :func:`parse.parse_python_literal`, never ``eval``. ``serials`` holds every issuance batch of
  the project with the same fields as ``issuances.csv``, so the projects file states each batch
  and its issuance exactly as the issuances file does (same IRIs, same triples).
- ``issuances.csv``: one row per issuance batch: ``serial`` (the batch key, e.g.
  ``CDC_1_1_1_321_14_1_2009``: no unit numbers), ``verification`` (its number within the
  project), ``issued_quantity``, ``issuance_date`` (ISO with ``Z``), ``year``, ``is_buffer``,
  ``vintage_of_credits`` ("2010-01-01 / 2018-09-30"), ``global_goals`` (SDG list literal),
  ``elegible`` (list literal of {description, code}: ICC Colombian carbon tax, CV voluntary
  compensation…). The file has no project column: the project is the number in the batch key.
- ``retirements.csv``: one row per retired unit range: ``project_id`` (= projects ``id``),
  ``project_name``, ``serial`` (batch key) with ``from``/``to`` (the unit range inside the
  batch), ``vintage``, ``certificate_destination``, ``end_user``, ``passive_subject``, ``date``
  (``2022-02-24 20:20:59``, UTC assumed), ``quantity``, ``public_consult``, ``industry``.

Blocks. An issuance batch has no published unit range (retirements number units from 0 in
some batches and from 1 in others), so it is a record block keyed on its batch key,
``…/cercarbono/block/<key>``, the same from ``projects.csv`` and ``issuances.csv``. A retired
range is a serial block ``…/cercarbono/block/<key>/<from>-<to>`` in the numbering space of its
batch (``ck:serialPrefix`` = the batch key on both, and ``ck:serialBatch`` = the batch key, so
the two join).

Vintage. ``vintage_of_credits`` gives ``ck:vintageStart``/``ck:vintageEnd`` and
``ck:vintageYear`` = the year of its end (as the ontology defines a multi-year vintage). For
the first, multi-year batches EcoRegistry's own ``year`` (issuances) and ``vintage``
(retirements) name another year (``CDC_1_1_1_321_14_1``: 2010-01-01 / 2018-09-30, year 2015):
the issuance keeps it as ``ck:note "year: 2015"``; a retirement's ``vintage`` is the only
vintage its file gives for the retired range and is kept as that block's ``ck:vintageYear``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from carbonkg import iris
from carbonkg.loaders import emit as E
from carbonkg.loaders import parse, vocab
from carbonkg.loaders.base import Emitter, Row, TableSpec
from carbonkg.loaders.emit import A, T, iri
from carbonkg.loaders.labels import status_for
from carbonkg.loaders.serials import parse_cercarbono_batch, parse_cercarbono_serial

REGISTRY = "cercarbono"
V = TypeVar("V")

_VOCAB = iris.VOCAB_BASE
_PROV_AGENT = iri(E.PROV + "agent")
_PROGRAMME = iris.concept("programme", "cercarbono-programme")
_TAXPAYER = iri(iris.concept("role", "taxpayer"))
#: cell texts that mean "nothing given" (kept only in the raw record)
_PLACEHOLDERS = frozenset({"not defined", "not public", "n/a", "-", "–"})
#: "CDM - AR-ACM0003: Afforestation and …": programme, code, title
_METHOD_FULL_RE = re.compile(r"(?P<prog>[^:]+?)\s+-\s+(?P<code>[^\s:]+):\s*(?P<title>.*)")
#: "NTC 6208 - Mitigation actions in …": code, title
_METHOD_SHORT_RE = re.compile(r"(?P<code>[^:]+?)\s+-\s+(?P<title>.*)")
#: methodology prefix → (registry slug that mints the methodology, programme concept IRI).
#: "CCB" is EcoRegistry's abbreviation of Cercarbono (M/UT/F-A01 and M/LU-REDD+ are Cercarbono
#: methodologies), not the CCB Standards, so it is not looked up in the programme vocabulary.
_METHOD_PROGRAMMES: dict[str, tuple[str, str | None]] = {
    "CDM": ("cdm", iris.concept("programme", "cdm")),
    "CCB": (REGISTRY, _PROGRAMME),
}


def _placeholder(text: str | None) -> bool:
    return text is None or text.casefold() in _PLACEHOLDERS


def _slug(concept: str, scheme: str) -> str:
    return concept.removeprefix(f"{_VOCAB}{scheme}/")


def _listing(out: Emitter, native_id: str) -> str:
    return out.describes(out.listing(native_id))


def _country_text(row: Row, out: Emitter, subject: str, column: str, text: str, predicate: str) -> str | None:
    """A country named inside a literal cell → country text and concept (like Emitter.country)."""
    out.add(subject, T.countryText, E.literal(text))
    try:
        code = parse.parse_country(text)
    except ValueError:
        row.uninterpreted.add(row.columns.get(column, column), "country", text)
        return None
    if code:
        concept = E.iri(iris.country(code))
        out.add(subject, predicate, concept)
        return concept
    return None


def _nested(row: Row, column: str, where: str, value: Any, parser: Callable[[str], V | None]) -> V | None:
    """Parse one field of a literal cell; a bad value is a row error naming the field."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    try:
        return parser(text)
    except ValueError as exc:
        row.error(column, text, f"{exc} ({where})")
        return None


# --------------------------------------------------------------------------- batches

# ``global_goals`` and ``elegible`` repeat the same few literals on every row; parsing a Python
# literal costs a compile, so each distinct text is parsed once (errors are not cached).


@functools.lru_cache(maxsize=4096)
def _sdgs(text: str) -> tuple[int, ...]:
    return tuple(parse.parse_sdg_list(text) or ())


@functools.lru_cache(maxsize=4096)
def _eligibility(text: str) -> tuple[tuple[str | None, str | None], ...]:
    """``elegible`` → ((description, code), …), each normalised."""
    items = parse.parse_literal_list(text) or []
    out: list[tuple[str | None, str | None]] = []
    for item in items:
        if isinstance(item, dict):
            out.append((parse.normalise_text(str(item.get("description") or "")),
                        parse.normalise_text(str(item.get("code") or ""))))
        elif isinstance(item, str):
            out.append((parse.normalise_text(item), None))
        else:
            raise ValueError("is not a list of {description, code} entries")
    return tuple(out)


class _Batch:
    """The parsed fields of one issuance batch, from an issuances row or a projects ``serials`` entry."""

    __slots__ = ("key", "verification", "quantity", "issued_on", "year", "is_buffer", "vintage",
                 "goals", "labels")

    def __init__(self) -> None:
        self.key = None
        self.verification: str | None = None
        self.quantity: Decimal | None = None
        self.issued_on = None
        self.year: int | None = None
        self.is_buffer: bool | None = None
        self.vintage = None
        self.goals: tuple[int, ...] | None = None
        self.labels: tuple[tuple[str | None, str | None], ...] | None = None


def _batch_from_row(row: Row) -> _Batch:
    b = _Batch()
    b.key = row.parsed("serial", parse_cercarbono_batch)
    b.verification = row.text("verification")
    b.quantity = row.parsed("issued_quantity", parse.parse_decimal)
    b.issued_on = row.parsed("issuance_date", parse.parse_when)
    b.year = row.parsed("year", parse.parse_year)
    b.is_buffer = row.parsed("is_buffer", parse.parse_yes_no)
    b.vintage = row.parsed("vintage_of_credits", parse.parse_date_range)
    b.goals = row.parsed("global_goals", _sdgs)
    b.labels = row.parsed("elegible", _eligibility)
    return b


def _batch_from_entry(row: Row, entry: Any, n: int) -> _Batch | None:
    column = "serials"
    if not isinstance(entry, dict) or not isinstance(entry.get("serial"), str):
        row.error(column, str(entry)[:200], f"is not a serial batch (entry {n} needs a 'serial' text)")
        return None
    b = _Batch()
    key = entry["serial"]
    b.key = _nested(row, column, f"entry {n}, field 'serial'", key, parse_cercarbono_batch)
    where = f"batch {key!r}, field "
    verification = entry.get("verification")
    b.verification = None if verification in (None, "") else str(verification)
    b.quantity = _nested(row, column, where + "'issued_quantity'", entry.get("issued_quantity"), parse.parse_decimal)
    b.issued_on = _nested(row, column, where + "'issuance_date'", entry.get("issuance_date"), parse.parse_when)
    b.year = _nested(row, column, where + "'year'", entry.get("year"), parse.parse_year)
    b.is_buffer = _nested(row, column, where + "'is_buffer'", entry.get("is_buffer"), parse.parse_yes_no)
    b.vintage = _nested(row, column, where + "'vintage_of_credits'", entry.get("vintage_of_credits"), parse.parse_date_range)
    for field, attr, parser in (("global_goals", "goals", _sdgs), ("elegible", "labels", _eligibility)):
        value = entry.get(field)
        text = value if isinstance(value, str) or value is None else repr(value)
        setattr(b, attr, _nested(row, column, f"{where}'{field}'", text, parser))
    return b


def _batch_block(out: Emitter, key: str, listing: str) -> str:
    """The record block of an issuance batch: one IRI per batch key, in every Cercarbono file."""
    block = out.record_block("block", key, listing=listing)
    if out.once(block + "#key"):
        out.add(block, T.serialNumber, E.literal(key))
        out.add(block, T.serialPrefix, E.literal(key))
        out.add(block, T.serialBatch, E.literal(key))
    return block


def _attest_eligibility(row: Row, out: Emitter, block: str, column: str,
                        items: tuple[tuple[str | None, str | None], ...]) -> None:
    """``elegible`` entries (description, code) → one label attestation each."""
    for description, code in items:
        text = description or code
        if not text:
            continue
        concept = vocab.lookup("label-type", text) or (vocab.lookup("label-type", code) if code else None)
        if concept is None:
            row.uninterpreted.add(row.columns.get(column, column), "label-type", text + (f" ({code})" if code else ""))
            continue
        label = _slug(concept, "label-type")
        out.attest(block, label, text=text, status=status_for(label))


def _emit_batch(row: Row, out: Emitter, b: _Batch, listing: str | None, column: str, *, unit_kind: str | None = None) -> None:
    """A batch: its block (quantity, vintage, buffer flag, SDGs, labels) and its issuance."""
    if b.key is None:
        return
    key = b.key.raw
    if listing is None:
        listing = _listing(out, b.key.project)
    block = _batch_block(out, key, listing)
    out.concept(block, T.unitKind, unit_kind)
    out.concept(block, T.underProgramme, _PROGRAMME)
    out.decimal(block, T.quantity, b.quantity)
    if b.vintage is not None:
        start, end = b.vintage
        out.date(block, T.vintageStart, start)
        out.date(block, T.vintageEnd, end)
        vintage_year: int | None = end.year
    else:
        vintage_year = b.key.vintage if b.key.vintage is not None else b.year
    out.year(block, T.vintageYear, vintage_year)
    if b.is_buffer is not None:
        out.add(block, T.isBuffer, E.boolean(b.is_buffer))
    for goal in b.goals or ():
        sdg = E.iri(iris.sdg(goal))
        out.add(block, T.contributesToSDG, sdg)
        out.add(listing, T.contributesToSDG, sdg)
    if b.labels:
        _attest_eligibility(row, out, block, column, b.labels)

    issuance = out.event("Issuance", iris.record(REGISTRY, "issuance", key), listing=listing, event_type="issuance")
    out.when(issuance, b.issued_on)
    out.add(issuance, T.issuedFor, listing)
    out.add(issuance, T.generatedBlock, block)
    out.add(block, E.PROV_GENERATED_BY, issuance)
    if b.year is not None and b.year != vintage_year:  # EcoRegistry's own year of a multi-year batch
        out.text(issuance, T.note, f"year: {b.year}")
    if b.verification:
        verification = out.describes(E.iri(iris.record(REGISTRY, "verification", b.key.project, b.verification)))
        if out.once(verification):
            out.add(verification, A, T.Verification)
            out.add(verification, T.recordedIn, out.registry_token)
            out.add(verification, T.verificationId, E.literal(b.verification))
            out.add(verification, T.assessmentOf, listing)
        out.add(issuance, T.basedOnVerification, verification)


# --------------------------------------------------------------------------- projects


def _methodology(row: Row, out: Emitter, listing: str) -> None:
    text = row.text("quantification_method")
    if _placeholder(text):
        return
    assert text is not None
    out.text(listing, T.methodologyText, text)
    m = _METHOD_FULL_RE.fullmatch(text)
    programme: str | None = None
    registry = REGISTRY
    if m is not None:
        code, title = m["code"], m["title"]
        registry, programme = _METHOD_PROGRAMMES.get(m["prog"].strip(), (REGISTRY, None))
    else:
        m = _METHOD_SHORT_RE.fullmatch(text)
        code, title = (m["code"], m["title"]) if m is not None else (text, None)
    method = out.describes(E.iri(iris.methodology(registry, code)))
    out.add(listing, T.methodology, method)
    if out.once(method):
        out.add(method, A, T.Methodology)
        out.text(method, T.methodologyCode, code)
        out.label(method, parse.normalise_text(title))
        out.concept(method, T.underProgramme, programme)


def _sectors(row: Row, out: Emitter, listing: str) -> None:
    items = row.parsed("sector", parse.parse_python_literal)
    if items is None:
        return
    if not isinstance(items, list):
        row.error("sector", row.raw("sector"), "is not a list of sectors")
        return
    seen: set[Any] = set()
    for item in items:
        if not isinstance(item, dict):
            row.error("sector", row.raw("sector"), "is not a list of sectors (an entry is not a {id, description} dict)")
            return
        description = parse.normalise_text(str(item.get("description") or ""))
        sector_id = item.get("id")
        if (description, sector_id) not in seen:
            seen.add((description, sector_id))
            concept = (vocab.lookup("sector", description) if description else None) or (
                vocab.lookup("sector", str(sector_id)) if sector_id is not None else None)
            if concept is None:
                row.uninterpreted.add(row.columns.get("sector", "sector"), "sector", description or str(sector_id))
            out.concept(listing, T.sector, concept)
        size, units = item.get("projectSize"), parse.normalise_text(str(item.get("sizeUnits") or ""))
        if size not in (None, "", 0) and (size, units) not in seen:
            seen.add((size, units))
            out.text(listing, T.note, f"projectSize: {size} {units}".rstrip())


def _coordinate(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str) and value.strip():
        return format(parse.parse_decimal(value), "f")
    return None


def _locations(row: Row, out: Emitter, listing: str) -> None:
    items = row.parsed("locations", parse.parse_python_literal)
    if items is None:
        return
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        row.error("locations", row.raw("locations"), "is not a list of locations")
        return
    distinct: list[dict[str, Any]] = []
    for item in items:
        if item not in distinct:  # EcoRegistry repeats identical entries
            distinct.append(item)
    listing_iri = listing[1:-1]
    for n, item in enumerate(distinct, 1):
        location = out.describes(E.iri(iris.location(listing_iri, n)))
        out.add(listing, T.location, location)
        out.add(location, A, T.Location)
        country = parse.normalise_text(str(item.get("country") or ""))
        if country:
            concept = _country_text(row, out, location, "locations", country, T.country)
            if concept:
                out.add(listing, T.hostCountry, concept)
        out.text(location, T.subdivision, parse.normalise_text(str(item.get("region") or "")))
        out.text(location, T.placeName, parse.normalise_text(str(item.get("city") or "")))
        point = item.get("data_map")
        if isinstance(point, dict):
            try:
                lat, lon = _coordinate(point.get("latitude")), _coordinate(point.get("longitude"))
            except ValueError:
                row.error("locations", str(point), "has a coordinate that is not a number")
                continue
            if lat is not None and lon is not None:
                geometry = out.describes(E.iri(iris.record(REGISTRY, "geometry", listing_iri.rsplit("/", 1)[1], str(n))))
                out.add(location, E.GEO_HAS_GEOMETRY, geometry)
                out.add(geometry, A, E.GEO_GEOMETRY)
                out.add(geometry, E.GEO_AS_WKT, E.typed(f"POINT({lon} {lat})", E.GEO_WKT))


def emit_project(row: Row, out: Emitter) -> None:
    native = row.text("id")
    if native is None:
        row.error("id", "", "is empty; every Cercarbono project row has a numeric id")
        return
    listing = _listing(out, native)
    out.label(listing, row.text("name"))
    code = row.text("code")
    if code:
        out.text(listing, T.note, f"code: {code}")
    out.text(listing, E.DESCRIPTION, row.text("description"))
    out.concept(listing, T.underProgramme, row.concept("programme", "standard"))
    for predicate, name_col, id_col in ((T.owner, "owner", "owner_id"), (T.developer, "developer", "developer_id")):
        org = out.role(listing, predicate, row.text(name_col), native_id=row.text(id_col))
        if org:
            out.describes(org)
    for predicate, column in ((T.validationBody, "validator"), (T.verificationBody, "verifier")):
        org = out.role(listing, predicate, row.text(column))
        if org:
            out.describes(org)
    criteria = row.text("evaluation_criteria")
    if not _placeholder(criteria):
        out.text(listing, T.note, f"evaluation_criteria: {criteria}")
    _sectors(row, out, listing)
    _methodology(row, out, listing)
    out.status(row, listing, "stage", "project-status", T.projectStatus)
    _locations(row, out, listing)
    out.decimal(listing, T.estimatedAnnualReductions, row.parsed("annualEstimated", parse.parse_decimal))

    unit_kind = row.concept("unit-kind", "credits_type")
    entries = row.parsed("serials", parse.parse_python_literal)
    if entries is None:
        return
    if not isinstance(entries, list):
        row.error("serials", row.raw("serials")[:200], "is not a list of serial batches")
        return
    for n, entry in enumerate(entries, 1):
        batch = _batch_from_entry(row, entry, n)
        if batch is not None:
            _emit_batch(row, out, batch, listing, "serials", unit_kind=unit_kind)


# -------------------------------------------------------------------------- issuances


def emit_issuance(row: Row, out: Emitter) -> None:
    batch = _batch_from_row(row)
    if batch.key is None:
        if not row.text("serial"):
            row.error("serial", "", "is empty; every Cercarbono issuance row names its batch key")
        return
    _emit_batch(row, out, batch, None, "elegible")


# ------------------------------------------------------------------------ retirements


def emit_retirement(row: Row, out: Emitter) -> None:
    native = row.text("project_id")
    batch = row.parsed("serial", parse_cercarbono_batch)
    first = row.parsed("from", parse.parse_integer)
    last = row.parsed("to", parse.parse_integer)
    for column, value in (("serial", batch), ("from", first), ("to", last)):
        if value is None and not row.text(column):
            row.error(column, "", "is empty; a Cercarbono retirement names its batch key and unit range ('from', 'to')")
    if batch is None or first is None or last is None:
        return
    try:
        serial = parse_cercarbono_serial(batch.raw, first, last)
    except ValueError as exc:  # a negative start, or an end before the start
        column = "from" if "negative" in str(exc) else "to"
        row.error(column, row.raw(column), str(exc))
        return
    key = batch.raw
    listing = _listing(out, native or serial.project or "")
    if out.once(listing + "#name"):
        out.label(listing, row.text("project_name"))
    quantity = row.parsed("quantity", parse.parse_decimal)
    retired_on = row.parsed("date", parse.parse_when)
    vintage = row.parsed("vintage", parse.parse_year)

    block = out.block(serial, listing=listing, quantity=quantity)
    out.add(block, T.serialBatch, E.literal(key))
    out.concept(block, T.underProgramme, _PROGRAMME)
    out.year(block, T.vintageYear, vintage)

    event = out.event("Retirement", iris.record(REGISTRY, "retirement", key, f"{serial.start}-{serial.end}"),
                      listing=listing, event_type="retirement")
    out.when(event, retired_on)
    out.add(event, T.affectsBlock, block)
    out.add(block, E.PROV_INVALIDATED_BY, event)
    out.decimal(event, T.quantity, quantity)
    destination = row.text("certificate_destination")
    out.text(event, T.purposeText, destination)
    out.concept(event, T.retirementReason, row.concept("retirement-reason", "certificate_destination"))
    end_user = row.text("end_user")
    out.text(event, T.beneficiaryName, end_user)
    if not _placeholder(end_user):
        org = out.role(event, T.beneficiary, end_user)
        if org:
            out.describes(org)
    taxpayer = row.text("passive_subject")
    if not _placeholder(taxpayer):
        org = out.organisation(taxpayer)
        if org:
            out.describes(org)
            out.add(event, T.participant, org)
            participation = out.describes(E.iri(iris.record(REGISTRY, "participation", key, f"{serial.start}-{serial.end}", "taxpayer")))
            out.add(event, T.participation, participation)
            out.add(participation, A, T.Participation)
            out.add(participation, T.role, _TAXPAYER)
            out.add(participation, _PROV_AGENT, org)
    out.url(event, T.certificateUrl, row.text("public_consult"))
    industry = row.text("industry")
    if not _placeholder(industry):
        out.text(event, T.note, f"industry: {industry}")


# ------------------------------------------------------------------------------ specs

PROJECTS = TableSpec(
    registry=REGISTRY,
    table="projects",
    required=("id", "code", "name"),
    optional=("is_public", "owner", "owner_id", "developer", "developer_id", "validator", "verifier",
              "credits_type", "description", "standard", "sector", "evaluation_criteria",
              "quantification_method", "stage", "locations", "serials", "annualEstimated"),
    signature=("id", "code", "owner_id", "developer_id", "quantification_method"),
    emit=emit_project,
)

ISSUANCES = TableSpec(
    registry=REGISTRY,
    table="issuances",
    required=("serial", "issued_quantity", "issuance_date"),
    optional=("verification", "year", "is_buffer", "vintage_of_credits", "global_goals", "elegible"),
    signature=("serial", "issued_quantity", "vintage_of_credits", "is_buffer"),
    emit=emit_issuance,
)

RETIREMENTS = TableSpec(
    registry=REGISTRY,
    table="retirements",
    required=("project_id", "serial", "from", "to", "quantity"),
    optional=("project_name", "vintage", "certificate_destination", "end_user", "passive_subject",
              "date", "public_consult", "industry"),
    signature=("serial", "from", "to", "passive_subject", "certificate_destination"),
    emit=emit_retirement,
)

SPECS = (PROJECTS, ISSUANCES, RETIREMENTS)
