"""American Carbon Registry (ACR, on the APX platform) exports.

Files (columns in data/registry-exports/README.md; shared APX handling in :mod:`apx`):

- ``projects.csv``: one row per project listing (Project ID ``ACR1185``, name, developer, type,
  methodology, crediting periods, "Voluntary Status", "Compliance Program Status (ARB or
  Ecology)" with "Project Status Date", site, SDGs, VVBs, credits registered). "Compliance
  Program ID (ARB or Ecology)" (``CAOD1007``, ``ECYOD902``) → ``ck:compliancePeerOf`` the
  California ARB or Washington Ecology listing.
- ``issuances.csv``: one row per issuance, without serial numbers: the issued credits are a block
  keyed on the issuance (Emitter.record_block). "Total Credits Issued" → issuance quantity,
  "Credits Issued to Project" → block quantity, "Credits Issued to Buffer Pool" → issuance
  ``ck:bufferQuantity``, "Credits Transferred to Buffer Pool" (when not 0) → a
  ``ck:BufferContribution`` taking that quantity from the block; reporting period → monitoring
  period; label columns → attestations about the block.
- ``retirements.csv``: one row per retired serial block (``ACR-US-1185-2025-3078-1 to 85847``):
  ERT block, ck:Retirement with account holder, "Retired on Behalf of" (beneficiary), reason,
  "Purpose of Retirement"; label columns → attestations about the block.
- ``cancellations.csv``: one row per cancelled block; "Cancellation Type" "Convert to ARB / Ecology
  offset credits" → ck:Conversion with ck:targetProgramme, other types → ck:Cancellation;
  "Cancellation Details" → note.

Dates: ``11/3/2025 7:10:41 PM`` in the "(GMT)" columns (UTC), ``12/9/2024`` elsewhere.
"ahID" is "1" on every cancellation row whatever the "Account Holder", so it does not identify
the holder: organisations are keyed on the holder's name and "ahID" stays in the raw record.
"""

from __future__ import annotations

from carbonkg import iris
from carbonkg.loaders import apx, parse
from carbonkg.loaders.base import Emitter, Row, TableSpec
from carbonkg.loaders.emit import T, iri
from carbonkg.loaders.serials import SerialRange, parse_acr_serial

REGISTRY = "american-carbon-registry"
ERT = iris.concept("unit-kind", "ert")
METHODOLOGY = "Project Methodology/Protocol"
VERSION = "Methodology/Protocol Version"
SDGS = "Sustainable Development Goal(s)"
PROJECT_COLUMNS = ("Project Name", "Project Type", "Project Site Location", "Project Site State",
                   "Project Site Country", "Project Website", METHODOLOGY, SDGS)
LABELS = ("ARB Eligible", "Ecology Eligible", "CORSIA Eligible", apx.CORSIA_PILOT, apx.CORSIA_FIRST,
          "CCP Approved", "Verified Removal")


def _listing(row: Row, out: Emitter, project_id: str) -> str:
    listing = out.describes(out.listing(project_id))
    apx.project_facts(row, out, listing, apx.SITE)
    apx.sdgs(row, out, listing, SDGS)
    return listing


def _unit_kind(serial: SerialRange) -> str:
    return ERT


def _project_id(row: Row) -> str | None:
    project_id = row.text("Project ID")
    if project_id is None:
        row.error("Project ID", "", "is empty; every ACR row names its project")
    return project_id


def emit_project(row: Row, out: Emitter) -> None:
    project_id = _project_id(row)
    if project_id is None:
        return
    listing = _listing(row, out, project_id)
    apx.link_compliance_peer(row, out, listing, "Compliance Program ID (ARB or Ecology)")
    apx.role_once(row, out, listing, T.developer, "Project Developer")
    apx.methodology(out, listing, row.text(METHODOLOGY))
    initial = row.parsed("Initial Crediting Period Start Date", parse.parse_date)
    out.date(listing, T.initialCreditingPeriodStart, initial)
    out.date(listing, T.creditingPeriodStart, row.parsed("Current Crediting Period Start Date", parse.parse_date))
    out.date(listing, T.creditingPeriodEnd, row.parsed("Current Crediting Period End Date", parse.parse_date))
    out.status(row, listing, "Voluntary Status", "project-status", T.projectStatus)
    apx.compliance_status(row, out, listing, "Compliance Program Status (ARB or Ecology)")
    out.date(listing, T.statusDate, apx.when(row, "Project Status Date"))
    apx.role_once(row, out, listing, T.verificationBody, "Current VVB")
    apx.role_once(row, out, listing, T.validationBody, "ACR Project Validation")
    out.decimal(listing, T.registeredQuantity, row.parsed("Total Number of Credits Registered", parse.parse_decimal))


def emit_issuance(row: Row, out: Emitter) -> None:
    project_id = _project_id(row)
    if project_id is None:
        return
    listing = _listing(row, out, project_id)
    apx.role_once(row, out, listing, T.developer, "Project Developer")
    crediting_start = row.parsed("Project Crediting Period Start Date", parse.parse_date)
    apx.date_once(out, listing, T.creditingPeriodStart, crediting_start)

    issued = apx.when(row, "Date Issued (GMT)")
    vintage = row.parsed("Vintage", parse.parse_year)
    total = row.parsed("Total Credits Issued", parse.parse_decimal)
    key = apx.issuance_key(project_id, issued, vintage, total)
    block = out.record_block("issuance-block", *key, listing=listing)
    apx.add_once(out, block, T.unitKind, iri(ERT))
    out.year(block, T.vintageYear, vintage)
    out.decimal(block, T.quantity, row.parsed("Credits Issued to Project", parse.parse_decimal))
    apx.attest_flags(row, out, block, LABELS)

    event = apx.issuance(out, REGISTRY, key, listing, issued, block)
    out.decimal(event, T.quantity, total)
    out.decimal(event, T.bufferQuantity, row.parsed("Credits Issued to Buffer Pool", parse.parse_decimal))
    out.date(event, T.monitoringPeriodStart, row.parsed("ReportingPeriodBegin", parse.parse_date))
    out.date(event, T.monitoringPeriodEnd, row.parsed("ReportingPeriodEnd", parse.parse_date))
    apx.role(out, event, T.verificationBody, apx.organisation_name(row, "Project VVB"))
    apx.methodology(out, listing, row.text(METHODOLOGY), row.text(VERSION), subject=event)

    transferred = row.parsed("Credits Transferred to Buffer Pool", parse.parse_decimal)
    if transferred:  # 0 or blank: no credits moved
        contribution = out.event("BufferContribution", iris.record(REGISTRY, "buffer-contribution", *key),
                                 listing=listing, event_type="buffer-contribution")
        out.add(contribution, T.affectsBlock, block)
        out.decimal(contribution, T.quantity, transferred)


TRANSACTION = apx.TransactionColumns(
    serial="Credit Serial Numbers",
    quantity="Quantity of Credits",
    vintage="Vintage",
    effective="Status Effective (GMT)",
    project="Project ID",
    issued="Date Issued (GMT)",
    vintage_start="Vintage Assignment Period Start Date",
    vintage_end="Vintage Assignment Period End Date",
)


def _transaction(row: Row, out: Emitter) -> apx.Transaction | None:
    tx = apx.transaction_block(row, out, TRANSACTION, parse_acr_serial, _listing, _unit_kind)
    if tx is not None:
        apx.methodology(out, tx.listing, row.text(METHODOLOGY), row.text(VERSION), subject=tx.block)
        apx.attest_flags(row, out, tx.block, LABELS)
    return tx


def emit_retirement(row: Row, out: Emitter) -> None:
    tx = _transaction(row, out)
    if tx is not None:
        apx.retirement(row, out, tx, TRANSACTION, reason="Retirement Reason", beneficiary="Retired on Behalf of",
                       purpose="Purpose of Retirement")


def emit_cancellation(row: Row, out: Emitter) -> None:
    tx = _transaction(row, out)
    if tx is not None:
        apx.cancellation(row, out, tx, TRANSACTION, reason="Cancellation Type", details="Cancellation Details")


PROJECTS = TableSpec(
    registry=REGISTRY,
    table="projects",
    required=("Project ID",),
    optional=("Compliance Program ID (ARB or Ecology)", "Project Developer", "Initial Crediting Period Start Date",
              "Current Crediting Period Start Date", "Current Crediting Period End Date", "Voluntary Status",
              "Compliance Program Status (ARB or Ecology)", "Project Status Date", "Current VVB",
              "ACR Project Validation", "Total Number of Credits Registered", "Documents", *PROJECT_COLUMNS),
    signature=("Project ID", "Compliance Program ID (ARB or Ecology)", "Voluntary Status"),
    emit=emit_project,
)

ISSUANCES = TableSpec(
    registry=REGISTRY,
    table="issuances",
    required=("Project ID", "Date Issued (GMT)", "Total Credits Issued"),
    optional=("Vintage", "ReportingPeriodBegin", "ReportingPeriodEnd", "Credits Issued to Project",
              "Credits Issued to Buffer Pool", "Credits Transferred to Buffer Pool", "Project Developer", VERSION,
              "Project VVB", "ARB Eligible", "Ecology Eligible", "CCP Approved", "Verified Removal",
              "Project Crediting Period Start Date", "Documents", *PROJECT_COLUMNS),
    signature=("Project ID", "Credits Issued to Project", "Credits Transferred to Buffer Pool"),
    emit=emit_issuance,
)

_TRANSACTION_OPTIONAL = ("fiid", "Date Issued (GMT)", "Vintage", "Vintage Assignment Period Start Date",
                         "Vintage Assignment Period End Date", "Account Holder", VERSION, *LABELS, "Documents",
                         "Numberoffiles", *PROJECT_COLUMNS)

RETIREMENTS = TableSpec(
    registry=REGISTRY,
    table="retirements",
    required=("Credit Serial Numbers", "Quantity of Credits", "Status Effective (GMT)", "Project ID"),
    optional=("Retired on Behalf of", "Retirement Reason", "Purpose of Retirement", *_TRANSACTION_OPTIONAL),
    signature=("Credit Serial Numbers", "Retired on Behalf of", "Vintage Assignment Period Start Date"),
    emit=emit_retirement,
)

CANCELLATIONS = TableSpec(
    registry=REGISTRY,
    table="cancellations",
    required=("Credit Serial Numbers", "Quantity of Credits", "Status Effective (GMT)", "Project ID",
              "Cancellation Type"),
    optional=("ahID", "Cancellation Details", *_TRANSACTION_OPTIONAL),
    signature=("Credit Serial Numbers", "Cancellation Type", "Vintage Assignment Period Start Date"),
    emit=emit_cancellation,
)

SPECS = (PROJECTS, ISSUANCES, RETIREMENTS, CANCELLATIONS)
