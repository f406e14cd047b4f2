"""carbonkg.loaders: every registry's real exports into RDF, with provenance to the file and row.

One module per registry; ``TABLE_SPECS`` lists every file kind they read. ``DERIVATIONS`` are the
graphs computed from what was loaded (links found by the linkers, summaries), refreshed after
every load that changes an export (see :mod:`carbonkg.loaders.derived`).
"""

from __future__ import annotations

from carbonkg.loaders.base import TableSpec


def _collect() -> tuple[TableSpec, ...]:
    from carbonkg.loaders import acr, arb, art_trees, car, cercarbono, gold_standard, isometric, verra

    modules = (verra, gold_standard, acr, car, art_trees, isometric, cercarbono, arb)
    return tuple(spec for module in modules for spec in module.SPECS)


TABLE_SPECS: tuple[TableSpec, ...] = _collect()


def _derivations():
    from carbonkg.loaders import linking, summaries

    # linkers first: summaries may count what they link
    return (*linking.DERIVATIONS, *summaries.DERIVATIONS)


DERIVATIONS = _derivations()
