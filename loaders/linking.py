"""Placeholder while this derivation module is being written in this session (replaced before commit)."""

from carbonkg.loaders.derived import Derivation

DERIVATIONS: tuple[Derivation, ...] = ()
