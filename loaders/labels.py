"""Labels and eligibility columns → label attestations.

Registries publish labels two ways: a list of label names in one cell (Verra "Additional
Certifications", Gold Standard "Label") and one yes/no column per label (ACR, CAR, ART "CCP
Approved", "ARB Eligible", the CORSIA phase columns). Both become ck:LabelAttestation resources
about the block or listing, attributed to the publishing registry; "No" and blank yield nothing.
"""

from __future__ import annotations

from carbonkg.loaders import parse
from carbonkg.loaders.base import Emitter, Row

_CONCEPT_BASE = "https://w3id.org/carbonkg/vocab/label-type/"


def attest_listed_labels(row: Row, out: Emitter, subject: str, column: str, *, separators: str, scope: str = "block") -> None:
    """One attestation per label named in a list cell; unknown names are reported, kept raw."""
    for item in parse.split_list(row.text(column), separators) or ():
        concept = row.concept("label-type", column, item)
        if concept is None:
            continue
        out.attest(subject, concept.removeprefix(_CONCEPT_BASE), text=item, scope=scope)


def attest_flag(
    row: Row,
    out: Emitter,
    subject: str,
    column: str,
    label_slug: str,
    *,
    scope: str = "block",
    status: str | None = None,
    period: str | None = None,
    purpose: str | None = None,
) -> None:
    """An attestation when a yes/no column says yes."""
    flag = row.parsed(column, parse.parse_yes_no)
    if flag:
        out.attest(subject, label_slug, text=f"{row.columns.get(column, column)}: {row.text(column)}",
                   scope=scope, status=status, period=period, purpose=purpose)
