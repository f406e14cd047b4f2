"""Labels and eligibility columns → label attestations.

Registries publish labels two ways: a list of label names in one cell (Verra "Additional
Certifications", Gold Standard "Label") and one yes/no column per label (ACR, CAR, ART "CCP
Approved", "ARB Eligible", the CORSIA phase columns). Both become ck:LabelAttestation resources
about the block or listing, attributed to the publishing registry; "No" and blank yield nothing.
"""

from __future__ import annotations

from carbonkg.loaders import parse, vocab
from carbonkg.loaders.base import Emitter, Row

_VOCAB = "https://w3id.org/carbonkg/vocab/"

#: what an attestation of each label type asserts (label-status concept slugs)
STATUS_BY_LABEL = {
    "corsia-eligible": "eligible",
    "corsia-scope": "in-scope",
    "icvcm-ccp": "approved",
    "article6-authorisation": "authorised",
    "article6-letter-of-approval": "authorised",
    "article6-letter-of-qualification": "approved",
    "article6-endorsement": "approved",
    "correspondingly-adjusted": "adjusted",
    "california-arb": "eligible",
    "washington-ecology": "eligible",
    "colombian-carbon-tax": "eligible",
    "queretaro-carbon-tax": "eligible",
    "colima-carbon-tax": "eligible",
    "california-debs": "certified",
    "compliance-eligible": "eligible",
    "voluntary-compensation-eligible": "eligible",
    "verified-removal": "certified",
}


def _slug(concept: str | None, scheme: str) -> str | None:
    return concept.removeprefix(f"{_VOCAB}{scheme}/") if concept else None


def status_for(label_slug: str) -> str:
    return STATUS_BY_LABEL.get(label_slug, "certified")


def attest_listed_labels(row: Row, out: Emitter, subject: str, column: str, *, separators: str, scope: str = "block") -> None:
    """One attestation per label named in a list cell; unknown names are reported, kept raw."""
    for item in parse.split_list(row.text(column), separators) or ():
        label = _slug(row.concept("label-type", column, item), "label-type")
        if label is None:
            continue
        # the same text may also name a compliance period or an Article 6 purpose
        period = _slug(vocab.lookup("compliance-period", item), "compliance-period")
        purpose = _slug(vocab.lookup("article6-purpose", item), "article6-purpose")
        out.attest(subject, label, text=item, scope=scope, status=status_for(label), period=period, purpose=purpose)


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
                   scope=scope, status=status or status_for(label_slug), period=period, purpose=purpose)
