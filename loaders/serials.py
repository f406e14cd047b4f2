"""Serial-number parsers: one compiled pattern per registry format (data-model.md section 4).

A registry writes a block of credits as a serial *range*; :class:`SerialRange` holds the parsed
range plus the *prefix*, the identity of the numbering space the two numbers belong to. Two
blocks of one registry can overlap only if their prefixes are equal, so overlap and
double-counting checks group by ``prefix`` and then compare ``start``/``end``.

Prefix rule per registry, and why:

============================ ================================================ ===============================
registry                     prefix (example)                                 reasoning
============================ ================================================ ===============================
Verra (VCS)                  ``VCS-VCU``                                      VCU start/end numbers are one
                                                                              registry-wide sequence (blocks of
                                                                              different projects and vintages
                                                                              never share numbers), so every
                                                                              Verra block must be compared with
                                                                              every other one.
Gold Standard (GS)           ``GS1-1-UG-GS11236-16-2024-30307``               numbers restart at 1 in each
                             (everything before ``-start-end``)               issuance batch (``30307``), so the
                                                                              whole head is the numbering space.
Gold Standard, Kyoto CER     ``KP-RW-2`` (``KP-`` + party + ``-`` +           a Kyoto unit number is unique per
                             original commitment period)                      Party of origin and commitment
                                                                              period (decision 13/CMP.1 annex,
                                                                              as we read it) [verify].
ACR / CAR / ART (APX)        ``ACR-US-1185-2025-3078``,                       APX numbers each issuance batch
                             ``CAR-1-US-1335-31-983-KS-2025-9205``,           from 1: the head up to the batch
                             ``ART-GY-102-2021-11``                           id (before ``-start to end``).
Cercarbono (EcoRegistry)     the batch key, e.g. ``CDC_1_1_1_321_14_1_2009``  the key carries no unit numbers;
                                                                              the retirements file gives
                                                                              ``from``/``to`` within the batch
                                                                              (counting from 0 or 1).
Isometric, ARB               none                                             no serial numbers in the exports.
============================ ================================================ ===============================

``project`` is the project id exactly as the registry's own project-id column writes it (Verra
``1340``, Gold Standard ``11236``, ACR ``ACR1185``, CAR ``CAR1335``, ART ``ART102``, Cercarbono
``1``), so loaders can check a serial against its row; it is ``None`` when the serial does not name
the registry's project (Kyoto CERs carry a CDM project identifier, kept in ``parts``).

>>> r = parse_serial("american-carbon-registry", "ACR-US-1185-2025-3078-1 to 85847")
>>> r.prefix, r.start, r.end, r.quantity, r.vintage, r.project
('ACR-US-1185-2025-3078', 1, 85847, 85847, 2025, 'ACR1185')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

__all__ = [
    "CercarbonoBatch",
    "SerialRange",
    "parse_acr_serial",
    "parse_apx_serial",
    "parse_art_serial",
    "parse_car_serial",
    "parse_cercarbono_batch",
    "parse_cercarbono_serial",
    "parse_gold_standard_serial",
    "parse_kyoto_serial",
    "parse_serial",
    "parse_verra_serial",
]


@dataclass(frozen=True, slots=True)
class SerialRange:
    """An inclusive block ``start..end`` of credit numbers inside the numbering space ``prefix``.

    Equality and hashing ignore ``parts`` (which is derived from ``raw``).

    >>> a = SerialRange("a", "P", 1, 10, None, None, {})
    >>> b = SerialRange("b", "P", 8, 20, None, None, {})
    >>> a.quantity, a.overlaps(b), a.contains(10), a.contains(11)
    (10, True, True, False)
    >>> a.intersection(b).start, a.intersection(b).end
    (8, 10)
    """

    raw: str
    prefix: str
    start: int
    end: int
    vintage: int | None
    project: str | None
    parts: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.start < 0:
            raise ValueError("has a negative start number")
        if self.end < self.start:
            raise ValueError("has its end number before its start number")

    @property
    def quantity(self) -> int:
        """Number of credits in the block (``end - start + 1``)."""
        return self.end - self.start + 1

    def contains(self, n: int) -> bool:
        """True if credit number ``n`` is inside the block."""
        return self.start <= n <= self.end

    def overlaps(self, other: SerialRange) -> bool:
        """True if both blocks share the numbering space and at least one number."""
        return self.prefix == other.prefix and self.start <= other.end and other.start <= self.end

    def intersection(self, other: SerialRange) -> SerialRange | None:
        """The shared numbers as a new range, or ``None`` if the blocks do not overlap.

        The result's ``raw`` is synthetic (``"prefix start-end"``); ``vintage`` and ``project``
        are kept only where both blocks agree, so ``a.intersection(b) == b.intersection(a)``.
        """
        if not self.overlaps(other):
            return None
        start, end = max(self.start, other.start), min(self.end, other.end)
        return SerialRange(
            raw=f"{self.prefix} {start}-{end}",
            prefix=self.prefix,
            start=start,
            end=end,
            vintage=self.vintage if self.vintage == other.vintage else None,
            project=self.project if self.project == other.project else None,
            parts={},
        )


# ----------------------------------------------------------------------------- Verra

_VERRA_RE = re.compile(
    r"(?P<seq>\d+)-(?P<start>\d+)-(?P<end>\d+)-(?P<program>VCS)-(?P<unit>VCU)-(?P<code>\d+)-VER-"
    r"(?P<country>[A-Z]{2})-(?P<scope>\d+)-(?P<project>\d+)-(?P<vstart>\d{8})-(?P<vend>\d{8})-(?P<flag>[01])"
)
_VERRA_FORMAT = "SEQ-START-END-VCS-VCU-CODE-VER-CC-SCOPE-PROJECT-DDMMYYYY-DDMMYYYY-0|1"


def _ddmmyyyy(text: str) -> date:
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        raise ValueError(f"has an invalid vintage date {text!r} (expected DDMMYYYY)") from None


def _range(raw: str, prefix: str, start: str, end: str, vintage: int | None, project: str | None, parts: dict[str, str]) -> SerialRange:
    return SerialRange(raw, prefix, int(start), int(end), vintage, project, parts)


def parse_verra_serial(text: str) -> SerialRange:
    """Parse a Verra VCU serial; vintage = year of the vintage end date (as OffsetsDB).

    >>> r = parse_verra_serial("19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1")
    >>> r.prefix, r.start, r.end, r.quantity, r.vintage, r.project, r.parts["country"]
    ('VCS-VCU', 941467007, 941467431, 425, 2020, '1340', 'ET')
    """
    raw = text.strip()
    m = _VERRA_RE.fullmatch(raw)
    if m is None:
        raise ValueError(f"is not a Verra serial (expected {_VERRA_FORMAT})")
    vstart, vend = _ddmmyyyy(m["vstart"]), _ddmmyyyy(m["vend"])
    if vend < vstart:
        raise ValueError("has a vintage that ends before it starts")
    parts = m.groupdict()
    return _range(raw, "VCS-VCU", m["start"], m["end"], vend.year, m["project"], parts)


# --------------------------------------------------------------------- Gold Standard

_GS_RE = re.compile(
    r"(?P<head>GS(?P<a>\d+)-(?P<b>\d+)-(?P<country>[A-Z]{2})-GS(?P<project>\d+)-(?P<type>\d+)-"
    r"(?P<vintage>\d{4})-(?P<batch>\d+))-(?P<start>\d+)-(?P<end>\d+)"
)
_GS_FORMAT = "GSa-b-CC-GSproject-type-YYYY-batch-start-end"

# Kyoto Protocol unit range: "RW-5-1460108-2-2-0-7014 - RW-5-1463952-2-2-0-7014"
_KYOTO_RE = re.compile(
    r"(?P<party>[A-Z]{2})-(?P<utype>\d)-(?P<start>\d+)-(?P<ocp>\d+)-(?P<cp>\d+)-(?P<lulucf>\d+)-(?P<project>\d+)"
    r"\s+-\s+(?P=party)-(?P=utype)-(?P<end>\d+)-(?P=ocp)-(?P=cp)-(?P=lulucf)-(?P=project)"
)
_KYOTO_FORMAT = "PP-T-START-OCP-CP-LULUCF-PROJECT - PP-T-END-OCP-CP-LULUCF-PROJECT"


def parse_kyoto_serial(text: str) -> SerialRange:
    """Parse a Kyoto-unit (e.g. CER) range as Gold Standard lists it for CDM transitions.

    ``project`` is ``None``: the last field is the Kyoto/CDM project identifier (in
    ``parts["project"]``), not the registry's own project id; the vintage is not in the serial.

    >>> r = parse_kyoto_serial("RW-5-1460108-2-2-0-7014 - RW-5-1463952-2-2-0-7014")
    >>> r.prefix, r.quantity, r.project, r.parts["project"], r.parts["utype"]
    ('KP-RW-2', 3845, None, '7014', '5')
    """
    raw = text.strip()
    m = _KYOTO_RE.fullmatch(raw)
    if m is None:
        raise ValueError(f"is not a Kyoto unit range (expected {_KYOTO_FORMAT})")
    return _range(raw, f"KP-{m['party']}-{int(m['ocp'])}", m["start"], m["end"], None, None, m.groupdict())


def parse_gold_standard_serial(text: str) -> SerialRange:
    """Parse a Gold Standard serial (VER/PER form, or the Kyoto CER range form).

    >>> r = parse_gold_standard_serial("GS1-1-UG-GS11236-16-2024-30307-1-19149")
    >>> r.prefix, r.quantity, r.vintage, r.project, r.parts["batch"]
    ('GS1-1-UG-GS11236-16-2024-30307', 19149, 2024, '11236', '30307')
    """
    raw = text.strip()
    m = _GS_RE.fullmatch(raw)
    if m is not None:
        return _range(raw, m["head"], m["start"], m["end"], int(m["vintage"]), m["project"], m.groupdict())
    if _KYOTO_RE.fullmatch(raw) is not None:
        return parse_kyoto_serial(raw)
    raise ValueError(f"is not a Gold Standard serial (expected {_GS_FORMAT} or a Kyoto range {_KYOTO_FORMAT})")


# ----------------------------------------------------------------------- APX (ACR/CAR/ART)

_ACR_RE = re.compile(
    r"(?P<head>ACR-(?P<country>[A-Z]{2})-(?P<project>\d+)-(?P<vintage>\d{4})-(?P<batch>\d+))"
    r"-(?P<start>\d+) to (?P<end>\d+)"
)
_ACR_FORMAT = "ACR-CC-PROJECT-YYYY-BATCH-START to END"
_CAR_RE = re.compile(
    r"(?P<head>CAR-(?P<unit>1|ROC)-(?P<country>[A-Z]{2})-(?P<project>\d+)-(?P<ptype>\d+)-(?P<developer>\d+)-"
    r"(?P<state>[A-Z]{2})-(?P<vintage>\d{4})-(?P<batch>\d+))-(?P<start>\d+) to (?P<end>\d+)"
)
_CAR_FORMAT = "CAR-1|ROC-CC-PROJECT-TYPE-DEVELOPER-ST-YYYY-BATCH-START to END"
_ART_RE = re.compile(
    r"(?P<head>(?P<standard>ART|FCPF)-(?P<country>[A-Z]{2})-(?P<program>\d+)-(?P<vintage>\d{4})-(?P<batch>\d+))"
    r"-(?P<start>\d+) to (?P<end>\d+)"
)
_ART_FORMAT = "ART|FCPF-CC-PROGRAM-YYYY-BATCH-START to END"


def parse_acr_serial(text: str) -> SerialRange:
    """Parse an American Carbon Registry serial range.

    >>> r = parse_acr_serial("ACR-US-1185-2025-3078-1 to 85847")
    >>> r.prefix, r.quantity, r.project, r.parts["country"]
    ('ACR-US-1185-2025-3078', 85847, 'ACR1185', 'US')
    """
    raw = text.strip()
    m = _ACR_RE.fullmatch(raw)
    if m is None:
        raise ValueError(f"is not an ACR serial (expected {_ACR_FORMAT})")
    return _range(raw, m["head"], m["start"], m["end"], int(m["vintage"]), "ACR" + m["project"], m.groupdict())


def parse_car_serial(text: str) -> SerialRange:
    """Parse a Climate Action Reserve serial range (CRT ``CAR-1-`` or ARB ROC ``CAR-ROC-``).

    >>> r = parse_car_serial("CAR-ROC-US-2056-129-2283-WV-2025-8969-1 to 260294")
    >>> r.prefix, r.quantity, r.project, r.parts["unit"], r.parts["state"]
    ('CAR-ROC-US-2056-129-2283-WV-2025-8969', 260294, 'CAR2056', 'ROC', 'WV')
    """
    raw = text.strip()
    m = _CAR_RE.fullmatch(raw)
    if m is None:
        raise ValueError(f"is not a CAR serial (expected {_CAR_FORMAT})")
    return _range(raw, m["head"], m["start"], m["end"], int(m["vintage"]), "CAR" + m["project"], m.groupdict())


def parse_art_serial(text: str) -> SerialRange:
    """Parse an ART TREES serial range (``ART-`` units, or ``FCPF-`` units held on ART).

    >>> r = parse_art_serial("FCPF-CI-130-2023-20-1 to 46404")
    >>> r.prefix, r.quantity, r.vintage, r.project, r.parts["standard"]
    ('FCPF-CI-130-2023-20', 46404, 2023, 'ART130', 'FCPF')
    """
    raw = text.strip()
    m = _ART_RE.fullmatch(raw)
    if m is None:
        raise ValueError(f"is not an ART serial (expected {_ART_FORMAT})")
    return _range(raw, m["head"], m["start"], m["end"], int(m["vintage"]), "ART" + m["program"], m.groupdict())


def parse_apx_serial(text: str) -> SerialRange:
    """Parse any APX-platform serial (ACR, CAR or ART), choosing by its first segment.

    >>> parse_apx_serial("ART-GY-102-2021-11-2759599 to 2760598").quantity
    1000
    """
    raw = text.strip()
    if raw.startswith("ACR-"):
        return parse_acr_serial(raw)
    if raw.startswith("CAR-"):
        return parse_car_serial(raw)
    if raw.startswith(("ART-", "FCPF-")):
        return parse_art_serial(raw)
    raise ValueError(f"is not an APX serial (expected {_ACR_FORMAT}, {_CAR_FORMAT} or {_ART_FORMAT})")


# ------------------------------------------------------------------------- Cercarbono

_CERCARBONO_RE = re.compile(
    r"(?P<standard>[A-Z]{2,4})_(?:(?P<r>R)_)?(?P<project>\d+)_(?P<rest>[0-9A-Z_]+?)"
    r"(?:_(?P<year>(?:19|20)\d{2}))?(?:_(?P<buffer>BF[A-Z]?))?(?:_(?P<year2>(?:19|20)\d{2}))?"
)
_CERCARBONO_FORMAT = "STD_[R_]PROJECT_..._[YYYY][_BF|_BFC|_BFI][_YYYY], e.g. CDC_1_1_1_321_14_1_2009"


@dataclass(frozen=True, slots=True)
class CercarbonoBatch:
    """A parsed Cercarbono (EcoRegistry) batch key: no unit numbers, only identity.

    >>> b = parse_cercarbono_batch("CDC_4_1_1_321_14_R1_XX_CO_1_2_BFC_2019")
    >>> b.standard, b.project, b.vintage, b.buffer
    ('CDC', '4', 2019, 'BFC')
    """

    raw: str
    standard: str
    project: str
    vintage: int | None
    buffer: str | None
    parts: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_buffer(self) -> bool:
        """True for buffer-pool batches (``_BF``, ``_BFC``, ``_BFI``)."""
        return self.buffer is not None


def parse_cercarbono_batch(text: str) -> CercarbonoBatch:
    """Parse a Cercarbono batch key (``serial`` column).

    ``project`` is the numeric project id; ``vintage`` is the trailing year if any (keys of
    the first, multi-year issuances have none: take the row's ``year``/``vintage`` column).

    >>> parse_cercarbono_batch("CDC_1_1_1_321_14_1_2009").vintage
    2009
    >>> parse_cercarbono_batch("CDC_1_1_1_321_14_1").vintage is None
    True
    """
    raw = text.strip()
    m = _CERCARBONO_RE.fullmatch(raw)
    if m is None:
        raise ValueError(f"is not a Cercarbono serial key (expected {_CERCARBONO_FORMAT})")
    year = m["year"] or m["year2"]
    parts = {k: v for k, v in m.groupdict().items() if v is not None}
    return CercarbonoBatch(raw, m["standard"], m["project"], int(year) if year else None, m["buffer"], parts)


def _whole(value: int | str, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        s = value.strip()
        if s.endswith(".0"):
            s = s[:-2]
        if s.isdigit():
            return int(s)
    raise ValueError(f"has a {name} number {value!r} that is not a whole number")


def parse_cercarbono_serial(text: str, start: int | str, end: int | str) -> SerialRange:
    """Make a range from a Cercarbono batch key and the retirement row's ``from``/``to``.

    >>> r = parse_cercarbono_serial("CDC_1_1_1_321_14_1", "0", "999")
    >>> r.prefix, r.start, r.end, r.quantity, r.project
    ('CDC_1_1_1_321_14_1', 0, 999, 1000, '1')
    """
    batch = parse_cercarbono_batch(text)
    first, last = _whole(start, "start"), _whole(end, "end")
    return SerialRange(
        raw=f"{batch.raw} {first}-{last}",
        prefix=batch.raw,
        start=first,
        end=last,
        vintage=batch.vintage,
        project=batch.project,
        parts=dict(batch.parts),
    )


# --------------------------------------------------------------------------- dispatch

_PARSERS: Mapping[str, Callable[[str], SerialRange]] = {
    "verra": parse_verra_serial,
    "gold-standard": parse_gold_standard_serial,
    "american-carbon-registry": parse_acr_serial,
    "climate-action-reserve": parse_car_serial,
    "art-trees": parse_art_serial,
}
_NO_SERIALS = frozenset({"isometric", "arb"})


def parse_serial(
    registry: str, text: str, *, start: int | str | None = None, end: int | str | None = None
) -> SerialRange:
    """Parse ``text`` with the format of ``registry`` (a folder slug of ``data/registry-exports``).

    Cercarbono needs ``start`` and ``end`` (the retirements file's ``from``/``to`` columns).
    Raises :class:`ValueError` (with the expected format) for a value that does not parse, and
    :class:`KeyError` for an unknown registry slug (a programming error, not a data error).

    >>> parse_serial("cercarbono", "CDC_7_3_1_323_14_CO_1_2_2019", start=22410, end=28813).quantity
    6404
    >>> parse_serial("isometric", "iss_1KP6EDZ8K1S036PY")
    Traceback (most recent call last):
    ...
    ValueError: is not a serial: isometric exports carry no serial numbers
    """
    parser = _PARSERS.get(registry)
    if parser is not None:
        return parser(text)
    if registry == "cercarbono":
        if start is None or end is None:
            raise ValueError("is a Cercarbono batch key: the unit range needs the 'from' and 'to' columns")
        return parse_cercarbono_serial(text, start, end)
    if registry in _NO_SERIALS:
        raise ValueError(f"is not a serial: {registry} exports carry no serial numbers")
    raise KeyError(f"unknown registry slug {registry!r}")
