"""Content negotiation: which serialisation answers a request.

The server offers, per kind of answer, an ordered list of :class:`Format` (first = default).
A client chooses with ``Accept`` (media ranges with q-values, RFC 9110 §12.5.1: the most specific
matching range gives an offer its quality; the highest quality wins; ties go to the server's
order) or, for browsers and links, with a ``format`` parameter (a short name such as ``csv`` or a
media type), which overrides ``Accept``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from carbonkg.server.problems import Problem


@dataclass(frozen=True, slots=True)
class Format:
    name: str  # short name, also the value of the `format` parameter
    media_type: str  # Content-Type of the answer
    aliases: tuple[str, ...] = ()  # other media types that select it
    names: tuple[str, ...] = ()  # other `format` values that select it

    @property
    def essence(self) -> str:
        return self.media_type.split(";")[0].strip().lower()

    def selected_by(self) -> tuple[str, ...]:
        return (self.essence, *self.aliases)


# SPARQL query results (SELECT, ASK)
JSON = Format("json", "application/sparql-results+json", ("application/json",), ("srj",))
XML = Format("xml", "application/sparql-results+xml", ("application/xml", "text/xml"), ("srx",))
CSV = Format("csv", "text/csv; charset=utf-8")
TSV = Format("tsv", "text/tab-separated-values; charset=utf-8")
# RDF graphs (CONSTRUCT, DESCRIBE, Graph Store, service description)
TURTLE = Format("turtle", "text/turtle; charset=utf-8", ("application/x-turtle",), ("ttl",))
NTRIPLES = Format("ntriples", "application/n-triples", ("text/plain",), ("nt", "n-triples"))
JSONLD = Format("jsonld", "application/ld+json", ("application/json",), ("json-ld",))
RDFXML = Format("rdfxml", "application/rdf+xml", ("application/xml", "text/xml"), ("rdf", "rdf-xml", "owl"))

SOLUTION_FORMATS: tuple[Format, ...] = (JSON, XML, CSV, TSV)
BOOLEAN_FORMATS: tuple[Format, ...] = (JSON, XML)
GRAPH_FORMATS: tuple[Format, ...] = (TURTLE, NTRIPLES, JSONLD, RDFXML)
FORMATS_BY_KIND: dict[str, tuple[Format, ...]] = {
    "solutions": SOLUTION_FORMATS,
    "boolean": BOOLEAN_FORMATS,
    "graph": GRAPH_FORMATS,
}
ALL_FORMATS: dict[str, Format] = {f.name: f for f in (*SOLUTION_FORMATS, *GRAPH_FORMATS)}

KIND_WORDS = {"solutions": "SELECT results", "boolean": "ASK results", "graph": "RDF graphs"}


@dataclass(frozen=True, slots=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    order: int

    @property
    def specificity(self) -> int:
        return (self.type != "*") + (self.subtype != "*")

    def matches(self, essence: str) -> bool:
        type_, _, subtype = essence.partition("/")
        return (self.type in ("*", type_)) and (self.subtype in ("*", subtype))


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed entries are skipped."""
    ranges: list[MediaRange] = []
    for order, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        essence = pieces[0].lower()
        if "/" not in essence:
            if essence == "*":  # sloppy clients send "*"
                essence = "*/*"
            else:
                continue
        type_, _, subtype = essence.partition("/")
        if not type_ or not subtype or (type_ == "*" and subtype != "*"):
            continue
        q = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value.strip())))
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(type_, subtype, q, order))
    return ranges


def _quality(fmt: Format, ranges: Sequence[MediaRange]) -> float:
    """The q-value the most specific matching range gives ``fmt``; aliases (``application/xml``
    for SPARQL XML) count only when named exactly, never through a wildcard."""
    best: tuple[int, float] | None = None  # (specificity, q) of the most specific matching range
    for media_type in fmt.selected_by():
        for r in ranges:
            if r.matches(media_type) and (media_type == fmt.essence or r.specificity == 2):
                key = (r.specificity, r.q)
                if best is None or key > best:
                    best = key
    return best[1] if best is not None else 0.0


def negotiate(accept: str | None, offers: Sequence[Format]) -> Format | None:
    """The offer the Accept header prefers, the first offer without Accept, None if none fits."""
    if not accept or not accept.strip():
        return offers[0]
    ranges = parse_accept(accept)
    if not ranges:
        return offers[0]
    best: Format | None = None
    best_q = 0.0
    for fmt in offers:
        q = _quality(fmt, ranges)
        if q > best_q:
            best, best_q = fmt, q
    return best


def by_format_parameter(value: str, offers: Sequence[Format]) -> Format | None:
    """The offer a ``format`` parameter names (short name or media type); None if it names
    a known format that this kind of answer cannot take; Problem 400 if it names nothing known."""
    key = value.strip().lower()
    known = False
    for fmt in (*offers, *ALL_FORMATS.values()):
        if key == fmt.name or key in fmt.names or key == fmt.essence or key in fmt.aliases:
            if fmt in offers:
                return fmt
            known = True
    if not known:
        names = ", ".join(sorted(ALL_FORMATS))
        raise Problem(400, "Bad request", f"unknown format {value!r}; use one of: {names}", slug="bad-request")
    return None


@lru_cache(maxsize=512)
def choose(kind: str, accept: str | None, format_param: str | None) -> Format | None:
    """The format for a kind of answer (``solutions``, ``boolean``, ``graph``), None if unmet.

    Remembered per (kind, Accept, format) in a bounded LRU: clients send the same few Accept
    headers over and over, and negotiating costs ~10 µs per kind. (A ``format`` that names
    nothing known raises each time: exceptions are not cached.)"""
    offers = FORMATS_BY_KIND[kind]
    if format_param:
        return by_format_parameter(format_param, offers)
    return negotiate(accept, offers)


def not_acceptable(kind: str, accept: str | None, format_param: str | None) -> Problem:
    offers = FORMATS_BY_KIND[kind]
    available = [f.essence for f in offers]
    asked = f"format={format_param!r}" if format_param else f"Accept {accept!r}"
    return Problem(
        406,
        "Not acceptable",
        f"{asked} allows none of the media types that can carry {KIND_WORDS[kind]}: {', '.join(available)}",
        slug="not-acceptable",
        available=available,
    )
