"""Gold Standard Impact Registry exports.

Files (columns in data/registry-exports/README.md):

- ``projects.csv``: one row per project listing (GSID, Project Name, Project Developer Name,
  Status, Sustainable Development Goals ``"4,13,6"``, Project Type, Country, Description,
  Estimated Annual Credits, Methodology, Size, Programme of Activities, POA GSID).
- ``issuances.csv``: one row per issued serial block (Vintage, Credit Status, Quantity, GSID and
  the project columns, Product Type VER/CER, Issuance Date, Monitoring Period Start/End, Serial
  Number, Label, Article Six Authorization).
- ``retirements.csv``: one row per retired *or cancelled* block: ``Credit Status`` "Retired" →
  ck:Retirement, "Canceled" → ck:Cancellation (anything else → ck:RetirementOrCancellation).
  Adds Retirement Date, Note, Aeroplane Operator Name, Use Case, Using Entity.

Identifiers. The native id of a listing is the ``GSID`` cell as all three files write it, a bare
number (``11236``); the serials' ``GS11236`` segment parses to the same ``11236`` and ``POA GSID``
(a pandas float, ``11191.0``) is read as a whole number, so every file meets on
``…/gold-standard/project/11236``. An issuance is one serial batch: its IRI is keyed by the serial
prefix (``GS1-1-UG-GS11236-16-2024-30307``, unique per batch); Kyoto CER ranges carry no batch, so
their issuance is keyed by (GSID, "CER", vintage, issuance date).

Kinds. ``Programme of Activities`` "POA" types the listing ck:ProgrammeOfActivities, "VPA"
ck:ComponentActivity, "Standalone" neither; a ``POA GSID`` makes the listing
ck:partOfProgrammeOfActivities that programme's listing.

Blocks. An issued block is ck:generatedBlock of its issuance. A retired block is usually a piece
of an issued batch, so the retirements file links it to its issuance (same IRI, with the
``Issuance Date``) only by ``prov:wasGeneratedBy``: ck:generatedBlock keeps listing the batch as
issued, and the quantities of an issuance's generated blocks still add up.

CDM transition. A CER row's Kyoto serial (``RW-5-1460108-2-2-0-7014 - RW-5-…-7014``) names the CDM
project (7014): the listing is linked ck:transitionedFrom the CDM listing ``7014``.

Dates: ``Issuance Date`` is ``2026-04-13T12:35:58.842275`` in issuances (no zone: UTC assumed)
and a plain date in retirements; the other dates are ISO dates.
"""

from __future__ import annotations

from datetime import date, datetime

from carbonkg import iris
from carbonkg.loaders import parse, vocab
from carbonkg.loaders import emit as E
from carbonkg.loaders.base import Emitter, Row, TableSpec
from carbonkg.loaders.emit import A, T
from carbonkg.loaders.labels import attest_listed_labels
from carbonkg.loaders.serials import SerialRange, parse_gold_standard_serial

REGISTRY = "gold-standard"
PROGRAMME = E.iri(iris.concept("programme", "gold-standard-for-the-global-goals"))

#: "Programme of Activities" → the listing subclass it states ("Standalone" states none)
_KIND_BY_POA = {"poa": T.ProgrammeOfActivities, "vpa": T.ComponentActivity, "standalone": None}
#: "Credit Status" in the retirements file → (event class, event-type slug, IRI kind)
_EVENT_BY_STATUS = {
    "retired": ("Retirement", "retirement", "retirement"),
    "canceled": ("Cancellation", "cancellation", "cancellation"),
    "cancelled": ("Cancellation", "cancellation", "cancellation"),
}
_EITHER = ("RetirementOrCancellation", "retirement-or-cancellation", "retirement")
#: "Article Six Authorization" values that state no authorisation (every sample row: "Not Applicable")
_NOT_AUTHORISED = frozenset({"not applicable", "n/a", "na", "none", "no", "false", "-", "not authorized",
                             "not authorised"})
_AUTHORISED = frozenset({"yes", "true", "authorized", "authorised"})
#: "Using Entity" placeholders: kept as ck:beneficiaryName, but name no organisation
_UNDISCLOSED = frozenset({"not disclosed", "undisclosed", "anonymous", "n/a", "-"})
_VOCAB = iris.VOCAB_BASE
_DESCRIPTION = E.DESCRIPTION
_PROV_GENERATED_BY = E.PROV_GENERATED_BY
_PROV_INVALIDATED_BY = E.PROV_INVALIDATED_BY

# Methodology items: an optional trailing version ("GS TPDDTEC v3.1", "GS TPDDTEC V4.0: TITLE")
# and an optional leading code ("ACM0002 Grid-connected…", "AMS-III.AR. Substituting…").

# ---------------------------------------------------------------------------- helpers


def _slug_of(concept: str | None, scheme: str) -> str | None:
    return concept.removeprefix(f"{_VOCAB}{scheme}/") if concept else None


def _listing(row: Row, out: Emitter) -> str | None:
    gsid = row.text("GSID")
    if gsid is None:
        row.error("GSID", "", "is empty; every Gold Standard row names its project")
        return None
    listing = out.describes(out.listing(gsid))
    if out.once(listing + "#programme"):
        out.add(listing, T.underProgramme, PROGRAMME)
    name = row.text("Project Name")
    if name and out.once(listing + "#name\x1f" + name):
        out.label(listing, name)
    return listing


def _programme_of_activities(row: Row, out: Emitter, listing: str) -> None:
    kind_text = row.text("Programme of Activities")
    if kind_text:
        key = kind_text.casefold()
        if key in _KIND_BY_POA:
            kind = _KIND_BY_POA[key]
            if kind and out.once(listing + kind):
                out.add(listing, A, kind)
        else:
            row.uninterpreted.add(row.columns.get("Programme of Activities", "Programme of Activities"),
                                  "programme-of-activities", kind_text)
    poa_id = row.parsed("POA GSID", parse.parse_integer)
    if poa_id is not None:
        poa = out.describes(out.listing(str(poa_id)))
        if out.once(poa + T.ProgrammeOfActivities):
            out.add(poa, A, T.ProgrammeOfActivities)
        out.add(listing, T.partOfProgrammeOfActivities, poa)


def _project_facts(row: Row, out: Emitter, listing: str, developer_column: str) -> None:
    """Columns that all three files carry about the project (written once per distinct value set)."""
    _programme_of_activities(row, out, listing)
    key = "\x1f".join((listing, row.raw(developer_column), row.raw("Country"), row.raw("Project Type"),
                       row.raw("Methodology")))
    if not out.once(key):
        return
    developer = row.text(developer_column)
    if developer:
        org = out.role(listing, T.developer, developer)
        if org:
            out.describes(org)
    out.country(row, listing, "Country", predicate=T.hostCountry)
    if row.text("Project Type"):
        out.concept(listing, T.projectType, row.concept("project-type", "Project Type"))
    out.methodologies(row, listing, "Methodology", programme=PROGRAMME)


def _article_six(row: Row, out: Emitter, block: str) -> None:
    """"Article Six Authorization": an article6-authorisation attestation when the cell states one."""
    column = "Article Six Authorization"
    text = row.text(column)
    if text is None or text.casefold() in _NOT_AUTHORISED:
        return
    purpose = _slug_of(vocab.lookup("article6-purpose", text), "article6-purpose")
    if purpose is None and text.casefold() not in _AUTHORISED:
        row.uninterpreted.add(row.columns.get(column, column), "article6-authorisation", text)
        return
    out.attest(block, "article6-authorisation", text=f"{row.columns.get(column, column)}: {text}",
               status="authorised", purpose=purpose)


def _block(row: Row, out: Emitter, listing: str) -> tuple[SerialRange, str] | None:
    """The serial block of an issuance or retirement row, with what both files say about it."""
    serial = row.parsed("Serial Number", parse_gold_standard_serial)
    quantity = row.parsed("Quantity", parse.parse_decimal)
    vintage = row.parsed("Vintage", parse.parse_year)
    if serial is None:
        if not row.text("Serial Number"):
            row.error("Serial Number", "", "is empty; every Gold Standard credit row names its serial block")
        return None
    block = out.block(serial, listing=listing, quantity=quantity)
    if vintage is not None and vintage != serial.vintage:
        out.year(block, T.vintageYear, vintage)
    if row.text("Product Type"):
        out.concept(block, T.unitKind, row.concept("unit-kind", "Product Type"))
    out.status(row, block, "Credit Status", "unit-status", T.unitStatus)
    attest_listed_labels(row, out, block, "Label", separators=",")
    for item in parse.split_list(row.text("Label"), ",") or ():
        out.concept(block, T.unitType, vocab.lookup("unit-type", item))
    _article_six(row, out, block)
    kyoto_project = serial.parts.get("project") if serial.project is None else None
    if kyoto_project:
        cdm = out.describes(out.listing(kyoto_project, registry="cdm"))
        out.link(listing, "transitionedFrom", cdm, evidence=f"{row.columns.get('Serial Number')}: {serial.raw}")
    return serial, block


def _issuance(row: Row, out: Emitter, listing: str, serial: SerialRange, issued_on: date) -> str:
    """The issuance of a block's batch (same IRI from the issuances and the retirements file)."""
    if serial.project is not None:  # a GS serial: the prefix is the issuance batch
        key: tuple[str, ...] = (serial.prefix,)
    else:  # a Kyoto range: no batch in the serial
        vintage = row.parsed("Vintage", parse.parse_year)
        day = issued_on.date() if isinstance(issued_on, datetime) else issued_on
        key = (row.text("GSID") or "", "CER", str(vintage) if vintage else "-", day.isoformat())
    issuance = out.event("Issuance", iris.record(REGISTRY, "issuance", *key), listing=listing, event_type="issuance")
    out.when(issuance, issued_on)
    out.add(issuance, T.issuedFor, listing)
    out.date(issuance, T.monitoringPeriodStart, row.parsed("Monitoring Period Start", parse.parse_date))
    out.date(issuance, T.monitoringPeriodEnd, row.parsed("Monitoring Period End", parse.parse_date))
    return issuance


# ------------------------------------------------------------------------------ tables


def emit_project(row: Row, out: Emitter) -> None:
    listing = _listing(row, out)
    if listing is None:
        return
    _project_facts(row, out, listing, "Project Developer Name")
    out.status(row, listing, "Status", "project-status", T.projectStatus)
    out.sdgs(row, listing, "Sustainable Development Goals")
    description = row.text("Description")
    if description:
        out.add(listing, _DESCRIPTION, E.literal(description))
    out.decimal(listing, T.estimatedAnnualReductions, row.parsed("Estimated Annual Credits", parse.parse_decimal))
    size = row.text("Size")
    if size:
        out.text(listing, T.sizeText, size)
        out.concept(listing, T.projectSize, row.concept("project-size", "Size"))


def emit_issuance(row: Row, out: Emitter) -> None:
    listing = _listing(row, out)
    if listing is None:
        return
    _project_facts(row, out, listing, "Project Developer")
    found = _block(row, out, listing)
    issued_on = row.parsed("Issuance Date", parse.parse_when)
    if found is None or issued_on is None:
        return
    serial, block = found
    issuance = _issuance(row, out, listing, serial, issued_on)
    out.add(issuance, T.generatedBlock, block)
    out.add(block, _PROV_GENERATED_BY, issuance)


def emit_retirement(row: Row, out: Emitter) -> None:
    listing = _listing(row, out)
    if listing is None:
        return
    _project_facts(row, out, listing, "Project Developer")
    found = _block(row, out, listing)
    issued_on = row.parsed("Issuance Date", parse.parse_when)
    retired_on = row.parsed("Retirement Date", parse.parse_when)
    if found is None:
        return
    serial, block = found
    if issued_on is not None:
        out.add(block, _PROV_GENERATED_BY, _issuance(row, out, listing, serial, issued_on))

    status = row.text("Credit Status")
    cls, event_type, kind = _EVENT_BY_STATUS.get(status.casefold(), _EITHER) if status else _EITHER
    event = out.event(cls, iris.record(REGISTRY, kind, serial.prefix, f"{serial.start}-{serial.end}"),
                      listing=listing, event_type=event_type)
    out.when(event, retired_on)
    out.add(event, T.affectsBlock, block)
    out.add(block, _PROV_INVALIDATED_BY, event)
    out.decimal(event, T.quantity, row.parsed("Quantity", parse.parse_decimal))

    beneficiary = row.text("Using Entity")
    out.text(event, T.beneficiaryName, beneficiary)
    if beneficiary and beneficiary.casefold() not in _UNDISCLOSED:
        org = out.role(event, T.beneficiary, beneficiary)
        if org:
            out.describes(org)
    operator = row.text("Aeroplane Operator Name")
    if operator:  # an airline using the credits (CORSIA): the beneficiary of the use
        out.text(event, T.beneficiaryName, operator)
        org = out.role(event, T.beneficiary, operator)
        if org:
            out.describes(org)
        out.text(event, T.note, f"{row.columns.get('Aeroplane Operator Name')}: {operator}")

    use_case = row.text("Use Case")
    if use_case:
        out.text(event, T.purposeText, use_case)
        out.text(event, T.reasonText, use_case)
        if cls == "Cancellation":
            out.concept(event, T.cancellationReason, row.concept("cancellation-reason", "Use Case"))
        else:
            out.concept(event, T.retirementReason, row.concept("retirement-reason", "Use Case"))
    out.text(event, T.note, row.text("Note"))


# ------------------------------------------------------------------------------- specs

_PROJECT_COLUMNS = ("Project Name", "Country", "Project Type", "Methodology", "Programme of Activities", "POA GSID")
_CREDIT_COLUMNS = ("Vintage", "Credit Status", "Project Developer", "Product Type", "Monitoring Period Start",
                   "Monitoring Period End", "Label", "Article Six Authorization")

PROJECTS = TableSpec(
    registry=REGISTRY,
    table="projects",
    required=("GSID",),
    optional=("Project Developer Name", "Status", "Sustainable Development Goals", "Description",
              "Estimated Annual Credits", "Size", *_PROJECT_COLUMNS),
    signature=("GSID", "Project Developer Name", "Estimated Annual Credits", "Size"),
    emit=emit_project,
)

ISSUANCES = TableSpec(
    registry=REGISTRY,
    table="issuances",
    required=("GSID", "Serial Number", "Quantity", "Issuance Date"),
    optional=(*_PROJECT_COLUMNS, *_CREDIT_COLUMNS),
    signature=("GSID", "Serial Number", "Issuance Date", "Product Type"),
    emit=emit_issuance,
)

# The issuances header is a subset of the retirements header, so the issuances signature also fits
# a retirements file: this signature is a strict superset and wins there (most specific match).
RETIREMENTS = TableSpec(
    registry=REGISTRY,
    table="retirements",
    required=("GSID", "Serial Number", "Quantity", "Credit Status"),
    optional=(*_PROJECT_COLUMNS, *_CREDIT_COLUMNS, "Issuance Date", "Retirement Date", "Note",
              "Aeroplane Operator Name", "Use Case", "Using Entity"),
    signature=("GSID", "Serial Number", "Issuance Date", "Product Type", "Retirement Date", "Using Entity"),
    emit=emit_retirement,
)

SPECS = (PROJECTS, ISSUANCES, RETIREMENTS)
