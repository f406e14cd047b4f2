"""The one place that mints IRIs.

Instance IRIs are deterministic: they are built from the registry and the registry's own
identifier only, so loading the same record twice gives the same IRI, and two registries never
collide (the registry slug is always the first path segment). Native identifiers are
percent-encoded, never hashed, so that an IRI stays readable and reversible.

    >>> project_listing("verra", "1507")
    'https://w3id.org/carbonkg/id/verra/project/1507'
    >>> block("american-carbon-registry", "ACR-US-1185-2025-3078", 1, 85847)
    'https://w3id.org/carbonkg/id/american-carbon-registry/block/ACR-US-1185-2025-3078/1-85847'
    >>> organisation("gold-standard", "Keyrock Environment, LLC")
    'https://w3id.org/carbonkg/id/gold-standard/org/keyrock-environment-llc'
    >>> row(export("verra", "transactions.csv"), 17)
    'https://w3id.org/carbonkg/id/verra/export/transactions.csv#row=17'
"""

from __future__ import annotations

from urllib.parse import quote

from carbonkg.ontology.slugs import slug

BASE = "https://w3id.org/carbonkg/"
ID_BASE = BASE + "id/"
VOCAB_BASE = BASE + "vocab/"
ONTOLOGY = BASE + "ontology"

#: Registry slugs: the folder names of the bundled exports, and the first segment of every IRI.
REGISTRIES = (
    "verra",
    "gold-standard",
    "american-carbon-registry",
    "climate-action-reserve",
    "art-trees",
    "isometric",
    "cercarbono",
    "arb",
    # registries that the exports point at but that carbonkg has no export of (yet)
    "cdm",
    "washington-ecology",
)


def _segment(native: str) -> str:
    text = native.strip()
    if not text:
        raise ValueError("an IRI cannot be minted from an empty identifier")
    return quote(text, safe="-._~")


def _base(registry: str, kind: str) -> str:
    if registry not in REGISTRIES:
        raise ValueError(f"unknown registry slug {registry!r}")
    return f"{ID_BASE}{registry}/{kind}/"


def entity(registry: str, kind: str, native: str) -> str:
    """IRI of an entity of ``kind`` that ``registry`` identifies as ``native``."""
    return _base(registry, kind) + _segment(native)


def project_listing(registry: str, native_id: str) -> str:
    return entity(registry, "project", native_id)


def organisation(registry: str, name_or_id: str, *, is_id: bool = False) -> str:
    """An organisation as one registry names it (slug of the name) or identifies it (its id)."""
    key = name_or_id.strip() if is_id else slug(name_or_id)
    if not key:
        raise ValueError(f"no organisation key can be made from {name_or_id!r}")
    return entity(registry, "org", key)


def block(registry: str, prefix: str, start: int, end: int) -> str:
    """A serial-numbered block: its numbering space (prefix) and its range."""
    return f"{entity(registry, 'block', prefix)}/{start}-{end}"


def record(registry: str, kind: str, *parts: str) -> str:
    """An entity identified by a composite key, e.g. an issuance by (project, date, vintage):
    one path segment per part.

    >>> record("verra", "issuance", "3005", "2026-04-02")
    'https://w3id.org/carbonkg/id/verra/issuance/3005/2026-04-02'
    """
    return _base(registry, kind) + "/".join(_segment(p) for p in parts)


def methodology(registry: str, code: str) -> str:
    return entity(registry, "methodology", slug(code) or code)


def location(listing_iri: str, n: int = 1) -> str:
    return f"{listing_iri}/location/{n}"


def label(subject_iri: str, label_slug: str) -> str:
    """A label attestation about a subject: one per subject and label kind."""
    return f"{subject_iri}/label/{label_slug}"


def link(subject_iri: str, relation: str, object_iri: str) -> str:
    """A cross-registry link, keyed by both ends (deterministic, direction kept)."""
    tail = object_iri[len(ID_BASE):] if object_iri.startswith(ID_BASE) else quote(object_iri, safe="")
    return f"{subject_iri}/link/{relation}/{tail}"


def export(registry: str, file_name: str) -> str:
    """A registry export file: keyed by registry and file name, so a changed file replaces its own graph."""
    return entity(registry, "export", file_name)


def row(export_iri: str, rownum: int) -> str:
    """A data row of an export, as an RFC 7111 fragment (1-based, header excluded)."""
    return f"{export_iri}#row={rownum}"


def load_run(run_id: str) -> str:
    return f"{ID_BASE}load/{_segment(run_id)}"


def concept(scheme: str, concept_slug: str) -> str:
    return f"{VOCAB_BASE}{scheme}/{concept_slug}"


def registry(registry_slug: str) -> str:
    return concept("registry", registry_slug)


def country(alpha2: str) -> str:
    return concept("country", alpha2.upper())


def sdg(goal_or_target: str | int) -> str:
    return f"http://metadata.un.org/sdg/{goal_or_target}"
