"""Slugs for minting IRI path segments from published labels.

``slug(text)`` lower-cases the text, replaces every run of characters outside ``[a-z0-9]`` by a
single ``-`` and strips leading and trailing ``-``.  It is deliberately simple and
ASCII-only so that the same label always yields the same IRI segment: letters with diacritics are
not transliterated (``"TÜV SÜD"`` becomes ``"t-v-s-d"``).  Changing this rule changes minted
IRIs, so treat it as frozen.
"""

from __future__ import annotations

import re

__all__ = ["slug"]

_NOT_SLUG_CHAR = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """Return the slug of ``text`` (may be ``""`` if it has no ASCII letters or digits)."""
    return _NOT_SLUG_CHAR.sub("-", text.lower()).strip("-")
