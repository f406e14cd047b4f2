"""What the three registries on the APX platform share: ACR, Climate Action Reserve, ART TREES.

The APX exports of the three registries have the same shape (one file each for projects,
issuances, retirements and cancellations), the same cell styles and many of the same columns:

- date-times ``11/3/2025 7:10:41 PM`` (ACR labels them ``(GMT)``; taken as UTC for all three,
  see :data:`carbonkg.loaders.parse.ASSUMED_TIME_ZONE`) and month-first dates ``03/19/2026``;
- serial ranges ``<head>-<start> to <end>`` (parsed by :mod:`carbonkg.loaders.serials`);
- the retirement / cancellation row: serial, quantity, vintage, ``Status Effective``, ``Account
  Holder``, the project columns, then a reason and free text;
- yes/no label columns (:data:`LABEL_FLAGS`): "ARB Eligible", "Ecology Eligible" / "WA ECO
  Eligible", "CORSIA Eligible", the two CORSIA compliance-period columns, "CCP Approved",
  "Verified Removal", "Corresponding Adjustment";
- compliance-programme ids of the California (ARB, ``CAOD1007``) and Washington (``ECYOD902``)
  offset programmes, which become ``ck:compliancePeerOf`` links.

The registry modules (:mod:`acr`, :mod:`car`, :mod:`art_trees`) name their own columns and call
the helpers here, so nothing is written three times.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from carbonkg import iris
from carbonkg.loaders import emit as E
from carbonkg.loaders import parse
from carbonkg.loaders.base import Emitter, Row
from carbonkg.loaders.emit import A, T, iri
from carbonkg.loaders.labels import attest_flag
from carbonkg.loaders.serials import SerialRange


# ----------------------------------------------------------------------------- label columns

#: CORSIA compliance-period columns as ACR and ART write them; CAR omits the parenthesis (alias).
CORSIA_PILOT = "Eligible for CORSIA 2021-2023 Compliance Period (Pilot Phase)"
CORSIA_FIRST = "Eligible for CORSIA 2024-2026 Compliance Period (First Phase)"
CORSIA_ALIASES = {
    CORSIA_PILOT: ("Eligible for CORSIA 2021-2023 Compliance Period",),
    CORSIA_FIRST: ("Eligible for CORSIA 2024-2026 Compliance Period",),
}

#: yes/no column → (label-type slug, compliance-period slug). The vocabularies carry each header
#: as a hiddenLabel of these concepts (checked by the tests); "No" and blank yield nothing.
LABEL_FLAGS: dict[str, tuple[str, str | None]] = {
    "ARB Eligible": ("california-arb", None),
    "Ecology Eligible": ("washington-ecology", None),
    "WA ECO Eligible": ("washington-ecology", None),
    "CORSIA Eligible": ("corsia-eligible", None),
    CORSIA_PILOT: ("corsia-eligible", "corsia-pilot-phase-2021-2023"),
    CORSIA_FIRST: ("corsia-eligible", "corsia-first-phase-2024-2026"),
    "CCP Approved": ("icvcm-ccp", None),
    "Verified Removal": ("verified-removal", None),
    "Corresponding Adjustment": ("correspondingly-adjusted", None),
}

REMOVAL = iris.concept("unit-type", "removal")


def attest_flags(row: Row, out: Emitter, subject: str, columns: tuple[str, ...], *, scope: str = "block") -> None:
    """One label attestation per yes/no column of ``columns`` that says yes.

    "Verified Removal" also states the unit type (removal) of the subject."""
    for column in columns:
        label, period = LABEL_FLAGS[column]
        attest_flag(row, out, subject, column, label, scope=scope, period=period)
        if label == "verified-removal":
            try:
                if parse.parse_yes_no(row.raw(column)):
                    out.concept(subject, T.unitType, REMOVAL)
            except ValueError:
                pass  # attest_flag has recorded the row error


# ------------------------------------------------------------------- compliance programme ids

_ARB_ID = re.compile(r"CA[A-Z]{2}\d+")  # CAOD1007, CAFR6957, CALS5071, CAMM5674
_ECOLOGY_ID = re.compile(r"ECY[A-Z]*\d+")  # ECYOD902


def compliance_registry(native_id: str) -> str | None:
    """The registry slug of a California or Washington compliance project id, from its form.

    >>> compliance_registry("CAOD1007"), compliance_registry("ECYOD902"), compliance_registry("X1")
    ('arb', 'washington-ecology', None)
    """
    if _ARB_ID.fullmatch(native_id):
        return "arb"
    if _ECOLOGY_ID.fullmatch(native_id):
        return "washington-ecology"
    return None


def link_compliance_peer(row: Row, out: Emitter, listing: str, column: str, registry: str | None = None) -> None:
    """A ``ck:compliancePeerOf`` link from ``listing`` to the compliance listing the column names.

    ``registry`` is given when the column itself says which programme ("ARB ID", "WA ECO");
    otherwise the id's form decides, and an id of no known form is reported as uninterpreted."""
    native = row.text(column)
    if native is None:
        return
    target = registry or compliance_registry(native)
    if target is None:
        row.uninterpreted.add(row.columns.get(column, column), "compliance-program-id", native)
        out.text(listing, T.note, f"{row.columns.get(column, column)}: {native}")
        return
    peer = out.describes(out.listing(native, registry=target))
    out.link(listing, "compliancePeerOf", peer, evidence=f"{row.columns.get(column, column)}: {native}")


# ------------------------------------------------------------------------- project columns


@dataclass(frozen=True)
class ProjectColumns:
    """The names under which one registry's files repeat the facts of a project listing."""

    name: str
    type: str
    place: str
    country: str
    website: str
    state: str | None = None


#: ACR and CAR
SITE = ProjectColumns(
    name="Project Name",
    type="Project Type",
    place="Project Site Location",
    state="Project Site State",
    country="Project Site Country",
    website="Project Website",
)
#: ART TREES ("Program  Country" has two spaces in the exports; names match normalised)
PROGRAM = ProjectColumns(
    name="Program Name",
    type="Program Type",
    place="Program Jurisdiction(s)",
    country="Program Country",
    website="Program Website",
)

#: cells that name nothing (CAR "Authorized Project Designee" and "Project Website" "none")
_NO_NAME = frozenset({"none", "n/a", "na", "-"})


def add_once(out: Emitter, subject: str, predicate: str, obj: str) -> None:
    """Add a fact that many rows repeat (project columns of transaction files) only once."""
    if out.once(subject + predicate + obj):
        out.add(subject, predicate, obj)


def date_once(out: Emitter, subject: str, predicate: str, value: date | None) -> None:
    if value is not None:
        add_once(out, subject, predicate, E.xsd_date(value))


def organisation_name(row: Row, column: str) -> str | None:
    name = row.text(column)
    if name is None or name.casefold() in _NO_NAME:
        return None
    return name


def role(out: Emitter, subject: str, predicate: str, name: str | None) -> str | None:
    """``subject`` ``predicate`` the organisation of this registry called ``name`` (described by
    the row)."""
    org = out.organisation(name)
    if org:
        out.add(subject, predicate, out.describes(org))
    return org


def role_once(row: Row, out: Emitter, subject: str, predicate: str, column: str) -> None:
    """A role that many rows repeat (developer, VVB of a listing), added once."""
    org = out.organisation(organisation_name(row, column))
    if org:
        add_once(out, subject, predicate, out.describes(org))


def compliance_status(row: Row, out: Emitter, listing: str, column: str) -> None:
    """A compliance-programme status → ``ck:complianceStatus`` concept; the raw value is kept as
    a note naming its column, since a listing has several statuses (ck:statusText is the
    registry's own project status)."""
    text = row.text(column)
    if text is None:
        return
    out.concept(listing, T.complianceStatus, row.concept("project-status", column))
    out.text(listing, T.note, f"{row.columns.get(column, column)}: {text}")


def project_facts(row: Row, out: Emitter, listing: str, cols: ProjectColumns) -> None:
    """Name, type, location, country and website of a listing, as every APX file repeats them.

    Rows that repeat the same cells for the same listing are skipped whole; rows that differ
    add what they say (each fact once)."""
    raw = row.raw
    if not out.once("\x1f".join((listing, raw(cols.name), raw(cols.type), raw(cols.place),
                                  raw(cols.state) if cols.state else "", raw(cols.country), raw(cols.website)))):
        return
    name = row.text(cols.name)
    if name:
        add_once(out, listing, E.LABEL, E.literal(name))
    project_type = row.concept("project-type", cols.type)
    if project_type:
        add_once(out, listing, T.projectType, iri(project_type))
    location(row, out, listing, cols)
    website(row, out, listing, cols.website)


def location(row: Row, out: Emitter, listing: str, cols: ProjectColumns) -> None:
    """Site (or jurisdiction) and state → a ck:Location; country → ck:hostCountry (raw text kept)."""
    country_text = row.text(cols.country)
    if country_text and out.once(listing + "#country=" + country_text):
        out.country(row, listing, cols.country, predicate=T.hostCountry)
    place = row.text(cols.place)
    state = row.text(cols.state) if cols.state else None
    if place is None and state is None:
        return
    loc = iri(iris.location(listing[1:-1]))
    out.describes(loc)
    if out.once(loc):
        out.add(listing, T.location, loc)
        out.add(loc, A, T.Location)
    if place:
        add_once(out, loc, T.placeName, E.literal(place))
    if state:
        add_once(out, loc, T.subdivision, E.literal(state))
    if country_text and out.once(loc + "#country=" + country_text):
        out.country(row, loc, cols.country)


def website(row: Row, out: Emitter, subject: str, column: str) -> None:
    """A web address; text that is not an http(s) URL ("www.agas.com") stays a note naming the
    column; a placeholder ("none") is dropped (it stays in the raw record)."""
    text = row.text(column)
    if text is None or text.casefold() in _NO_NAME:
        return
    if text.startswith(("http://", "https://")):
        add_once(out, subject, E.SCHEMA_URL, E.any_uri(text))
    else:
        add_once(out, subject, T.note, E.literal(f"{row.columns.get(column, column)}: {text}"))


def methodology(
    out: Emitter,
    listing: str,
    name: str | None,
    version: str | None = None,
    *,
    subject: str | None = None,
    text: str | None = None,
    programme: str | None = None,
) -> None:
    """A methodology (protocol, standard) that APX names in full, without a code, and the
    version a record applies (ACR and ART give it in its own column, CAR after the name).

    Same resources as :meth:`Emitter.methodologies` (one ck:Methodology per registry and name,
    a ck:MethodologyVersion keyed by name and version). The listing gets ``ck:methodology`` the
    methodology and ``ck:methodologyText`` the cell as written (``text``, by default the name);
    ``subject`` (an issuance or a block), when given with a version, gets ``ck:methodology`` the
    version."""
    if not name:
        return
    method = out.describes(iri(iris.methodology(out.registry, name)))
    if out.once(method):
        out.add(method, A, T.Methodology)
        out.add(method, T.recordedIn, out.registry_token)
        out.add(method, E.LABEL, E.literal(name))
        if programme:
            out.add(method, T.underProgramme, programme)
    add_once(out, listing, T.methodology, method)
    add_once(out, listing, T.methodologyText, E.literal(text or name))
    if version:
        release = out.describes(iri(iris.methodology(out.registry, f"{name} {version}")))
        if out.once(release):
            out.add(release, A, T.MethodologyVersion)
            out.add(release, T.recordedIn, out.registry_token)
            out.add(release, T.versionOf, method)
            out.add(release, T.versionNumber, E.literal(version))
        if subject:
            out.add(subject, T.methodology, release)


# --------------------------------------------------------------------------- credit events


def when(row: Row, column: str) -> date | datetime | None:
    """An event's date or date-time (APX writes both), parsed; ``None`` when blank or bad."""
    return row.parsed(column, parse.parse_when)


def issuance_key(
    project_id: str, issued: date | datetime | None, vintage: int | None, total: Decimal | None
) -> tuple[str, ...]:
    """The identity of an issuance row: project, date(-time), vintage and total quantity.

    APX issuance rows have no identifier, and ACR publishes two rows for one project, time and
    vintage (split by label), so the quantity is part of the key."""
    return (
        project_id,
        issued.isoformat() if issued is not None else "-",
        str(vintage) if vintage is not None else "-",
        format(total, "f") if total is not None else "-",
    )


def issuance(
    out: Emitter, registry: str, key: tuple[str, ...], listing: str, issued: date | datetime | None, block: str
) -> str:
    """A ck:Issuance of ``listing`` that generated ``block`` (a block keyed on the issuance)."""
    event = out.event("Issuance", iris.record(registry, "issuance", *key), listing=listing, event_type="issuance")
    out.when(event, issued)
    out.add(event, T.issuedFor, listing)
    out.add(event, T.generatedBlock, block)
    out.add(block, E.PROV_GENERATED_BY, event)
    return event


def invalidate(out: Emitter, event: str, block: str) -> None:
    out.add(event, T.affectsBlock, block)
    out.add(block, E.PROV_INVALIDATED_BY, event)


@dataclass(frozen=True)
class TransactionColumns:
    """The names of the columns every APX retirement or cancellation row has."""

    serial: str
    quantity: str
    vintage: str
    effective: str
    project: str
    account_holder: str = "Account Holder"
    issued: str | None = None  # ACR "Date Issued (GMT)", ART "Date Approved" (the issuance's time)
    vintage_start: str | None = None
    vintage_end: str | None = None


class Transaction(NamedTuple):
    serial: SerialRange
    block: str
    listing: str
    quantity: Decimal | None


def transaction_block(
    row: Row,
    out: Emitter,
    cols: TransactionColumns,
    parse_serial: Callable[[str], SerialRange],
    listing_for: Callable[[Row, Emitter, str], str],
    unit_kind: Callable[[SerialRange], str | None],
) -> Transaction | None:
    """The serial block a retirement or cancellation row acts on, with its vintage and unit kind.

    The block belongs to the row's project; a blank project cell falls back to the project the
    serial names. Returns ``None`` (with a row error) when the row has no usable serial."""
    serial = row.parsed(cols.serial, parse_serial)
    if serial is None:
        if not row.text(cols.serial):
            row.error(cols.serial, "", "is empty; every retirement and cancellation row names its serial block")
        return None
    project_id = row.text(cols.project) or serial.project
    if not project_id:
        row.error(cols.project, "", "is empty and the serial names no project")
        return None
    listing = listing_for(row, out, project_id)
    quantity = row.parsed(cols.quantity, parse.parse_decimal)
    block = out.block(serial, listing=listing, quantity=quantity)
    kind = unit_kind(serial)
    if kind:
        add_once(out, block, T.unitKind, iri(kind))
    vintage = row.parsed(cols.vintage, parse.parse_year)
    if vintage is not None and vintage != serial.vintage:
        out.year(block, T.vintageYear, vintage)  # published vintage that the serial does not repeat
    if cols.vintage_start:
        out.date(block, T.vintageStart, row.parsed(cols.vintage_start, parse.parse_date))
    if cols.vintage_end:
        out.date(block, T.vintageEnd, row.parsed(cols.vintage_end, parse.parse_date))
    if cols.issued:
        issued = when(row, cols.issued)
        if isinstance(issued, datetime):
            out.add(block, E.PROV_GENERATED_AT, E.xsd_datetime(issued))
    return Transaction(serial, block, listing, quantity)


def _event_key(tx: Transaction) -> tuple[str, str]:
    return tx.serial.prefix, f"{tx.serial.start}-{tx.serial.end}"


def retirement(
    row: Row,
    out: Emitter,
    tx: Transaction,
    cols: TransactionColumns,
    *,
    reason: str,
    beneficiary: str | None = None,
    purpose: str | None = None,
    details: str | None = None,
) -> str:
    """A ck:Retirement of the whole block, with account holder, beneficiary, reason and texts."""
    event = out.event("Retirement", iris.record(out.registry, "retirement", *_event_key(tx)),
                      listing=tx.listing, event_type="retirement")
    out.when(event, when(row, cols.effective))
    invalidate(out, event, tx.block)
    out.decimal(event, T.quantity, tx.quantity)
    role(out, event, T.accountHolder, organisation_name(row, cols.account_holder))
    if beneficiary:
        out.text(event, T.beneficiaryName, row.text(beneficiary))
        role(out, event, T.beneficiary, organisation_name(row, beneficiary))
    out.text(event, T.reasonText, row.text(reason))
    out.concept(event, T.retirementReason, row.concept("retirement-reason", reason))
    if purpose:
        out.text(event, T.purposeText, row.text(purpose))
    if details:
        out.text(event, T.note, row.text(details))
    return event


_VOCAB = iris.concept("cancellation-reason", "")

#: cancellation-reason slug → programme slug of the credits a conversion produces. A reason that
#: names no target programme ("Canceled for Compliance": ARB or Washington is not said) yields a
#: ck:Cancellation with that reason, since a ck:Conversion names what it converts to.
CONVERSION_TARGETS: dict[str, str] = {
    "conversion-to-arb-offset-credits": "california-compliance-offset-program",
    "conversion-to-washington-ecology-offset-credits": "washington-ecology-offset-program",
    "conversion-to-vcus": "vcs",
}


def cancellation_event(
    out: Emitter,
    key: tuple[str, ...],
    listing: str,
    reason: str | None,
) -> tuple[str, bool]:
    """A ck:Conversion (with ck:targetProgramme) when the reason concept is a conversion to a
    named programme, else a ck:Cancellation; returns the event and whether it is a conversion."""
    target = CONVERSION_TARGETS.get(reason.removeprefix(_VOCAB)) if reason else None
    if target:
        event = out.event("Conversion", iris.record(out.registry, "conversion", *key),
                          listing=listing, event_type="conversion")
        out.concept(event, T.targetProgramme, iris.concept("programme", target))
    else:
        event = out.event("Cancellation", iris.record(out.registry, "cancellation", *key),
                          listing=listing, event_type="cancellation")
    out.concept(event, T.cancellationReason, reason)
    return event, target is not None


def cancellation(
    row: Row,
    out: Emitter,
    tx: Transaction,
    cols: TransactionColumns,
    *,
    reason: str,
    details: str | None = None,
) -> tuple[str, bool]:
    """A cancellation row: a ck:Conversion (ACR "Convert to ARB offset credits", CAR "ARB" /
    "WA ECO") or a ck:Cancellation, acting on the whole block."""
    reason_concept = row.concept("cancellation-reason", reason)
    event, is_conversion = cancellation_event(out, _event_key(tx), tx.listing, reason_concept)
    out.when(event, when(row, cols.effective))
    invalidate(out, event, tx.block)
    if is_conversion:
        out.add(event, T.convertedFrom, tx.block)
    out.decimal(event, T.quantity, tx.quantity)
    role(out, event, T.accountHolder, organisation_name(row, cols.account_holder))
    out.text(event, T.reasonText, row.text(reason))
    if details:
        out.text(event, T.note, row.text(details))
    return event, is_conversion


# ------------------------------------------------------------------------------------ SDGs

_SDG_CACHE: dict[str, list[int]] = {}


def sdgs(row: Row, out: Emitter, subject: str, column: str) -> None:
    """SDG list cell → ck:contributesToSDG, once per subject and goal (cells repeat per row)."""
    raw = row.raw(column)
    if not raw.strip():
        return
    goals = _SDG_CACHE.get(raw)
    if goals is None:
        goals = row.parsed(column, parse.parse_sdg_list)
        if goals is None:
            return
        if len(_SDG_CACHE) < 10_000:
            _SDG_CACHE[raw] = goals
    for goal in goals:
        add_once(out, subject, T.contributesToSDG, iri(iris.sdg(goal)))
