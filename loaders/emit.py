"""Writing RDF fast: N-Triples text, one line per triple, handed to the store's bulk loader.

Why text and not rdflib or pyoxigraph term objects: formatting a line costs about 0.4 µs in
Python, and oxigraph parses N-Triples in Rust faster than Python can build term objects, so the
loaders spend their time on parsing registry values, not on RDF plumbing.

Tokens are N-Triples terms as strings: ``iri(x)`` is ``<x>``, ``literal(...)`` a quoted literal.
Ontology terms come from the closed ``CK`` namespace (a typo fails at import, not at query time).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import IO

from carbonkg.ontology.namespaces import CK

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
PROV = "http://www.w3.org/ns/prov#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
CSVW = "http://www.w3.org/ns/csvw#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMA = "http://schema.org/"
GEO = "http://www.opengis.net/ont/geosparql#"



def escape(value: str) -> str:
    """N-Triples string escaping; str.replace runs in C and skips clean strings quickly."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if '"' in value:
        value = value.replace('"', '\\"')
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    return value


def iri(value: str) -> str:
    return f"<{value}>"


class _Tokens:
    """Attribute access to the N-Triples tokens of a closed set of terms."""

    def __init__(self, base: str, names: list[str]) -> None:
        for name in names:
            setattr(self, name, f"<{base}{name}>")


#: Every carbonkg ontology term as an N-Triples token: ``T.serialStart`` == "<…#serialStart>".
T = _Tokens(str(CK._NS), [n for n in CK.__annotations__])  # type: ignore[attr-defined]

A = iri(RDF + "type")
LABEL = iri(RDFS + "label")
COMMENT = iri(RDFS + "comment")
DESCRIPTION = iri(DCTERMS + "description")
TITLE = iri(DCTERMS + "title")
SCHEMA_URL = iri(SCHEMA + "url")
PROV_ENDED = iri(PROV + "endedAtTime")
PROV_GENERATED_BY = iri(PROV + "wasGeneratedBy")
PROV_INVALIDATED_BY = iri(PROV + "wasInvalidatedBy")
PROV_INVALIDATED_AT = iri(PROV + "invalidatedAtTime")
PROV_DERIVED_FROM = iri(PROV + "wasDerivedFrom")
PROV_ATTRIBUTED_TO = iri(PROV + "wasAttributedTo")
PROV_USED = iri(PROV + "used")
PROV_STARTED = iri(PROV + "startedAtTime")
PROV_GENERATED_AT = iri(PROV + "generatedAtTime")
PROV_ACTIVITY = iri(PROV + "Activity")
PROV_ENTITY = iri(PROV + "Entity")
DCAT_DISTRIBUTION = iri(DCAT + "Distribution")
DCAT_DATASET = iri(DCAT + "Dataset")
DCAT_BYTE_SIZE = iri(DCAT + "byteSize")
DCAT_DISTRIBUTION_OF = iri(DCAT + "distribution")
DCAT_MEDIA_TYPE = iri(DCAT + "mediaType")
DCTERMS_PUBLISHER = iri(DCTERMS + "publisher")
CSVW_ROW = iri(CSVW + "Row")
CSVW_TABLE = iri(CSVW + "Table")
CSVW_ROWNUM = iri(CSVW + "rownum")
CSVW_URL = iri(CSVW + "url")
CSVW_DESCRIBES = iri(CSVW + "describes")
CSVW_HAS_ROW = iri(CSVW + "row")
GEO_HAS_GEOMETRY = iri(GEO + "hasGeometry")
GEO_GEOMETRY = iri(GEO + "Geometry")
GEO_AS_WKT = iri(GEO + "asWKT")
GEO_WKT = GEO + "wktLiteral"


def literal(value: str) -> str:
    return f'"{escape(value)}"'


def typed(value: str, datatype: str) -> str:
    return f'"{escape(value)}"^^<{datatype}>'


def lang(value: str, language: str = "en") -> str:
    return f'"{escape(value)}"@{language}'


def decimal(value: Decimal) -> str:
    """The canonical xsd:decimal form: no exponent, at least one digit after the point, no
    trailing zeros beyond it ("187.0", "2765.37"), so the same value is always the same term."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
    else:
        text += ".0"
    if text in ("-0.0",):
        text = "0.0"
    return f'"{text}"^^<{XSD}decimal>'


def integer(value: int) -> str:
    return f'"{value}"^^<{XSD}integer>'


def boolean(value: bool) -> str:
    return f'"{"true" if value else "false"}"^^<{XSD}boolean>'


def gyear(value: int) -> str:
    return f'"{value:04d}"^^<{XSD}gYear>'


def xsd_date(value: date) -> str:
    if isinstance(value, datetime):
        value = value.date()
    return f'"{value.isoformat()}"^^<{XSD}date>'


def xsd_datetime(value: datetime) -> str:
    """A datetime; naive values are taken as UTC (the loaders' documented assumption)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return f'"{value.isoformat()}"^^<{XSD}dateTime>'


def any_uri(value: str) -> str:
    return typed(value, XSD + "anyURI")


def json_literal(value: object) -> str:
    return typed(json.dumps(value, ensure_ascii=False, separators=(",", ":")), RDF + "JSON")


class TripleWriter:
    """Writes N-Triples lines to a text sink and counts them."""

    __slots__ = ("_write", "count")

    def __init__(self, sink: IO[str]) -> None:
        self._write = sink.write
        self.count = 0

    def add(self, subject: str, predicate: str, obj: str) -> None:
        self._write(f"{subject} {predicate} {obj} .\n")
        self.count += 1
