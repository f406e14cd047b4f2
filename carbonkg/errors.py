"""One small hierarchy of errors, each carrying where the problem is."""

from __future__ import annotations

from dataclasses import dataclass


class CarbonkgError(Exception):
    """Base class of every error carbonkg raises on purpose."""


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad cell (or row, or file) in a source file: file, 1-based data row, column, value, reason.

    ``row`` is the 1-based data row number (the header is not counted), or ``None`` when the
    problem concerns the whole file (its encoding, its header).
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        where = ", ".join(parts)
        if self.value is not None:
            return f"{where}: {self.value!r} {self.reason}"
        return f"{where}: {self.reason}"


class LoadError(CarbonkgError):
    """A source file that cannot be read or parsed; carries every row error found (capped)."""

    def __init__(self, errors: list[RowError], *, more: int = 0) -> None:
        self.errors = list(errors)
        self.more = more
        lines = [str(e) for e in self.errors]
        if more:
            lines.append(f"... and {more} more errors")
        super().__init__("\n".join(lines))


class UsageError(CarbonkgError):
    """A command was called with arguments that do not fit."""
