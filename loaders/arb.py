"""California Air Resources Board (CARB/ARB) compliance offset credit issuance table.

File (columns in data/registry-exports/README.md):

- ``nc-arboc_issuance_sheet3.csv``: one row per (CARB issuance, reporting period): ``CARB
  Project ID`` (CAFR forest, CALS livestock, CAOD ozone-depleting substances, CAMM mine methane),
  ``OPR Project ID`` (the listing of the same project in its offset project registry: ACR…,
  CAR…, VCSOPR<n>/VCS<n> for Verra), ``Reporting Period`` (its number) with start and end dates,
  ``Project Type``, ``Early Action/ Compliance`` (EA / COP), ``Vintage`` (a float, "2019.0"),
  ``ARB Offset Credits Issued``, ``Forest Buffer Account Contribution``, ``Issuance Date``,
  invalidation columns, project name, operator, verification body, ``State``, ``Provides
  DEBS``, documentation links, reversals, ``CARB Issuance ID`` ("CAOD1007-A"), the retirement
  and invalidation quantities, and ``Comment``. Dates are ISO (``2024-06-11``), dates only;
  quantities are floats ("79565.0").

What each row becomes:

- the ARB project listing (``CARB Project ID``; an ``ECY…`` id is Washington Ecology's and is
  minted as a ``washington-ecology`` listing so it meets the ACR/CAR "Compliance Program ID"
  columns), its name, type, programme, operator, documentation URL and a location (``State``
  as subdivision, country US when the value is a US state or territory code);
- a ``compliancePeerOf`` link to the OPR listing, minted with the OPR registry's own native id
  (ACR "ACR1007", CAR "CAR1335", Verra "2" for "VCSOPR2"), evidence ``"OPR Project ID: …"``;
- a verification of the reporting period (``ck:verificationId`` = its number, verification
  body, monitoring period);
- an issuance (``CARB Issuance ID`` as its ``ck:nativeId``; its operator and verification
  body, since a listing's operator changes over time) that generated one credit block
  without serial numbers (ARBOC, vintage, quantity, programme),
  keyed on (CARB Issuance ID, Reporting Period): the table's unit is a (issuance, reporting
  period) pair, so an issuance id published over two reporting periods still gives one block
  per row;
- one event per non-zero retirement/invalidation column (see :data:`OUTCOMES`), with its
  quantity, reason and compliance period. These columns are running totals that CARB publishes
  without dates: the events carry **no ck:eventDate** (OffsetsDB assigns fixed dates per
  compliance period; carbonkg does not invent them). A column that retired the whole block
  also invalidates it (``prov:wasInvalidatedBy``); a partial one only ``ck:affectsBlock`` it;
- a reversal event (``ck:CreditEvent``, event type reversal) per non-empty "Intentional
  Reversal" / "Unintentional Reversal" cell, with the quantity as published (negative). Row
  30 of the bundled file is such a record: no issuance id, no vintage, no credits; its
  "Issuance Date" is the date CARB approved the reversal, kept as the reversal's date.

Columns without an ontology property are kept as ``ck:note "<column>: <value>"`` on the
issuance (or the reversal when the row has no issuance): Invalidation Timeframe, Start of
Invalidation Timeframe, Date Invalidation Period Reduced (dates parsed and written ISO),
Provides DEBS, Comment, and Section 95989(b) Documentation when it is neither a URL nor "–".
"DEBS" also yields a label attestation on the block (label type california-debs).

Column → property: CARB Project ID → listing ``ck:nativeId``; Offset Project Name →
``rdfs:label``; Project Type → ``ck:projectType``; Early Action/ Compliance →
``ck:underProgramme`` (listing and block); Offset Project Operator → ``ck:projectOperator``;
Project Documentation → ``ck:documentsUrl``; State → ``ck:location`` (``ck:subdivision``,
``ck:country``) and ``ck:hostCountry``; OPR Project ID → ``ck:compliancePeerOf`` + link;
Reporting Period → ``ck:Verification`` ``ck:verificationId``; Reporting Period Start/End →
``ck:monitoringPeriodStart``/``End``; Verification Body → ``ck:verificationBody``; Issuance Date
→ ``ck:eventDate``; CARB Issuance ID → issuance ``ck:nativeId``; ARB Offset Credits Issued →
block ``ck:quantity``; Vintage → ``ck:vintageYear``; Forest Buffer Account Contribution →
issuance ``ck:bufferQuantity``; retirement columns → events (``ck:quantity``, ``ck:reasonText``
= the column name, ``ck:retirementReason``, ``ck:compliancePeriod``); reversal columns →
reversal events (``ck:quantity``, ``ck:reasonText``).
"""

from __future__ import annotations

from datetime import date

from carbonkg import iris
from carbonkg.loaders import emit as E
from carbonkg.loaders import parse, vocab
from carbonkg.loaders.base import Emitter, Row, TableSpec
from carbonkg.loaders.emit import A, T
from carbonkg.loaders.labels import status_for

REGISTRY = "arb"

#: retirement/invalidation column → (event class, event type, IRI key, reason scheme or None,
#: has a compliance period). Every column name is a skos:hiddenLabel in its schemes.
OUTCOMES: tuple[tuple[str, str, str, str, str | None, bool], ...] = (
    ("Invalidated or Canceled", "Invalidation", "invalidation", "invalidated-or-canceled", None, False),
    ("Buffer Pool Retired", "Retirement", "retirement", "buffer-pool-retired", "retirement-reason", False),
    ("Retired for Intentional Reversal", "Retirement", "retirement", "retired-for-intentional-reversal", "retirement-reason", False),
    ("Retired Voluntarily", "Retirement", "retirement", "retired-voluntarily", "retirement-reason", False),
    ("Retired 1st Compliance Period (CA)", "Retirement", "retirement", "retired-ca-cp1", "retirement-reason", True),
    ("Retired 2nd Compliance Period (CA)", "Retirement", "retirement", "retired-ca-cp2", "retirement-reason", True),
    ("Retired 3rd Compliance Period (CA)", "Retirement", "retirement", "retired-ca-cp3", "retirement-reason", True),
    ("Retired 4th Compliance Period (CA)", "Retirement", "retirement", "retired-ca-cp4", "retirement-reason", True),
    ("Retired 5th Compliance Period (CA)", "Retirement", "retirement", "retired-ca-cp5", "retirement-reason", True),
    ("Retired for Compliance in Quebec", "Retirement", "retirement", "retired-quebec", "retirement-reason", True),
)
REVERSALS = (("Intentional Reversal", "intentional-reversal"), ("Unintentional Reversal", "unintentional-reversal"))

#: OPR Project ID prefix → (registry slug, prefix to drop so the id reads as that registry writes it)
_OPR_PREFIXES: tuple[tuple[str, str, str], ...] = (
    ("VCSOPR", "verra", "VCSOPR"),  # Verra as OPR: "VCSOPR2" is Verra project 2
    ("VCS", "verra", "VCS"),
    ("ACR", "american-carbon-registry", ""),
    ("CAR", "climate-action-reserve", ""),
)
#: USPS codes of the states, DC and the territories (State column → country US)
_US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
    "NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR VI UM".split()
)
_US = E.iri(iris.country("US"))
_ARBOC = E.iri(iris.concept("unit-kind", "arboc"))
_NO_DOCUMENT = frozenset({"–", "-", "—", "n/a"})


def _opr_listing(out: Emitter, value: str) -> str | None:
    """The OPR listing named by an ``OPR Project ID``, minted as that registry writes its ids."""
    upper = value.upper()
    for prefix, registry, drop in _OPR_PREFIXES:
        if upper.startswith(prefix):
            native = value[len(drop):] if drop else value
            if native.strip() and (not drop or native.strip().isdigit()):
                return out.describes(out.listing(native.strip(), registry=registry))
    return None


def _org(out: Emitter, name: str | None) -> str | None:
    org = out.organisation(name)
    return out.describes(org) if org else None


def _listing(row: Row, out: Emitter, native: str, operator: str | None) -> str:
    registry = "washington-ecology" if native.upper().startswith("ECY") else None
    listing = out.describes(out.listing(native, registry=registry))
    name = row.text("Offset Project Name")
    if name and out.once(listing + "#name:" + name):
        out.label(listing, name)
    out.concept(listing, T.projectType, row.concept("project-type", "Project Type"))
    out.concept(listing, T.underProgramme, row.concept("programme", "Early Action/ Compliance"))
    if operator:
        out.add(listing, T.projectOperator, operator)
    out.url(listing, T.documentsUrl, row.text("Project Documentation"))
    state = row.text("State")
    if state:
        location = out.describes(E.iri(iris.location(listing[1:-1])))
        out.add(listing, T.location, location)
        if out.once(location):
            out.add(location, A, T.Location)
        out.text(location, T.subdivision, state)
        if state.upper() in _US_STATES:
            out.add(location, T.country, _US)
            out.add(listing, T.hostCountry, _US)
        else:
            row.uninterpreted.add(row.columns.get("State", "State"), "us-state", state)
    opr = row.text("OPR Project ID")
    if opr:
        peer = _opr_listing(out, opr)
        if peer is not None:
            out.link(listing, "compliancePeerOf", peer, evidence=f"OPR Project ID: {opr}")
        else:
            row.uninterpreted.add(row.columns.get("OPR Project ID", "OPR Project ID"), "opr-project-id", opr)
            out.text(listing, T.note, f"OPR Project ID: {opr}")
    return listing


def _notes(row: Row, out: Emitter, subject: str) -> None:
    """Columns kept as ``ck:note "<column>: <value>"`` (no ontology property states them)."""
    timeframe = row.text("Invalidation Timeframe")
    if timeframe:
        out.text(subject, T.note, f"Invalidation Timeframe: {timeframe}")
    for column in ("Start of Invalidation Timeframe", "Date Invalidation Period Reduced"):
        value = row.parsed(column, parse.parse_date)
        if value is not None:
            out.text(subject, T.note, f"{column}: {value.isoformat()}")
    debs = row.text("Provides DEBS")
    if debs:
        out.text(subject, T.note, f"Provides DEBS: {debs}")
    section = row.text("Section 95989(b) Documentation, if applicable")
    if section and section.casefold() not in _NO_DOCUMENT:
        if section.startswith(("http://", "https://")):
            out.url(subject, T.documentsUrl, section)
        else:
            out.text(subject, T.note, f"Section 95989(b) Documentation, if applicable: {section}")
    comment = row.text("Comment")
    if comment:
        out.text(subject, T.note, f"Comment: {comment}")


def _verification(out: Emitter, native: str, listing: str, period: str | None, start: date | None,
                  end: date | None, body: str | None) -> str | None:
    """The verification of a reporting period (its number is the verification's id)."""
    if period is None:
        return None
    verification = out.describes(E.iri(iris.record(REGISTRY, "verification", native, period)))
    if out.once(verification):
        out.add(verification, A, T.Verification)
        out.add(verification, T.recordedIn, out.registry_token)
        out.add(verification, T.verificationId, E.literal(period))
        out.add(verification, T.assessmentOf, listing)
        out.date(verification, T.monitoringPeriodStart, start)
        out.date(verification, T.monitoringPeriodEnd, end)
    if body:
        out.add(verification, T.verificationBody, body)
    return verification


def emit_issuance(row: Row, out: Emitter) -> None:
    native = row.text("CARB Project ID")
    if native is None:
        row.error("CARB Project ID", "", "is empty; every ARB issuance row names its CARB project")
        return
    operator = _org(out, row.text("Offset Project Operator"))
    body = _org(out, row.text("Verification Body"))
    listing = _listing(row, out, native, operator)
    period = row.text("Reporting Period")
    start = row.parsed("Reporting Period Start Date", parse.parse_date)
    end = row.parsed("Reporting Period End Date", parse.parse_date)
    issued_on = row.parsed("Issuance Date", parse.parse_date)
    quantity = row.parsed("ARB Offset Credits Issued", parse.parse_decimal)
    buffer = row.parsed("Forest Buffer Account Contribution", parse.parse_decimal)
    vintage = row.parsed("Vintage", parse.parse_year)
    issuance_id = row.text("CARB Issuance ID")
    verification = _verification(out, native, listing, period, start, end, body)
    # the record the row is about: an issuance, or (row 30) only a reversal
    key = (issuance_id, period or "-") if issuance_id else (native, period or "-")

    issuance = block = None
    if issuance_id:
        issuance = out.event("Issuance", iris.record(REGISTRY, "issuance", *key), listing=listing, event_type="issuance")
        out.add(issuance, T.nativeId, E.literal(issuance_id))
        out.when(issuance, issued_on)
        out.add(issuance, T.issuedFor, listing)
        out.date(issuance, T.monitoringPeriodStart, start)
        out.date(issuance, T.monitoringPeriodEnd, end)
        out.decimal(issuance, T.bufferQuantity, buffer)
        # the operator and verifier of this issuance (a listing's operator can change over time)
        for predicate, org in ((T.verificationBody, body), (T.projectOperator, operator)):
            if org:
                out.add(issuance, predicate, org)
        if verification:
            out.add(issuance, T.basedOnVerification, verification)
        block = out.record_block("block", *key, listing=listing)
        out.add(issuance, T.generatedBlock, block)
        out.add(block, E.PROV_GENERATED_BY, issuance)
        out.add(block, T.unitKind, _ARBOC)
        programme = row.text("Early Action/ Compliance")
        if programme:  # already reported by _listing when no concept claims it
            out.concept(block, T.underProgramme, vocab.lookup("programme", programme))
        out.decimal(block, T.quantity, quantity)
        out.year(block, T.vintageYear, vintage)
        if row.text("Provides DEBS") == "DEBS":
            _attest_debs(row, out, block)
    elif quantity:
        row.error("CARB Issuance ID", "", f"is empty although {row.columns.get('ARB Offset Credits Issued')!r} is "
                  f"{row.raw('ARB Offset Credits Issued')!r}; an issuance row names its CARB issuance")
        return

    reversal = None
    for column, slug in REVERSALS:
        amount = row.parsed(column, parse.parse_decimal)
        if amount is None:
            continue
        reversal = out.event("CreditEvent", iris.record(REGISTRY, "reversal", native, period or "-", slug),
                             listing=listing, event_type="reversal")
        out.decimal(reversal, T.quantity, amount)
        out.text(reversal, T.reasonText, row.columns.get(column, column))
        out.date(reversal, T.monitoringPeriodStart, start)
        out.date(reversal, T.monitoringPeriodEnd, end)
        if verification:
            out.add(reversal, T.basedOnVerification, verification)
        if issuance is None:
            out.when(reversal, issued_on)  # the row's only date: when CARB recorded the reversal
    _notes(row, out, issuance or reversal or listing)

    for column, cls, event_type, slug, reason_scheme, has_period in OUTCOMES:
        amount = row.parsed(column, parse.parse_decimal)
        if not amount:  # blank or 0: nothing happened
            continue
        header = row.columns.get(column, column)
        # No ck:eventDate: CARB publishes these totals undated (see the module docstring).
        event = out.event(cls, iris.record(REGISTRY, event_type, *key, slug), listing=listing, event_type=event_type)
        out.decimal(event, T.quantity, amount)
        out.text(event, T.reasonText, header)
        if reason_scheme:
            out.concept(event, T.retirementReason, row.concept(reason_scheme, column, column))
        if has_period:
            out.concept(event, T.compliancePeriod, row.concept("compliance-period", column, column))
        if block is not None:
            out.add(event, T.affectsBlock, block)
            if amount == quantity:
                out.add(block, E.PROV_INVALIDATED_BY, event)


def _attest_debs(row: Row, out: Emitter, block: str) -> None:
    """``Provides DEBS`` = "DEBS": a label attestation (label type california-debs)."""
    concept = row.concept("label-type", "Provides DEBS", "DEBS")
    if concept is not None:
        label = concept.rsplit("/", 1)[1]
        out.attest(block, label, text="Provides DEBS: DEBS", status=status_for(label))


ISSUANCES = TableSpec(
    registry=REGISTRY,
    table="arb-issuances",
    required=("CARB Project ID", "CARB Issuance ID", "ARB Offset Credits Issued", "Issuance Date"),
    optional=("OPR Project ID", "Reporting Period", "Project Type", "Early Action/ Compliance",
              "Reporting Period Start Date", "Reporting Period End Date", "Vintage",
              "Forest Buffer Account Contribution", "Invalidation Timeframe",
              "Date Invalidation Period Reduced", "Start of Invalidation Timeframe", "Offset Project Name",
              "Offset Project Operator", "Verification Body", "State", "Provides DEBS",
              "Section 95989(b) Documentation, if applicable", "Project Documentation",
              "Intentional Reversal", "Unintentional Reversal", "Comment",
              *(c for c, *_ in OUTCOMES)),
    signature=("CARB Project ID", "OPR Project ID", "CARB Issuance ID"),
    emit=emit_issuance,
)

SPECS = (ISSUANCES,)
