"""Climate Action Reserve (CAR, on the APX platform) exports.

Files (columns in data/registry-exports/README.md; shared APX handling in :mod:`apx`):

- ``projects.csv``: one row per project listing (Project ID ``CAR1335``): developer, owner,
  offset project operator / authorised designee, verification body, type, "Status" (project
  status), "Compliance Program Status", "ARB Project Status", "WA ECO Project Status" (compliance
  statuses), site, SDGs ("SDG Impact"), notes, credits registered, listed and registered dates.
  "Compliance Program ID", "ARB ID" (``CAOD6560``) and "WA ECO" → ``ck:compliancePeerOf`` the ARB
  or Washington Ecology listing; "Cooperative/ Aggregate ID" (``CARC1502``) →
  ``ck:partOfProgrammeOfActivities`` that CAR listing.
- ``issuances.csv``: one row per issuance, without serials: the issued credits are a block keyed
  on the issuance. "Total Offset Credits Issued" → quantity of issuance and block; "Offset
  Credits Currently in Reserve Buffer Pool" → ``ck:bufferQuantity``; "Offset Credits Intended for
  Compliance Buffer Pool" and "Zero-Credit Reporting Period" → ``ck:note`` (column: value);
  "Offset Credits Converted to VCUs" → ck:Conversion (target VCS); "Canceled for Compliance" →
  ck:Cancellation with reason "conversion to compliance offset credits" (the column does not say
  whether ARB or Washington: the cancellations file does, per serial block); "Canceled" →
  ck:Cancellation; each of that quantity and acting on the issued block; label columns →
  attestations about the block; "Crediting Period" → ``ck:creditingPeriodText``.
- ``retirements.csv``: one row per retired serial block (``CAR-1-US-1335-31-983-KS-2025-9205-1 to
  5000``: unit ``1`` = CRT, ``ROC`` = registry offset credit), account holder, reason, "Retirement
  Reason Details" (note); label columns → attestations about the block.
- ``cancellations.csv``: one row per cancelled serial block; "Cancellation Reason" ARB / WA ECO →
  ck:Conversion to ARB / Washington Ecology offset credits; "Export Notes" → note.

Dates are ``03/19/2026`` (month first, no times).
"""

from __future__ import annotations

import re

from carbonkg import iris
from carbonkg.loaders import apx, parse
from carbonkg.loaders import emit as E
from carbonkg.loaders.base import Emitter, Row, TableSpec
from carbonkg.loaders.emit import T, iri
from carbonkg.loaders.labels import attest_listed_labels
from carbonkg.loaders.serials import SerialRange, parse_car_serial

REGISTRY = "climate-action-reserve"
UNIT_KINDS = {"1": iris.concept("unit-kind", "crt"), "ROC": iris.concept("unit-kind", "roc")}
PROTOCOL = "Protocol and Version"
UNIT_TYPE = "Reduction/Removal"
REVERSIBLE = "Reversible/Non-Reversible"
ACTIVITY_AREA = "Activity Area Type"
CERTIFICATIONS = "Additional Certification(s)"
AGGREGATE = "Cooperative/ Aggregate ID"
PROJECT_COLUMNS = ("Project Name", "Project Type", "Project Site Location", "Project Site State",
                   "Project Site Country", "Project Website", CERTIFICATIONS)
BLOCK_COLUMNS = (UNIT_TYPE, REVERSIBLE, PROTOCOL)
ISSUANCE_LABELS = ("ARB Eligible", "WA ECO Eligible", apx.CORSIA_PILOT, apx.CORSIA_FIRST,
                   "Corresponding Adjustment", "CCP Approved")
RETIREMENT_LABELS = (apx.CORSIA_PILOT, apx.CORSIA_FIRST, "Corresponding Adjustment", "CCP Approved")
CONVERTED_TO_VCUS = "Offset Credits Converted to VCUs"
CANCELED_FOR_COMPLIANCE = "Canceled for Compliance"
CANCELED = "Canceled"

# "Forestry - MX - Version 3.0"; "... - WA Eco Compliance Offset Protocol Ozone Depleting Substances
# Projects, Version 1.0"; "Livestock - ARB Compliance - ARB Compliance Offset Protocol Livestock
# Projects, November 14, 2014" (ARB protocols are versioned by date)
_VERSIONED = re.compile(r"(?P<name>.+?)(?: -|,) (?P<version>Version \S+)")
_DATED = re.compile(
    r"(?P<name>.+), (?P<version>(?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December) \d{1,2}, \d{4})"
)
_NOT_APPLICABLE = frozenset({"n/a", "na"})


def split_protocol(text: str) -> tuple[str, str | None]:
    """Split CAR's "Protocol and Version" into protocol name and version (``None`` if unstated).

    >>> split_protocol("Forestry - MX - Version 3.0")
    ('Forestry - MX', 'Version 3.0')
    >>> split_protocol("Adipic Acid, Version 1.0")
    ('Adipic Acid', 'Version 1.0')
    >>> split_protocol("Livestock - ARB Compliance - ARB Compliance Offset Protocol Livestock Projects, "
    ...                "November 14, 2014")
    ('Livestock - ARB Compliance - ARB Compliance Offset Protocol Livestock Projects', 'November 14, 2014')
    """
    m = _VERSIONED.fullmatch(text) or _DATED.fullmatch(text)
    if m is None:
        return text, None
    return m["name"], m["version"]


def _listing(row: Row, out: Emitter, project_id: str) -> str:
    listing = out.describes(out.listing(project_id))
    apx.project_facts(row, out, listing, apx.SITE)
    for area in parse.split_list(row.text(ACTIVITY_AREA), ";") or ():
        if area.casefold() not in _NOT_APPLICABLE:
            concept = row.concept("project-type", ACTIVITY_AREA, area)
            if concept:
                apx.add_once(out, listing, T.projectType, iri(concept))
    aggregate = row.text(AGGREGATE)
    if aggregate:
        apx.add_once(out, listing, T.partOfProgrammeOfActivities, out.describes(out.listing(aggregate)))
    return listing


def _project_id(row: Row) -> str | None:
    project_id = row.text("Project ID")
    if project_id is None:
        row.error("Project ID", "", "is empty; every CAR row names its project")
    return project_id


def _unit_kind(serial: SerialRange) -> str | None:
    return UNIT_KINDS.get(serial.parts.get("unit", ""))


def _block_facts(row: Row, out: Emitter, listing: str, block: str) -> None:
    """Columns that describe the credits of a block: unit type, reversibility, protocol version."""
    unit_type = row.concept("unit-type", UNIT_TYPE)
    if unit_type:
        apx.add_once(out, block, T.unitType, iri(unit_type))
    reversible = row.text(REVERSIBLE)
    if reversible:
        apx.add_once(out, block, T.note, E.literal(f"{row.columns.get(REVERSIBLE, REVERSIBLE)}: {reversible}"))
    protocol = row.text(PROTOCOL)
    if protocol:
        name, version = split_protocol(protocol)
        apx.methodology(out, listing, name, version, subject=block, text=protocol)
    attest_listed_labels(row, out, block, CERTIFICATIONS, separators=";")


def emit_project(row: Row, out: Emitter) -> None:
    project_id = _project_id(row)
    if project_id is None:
        return
    listing = _listing(row, out, project_id)
    apx.link_compliance_peer(row, out, listing, "Compliance Program ID")
    apx.link_compliance_peer(row, out, listing, "ARB ID", "arb")
    apx.link_compliance_peer(row, out, listing, "WA ECO", "washington-ecology")
    apx.role_once(row, out, listing, T.developer, "Project Developer")
    apx.role_once(row, out, listing, T.owner, "Project Owner")
    apx.role_once(row, out, listing, T.projectOperator, "Offset Project Operator")
    apx.role_once(row, out, listing, T.projectOperator, "Authorized Project Designee")
    apx.role_once(row, out, listing, T.verificationBody, "Verification Body")
    out.status(row, listing, "Status", "project-status", T.projectStatus)
    for column in ("Compliance Program Status", "ARB Project Status", "WA ECO Project Status"):
        apx.compliance_status(row, out, listing, column)
    attest_listed_labels(row, out, listing, CERTIFICATIONS, separators=";", scope="project")
    apx.sdgs(row, out, listing, "SDG Impact")
    out.text(listing, T.note, row.text("Project Notes"))
    registered = row.parsed("Total Number of Offset Credits Registered", parse.parse_decimal)
    out.decimal(listing, T.registeredQuantity, registered)
    out.date(listing, T.listingDate, row.parsed("Project Listed Date", parse.parse_date))
    out.date(listing, T.registrationDate, row.parsed("Project Registered Date", parse.parse_date))


def _column_note(row: Row, out: Emitter, subject: str, column: str) -> None:
    text = row.text(column)
    if text:
        out.text(subject, T.note, f"{row.columns.get(column, column)}: {text}")


def emit_issuance(row: Row, out: Emitter) -> None:
    project_id = _project_id(row)
    if project_id is None:
        return
    listing = _listing(row, out, project_id)
    apx.role_once(row, out, listing, T.developer, "Project Developer")
    apx.role_once(row, out, listing, T.owner, "Project Owner")

    issued = apx.when(row, "Date Issued")
    vintage = row.parsed("Vintage", parse.parse_year)
    total = row.parsed("Total Offset Credits Issued", parse.parse_decimal)
    key = apx.issuance_key(project_id, issued, vintage, total)
    block = out.record_block("issuance-block", *key, listing=listing)
    out.year(block, T.vintageYear, vintage)
    out.decimal(block, T.quantity, total)
    _block_facts(row, out, listing, block)
    apx.attest_flags(row, out, block, ISSUANCE_LABELS)

    event = apx.issuance(out, REGISTRY, key, listing, issued, block)
    out.decimal(event, T.quantity, total)
    reserve_buffer = row.parsed("Offset Credits Currently in Reserve Buffer Pool", parse.parse_decimal)
    out.decimal(event, T.bufferQuantity, reserve_buffer)
    if row.parsed("Offset Credits Intended for Compliance Buffer Pool", parse.parse_decimal) is not None:
        _column_note(row, out, event, "Offset Credits Intended for Compliance Buffer Pool")
    if row.parsed("Zero-Credit Reporting Period", parse.parse_yes_no) is not None:
        _column_note(row, out, event, "Zero-Credit Reporting Period")
    out.text(event, T.creditingPeriodText, row.text("Crediting Period"))
    apx.role(out, event, T.verificationBody, apx.organisation_name(row, "Verification Body"))

    for column, tag in ((CONVERTED_TO_VCUS, "vcs"), (CANCELED_FOR_COMPLIANCE, "compliance"), (CANCELED, "canceled")):
        quantity = row.parsed(column, parse.parse_decimal)
        if not quantity:  # blank or 0: nothing was converted or cancelled
            continue
        header = row.columns.get(column, column)
        reason = None if column == CANCELED else row.concept("cancellation-reason", column, header)
        cancelled, is_conversion = apx.cancellation_event(out, (*key, tag), listing, reason)
        out.decimal(cancelled, T.quantity, quantity)
        out.add(cancelled, T.affectsBlock, block)
        if is_conversion:
            out.add(cancelled, T.convertedFrom, block)
        if quantity == total:  # the whole issued block
            out.add(block, E.PROV_INVALIDATED_BY, cancelled)
        out.text(cancelled, T.note, f"{header}: {row.text(column)}")


TRANSACTION = apx.TransactionColumns(
    serial="Offset Credit Serial Numbers",
    quantity="Quantity of Offset Credits",
    vintage="Vintage",
    effective="Status Effective",
    project="Project ID",
)


def _transaction(row: Row, out: Emitter, labels: tuple[str, ...]) -> apx.Transaction | None:
    tx = apx.transaction_block(row, out, TRANSACTION, parse_car_serial, _listing, _unit_kind)
    if tx is not None:
        _block_facts(row, out, tx.listing, tx.block)
        apx.attest_flags(row, out, tx.block, labels)
    return tx


def emit_retirement(row: Row, out: Emitter) -> None:
    tx = _transaction(row, out, RETIREMENT_LABELS)
    if tx is not None:
        apx.retirement(row, out, tx, TRANSACTION, reason="Retirement Reason", details="Retirement Reason Details")


def emit_cancellation(row: Row, out: Emitter) -> None:
    tx = _transaction(row, out, ())
    if tx is not None:
        apx.cancellation(row, out, tx, TRANSACTION, reason="Cancellation Reason", details="Export Notes")


PROJECTS = TableSpec(
    registry=REGISTRY,
    table="projects",
    required=("Project ID",),
    optional=("Compliance Program ID", "ARB ID", "WA ECO", AGGREGATE, "Project Developer", "Project Owner",
              "Offset Project Operator", "Authorized Project Designee", "Verification Body", "Status",
              "Compliance Program Status", "ARB Project Status", "WA ECO Project Status", "SDG Impact",
              "Project Notes", "Total Number of Offset Credits Registered", "Project Listed Date",
              "Project Registered Date", "Documents", "Data", *PROJECT_COLUMNS),
    signature=("Project ID", "ARB ID", "WA ECO Project Status"),
    emit=emit_project,
)

ISSUANCES = TableSpec(
    registry=REGISTRY,
    table="issuances",
    required=("Project ID", "Date Issued", "Total Offset Credits Issued"),
    optional=(AGGREGATE, "Project Developer", "Project Owner", *BLOCK_COLUMNS, *ISSUANCE_LABELS, "Crediting Period",
              "Vintage", "Zero-Credit Reporting Period", "Offset Credits Currently in Reserve Buffer Pool",
              "Offset Credits Intended for Compliance Buffer Pool", CONVERTED_TO_VCUS, CANCELED_FOR_COMPLIANCE,
              CANCELED, ACTIVITY_AREA, "Verification Body", "Documents", *PROJECT_COLUMNS),
    signature=("Project ID", "Total Offset Credits Issued", "Canceled for Compliance"),
    aliases=apx.CORSIA_ALIASES,
    emit=emit_issuance,
)

_TRANSACTION_OPTIONAL = ("Vintage", *BLOCK_COLUMNS, *PROJECT_COLUMNS)

RETIREMENTS = TableSpec(
    registry=REGISTRY,
    table="retirements",
    required=("Offset Credit Serial Numbers", "Quantity of Offset Credits", "Status Effective", "Project ID"),
    optional=(ACTIVITY_AREA, *RETIREMENT_LABELS, "Account Holder", "Retirement Reason", "Retirement Reason Details",
              *_TRANSACTION_OPTIONAL),
    signature=("Offset Credit Serial Numbers", "Retirement Reason Details"),
    aliases=apx.CORSIA_ALIASES,
    emit=emit_retirement,
)

CANCELLATIONS = TableSpec(
    registry=REGISTRY,
    table="cancellations",
    required=("Offset Credit Serial Numbers", "Quantity of Offset Credits", "Status Effective", "Project ID",
              "Cancellation Reason"),
    optional=("Export Notes", *_TRANSACTION_OPTIONAL),
    signature=("Offset Credit Serial Numbers", "Cancellation Reason"),
    emit=emit_cancellation,
)

SPECS = (PROJECTS, ISSUANCES, RETIREMENTS, CANCELLATIONS)
