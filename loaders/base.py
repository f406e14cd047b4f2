"""What every registry loader shares: the table description, the row being read, and the
emitter that turns parsed values into triples per the ontology.

A registry module (``verra.py``, ``acr.py``…) declares one :class:`TableSpec` per file kind: the
columns it needs, the columns that identify it, and a function ``emit(row, out)`` that reads
cells through :class:`Row` (which records every unparseable cell as a :class:`RowError` with
file, row, column and value) and writes through :class:`Emitter` (which mints IRIs only through
:mod:`carbonkg.iris` and records which entities each source row describes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from carbonkg import iris
from carbonkg.errors import RowError
from carbonkg.loaders import emit as E
from carbonkg.loaders import parse, vocab
from carbonkg.loaders.emit import A, T, TripleWriter
from carbonkg.loaders.serials import SerialRange

V = TypeVar("V")


@dataclass(frozen=True)
class TableSpec:
    """One kind of export file of one registry."""

    registry: str
    table: str  # a concept slug of the table-kind vocabulary
    required: tuple[str, ...]
    emit: Callable[[Row, Emitter], None]
    optional: tuple[str, ...] = ()
    #: columns whose presence identifies this table (defaults to ``required``)
    signature: tuple[str, ...] = ()
    #: canonical column → older or alternative header names registries have used
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.registry}/{self.table}"

    @property
    def identifying_columns(self) -> tuple[str, ...]:
        return self.signature or self.required


@dataclass
class Uninterpreted:
    """Values that parsed as text but that no vocabulary concept or reference table claims."""

    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (column, kind, value)

    def add(self, column: str, kind: str, value: str) -> None:
        self.counts[(column, kind, value)] += 1


class Row:
    """One data row of a source file, read through its canonical column names."""

    __slots__ = ("file", "rownum", "cells", "columns", "errors", "uninterpreted")

    def __init__(
        self,
        file: str,
        rownum: int,
        cells: Mapping[str, str],
        columns: Mapping[str, str],
        errors: list[RowError],
        uninterpreted: Uninterpreted,
    ) -> None:
        self.file = file
        self.rownum = rownum
        self.cells = cells
        self.columns = columns  # canonical name → header as written in this file
        self.errors = errors
        self.uninterpreted = uninterpreted

    def raw(self, column: str) -> str:
        actual = self.columns.get(column)
        if actual is None:
            return ""
        return self.cells.get(actual, "") or ""

    def text(self, column: str) -> str | None:
        """The cell, stripped and with inner white space collapsed; ``None`` when blank."""
        return parse.normalise_text(self.raw(column))

    def parsed(self, column: str, parser: Callable[[str], V | None]) -> V | None:
        """Parse the cell; on failure record a row error and return ``None``."""
        raw = self.raw(column)
        if not raw.strip():
            return None
        try:
            return parser(raw)
        except ValueError as exc:
            self.error(column, raw, str(exc))
            return None

    def error(self, column: str | None, value: str | None, reason: str) -> None:
        header = self.columns.get(column, column) if column else None
        self.errors.append(RowError(self.file, self.rownum, header, value, reason))

    def concept(self, scheme: str, column: str, text: str | None = None) -> str | None:
        """The vocabulary concept for a cell (or for ``text`` taken from it); uninterpreted
        values are recorded, not rejected: the raw text stays in the graph."""
        value = text if text is not None else self.text(column)
        if value is None:
            return None
        found = vocab.lookup(scheme, value)
        if found is None:
            self.uninterpreted.add(self.columns.get(column, column), scheme, value)
        return found


class Emitter:
    """Writes one file's triples; everything it mints goes through :mod:`carbonkg.iris`."""

    def __init__(self, writer: TripleWriter, registry: str, export_iri: str) -> None:
        self.writer = writer
        self.add = writer.add
        self.registry = registry
        self.registry_token = E.iri(iris.registry(registry))
        self.export_iri = export_iri
        self.row_token = ""
        self._seen: set[str] = set()

    # -- rows --------------------------------------------------------------------------------

    def start_row(self, row: Row) -> None:
        row_iri = iris.row(self.export_iri, row.rownum)
        self.row_token = E.iri(row_iri)
        add = self.add
        add(self.row_token, A, E.CSVW_ROW)
        add(self.row_token, E.CSVW_ROWNUM, E.integer(row.rownum))
        add(self.row_token, E.CSVW_URL, E.any_uri(row_iri))
        add(E.iri(self.export_iri), E.CSVW_HAS_ROW, self.row_token)
        add(self.row_token, T.rawRecord, E.json_literal(dict(row.cells)))

    def describes(self, token: str) -> str:
        """Record that the current row describes an entity; returns the token for chaining."""
        self.add(self.row_token, E.CSVW_DESCRIBES, token)
        return token

    def once(self, key: str) -> bool:
        """True the first time ``key`` is seen in this file (for facts repeated on many rows)."""
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    # -- literals ----------------------------------------------------------------------------

    def text(self, subject: str, predicate: str, value: str | None) -> None:
        if value:
            self.add(subject, predicate, E.literal(value))

    def label(self, subject: str, value: str | None) -> None:
        if value:
            self.add(subject, E.LABEL, E.literal(value))

    def decimal(self, subject: str, predicate: str, value: Decimal | None) -> None:
        if value is not None:
            self.add(subject, predicate, E.decimal(value))

    def integer(self, subject: str, predicate: str, value: int | None) -> None:
        if value is not None:
            self.add(subject, predicate, E.integer(value))

    def date(self, subject: str, predicate: str, value: date | datetime | None) -> None:
        if value is not None:
            self.add(subject, predicate, E.xsd_date(value))

    def when(self, event: str, value: date | datetime | None) -> None:
        """An event's date (always ck:eventDate) and, when a time was given, prov:endedAtTime."""
        if value is None:
            return
        self.add(event, T.eventDate, E.xsd_date(value))
        if isinstance(value, datetime):
            self.add(event, E.PROV_ENDED, E.xsd_datetime(value))

    def year(self, subject: str, predicate: str, value: int | None) -> None:
        if value is not None:
            self.add(subject, predicate, E.gyear(value))

    def url(self, subject: str, predicate: str, value: str | None) -> None:
        if value and value.startswith(("http://", "https://")):
            self.add(subject, predicate, E.any_uri(value))
        elif value:
            self.add(subject, T.note, E.literal(value))

    def concept(self, subject: str, predicate: str, concept_iri: str | None) -> None:
        if concept_iri:
            self.add(subject, predicate, E.iri(concept_iri))

    # -- entities ----------------------------------------------------------------------------

    def listing(self, native_id: str, *, kind: str | None = None, registry: str | None = None) -> str:
        """A project listing of this registry (or of ``registry``); typed once per file."""
        reg = registry or self.registry
        token = E.iri(iris.project_listing(reg, native_id))
        if self.once(token):
            self.add(token, A, T.ProjectListing)
            if kind:
                self.add(token, A, getattr(T, kind))
            self.add(token, T.nativeId, E.literal(native_id))
            self.add(token, T.recordedIn, E.iri(iris.registry(reg)))
        return token

    def organisation(self, name: str | None, *, native_id: str | None = None) -> str | None:
        """An organisation as this registry names it; ``None`` when there is no name or id."""
        if not name and not native_id:
            return None
        key = native_id or name or ""
        try:
            token = E.iri(iris.organisation(self.registry, key, is_id=native_id is not None))
        except ValueError:
            return None  # a name made only of punctuation: nothing to identify
        if self.once(token + (name or "")):
            if self.once(token):
                self.add(token, A, T.Organisation)
                self.add(token, T.recordedIn, self.registry_token)
            if name:
                self.add(token, T.orgName, E.literal(name))
        return token

    def role(self, subject: str, predicate: str, name: str | None, *, native_id: str | None = None) -> str | None:
        org = self.organisation(name, native_id=native_id)
        if org:
            self.add(subject, predicate, org)
        return org

    def country(self, row: Row, subject: str, column: str, *, predicate: str | None = None) -> None:
        """Country cell → ck:country (or ``predicate``) concept plus the text as written."""
        text = row.text(column)
        if text is None:
            return
        self.add(subject, T.countryText, E.literal(text))
        try:
            code = parse.parse_country(text)
        except ValueError:
            row.uninterpreted.add(row.columns.get(column, column), "country", text)
            return
        if code:
            self.add(subject, predicate or T.country, E.iri(iris.country(code)))

    def sdgs(self, row: Row, subject: str, column: str) -> None:
        goals = row.parsed(column, parse.parse_sdg_list)
        for goal in goals or ():
            self.add(subject, T.contributesToSDG, E.iri(iris.sdg(goal)))

    def methodologies(self, row: Row, subject: str, column: str, *, programme: str | None = None) -> list[str]:
        """Methodology cell → ck:methodologyText (as written) and one ck:Methodology per item
        (keyed by its code, per registry), plus a ck:MethodologyVersion when the item names one."""
        items = parse.parse_methodology_list(row.raw(column))
        if not items:
            return []
        self.text(subject, T.methodologyText, row.text(column))
        minted = []
        for item in items:
            code, version, title = parse.split_methodology(item)
            method = self.describes(E.iri(iris.methodology(self.registry, code)))
            self.add(subject, T.methodology, method)
            minted.append(method)
            if self.once(method):
                self.add(method, A, T.Methodology)
                self.add(method, T.recordedIn, self.registry_token)
                if programme:
                    self.add(method, T.underProgramme, programme)
                self.text(method, T.methodologyCode, code)
            if title and self.once(method + title):
                self.label(method, title)
            if version:
                release = self.describes(E.iri(iris.methodology(self.registry, f"{code} {version}")))
                self.add(subject, T.methodology, release)
                if self.once(release):
                    self.add(release, A, T.MethodologyVersion)
                    self.add(release, T.recordedIn, self.registry_token)
                    self.add(release, T.versionOf, method)
                    self.text(release, T.versionNumber, version)
        return minted

    def status(self, row: Row, subject: str, column: str, scheme: str, predicate: str) -> None:
        text = row.text(column)
        if text is None:
            return
        self.add(subject, T.statusText, E.literal(text))
        self.concept(subject, predicate, row.concept(scheme, column))

    def block(self, serial: SerialRange, *, listing: str | None, quantity: Decimal | None = None) -> str:
        """A serial-numbered credit block: identity from its numbering space and range."""
        token = E.iri(iris.block(self.registry, serial.prefix, serial.start, serial.end))
        add = self.add
        if self.once(token):
            add(token, A, T.CreditBlock)
            add(token, T.recordedIn, self.registry_token)
            add(token, T.serialPrefix, E.literal(serial.prefix))
            add(token, T.serialStart, E.integer(serial.start))
            add(token, T.serialEnd, E.integer(serial.end))
        add(token, T.serialNumber, E.literal(serial.raw))
        if serial.vintage is not None:
            add(token, T.vintageYear, E.gyear(serial.vintage))
        batch = serial.parts.get("batch")
        if batch:
            add(token, T.serialBatch, E.literal(batch))
        if listing:
            add(token, T.blockOf, listing)
        self.decimal(token, T.quantity, quantity)
        return self.describes(token)

    def record_block(self, kind: str, *key: str, listing: str | None) -> str:
        """A block without serial numbers, identified by the record that states it."""
        token = E.iri(iris.record(self.registry, kind, *key))
        if self.once(token):
            self.add(token, A, T.CreditBlock)
            self.add(token, T.recordedIn, self.registry_token)
            if listing:
                self.add(token, T.blockOf, listing)
        return self.describes(token)

    def event(self, cls: str, iri: str, *, listing: str | None, event_type: str) -> str:
        """A credit event of class ``cls`` (a ck class name) with its event-type concept."""
        token = E.iri(iri)
        if self.once(token):
            self.add(token, A, getattr(T, cls))
            self.add(token, T.recordedIn, self.registry_token)
            self.add(token, T.eventType, E.iri(iris.concept("event-type", event_type)))
            if listing:
                self.add(token, T.eventFor, listing)
        return self.describes(token)

    def attest(
        self,
        subject: str,
        label_slug: str,
        *,
        text: str,
        scope: str = "block",
        status: str | None = None,
        period: str | None = None,
        purpose: str | None = None,
        when: date | None = None,
    ) -> str:
        """A label attestation about ``subject`` published by this registry on this row."""
        subject_iri = subject[1:-1]
        qualifier = "".join(f"-{q}" for q in (period, purpose) if q)
        token = E.iri(iris.label(subject_iri, label_slug + qualifier))
        add = self.add
        if self.once(token):
            add(token, A, T.LabelAttestation)
            add(token, T.labelType, E.iri(iris.concept("label-type", label_slug)))
            add(token, T.labelScope, E.iri(iris.concept("label-scope", scope)))
            add(token, E.PROV_ATTRIBUTED_TO, self.registry_token)
            add(token, T.recordedIn, self.registry_token)
            add(subject, T.hasLabel, token)
            add(token, T.labelSubject, subject)
            if status:
                add(token, T.labelStatus, E.iri(iris.concept("label-status", status)))
            if period:
                add(token, T.compliancePeriod, E.iri(iris.concept("compliance-period", period)))
            if purpose:
                add(token, T.authorisationPurpose, E.iri(iris.concept("article6-purpose", purpose)))
        add(token, T.labelText, E.literal(text))
        if when is not None:
            add(token, T.attestationDate, E.xsd_date(when))
        return self.describes(token)

    def link(
        self,
        subject: str,
        relation: str,
        obj: str,
        *,
        evidence: str,
        method: str = "stated-in-export",
        confidence: str = "1.0",
    ) -> str:
        """A cross-registry link stated by this row, qualified and as a direct triple."""
        subject_iri, object_iri = subject[1:-1], obj[1:-1]
        token = E.iri(iris.link(subject_iri, relation, object_iri))
        add = self.add
        add(subject, getattr(T, relation), obj)
        if self.once(token):
            add(token, A, T.CrossRegistryLink)
            add(token, T.linkSubject, subject)
            add(token, T.linkObject, obj)
            add(token, T.linkRelation, getattr(T, relation))
            add(token, T.linkMethod, E.iri(iris.concept("link-method", method)))
            add(token, T.confidence, E.typed(confidence, E.XSD + "decimal"))
        add(token, T.linkEvidence, E.literal(evidence))
        return self.describes(token)

