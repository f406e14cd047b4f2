"""What both validation paths produce: results keyed the way SHACL reports identify them.

Terms are kept as N-Triples strings (``<iri>``, ``"text"``, ``"5"^^<…#integer>``, ``_:b0``) so
that results from pySHACL (rdflib terms) and from the fast path (pyoxigraph terms) compare
directly. A result path is written in SPARQL property-path syntax (``<p>``, ``^<p>``,
``(<p>|<q>)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SH = "http://www.w3.org/ns/shacl#"
CKSH = "https://w3id.org/carbonkg/shapes#"
CK = "https://w3id.org/carbonkg/ontology#"

VIOLATION = SH + "Violation"
WARNING = SH + "Warning"
INFO = SH + "Info"
SEVERITIES = (VIOLATION, WARNING, INFO)
SEVERITY_NAMES = {VIOLATION: "Violation", WARNING: "Warning", INFO: "Info"}


@dataclass(frozen=True, slots=True)
class Result:
    """One validation result (sh:ValidationResult)."""

    focus: str
    path: str | None
    value: str | None
    shape: str  # IRI of the source shape
    severity: str  # IRI: sh:Violation, sh:Warning or sh:Info
    component: str  # IRI of the source constraint component
    message: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[str, str | None, str | None, str, str, str]:
        return (self.focus, self.path, self.value, self.shape, self.severity, self.component)

    @property
    def severity_name(self) -> str:
        return SEVERITY_NAMES.get(self.severity, self.severity)


def short(iri_or_term: str) -> str:
    """Compact form for people: cksh:/ck:/sh: names and bare IRIs."""
    text = iri_or_term[1:-1] if iri_or_term.startswith("<") and iri_or_term.endswith(">") else iri_or_term
    for prefix, name in ((CKSH, "cksh:"), (CK, "ck:"), (SH, "sh:")):
        if text.startswith(prefix):
            return name + text[len(prefix):]
    return text


def iri_of(term: str | None) -> str | None:
    """The IRI of an N-Triples IRI term, else ``None``."""
    if term and term.startswith("<") and term.endswith(">"):
        return term[1:-1]
    return None


def literal_text(term: str) -> str:
    """The lexical form of an N-Triples literal (or the IRI of an IRI term), for messages."""
    if term.startswith("<") and term.endswith(">"):
        return term[1:-1]
    if term.startswith('"'):
        end = term.rfind('"')
        body = term[1:end]
        if "\\" not in body:
            return body
        return re.sub(r'\\(["\\nrt])', lambda m: {"n": "\n", "r": "\r", "t": "\t"}.get(m[1], m[1]), body)
    return term
