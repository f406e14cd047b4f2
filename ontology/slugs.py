"""Slugs for minting IRI path segments from published labels.

``slug(text)`` drops diacritics (Unicode NFKD, combining marks removed), lower-cases the text,
replaces every run of characters outside ``[a-z0-9]`` by a single ``-`` and strips leading and
trailing ``-``, so the same label always yields the same IRI segment (``"TÜV SÜD"`` becomes
``"tuv-sud"``, ``"Enviro-Accès"`` becomes ``"enviro-acces"``).  Changing this rule changes minted
IRIs, so treat it as frozen.
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["slug"]

_NOT_SLUG_CHAR = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=65536)  # loaders slug the same organisation names on many rows
def slug(text: str) -> str:
    """Return the slug of ``text`` (may be ``""`` if it has no ASCII letters or digits)."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_SLUG_CHAR.sub("-", ascii_text.lower()).strip("-")
