"""ART TREES (Architecture for REDD+ Transactions, on the APX platform) exports.

Files (columns in data/registry-exports/README.md; shared APX handling in :mod:`apx`):

- ``projects.csv``: one row per jurisdictional *programme* (Program ID ``ART130``) →
  ck:JurisdictionalProgramme listing: sovereign programme developer, name, "Crediting Program and
  Standard" (→ ``ck:underProgramme`` ART TREES or the FCPF Carbon Fund), verification body,
  type, status, initial crediting period start, jurisdictions (location) and "Program  Country"
  (upper-case names such as "CONGO, THE DEMOCRATIC REPUBLIC OF THE"), notes, website.
- ``issuances.csv``: one row per issuance, without serials: the issued credits are a block keyed
  on the issuance. "Total Emission Reductions/Removals" → issuance quantity, "Credits Deposited in
  Buffer" → ``ck:bufferQuantity``, "Credits Verified" (total less buffer) → block quantity;
  "Standard Version" → methodology version; label columns → attestations about the block.
- ``retirements.csv``: one row per retired serial block (``ART-GY-102-2016-9-1 to 1400``; prefix
  ``FCPF`` = FCPF Carbon Fund units held on ART → ``ck:underProgramme`` FCPF), account holder,
  "Retired on Behalf of", reason (e.g. the double-claim signal "Contribution Towards Corporate
  Climate Pledge AND Host Country NDC", kept as concept and raw text), purpose.
- ``cancellations.csv``: one row per cancelled block; "CORSIA Compliance" with the aeroplane
  operator and phase in "Cancellation Details" ("ALL NIPPON AIRWAYS CO., LTD, PHASE 1"): the
  operator becomes the beneficiary; the phase stays in the note (see :func:`corsia_operator`).

Dates: ``02/28/2025`` (issuances "Date Approved", "Status Effective") and ``2/28/2024 3:18:54
PM`` (retirements and cancellations "Date Approved": the time the block was issued), UTC.
"""

from __future__ import annotations

import re

from carbonkg import iris
from carbonkg.loaders import apx, parse
from carbonkg.loaders.base import Emitter, Row, TableSpec
from carbonkg.loaders.emit import T, iri
from carbonkg.loaders.serials import SerialRange, parse_art_serial

REGISTRY = "art-trees"
STANDARD = "Crediting Program and Standard"
VERSION = "Standard Version"
#: serial standard segment → (programme concept, unit-kind concept)
BY_STANDARD = {
    "ART": (iris.concept("programme", "art-trees"), iris.concept("unit-kind", "trees-credit")),
    "FCPF": (iris.concept("programme", "fcpf-carbon-fund"), iris.concept("unit-kind", "fcpf-emission-reduction")),
}
#: programme concept → unit kind of the credits issued under it
UNIT_BY_PROGRAMME = {programme: unit for programme, unit in BY_STANDARD.values()}
PROGRAM_COLUMNS = ("Program Name", "Program Type", "Program Jurisdiction(s)", "Program Country", "Program Website",
                   STANDARD)
LABELS = ("CORSIA Eligible", apx.CORSIA_PILOT, apx.CORSIA_FIRST, "CCP Approved")

# "ALL NIPPON AIRWAYS CO., LTD, PHASE 1"; "Japan Airlines, Co. LTD First Compliance Period"
_CORSIA_DETAILS = re.compile(
    r"(?P<operator>.+?)[,\s]+(?P<phase>phase\s+\w+|(?:pilot|first|second|third)\s+(?:compliance\s+period|phase))",
    re.IGNORECASE,
)


def corsia_operator(details: str) -> tuple[str, str] | None:
    """The aeroplane operator and the phase text of an ART CORSIA cancellation's details.

    Only the operator is used: "PHASE 1" and "First Compliance Period" are not mapped to a
    CORSIA compliance period, since ICAO and operators use both for 2021-2023 and 2024-2026.

    >>> corsia_operator("ALL NIPPON AIRWAYS CO., LTD, PHASE 1")
    ('ALL NIPPON AIRWAYS CO., LTD', 'PHASE 1')
    >>> corsia_operator("Japan Airlines, Co. LTD First Compliance Period")
    ('Japan Airlines, Co. LTD', 'First Compliance Period')
    >>> corsia_operator("Some airline") is None
    True
    """
    m = _CORSIA_DETAILS.fullmatch(details.strip())
    return (m["operator"], m["phase"]) if m else None


def _listing(row: Row, out: Emitter, program_id: str) -> str:
    listing = out.describes(out.listing(program_id, kind="JurisdictionalProgramme"))
    apx.project_facts(row, out, listing, apx.PROGRAM)
    apx.role_once(row, out, listing, T.developer, "Sovereign Program Developer")
    programme = row.concept("programme", STANDARD)
    if programme:
        apx.add_once(out, listing, T.underProgramme, iri(programme))
    return listing


def _program_id(row: Row) -> str | None:
    program_id = row.text("Program ID")
    if program_id is None:
        row.error("Program ID", "", "is empty; every ART row names its programme")
    return program_id


def _unit_kind(serial: SerialRange) -> str | None:
    found = BY_STANDARD.get(serial.parts.get("standard", ""))
    return found[1] if found else None


def emit_project(row: Row, out: Emitter) -> None:
    program_id = _program_id(row)
    if program_id is None:
        return
    listing = _listing(row, out, program_id)
    apx.role_once(row, out, listing, T.verificationBody, "Verification Body")
    out.status(row, listing, "Status", "project-status", T.projectStatus)
    initial = row.parsed("Initial Crediting Period Start Date", parse.parse_date)
    out.date(listing, T.initialCreditingPeriodStart, initial)
    out.text(listing, T.note, row.text("Program Notes"))


def emit_issuance(row: Row, out: Emitter) -> None:
    program_id = _program_id(row)
    if program_id is None:
        return
    listing = _listing(row, out, program_id)
    approved = apx.when(row, "Date Approved")
    vintage = row.parsed("Vintage", parse.parse_year)
    total = row.parsed("Total Emission Reductions/Removals", parse.parse_decimal)
    key = apx.issuance_key(program_id, approved, vintage, total)
    block = out.record_block("issuance-block", *key, listing=listing)
    out.year(block, T.vintageYear, vintage)
    out.decimal(block, T.quantity, row.parsed("Credits Verified", parse.parse_decimal))
    programme = row.concept("programme", STANDARD)
    if programme:
        apx.add_once(out, block, T.underProgramme, iri(programme))
        unit = UNIT_BY_PROGRAMME.get(programme)
        if unit:
            apx.add_once(out, block, T.unitKind, iri(unit))
    apx.attest_flags(row, out, block, LABELS)

    event = apx.issuance(out, REGISTRY, key, listing, approved, block)
    out.decimal(event, T.quantity, total)
    out.decimal(event, T.bufferQuantity, row.parsed("Credits Deposited in Buffer", parse.parse_decimal))
    apx.role(out, event, T.verificationBody, apx.organisation_name(row, "Verification Body"))
    apx.methodology(out, listing, row.text(STANDARD), row.text(VERSION), subject=event,
                    programme=iri(programme) if programme else None)


TRANSACTION = apx.TransactionColumns(
    serial="Credit Serial Numbers",
    quantity="Quantity of Credits",
    vintage="Vintage",
    effective="Status Effective",
    project="Program ID",
    issued="Date Approved",
)


def _transaction(row: Row, out: Emitter) -> apx.Transaction | None:
    tx = apx.transaction_block(row, out, TRANSACTION, parse_art_serial, _listing, _unit_kind)
    if tx is not None:
        found = BY_STANDARD.get(tx.serial.parts.get("standard", ""))
        if found:
            apx.add_once(out, tx.block, T.underProgramme, iri(found[0]))
        programme = row.concept("programme", STANDARD)
        apx.methodology(out, tx.listing, row.text(STANDARD), row.text(VERSION), subject=tx.block,
                        programme=iri(programme) if programme else None)
        apx.attest_flags(row, out, tx.block, LABELS)
    return tx


def emit_retirement(row: Row, out: Emitter) -> None:
    tx = _transaction(row, out)
    if tx is not None:
        apx.retirement(row, out, tx, TRANSACTION, reason="Retirement Reason", beneficiary="Retired on Behalf of",
                       purpose="Purpose of Retirement")


def emit_cancellation(row: Row, out: Emitter) -> None:
    tx = _transaction(row, out)
    if tx is None:
        return
    event, _ = apx.cancellation(row, out, tx, TRANSACTION, reason="Cancellation Reason", details="Cancellation Details")
    details = row.text("Cancellation Details")
    if details and row.concept("cancellation-reason", "Cancellation Reason") == iris.concept(
        "cancellation-reason", "corsia-compliance"
    ):
        found = corsia_operator(details)
        if found:
            out.text(event, T.beneficiaryName, found[0])
            apx.role(out, event, T.beneficiary, found[0])


PROJECTS = TableSpec(
    registry=REGISTRY,
    table="projects",
    required=("Program ID",),
    optional=("Sovereign Program Developer", "Verification Body", "Status", "Initial Crediting Period Start Date",
              "Program Notes", "Documents", "Numberoffiles", *PROGRAM_COLUMNS),
    signature=("Program ID", "Sovereign Program Developer", "Program Notes"),
    emit=emit_project,
)

ISSUANCES = TableSpec(
    registry=REGISTRY,
    table="issuances",
    required=("Program ID", "Date Approved", "Credits Verified"),
    optional=("Sovereign Program Developer", VERSION, "Vintage", "Total Emission Reductions/Removals",
              "Credits Deposited in Buffer", "CCP Approved", "CORSIA Eligible", "Verification Body", "Documents",
              "fiID", *PROGRAM_COLUMNS),
    signature=("Program ID", "Credits Deposited in Buffer", "Credits Verified"),
    emit=emit_issuance,
)

_TRANSACTION_OPTIONAL = ("Vintage", *LABELS, VERSION, "Date Approved", "Account Holder", *PROGRAM_COLUMNS)

RETIREMENTS = TableSpec(
    registry=REGISTRY,
    table="retirements",
    required=("Credit Serial Numbers", "Quantity of Credits", "Status Effective", "Program ID"),
    optional=("Retired on Behalf of", "Retirement Reason", "Purpose of Retirement", *_TRANSACTION_OPTIONAL),
    signature=("Program ID", "Credit Serial Numbers", "Retired on Behalf of"),
    emit=emit_retirement,
)

CANCELLATIONS = TableSpec(
    registry=REGISTRY,
    table="cancellations",
    required=("Credit Serial Numbers", "Quantity of Credits", "Status Effective", "Program ID", "Cancellation Reason"),
    optional=("Cancellation Details", *_TRANSACTION_OPTIONAL),
    signature=("Program ID", "Credit Serial Numbers", "Cancellation Reason"),
    emit=emit_cancellation,
)

SPECS = (PROJECTS, ISSUANCES, RETIREMENTS, CANCELLATIONS)
