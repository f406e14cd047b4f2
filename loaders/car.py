"""Placeholder while the loader is being written in this session (replaced before commit)."""

SPECS = ()
