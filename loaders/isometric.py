"""Isometric registry exports (carbon removal): the registry's API JSON flattened to CSV, nested
fields as dotted columns (``supplier.organisation.name``), a null object as an empty column
(``location``, ``supplier.location``).

Files (columns in data/registry-exports/README.md):

- ``projects.csv``: one row per project listing: ``id`` (``prj_…``), name, status, ``short_code``,
  url, ``process_key``, ``pathway``, ``protocol_slug``, ``country_code`` (ISO 3166 alpha-3),
  validator and current verifier names, crediting period, the supplier (``supplier.id``
  ``spl_…``, descriptions, ``supplier.organisation.id/name/domain``, ``supplier.location.*``),
  running totals ``issued_credits_total`` / ``retired_credits_total`` /
  ``issued_buffer_pool_credits_total`` / ``retired_buffer_pool_credits_total`` (each as
  ``.credits`` and ``.credit_kgs``) and the site ``location.*`` (country, latitude, longitude,
  description).
- ``issuances.csv``: one row per issuance ``id`` (``iss_…``) of a project (``project_id``),
  ``issued_at``, the supplier, and three batch sizes: ``supplier_credit_batch_size_total``,
  ``buffer_pool_credit_batch_size_total`` and their sum ``credit_batch_size_total``.
- ``retirements.csv``: one row per retirement ``retirement_id`` (``ret_…``), ``retired_at``,
  ``purposes`` (a Python-literal list: ``['public_environmental_claims', 'corporate_targets']``),
  ``url``, ``notes``, the beneficiary and the owner (account holder) organisations
  (``.id/.name/.domain``), ``credit_batch_size_total``, ``project_id`` and ``sequestered_on``.

Isometric publishes no serial numbers. An issuance yields two blocks identified by the issuance
record (:meth:`Emitter.record_block`): the supplier batch (``…/block/iss_…/supplier``) and the
buffer-pool batch (``…/block/iss_…/buffer``, ``ck:isBuffer true``; its size is also the
issuance's ``ck:bufferQuantity``). A retirement names a project and a sequestration date, not an
issuance, so the retired credits are a block of their own (``…/block/ret_…``) with
``ck:vintageYear`` = the year of ``sequestered_on`` (as OffsetsDB) and ``ck:vintageEnd`` = that
date. Credits are fractional tonnes (``2765.37``); ``credit_kgs`` repeats them in kilograms and
is read only when the tonnes cell is blank (kg / 1000).

Organisations carry Isometric's own ids (``org_…``), so the supplier, beneficiary and owner
organisations of all files meet; ``*.domain`` → ck:webDomain. Coordinates become a ck:Location
with a ``geo:Geometry`` whose ``geo:asWKT`` is ``POINT(longitude latitude)``.

Dates: ``issued_at`` / ``retired_at`` are ISO date-times with ``Z`` (UTC); the rest ISO dates.
"""

from __future__ import annotations

from decimal import Decimal

from carbonkg import iris
from carbonkg.loaders import emit as E
from carbonkg.loaders import parse
from carbonkg.loaders.base import Emitter, Row, TableSpec
from carbonkg.loaders.emit import A, T, iri

REGISTRY = "isometric"
PROGRAMME = E.iri(iris.concept("programme", "isometric-standard"))
UNIT_KIND = E.iri(iris.concept("unit-kind", "isometric-credit"))
_TRUE = E.boolean(True)
_FALSE = E.boolean(False)
_IDENTIFIER = E.iri(E.DCTERMS + "identifier")
_THOUSAND = Decimal(1000)


# ---------------------------------------------------------------------------- helpers


def _required_id(row: Row, column: str, what: str) -> str | None:
    value = row.text(column)
    if value is None:
        row.error(column, "", f"is empty; every Isometric {what} has one")
    return value


def _listing(out: Emitter, project_id: str) -> str:
    listing = out.describes(out.listing(project_id))
    if out.once(listing + "#programme"):
        out.add(listing, T.underProgramme, PROGRAMME)
    return listing


def _tonnes(row: Row, prefix: str) -> Decimal | None:
    """A ``<prefix>.credits`` / ``<prefix>.credit_kgs`` pair as tonnes (the kg cell only when needed)."""
    credits = row.parsed(prefix + ".credits", parse.parse_decimal)
    kgs = row.parsed(prefix + ".credit_kgs", parse.parse_decimal)
    if credits is None and kgs is not None:
        return kgs / _THOUSAND
    return credits


def _latitude(text: str) -> Decimal | None:
    value = parse.parse_decimal(text)
    if value is not None and not -90 <= value <= 90:
        raise ValueError("is not a latitude between -90 and 90")
    return value


def _longitude(text: str) -> Decimal | None:
    value = parse.parse_decimal(text)
    if value is not None and not -180 <= value <= 180:
        raise ValueError("is not a longitude between -180 and 180")
    return value


def _location(row: Row, out: Emitter, subject: str, prefix: str, geometry_key: str) -> None:
    """``<prefix>.country_code/country_name/latitude/longitude/description`` → a ck:Location of
    ``subject`` (once per file and subject), with a WKT point when both coordinates are given."""
    country_column = prefix + ".country_code" if row.text(prefix + ".country_code") else prefix + ".country_name"
    place = row.text(prefix + ".description")
    lat = row.parsed(prefix + ".latitude", _latitude)
    lon = row.parsed(prefix + ".longitude", _longitude)
    if not (row.text(country_column) or place or lat is not None or lon is not None):
        return
    location = out.describes(iri(iris.location(subject[1:-1])))
    out.add(subject, T.location, location)
    key = "\x1f".join((location, row.raw(country_column), place or "", str(lat), str(lon)))
    if not out.once(key):
        if lat is not None and lon is not None:
            out.describes(iri(iris.record(REGISTRY, "geometry", geometry_key)))
        return
    out.add(location, A, T.Location)
    out.country(row, location, country_column)
    out.text(location, T.placeName, place)
    if lat is not None and lon is not None:
        geometry = out.describes(iri(iris.record(REGISTRY, "geometry", geometry_key)))
        out.add(location, E.GEO_HAS_GEOMETRY, geometry)
        out.add(geometry, A, E.GEO_GEOMETRY)
        out.add(geometry, E.GEO_AS_WKT, E.typed(f"POINT({lon:f} {lat:f})", E.GEO_WKT))


def _organisation(row: Row, out: Emitter, prefix: str) -> str | None:
    """``<prefix>.id/.name/.domain`` → the organisation (keyed by its ``org_…`` id), described by the row."""
    org = out.organisation(row.text(prefix + ".name"), native_id=row.text(prefix + ".id"))
    if org is None:
        return None
    out.describes(org)
    domain = row.text(prefix + ".domain")
    if domain and out.once(org + "#domain\x1f" + domain):
        out.text(org, T.webDomain, domain)
    return org


def _supplier(row: Row, out: Emitter, listing: str) -> None:
    """The supplier organisation: the listing's developer, with its descriptions and location."""
    org = _organisation(row, out, "supplier.organisation")
    if org is None:
        return
    if out.once(listing + T.developer + org):
        out.add(listing, T.developer, org)
    supplier_id = row.text("supplier.id")
    if supplier_id and out.once(org + "#supplier\x1f" + supplier_id):
        out.text(org, _IDENTIFIER, supplier_id)
    short = row.text("supplier.short_description")
    if short and out.once(org + "#short\x1f" + short):
        out.add(org, E.COMMENT, E.literal(short))
    long = row.text("supplier.long_description")
    if long and out.once(org + "#long\x1f" + long):
        out.add(org, E.DESCRIPTION, E.literal(long))
    org_id = row.text("supplier.organisation.id") or row.text("supplier.organisation.name") or ""
    _location(row, out, org, "supplier.location", org_id)


def _protocol(row: Row, out: Emitter, listing: str) -> None:
    """``protocol_slug`` (Isometric's protocol, e.g. ``biochar``) → a ck:Methodology."""
    slug = row.text("protocol_slug")
    if slug is None:
        return
    out.text(listing, T.methodologyText, slug)
    method = out.describes(iri(iris.methodology(REGISTRY, slug)))
    out.add(listing, T.methodology, method)
    if out.once(method):
        out.add(method, A, T.Methodology)
        out.add(method, T.underProgramme, PROGRAMME)
        out.text(method, T.methodologyCode, slug)


# ------------------------------------------------------------------------------ tables


def emit_project(row: Row, out: Emitter) -> None:
    project_id = _required_id(row, "id", "project")
    if project_id is None:
        return
    listing = _listing(out, project_id)
    out.label(listing, row.text("name"))
    out.text(listing, _IDENTIFIER, row.text("short_code"))
    out.url(listing, E.SCHEMA_URL, row.text("url"))
    out.status(row, listing, "status", "project-status", T.projectStatus)
    if row.text("pathway"):
        out.concept(listing, T.projectType, row.concept("project-type", "pathway"))
    _protocol(row, out, listing)
    out.country(row, listing, "country_code", predicate=T.hostCountry)
    for column, predicate in (("validator_name", T.validationBody), ("current_verifier_name", T.verificationBody)):
        org = out.role(listing, predicate, row.text(column))
        if org:
            out.describes(org)
    out.date(listing, T.creditingPeriodStart, row.parsed("crediting_period_start", parse.parse_date))
    out.date(listing, T.creditingPeriodEnd, row.parsed("crediting_period_end", parse.parse_date))
    _supplier(row, out, listing)
    out.decimal(listing, T.registeredQuantity, _tonnes(row, "issued_credits_total"))
    out.decimal(listing, T.bufferQuantity, _tonnes(row, "issued_buffer_pool_credits_total"))
    # retired totals have no ontology property: parsed (so bad cells are caught), kept in ck:rawRecord
    _tonnes(row, "retired_credits_total")
    _tonnes(row, "retired_buffer_pool_credits_total")
    _location(row, out, listing, "location", project_id)


def emit_issuance(row: Row, out: Emitter) -> None:
    issuance_id = _required_id(row, "id", "issuance")
    project_id = _required_id(row, "project_id", "issuance")
    if issuance_id is None or project_id is None:
        return
    listing = _listing(out, project_id)
    _supplier(row, out, listing)
    issuance = out.event("Issuance", iris.record(REGISTRY, "issuance", issuance_id), listing=listing,
                         event_type="issuance")
    out.when(issuance, row.parsed("issued_at", parse.parse_when))
    out.add(issuance, T.issuedFor, listing)
    out.decimal(issuance, T.quantity, _tonnes(row, "credit_batch_size_total"))
    for part, column, is_buffer in (("supplier", "supplier_credit_batch_size_total", False),
                                    ("buffer", "buffer_pool_credit_batch_size_total", True)):
        quantity = _tonnes(row, column)
        if quantity is None:
            continue
        block = out.record_block("block", issuance_id, part, listing=listing)
        out.add(block, T.unitKind, UNIT_KIND)
        out.add(block, T.isBuffer, _TRUE if is_buffer else _FALSE)
        out.decimal(block, T.quantity, quantity)
        out.add(issuance, T.generatedBlock, block)
        out.add(block, E.PROV_GENERATED_BY, issuance)
        if is_buffer:
            out.decimal(issuance, T.bufferQuantity, quantity)


def emit_retirement(row: Row, out: Emitter) -> None:
    retirement_id = _required_id(row, "retirement_id", "retirement")
    project_id = _required_id(row, "project_id", "retirement")
    if retirement_id is None or project_id is None:
        return
    listing = _listing(out, project_id)
    quantity = _tonnes(row, "credit_batch_size_total")
    sequestered_on = row.parsed("sequestered_on", parse.parse_date)
    block = out.record_block("block", retirement_id, listing=listing)
    out.add(block, T.unitKind, UNIT_KIND)
    out.decimal(block, T.quantity, quantity)
    if sequestered_on is not None:
        out.year(block, T.vintageYear, sequestered_on.year)
        out.date(block, T.vintageEnd, sequestered_on)

    event = out.event("Retirement", iris.record(REGISTRY, "retirement", retirement_id), listing=listing,
                      event_type="retirement")
    out.when(event, row.parsed("retired_at", parse.parse_when))
    out.add(event, T.affectsBlock, block)
    out.add(block, E.PROV_INVALIDATED_BY, event)
    out.decimal(event, T.quantity, quantity)
    out.url(event, T.certificateUrl, row.text("url"))
    out.text(event, T.note, row.text("notes"))

    beneficiary = _organisation(row, out, "beneficiary")
    out.text(event, T.beneficiaryName, row.text("beneficiary.name"))
    if beneficiary:
        out.add(event, T.beneficiary, beneficiary)
    owner = _organisation(row, out, "owner")
    if owner:
        out.add(event, T.accountHolder, owner)

    for purpose in row.parsed("purposes", parse.parse_literal_list) or ():
        text = parse.normalise_text(str(purpose))
        if text is None:
            continue
        out.text(event, T.purposeText, text)
        out.text(event, T.reasonText, text)
        out.concept(event, T.retirementReason, row.concept("retirement-reason", "purposes", text))


# ------------------------------------------------------------------------------- specs

_SUPPLIER = ("supplier.id", "supplier.short_description", "supplier.long_description", "supplier.organisation.id",
             "supplier.organisation.name", "supplier.organisation.domain", "supplier.location",
             "supplier.location.country_code", "supplier.location.country_name", "supplier.location.latitude",
             "supplier.location.longitude", "supplier.location.description")


def _sizes(*prefixes: str) -> tuple[str, ...]:
    return tuple(f"{p}.{unit}" for p in prefixes for unit in ("credits", "credit_kgs"))


PROJECTS = TableSpec(
    registry=REGISTRY,
    table="projects",
    required=("id",),
    optional=("name", "status", "short_code", "url", "process_key", "pathway", "protocol_slug", "country_code",
              "validator_name", "current_verifier_name", "crediting_period_start", "crediting_period_end",
              *_SUPPLIER,
              *_sizes("issued_credits_total", "retired_credits_total", "issued_buffer_pool_credits_total",
                      "retired_buffer_pool_credits_total"),
              "location", "location.country_code", "location.country_name", "location.latitude",
              "location.longitude", "location.description"),
    signature=("id", "short_code", "protocol_slug", "pathway"),
    emit=emit_project,
)

ISSUANCES = TableSpec(
    registry=REGISTRY,
    table="issuances",
    required=("id", "project_id"),
    optional=("issued_at", *_SUPPLIER,
              *_sizes("supplier_credit_batch_size_total", "buffer_pool_credit_batch_size_total",
                      "credit_batch_size_total")),
    signature=("id", "issued_at", "project_id", "supplier_credit_batch_size_total.credits"),
    emit=emit_issuance,
)

RETIREMENTS = TableSpec(
    registry=REGISTRY,
    table="retirements",
    required=("retirement_id", "project_id"),
    optional=("retired_at", "purposes", "url", "notes", "beneficiary.id", "beneficiary.name", "beneficiary.domain",
              "owner.id", "owner.name", "owner.domain", *_sizes("credit_batch_size_total"), "sequestered_on"),
    signature=("retirement_id", "retired_at", "sequestered_on", "beneficiary.name"),
    emit=emit_retirement,
)

SPECS = (PROJECTS, ISSUANCES, RETIREMENTS)
