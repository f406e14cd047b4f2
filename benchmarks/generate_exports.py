"""Generate large registry exports for benchmarks by multiplying the real bundled rows.

Every copy k of a real row gets fresh identifiers and fresh serial numbers (identifiers get k
folded into their number, serial ranges are shifted by k × 10^9 within their numbering space), so
the loaders mint new entities as they would for a real export of that size; every other cell is
the real one. Output: one folder per registry with the same file names as the real exports.

    python benchmarks/generate_exports.py --rows 100000 --out var/bench/100k
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXPORTS = REPO / "data" / "registry-exports"
SHIFT = 10**9

_ID = re.compile(r"^(\D*?)(\d+)(.*)$")
_INT = re.compile(r"\d+")
_KYOTO_SIDE = re.compile(r"^([A-Z]{2}-\d-)(\d+)(-.*)$")


def fresh_id(value: str, k: int) -> str:
    """'ACR1185' → 'ACR1185000012' for k=12: the number part becomes unique per copy."""
    if not value.strip():
        return value
    m = _ID.match(value.strip())
    if m is None:
        return f"{value}_{k}"
    prefix, digits, rest = m.groups()
    if "." in rest and rest.strip(".0") == "":  # floats such as '11191.0'
        return f"{prefix}{int(digits) * 1_000_000 + k}{rest}"
    return f"{prefix}{int(digits) * 1_000_000 + k}{rest}"


def shift_numbers(value: str, k: int, positions: tuple[int, ...]) -> str:
    """Add k × 10^9 to the integer runs at ``positions`` (negative counts from the end)."""
    spans = [m.span() for m in _INT.finditer(value)]
    if not spans:
        return value
    chosen = {p % len(spans) for p in positions}
    out, last = [], 0
    for i, (start, end) in enumerate(spans):
        out.append(value[last:start])
        number = value[start:end]
        out.append(str(int(number) + k * SHIFT) if i in chosen else number)
        last = end
    out.append(value[last:])
    return "".join(out)


def shift_serial(value: str, k: int, registry: str) -> str:
    if not value.strip():
        return value
    if registry == "verra":
        return shift_numbers(value, k, (1, 2))
    if registry == "gold-standard" and " - " in value:  # Kyoto CER range
        sides = []
        for side in value.split(" - "):
            m = _KYOTO_SIDE.match(side)
            sides.append(f"{m[1]}{int(m[2]) + k * SHIFT}{m[3]}" if m else side)
        return " - ".join(sides)
    return shift_numbers(value, k, (-2, -1))


def fresh_batch_key(value: str, k: int) -> str:
    """Cercarbono batch keys 'CDC_1_1_1_321_14_1_2009': make the project segment unique."""
    parts = value.split("_")
    for i, part in enumerate(parts[1:], start=1):
        if part.isdigit():
            parts[i] = str(int(part) * 1_000_000 + k)
            break
    return "_".join(parts)


# column → how to freshen it, per registry (columns absent from a file are ignored)
ID_COLUMNS = {
    "verra": ("ID",),
    "gold-standard": ("GSID", "POA GSID"),
    "american-carbon-registry": ("Project ID", "fiid", "Compliance Program ID (ARB or Ecology)"),
    "climate-action-reserve": ("Project ID", "ARB ID", "Compliance Program ID", "WA ECO"),
    "art-trees": ("Program ID", "fiID"),
    "isometric": ("id", "project_id", "retirement_id", "short_code"),
    "cercarbono": ("id", "code", "project_id"),
    "arb": ("CARB Project ID", "OPR Project ID", "CARB Issuance ID"),
}
SERIAL_COLUMNS = ("Serial Number", "Credit Serial Numbers", "Offset Credit Serial Numbers")
SHIFT_COLUMNS = {"cercarbono": ("from", "to")}
BATCH_COLUMNS = {"cercarbono": ("serial",)}


def freshen(row: dict[str, str], k: int, registry: str) -> dict[str, str]:
    if k == 0:
        return row
    new = dict(row)
    for column in ID_COLUMNS.get(registry, ()):
        if column in new:
            new[column] = fresh_id(new[column], k)
    for column in SERIAL_COLUMNS:
        if column in new:
            new[column] = shift_serial(new[column], k, registry)
    for column in SHIFT_COLUMNS.get(registry, ()):
        if column in new and new[column].strip().isdigit():
            new[column] = str(int(new[column]) + k * SHIFT)
    for column in BATCH_COLUMNS.get(registry, ()):
        if column in new and new[column]:
            new[column] = fresh_batch_key(new[column], k)
    return new


def generate(total_rows: int, out: Path, exports: Path = EXPORTS) -> dict[str, int]:
    """Write about ``total_rows`` data rows, spread over every real file in proportion to its size."""
    files = sorted(p for p in exports.glob("*/*.csv"))
    real = {}
    for path in files:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            real[path] = (header, [r for r in reader if any(c.strip() for c in r)])
    real_total = sum(len(rows) for _, rows in real.values())
    copies = max(1, round(total_rows / real_total))
    written = {}
    for path, (header, rows) in real.items():
        registry = path.parent.name
        target = out / registry / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            n = 0
            for k in range(copies):
                for record in rows:
                    row = dict(zip(header, record + [""] * (len(header) - len(record))))
                    writer.writerow([freshen(row, k, registry).get(h, "") for h in header])
                    n += 1
        written[f"{registry}/{path.name}"] = n
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    written = generate(args.rows, args.out)
    for name, n in written.items():
        print(f"{n:>9}  {name}")
    print(f"{sum(written.values()):>9}  rows in {len(written)} files under {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
