"""The linkers: what carbonkg links between registries beyond what the exports state.

Each linker is a :class:`~carbonkg.loaders.derived.Derivation`, recomputed into its own graph
after any load that changes an export (see :mod:`carbonkg.loaders.derived`):

- ``links/organisations`` (:mod:`~carbonkg.loaders.linking_organisations`): organisation
  records naming the same body, across registries, roles and spellings → ``ck:sameOrganisationAs``;
- ``links/projects`` (:mod:`~carbonkg.loaders.linking_projects`): listings of one activity in
  several registries or programmes → scored ``ck:sameActivityAs`` candidates;
- ``links/methodologies`` (:mod:`~carbonkg.loaders.linking_methodologies`): the ICVCM CCP
  decisions as a generated concept scheme, and a label attestation on every methodology and
  methodology version a decision concerns.

Found links are ``ck:CrossRegistryLink`` resources with method, evidence and confidence (never
``owl:sameAs``); the direct triple is asserted at confidence ≥ 0.80 and lower-scored candidates
down to 0.50 are kept as link resources only (:mod:`~carbonkg.loaders.linking_common`).
Countries need no linker: the country vocabulary already maps each to Wikidata, and
:func:`~carbonkg.loaders.linking_countries.country_coverage` checks the countries in use.
Precision and recall on hand-labelled pairs: ``benchmarks/linking_quality.py``.
"""

from __future__ import annotations

from carbonkg.loaders import linking_methodologies, linking_organisations, linking_projects
from carbonkg.loaders.derived import Derivation

DERIVATIONS: tuple[Derivation, ...] = (
    linking_organisations.DERIVATION,
    linking_projects.DERIVATION,
    linking_methodologies.DERIVATION,
)
