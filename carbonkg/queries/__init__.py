"""The carbonkg query library: parameterised SPARQL queries, one ``.rq`` file per query.

Each file starts with a header of ``#`` comment lines that says what the query answers and which
parameters it takes, in a form both people and this module read::

    # @title     Retirements by beneficiary and year
    # @kind      aggregate          (lookup | aggregate | listing: the benchmark target it is held to)
    # @reads     summary-beneficiaries   (derived graphs it reads, if any)
    # @description
    #   Free text, any number of indented lines.
    # @param beneficiary string optional
    #   Part of the beneficiary's name, any case.
    # @param year year default=2024
    #   ...
    # @example beneficiary=Delta year=2023

A parameter is bound as a typed RDF term (``"2024"^^xsd:gYear``, ``<https://…>``) in a ``VALUES``
row placed at the start of the query's outermost ``WHERE`` group; a value is never pasted into the
query text as SPARQL, so a parameter cannot change what the query does. An optional parameter
without a value is left out of that row, so its variable is unbound (the query treats an unbound
variable as "any"): the same as ``UNDEF`` in standard SPARQL, and Virtuoso, which does not bind a
variable that is ``UNDEF`` in ``VALUES`` when a pattern of the query matches it, answers alike.

Types: ``string``, ``integer``, ``decimal``, ``boolean``, ``date``, ``year``, ``iri``,
``registry`` (a registry slug such as ``verra``, or its concept IRI), ``concept:<scheme>`` (a
concept slug of a carbonkg vocabulary, e.g. ``concept:label-type``), ``country`` (an ISO 3166
alpha-2 code) and ``serial`` (a serial number or range as any registry writes it, or
``<numbering space>-<credit number>``; it binds ``?serial`` and, when it can be read,
``?serialPrefix``, ``?serialFrom`` and ``?serialTo``).

    >>> [q.name for q in list_queries()][:2]  # doctest: +SKIP
    ['conversions', 'credit-life']
    >>> run_named(store, "retirements-by-beneficiary", {"year": "2024"})  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any

import pyoxigraph as ox

from carbonkg import iris

__all__ = [
    "NamedQuery",
    "Parameter",
    "ParameterError",
    "QueryNotFound",
    "bind",
    "get_query",
    "list_queries",
    "parse_serial_param",
    "rows",
    "run_named",
    "serialize",
]

XSD = "http://www.w3.org/2001/XMLSchema#"
TYPES = ("string", "integer", "decimal", "boolean", "date", "year", "iri", "registry", "country", "serial")
KINDS = ("lookup", "aggregate", "listing")
#: the variables a ``serial`` parameter binds, beside its own
SERIAL_VARIABLES = ("serialPrefix", "serialFrom", "serialTo")


#: paging parameters every library query takes: they become ``LIMIT``/``OFFSET``, not VALUES
PAGING = ("limit", "offset")
_TRAILING_SLICE = re.compile(r"\b(LIMIT|OFFSET)\s+\d+\s*$", re.IGNORECASE)


class ParameterError(ValueError):
    """A parameter value that is missing, unknown or not of its declared type (HTTP 400)."""


class QueryNotFound(KeyError):
    """No library query has that name (HTTP 404)."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    required: bool = False
    default: str | None = None
    description: str = ""

    @property
    def variables(self) -> tuple[str, ...]:
        """The query variables this parameter binds."""
        if self.type == "serial":
            return (self.name, *SERIAL_VARIABLES)
        return (self.name,)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "required": self.required, "default": self.default,
                "description": self.description}


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    kind: str
    sparql: str
    parameters: tuple[Parameter, ...] = ()
    reads: tuple[str, ...] = ()
    examples: tuple[Mapping[str, str], ...] = field(default_factory=tuple)

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise ParameterError(f"query {self.name!r} has no parameter {name!r} "
                             f"(it takes: {', '.join(p.name for p in self.parameters) or 'none'})")

    def as_dict(self) -> dict[str, Any]:
        """What the query page lists: everything but the SPARQL text."""
        return {"name": self.name, "title": self.title, "description": self.description, "kind": self.kind,
                "parameters": [p.as_dict() for p in self.parameters], "reads": list(self.reads),
                "examples": [dict(e) for e in self.examples]}


# --------------------------------------------------------------------------------- parsing

_DIRECTIVE = re.compile(r"#\s*@(?P<key>[a-z]+)\b\s*(?P<rest>.*)$")
_NAME = re.compile(r"[a-z][a-z0-9-]*")
_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_query(name: str, text: str) -> NamedQuery:
    """Read the header of a ``.rq`` file; raises ValueError naming the line for a bad header."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"{name}.rq: a query name is lower-case letters, digits and hyphens")
    fields: dict[str, list[str]] = {}
    params: list[tuple[str, list[str]]] = []
    examples: list[dict[str, str]] = []
    current: list[str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            current = None
            continue
        if not stripped.startswith("#"):
            break  # the header ends at the first line of SPARQL
        m = _DIRECTIVE.match(stripped)
        if m is None:
            if current is not None:
                current.append(stripped.lstrip("#").strip())
            continue
        key, rest = m["key"], m["rest"].strip()
        if key == "param":
            current = []
            params.append((rest, current))
        elif key == "example":
            examples.append(_parse_example(name, number, rest))
            current = None
        elif key in ("title", "description", "kind", "reads"):
            current = fields.setdefault(key, [])
            if rest:
                current.append(rest)
        else:
            raise ValueError(f"{name}.rq line {number}: unknown header directive @{key}")
    title = " ".join(fields.get("title", [])).strip()
    if not title:
        raise ValueError(f"{name}.rq: the header has no @title")
    kind = " ".join(fields.get("kind", [])).strip() or "lookup"
    if kind not in KINDS:
        raise ValueError(f"{name}.rq: @kind {kind!r} is not one of {', '.join(KINDS)}")
    parameters = tuple(_parse_param(name, spec, lines) for spec, lines in params)
    seen: set[str] = set()
    for p in parameters:
        for var in p.variables:
            if var in seen:
                raise ValueError(f"{name}.rq: parameter variable ?{var} is declared twice")
            seen.add(var)
    query = NamedQuery(
        name=name,
        title=title,
        description=" ".join(fields.get("description", [])).strip(),
        kind=kind,
        sparql=text,
        parameters=parameters,
        reads=tuple(" ".join(fields.get("reads", [])).split()),
        examples=tuple(examples),
    )
    _values_position(query)  # fails early if the query has nowhere to bind parameters
    for p in parameters:
        if p.name in PAGING:
            raise ValueError(f"{name}.rq: {p.name} is a paging parameter of every query; name the parameter otherwise")
    if _TRAILING_SLICE.search(_without_comments(text)):
        raise ValueError(f"{name}.rq: ends with LIMIT or OFFSET; paging is the caller's (limit=, offset=)")
    for example in query.examples:
        for key in example:
            query.parameter(key)
    return query


def _parse_param(name: str, spec: str, lines: list[str]) -> Parameter:
    words = spec.split(None, 2)
    if len(words) < 2:
        raise ValueError(f"{name}.rq: '@param {spec}' must be '@param NAME TYPE [required | optional | default=VALUE]'")
    pname, ptype = words[0], words[1]
    if not _VAR.fullmatch(pname):
        raise ValueError(f"{name}.rq: parameter name {pname!r} is not a SPARQL variable name")
    if ptype not in TYPES and not re.fullmatch(r"concept:[a-z0-9-]+", ptype):
        raise ValueError(f"{name}.rq: parameter {pname} has unknown type {ptype!r}")
    rest = words[2].strip() if len(words) > 2 else "optional"
    required, default = False, None
    if rest == "required":
        required = True
    elif rest.startswith("default="):
        default = rest[len("default="):].strip()
    elif rest != "optional":
        raise ValueError(f"{name}.rq: parameter {pname}: expected 'required', 'optional' or 'default=VALUE', got {rest!r}")
    param = Parameter(pname, ptype, required, default, " ".join(lines).strip())
    if default is not None:
        convert(param, default)  # a default must itself be valid
    return param


def _parse_example(name: str, number: int, rest: str) -> dict[str, str]:
    example: dict[str, str] = {}
    # "key=value key2=some value with spaces" : a key starts a new pair
    for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)=(.*?)(?=\s+[A-Za-z_][A-Za-z0-9_]*=|$)", rest):
        example[m[1]] = m[2].strip()
    if rest and not example:
        raise ValueError(f"{name}.rq line {number}: '@example' takes name=value pairs")
    return example


_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def _without_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def _values_position(query: NamedQuery) -> int:
    """Offset just after the ``{`` of the outermost WHERE (the first one outside comments)."""
    offset = 0
    for line in query.sparql.splitlines(keepends=True):
        if not line.lstrip().startswith("#"):
            m = _WHERE.search(line)
            if m is not None:
                return offset + m.end()
        offset += len(line)
    raise ValueError(f"{query.name}.rq: no 'WHERE {{' line to bind parameters at")


# ------------------------------------------------------------------------------- the library


@lru_cache(maxsize=1)
def _library() -> dict[str, NamedQuery]:
    found: dict[str, NamedQuery] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".rq"):
            name = entry.name[:-3]
            found[name] = parse_query(name, entry.read_text(encoding="utf-8"))
    return found


def list_queries() -> list[NamedQuery]:
    """Every library query, by name."""
    return list(_library().values())


def get_query(name: str) -> NamedQuery:
    try:
        return _library()[name]
    except KeyError:
        raise QueryNotFound(name) from None


# ------------------------------------------------------------------------------- binding


def _literal(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


def convert(param: Parameter, raw: Any) -> ox.NamedNode | ox.Literal:
    """The typed RDF term for a parameter value given as text (or as a Python value)."""
    kind = param.type
    text = str(raw).strip() if not isinstance(raw, bool) else ("true" if raw else "false")
    if text == "" and kind != "string":
        raise ParameterError(f"parameter {param.name} ({kind}) is empty")
    try:
        if kind in ("string", "serial"):
            return ox.Literal(text)
        if kind == "integer":
            if not re.fullmatch(r"[+-]?\d+", text):
                raise ValueError
            return _literal(str(int(text)), "integer")
        if kind == "decimal":
            number = Decimal(text.replace(",", ""))
            if not number.is_finite():
                raise ValueError
            return _literal(format(number, "f"), "decimal")
        if kind == "boolean":
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return _literal("true" if lowered in ("true", "1", "yes") else "false", "boolean")
        if kind == "date":
            return _literal(date.fromisoformat(text).isoformat(), "date")
        if kind == "year":
            if not re.fullmatch(r"\d{4}", text):
                raise ValueError
            return _literal(text, "gYear")
        if kind == "iri":
            if not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", text):
                raise ValueError
            return ox.NamedNode(text)
        if kind == "registry":
            slug = text.removeprefix(iris.registry(""))
            if slug not in iris.REGISTRIES:
                raise ParameterError(f"parameter {param.name}: unknown registry {text!r} "
                                     f"(one of {', '.join(iris.REGISTRIES)})")
            return ox.NamedNode(iris.registry(slug))
        if kind == "country":
            if not re.fullmatch(r"[A-Za-z]{2}", text.removeprefix(iris.concept("country", ""))):
                raise ValueError
            return ox.NamedNode(iris.country(text.removeprefix(iris.concept("country", ""))))
        if kind.startswith("concept:"):
            scheme = kind.split(":", 1)[1]
            slug = text.removeprefix(iris.concept(scheme, ""))
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", slug):
                raise ValueError
            return ox.NamedNode(iris.concept(scheme, slug))
    except ParameterError:
        raise
    except (ValueError, InvalidOperation, SyntaxError):
        pass
    raise ParameterError(f"parameter {param.name}: {text!r} is not a valid {kind}")


_SINGLE = re.compile(r"(?P<prefix>.+?)(?:\s*[-#:/ ]\s*)(?P<n>\d+)")


def parse_serial_param(text: str) -> tuple[str, int, int] | None:
    """(numbering space, first, last credit number) of a serial as any registry writes it, or of
    ``<numbering space>-<number>`` (one credit); ``None`` when the text reads as neither.

    >>> parse_serial_param("ACR-US-1185-2025-3078-1 to 85847")
    ('ACR-US-1185-2025-3078', 1, 85847)
    >>> parse_serial_param("VCS-VCU-941467100")
    ('VCS-VCU', 941467100, 941467100)
    >>> parse_serial_param("GS1-1-UG-GS11236-16-2024-30307-12")
    ('GS1-1-UG-GS11236-16-2024-30307', 12, 12)
    """
    from carbonkg.loaders import serials

    text = text.strip()
    for parser in (serials.parse_verra_serial, serials.parse_gold_standard_serial, serials.parse_kyoto_serial,
                   serials.parse_apx_serial):
        try:
            found = parser(text)
        except ValueError:
            continue
        return found.prefix, found.start, found.end
    m = re.fullmatch(r"(?P<prefix>.+?)\s+(?P<start>\d+)\s*(?:-|to)\s*(?P<end>\d+)", text)  # "BATCH 10-20"
    if m is not None and int(m["start"]) <= int(m["end"]):
        return m["prefix"], int(m["start"]), int(m["end"])
    m = _SINGLE.fullmatch(text)
    if m is not None:
        return m["prefix"], int(m["n"]), int(m["n"])
    return None


def _bindings(query: NamedQuery, params: Mapping[str, Any]) -> dict[str, ox.NamedNode | ox.Literal | None]:
    values: dict[str, ox.NamedNode | ox.Literal | None] = {}
    for key in params:
        if key not in PAGING:
            query.parameter(key)  # unknown parameters are an error, not silently ignored
    for p in query.parameters:
        raw = params.get(p.name)
        if isinstance(raw, (list, tuple)):
            if len(raw) != 1:
                raise ParameterError(f"parameter {p.name} is given {len(raw)} times")
            raw = raw[0]
        if raw is None or (isinstance(raw, str) and raw == "" and p.type != "string"):
            raw = p.default
        if raw is None:
            if p.required:
                raise ParameterError(f"query {query.name!r} needs parameter {p.name} ({p.type})")
            for var in p.variables:
                values[var] = None
            continue
        term = convert(p, raw)
        values[p.name] = term
        if p.type == "serial":
            parsed = parse_serial_param(str(raw))
            prefix, first, last = parsed if parsed else (None, None, None)
            values["serialPrefix"] = ox.Literal(prefix) if prefix is not None else None
            values["serialFrom"] = _literal(str(first), "integer") if first is not None else None
            values["serialTo"] = _literal(str(last), "integer") if last is not None else None
    return values


def _slice(params: Mapping[str, Any]) -> str:
    """``LIMIT n OFFSET m`` from the paging parameters (whole numbers, 0 or more), or ""."""
    clauses = []
    for name in PAGING:
        raw = params.get(name)
        if isinstance(raw, (list, tuple)):
            if len(raw) != 1:
                raise ParameterError(f"parameter {name} is given {len(raw)} times")
            raw = raw[0]
        if raw is None or str(raw).strip() == "":
            continue
        text = str(raw).strip()
        if not text.isdigit():
            raise ParameterError(f"parameter {name} must be a whole number, 0 or more; got {text!r}")
        clauses.append(f"{name.upper()} {int(text)}")
    return "\n" + " ".join(clauses) + "\n" if clauses else ""


def bind(query: NamedQuery | str, params: Mapping[str, Any] | None = None) -> str:
    """The query text with its parameters bound: one ``VALUES`` row of typed RDF terms (each
    written by pyoxigraph, so escaped as N-Triples) at the start of the outermost WHERE group;
    a parameter without a value is not in the row (its variable stays unbound). The paging
    parameters ``limit`` and ``offset`` become the query's ``LIMIT`` and ``OFFSET`` (the library's
    listings are ordered, so pages are stable)."""
    if isinstance(query, str):
        query = get_query(query)
    params = params or {}
    values = {name: term for name, term in _bindings(query, params).items() if term is not None}
    text = query.sparql
    if values:
        names = " ".join(f"?{v}" for v in values)
        cells = " ".join(str(t) for t in values.values())
        at = _values_position(query)
        text = f"{text[:at]}\n  VALUES ({names}) {{ ({cells}) }}{text[at:]}"
    return text + _slice(params)


def run_named(store: Any, name: str, params: Mapping[str, Any] | None = None, **options: Any) -> Any:
    """Run library query ``name`` with ``params`` (name → text) on ``store`` (any GraphStore).

    Returns what ``store.query`` returns (pyoxigraph QuerySolutions for SELECT). Raises
    QueryNotFound for an unknown name and ParameterError for bad parameters."""
    return store.query(bind(get_query(name), params), **options)


# ------------------------------------------------------------------------------- results


def rows(solutions: Iterable[Any], variables: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Solutions as dicts of variable name → RDF term (unbound variables left out)."""
    names = [v.value if isinstance(v, ox.Variable) else v for v in (variables or getattr(solutions, "variables", []))]
    out = []
    for solution in solutions:
        row = {}
        for name in names:
            term = solution[name]
            if term is not None:
                row[name] = term
        out.append(row)
    return out


FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}


def serialize(result: Any, fmt: str = "json") -> bytes:
    """A SELECT or ASK result in a W3C results format (json, xml, csv, tsv)."""
    try:
        return result.serialize(format=FORMATS[fmt])
    except KeyError:
        raise ParameterError(f"unknown result format {fmt!r} (one of {', '.join(FORMATS)})") from None


def iter_queries(kind: str | None = None) -> Iterator[NamedQuery]:
    return (q for q in list_queries() if kind is None or q.kind == kind)
