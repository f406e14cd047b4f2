"""Cell parsers for registry exports: numbers, years, dates, flags, SDGs, countries, literals.

Every parser takes the cell text exactly as read from the file and

* returns ``None`` for blank input (empty or only whitespace), and otherwise
* returns a typed value, or raises :class:`ValueError` whose message is a short reason
  phrased to follow the value, e.g. ``"is not a number"``. The loader wraps it into a
  :class:`carbonkg.errors.RowError` together with the file, row, column and raw value
  (see :func:`row_error`).

The parsers are pure and keep no state; every regular expression and the country lookup table
are built once, at import.

Time zones
----------
Registry exports rarely state a time zone. Parsers return *aware* datetimes only when the text
carries ``Z`` or an offset; otherwise they return *naive* datetimes and the caller decides the
zone with :func:`to_utc`, which treats naive values as UTC. Per registry (checked on every
date column of the real exports in ``data/registry-exports/``):

============================ ========================================== =====================================
registry                     date/time styles seen                      zone assumed for naive times
============================ ========================================== =====================================
verra                        ``2026-04-03`` (dates only)                no times; UTC if one ever appears
gold-standard                ``2026-04-13T12:35:58.842275``,            UTC (nothing stated)
                             ``2026-04-03``
american-carbon-registry     ``11/3/2025 7:10:41 PM``, ``12/9/2024``    UTC: the columns are labelled ``(GMT)``
climate-action-reserve       ``03/19/2026`` (dates only)                no times; UTC if one ever appears
art-trees                    ``02/28/2025``, ``2/28/2024 3:18:54 PM``   UTC (nothing stated; same APX platform
                                                                        as ACR, whose columns say GMT)
isometric                    ``2026-04-14T16:50:41.621676Z``,           explicit ``Z`` = UTC (aware)
                             ``2026-01-22``
cercarbono                   ``2019-03-07T18:33:46.000Z`` (issuances),  issuances: explicit UTC; retirements
                             ``2022-02-24 20:20:59`` (retirements),     ``date``: UTC assumed (nothing stated;
                             ``2010-01-01 / 2018-09-30`` (range)        EcoRegistry is Colombian, UTC-5 possible)
arb                          ``2024-06-11`` (dates only)                no times
============================ ========================================== =====================================

US-style slash dates are month-first (APX registries: ACR, CAR, ART). Day-first ``DD/MM/YYYY``
(which OffsetsDB accepts for some Verra downloads) is parsed only when ``dayfirst=True`` is passed.

>>> parse_decimal("1,454,054")
Decimal('1454054')
>>> parse_when("11/3/2025 7:10:41 PM")
datetime.datetime(2025, 11, 3, 19, 10, 41)
>>> parse_country("CONGO, THE DEMOCRATIC REPUBLIC OF THE")
'CD'
"""

from __future__ import annotations

import ast
import csv
import json
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from carbonkg.errors import RowError

__all__ = [
    "ASSUMED_TIME_ZONE",
    "COUNTRY_EXTRA_NAMES",
    "NO_COUNTRY_VALUES",
    "known_country_codes",
    "normalise_country_key",
    "normalise_text",
    "parse_country",
    "parse_date",
    "parse_date_range",
    "parse_datetime",
    "parse_decimal",
    "parse_integer",
    "parse_json_cell",
    "parse_literal_list",
    "parse_methodology_list",
    "split_methodology",
    "parse_python_literal",
    "parse_sdg_list",
    "parse_when",
    "parse_year",
    "parse_yes_no",
    "row_error",
    "split_list",
    "to_utc",
]

#: Zone assumed for naive date-times, per registry slug (see the module docstring for why).
ASSUMED_TIME_ZONE: Mapping[str, timezone] = {
    "verra": UTC,
    "gold-standard": UTC,
    "american-carbon-registry": UTC,  # columns are labelled "(GMT)"
    "climate-action-reserve": UTC,
    "art-trees": UTC,
    "isometric": UTC,  # values carry "Z" anyway
    "cercarbono": UTC,
    "arb": UTC,
}


# --------------------------------------------------------------------------- text


def normalise_text(text: str | None) -> str | None:
    """Strip and collapse every run of whitespace (any Unicode space) to one space.

    >>> normalise_text("  Program   Country \\n")
    'Program Country'
    >>> normalise_text(" \\t ") is None
    True
    """
    if text is None:
        return None
    out = " ".join(text.split())
    return out or None


def row_error(file: str, row: int | None, column: str | None, value: str | None, exc: Exception) -> RowError:
    """Wrap a parser's ``ValueError`` into a :class:`RowError` naming where it happened.

    >>> str(row_error("verra/transactions.csv", 3, "Vintage", "20x9", ValueError("is not a number")))
    "verra/transactions.csv, row 3, column 'Vintage': '20x9' is not a number"
    """
    return RowError(file=file, row=row, column=column, value=value, reason=str(exc))


def split_list(text: str | None, separators: str = ";") -> list[str] | None:
    """Split a list cell on any of ``separators``; items are normalised, blank items dropped.

    >>> split_list("REDD; WRC")
    ['REDD', 'WRC']
    >>> split_list("a, b;c", ",;")
    ['a', 'b', 'c']
    >>> split_list("") is None
    True
    """
    if text is None or not text.strip():
        return None
    first = separators[0]
    for sep in separators[1:]:
        text = text.replace(sep, first)
    items = (normalise_text(part) for part in text.split(first))
    return [item for item in items if item]


# ------------------------------------------------------------------------ numbers

# Optional sign, either comma-grouped thousands or plain digits, optional fraction, optional
# exponent (pandas writes very small floats as "1e-05"). Spaces around are allowed.
_NUMBER_RE = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?|[+-]?\.\d+(?:[eE][+-]?\d+)?")


def parse_decimal(text: str | None) -> Decimal | None:
    """Parse a number as written in the exports into an exact :class:`~decimal.Decimal`.

    Accepts thousands separators (``1,454,054``, only in groups of three), fractions
    (``2765.37``), pandas float spellings (``1454054.0``), surrounding spaces and a sign.

    >>> parse_decimal("1,454,054")
    Decimal('1454054')
    >>> parse_decimal(" 12 "), parse_decimal("-27150.0"), parse_decimal("2765.37")
    (Decimal('12'), Decimal('-27150.0'), Decimal('2765.37'))
    >>> parse_decimal("1,45x")
    Traceback (most recent call last):
    ...
    ValueError: is not a number
    """
    if text is None:
        return None
    s = text.strip()
    if not s:
        return None
    if _NUMBER_RE.fullmatch(s) is None:
        raise ValueError("is not a number")
    try:
        return Decimal(s.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex only lets valid numbers through
        raise ValueError("is not a number") from None


def parse_integer(text: str | None) -> int | None:
    """Parse a whole number; ``"2019.0"`` (pandas float spelling) is accepted, ``"2.5"`` is not.

    >>> parse_integer("79565.0"), parse_integer("1,710"), parse_integer("-3")
    (79565, 1710, -3)
    >>> parse_integer("2.5")
    Traceback (most recent call last):
    ...
    ValueError: is not a whole number
    """
    value = parse_decimal(text)
    if value is None:
        return None
    if value != value.to_integral_value():
        raise ValueError("is not a whole number")
    return int(value)


def parse_year(text: str | None) -> int | None:
    """Parse a year (vintage) between 1900 and 2100; ``"2019.0"`` is accepted.

    >>> parse_year("2019"), parse_year("2024.0")
    (2019, 2024)
    >>> parse_year("19")
    Traceback (most recent call last):
    ...
    ValueError: is not a year between 1900 and 2100
    """
    value = parse_integer(text)
    if value is None:
        return None
    if not 1900 <= value <= 2100:
        raise ValueError("is not a year between 1900 and 2100")
    return value


# -------------------------------------------------------------------------- dates

# ISO 8601 calendar date, optionally with a time (T or space), fraction and zone.
_ISO_RE = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d+))?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
# Slash dates M/D/YYYY (or D/M/YYYY with dayfirst), optionally with H:MM[:SS] [AM|PM].
_SLASH_RE = re.compile(
    r"(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})"
    r"(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?)?"
)
# Two ISO dates separated by a slash or "to" (Cercarbono vintage_of_credits).
_RANGE_RE = re.compile(r"(\S+)\s*(?:/|\bto\b)\s*(\S+)")

_DATE_FORMATS = "YYYY-MM-DD[THH:MM[:SS[.ffffff]][Z|+HH:MM]], M/D/YYYY [h:mm[:ss] AM|PM]"


def _zone(tz: str | None) -> timezone | None:
    if tz is None:
        return None
    if tz == "Z":
        return UTC
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError("has an invalid UTC offset")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _parse_parts(text: str, dayfirst: bool) -> tuple[date, time | None]:
    """Split a date(-time) string into a date and an optional time (with tzinfo if given)."""
    s = text.strip()
    m = _ISO_RE.fullmatch(s)
    if m is not None:
        try:
            d = date(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError:
            raise ValueError("is not a valid calendar date") from None
        if m["H"] is None:
            return d, None
        frac = m["f"] or ""
        micro = int((frac + "000000")[:6]) if frac else 0
        zone = _zone(m["tz"])
        try:
            t = time(int(m["H"]), int(m["M"]), int(m["S"] or 0), micro, tzinfo=zone)
        except ValueError:
            raise ValueError("is not a valid time of day") from None
        return d, t
    m = _SLASH_RE.fullmatch(s)
    if m is not None:
        first, second = int(m["a"]), int(m["b"])
        month, day = (second, first) if dayfirst else (first, second)
        try:
            d = date(int(m["y"]), month, day)
        except ValueError:
            order = "D/M/YYYY" if dayfirst else "M/D/YYYY (pass dayfirst=True for D/M/YYYY)"
            raise ValueError(f"is not a valid {order} date") from None
        if m["H"] is None:
            return d, None
        hour = int(m["H"])
        if m["ampm"] is not None:
            if not 1 <= hour <= 12:
                raise ValueError("is not a valid 12-hour time")
            hour = hour % 12 + (12 if m["ampm"].lower() == "pm" else 0)
        try:
            t = time(hour, int(m["M"]), int(m["S"] or 0))
        except ValueError:
            raise ValueError("is not a valid time of day") from None
        return d, t
    raise ValueError(f"is not a date (expected {_DATE_FORMATS})")


def parse_date(text: str | None, *, dayfirst: bool = False) -> date | None:
    """Parse a calendar date. A time part is accepted only if it is exactly midnight.

    >>> parse_date("2026-04-03"), parse_date("03/19/2026"), parse_date("12/9/2024")
    (datetime.date(2026, 4, 3), datetime.date(2026, 3, 19), datetime.date(2024, 12, 9))
    >>> parse_date("2024-05-01 00:00:00")
    datetime.date(2024, 5, 1)
    >>> parse_date("19/03/2026", dayfirst=True)
    datetime.date(2026, 3, 19)
    >>> parse_date("2026-04-13T12:35:58")
    Traceback (most recent call last):
    ...
    ValueError: has a time of day (use a date-time parser)
    """
    if text is None or not text.strip():
        return None
    d, t = _parse_parts(text, dayfirst)
    if t is not None and (t.replace(tzinfo=None) != time(0) or t.utcoffset()):
        raise ValueError("has a time of day (use a date-time parser)")
    return d


def parse_datetime(text: str | None, *, dayfirst: bool = False) -> datetime | None:
    """Parse a date-time; a date alone means midnight. Aware only if the text has a zone.

    >>> parse_datetime("2026-04-13T12:35:58.842275")
    datetime.datetime(2026, 4, 13, 12, 35, 58, 842275)
    >>> parse_datetime("11/3/2025 7:10:41 PM")
    datetime.datetime(2025, 11, 3, 19, 10, 41)
    >>> parse_datetime("2019-03-07T18:33:46.000Z")
    datetime.datetime(2019, 3, 7, 18, 33, 46, tzinfo=datetime.timezone.utc)
    >>> parse_datetime("2026-04-03")
    datetime.datetime(2026, 4, 3, 0, 0)
    """
    if text is None or not text.strip():
        return None
    d, t = _parse_parts(text, dayfirst)
    return datetime.combine(d, t if t is not None else time(0), tzinfo=t.tzinfo if t is not None else None)


def parse_when(text: str | None, *, dayfirst: bool = False) -> date | datetime | None:
    """Return a :class:`date` when no time was written, else a :class:`datetime` (even at midnight).

    >>> parse_when("2026-04-03")
    datetime.date(2026, 4, 3)
    >>> parse_when("2024-05-01 00:00:00")
    datetime.datetime(2024, 5, 1, 0, 0)
    >>> parse_when("12/1/2022 8:05:15 PM")
    datetime.datetime(2022, 12, 1, 20, 5, 15)
    """
    if text is None or not text.strip():
        return None
    d, t = _parse_parts(text, dayfirst)
    if t is None:
        return d
    return datetime.combine(d, t, tzinfo=t.tzinfo)


def parse_date_range(text: str | None) -> tuple[date, date] | None:
    """Parse a period written as two dates, e.g. Cercarbono ``vintage_of_credits``.

    >>> parse_date_range("2010-01-01 / 2018-09-30")
    (datetime.date(2010, 1, 1), datetime.date(2018, 9, 30))
    >>> parse_date_range("2018-09-30 / 2010-01-01")
    Traceback (most recent call last):
    ...
    ValueError: is a period that ends before it starts
    """
    if text is None or not text.strip():
        return None
    m = _RANGE_RE.fullmatch(text.strip())
    if m is None:
        raise ValueError("is not a period (expected YYYY-MM-DD / YYYY-MM-DD)")
    start, end = parse_date(m[1]), parse_date(m[2])
    assert start is not None and end is not None
    if end < start:
        raise ValueError("is a period that ends before it starts")
    return start, end


def to_utc(value: datetime, assume: timezone = UTC) -> datetime:
    """Make a datetime aware in UTC; a naive value is taken to be in ``assume`` (UTC by default).

    >>> to_utc(datetime(2025, 11, 3, 19, 10, 41))
    datetime.datetime(2025, 11, 3, 19, 10, 41, tzinfo=datetime.timezone.utc)
    >>> to_utc(datetime(2025, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5))))
    datetime.datetime(2025, 1, 1, 17, 0, tzinfo=datetime.timezone.utc)
    """
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=assume)
    return value.astimezone(UTC)


# -------------------------------------------------------------------------- flags

_YES = frozenset({"yes", "y", "true", "t", "x", "1", "✓", "✔"})
_NO = frozenset({"no", "n", "false", "f", "0"})


def parse_yes_no(text: str | None) -> bool | None:
    """Parse a flag: Yes/No, Y/N, True/False (any case), ``x`` (ticked) and 1/0.

    >>> parse_yes_no("Yes"), parse_yes_no("N"), parse_yes_no("TRUE"), parse_yes_no("x")
    (True, False, True, True)
    >>> parse_yes_no("") is None
    True
    >>> parse_yes_no("maybe")
    Traceback (most recent call last):
    ...
    ValueError: is not a yes/no value
    """
    if text is None:
        return None
    s = text.strip().casefold()
    if not s:
        return None
    if s in _YES:
        return True
    if s in _NO:
        return False
    raise ValueError("is not a yes/no value")


# --------------------------------------------------------------------- literals


def parse_python_literal(text: str | None) -> Any:
    """Parse a Python-literal cell (Cercarbono lists/dicts, Isometric ``purposes``) safely.

    Uses :func:`ast.literal_eval`, never ``eval``: only literals (str, numbers, tuples, lists,
    dicts, sets, booleans, ``None``) are accepted.

    >>> parse_python_literal("[{'code': 8, 'description': 'Economic growth'}]")
    [{'code': 8, 'description': 'Economic growth'}]
    >>> parse_python_literal("__import__('os')")
    Traceback (most recent call last):
    ...
    ValueError: is not a Python literal
    """
    if text is None or not text.strip():
        return None
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise ValueError("is not a Python literal") from None


def parse_json_cell(text: str | None) -> Any:
    """Parse a JSON cell (strict JSON: double quotes, ``true``/``null``).

    >>> parse_json_cell('{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> parse_json_cell("{'a': 1}")
    Traceback (most recent call last):
    ...
    ValueError: is not JSON
    """
    if text is None or not text.strip():
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ValueError("is not JSON") from None


def parse_literal_list(text: str | None) -> list[Any] | None:
    """Parse a list cell written as JSON or as a Python literal (Isometric ``purposes``).

    >>> parse_literal_list("['public_environmental_claims', 'corporate_targets']")
    ['public_environmental_claims', 'corporate_targets']
    >>> parse_literal_list("[]"), parse_literal_list('["a"]')
    ([], ['a'])
    >>> parse_literal_list("{'a': 1}")
    Traceback (most recent call last):
    ...
    ValueError: is not a list
    """
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        try:
            value = parse_python_literal(text)
        except ValueError:
            raise ValueError("is not a list (neither JSON nor a Python literal)") from None
    if not isinstance(value, list):
        raise ValueError("is not a list")
    return value


# --------------------------------------------------------------------------- SDGs

# One SDG item: optional "SDG"/"Goal" word, the number (maybe zero-padded), optional title
# after ":", "." , "-" or ")".
_SDG_ITEM_RE = re.compile(r"(?:(?:sdg|goal)\s*)?0*(\d{1,3})\s*(?:[:.)\-]\s*(?P<title>.*))?", re.IGNORECASE | re.DOTALL)
_DIGITS_RE = re.compile(r"\s*\d{1,3}\s*")


def _sdg_number(item: object) -> int:
    if isinstance(item, bool):
        raise ValueError("is not a list of SDGs")
    if isinstance(item, int):
        n = item
    elif isinstance(item, str):
        m = _SDG_ITEM_RE.fullmatch(item.strip())
        if m is None:
            raise ValueError(f"is not a list of SDGs ({item.strip()!r} has no goal number)")
        n = int(m[1])
    elif isinstance(item, Mapping):
        for key in ("code", "id", "goal", "number"):
            if key in item:
                return _sdg_number(item[key])
        raise ValueError("is not a list of SDGs (an entry has no 'code')")
    else:
        raise ValueError("is not a list of SDGs")
    if not 1 <= n <= 17:
        raise ValueError(f"names SDG {n}; goals are numbered 1 to 17")
    return n


def parse_sdg_list(text: str | None) -> list[int] | None:
    """Parse a list of UN Sustainable Development Goals into sorted goal numbers (1-17).

    Forms seen: Verra ``"01: No Poverty; 13: Climate Action"``, ACR ``"03: Good Health and
    Well-Being;09: Industry, Innovation and Infrastructure"``, CAR ``"2. Zero Hunger;3. Good
    Health and Well-Being"``, Gold Standard ``"4,13,6"``, Cercarbono
    ``"[{'code': 8, 'description': 'Economic growth'}]"``.

    >>> parse_sdg_list("01: No Poverty; 13: Climate Action")
    [1, 13]
    >>> parse_sdg_list("4,13,6,5,3,8")
    [3, 4, 5, 6, 8, 13]
    >>> parse_sdg_list("2. Zero Hunger;9. Industry, Innovation and Infrastructure")
    [2, 9]
    >>> parse_sdg_list("[{'code': 13, 'description': 'Climate action'}]")
    [13]
    >>> parse_sdg_list("18")
    Traceback (most recent call last):
    ...
    ValueError: names SDG 18; goals are numbered 1 to 17
    """
    if text is None:
        return None
    s = text.strip()
    if not s:
        return None
    items: list[object]
    if s[0] in "[(":
        value = parse_literal_list(s) if s[0] == "[" else parse_python_literal(s)
        items = list(value)
    elif ";" in s:
        items = [part for part in s.split(";") if part.strip()]
    else:
        parts = s.split(",")
        # "4,13,6": comma-separated numbers; otherwise one titled goal whose title has commas.
        items = parts if all(_DIGITS_RE.fullmatch(p) for p in parts) else [s]
    return sorted({_sdg_number(item) for item in items})


# ------------------------------------------------------------------- methodologies

_METHODOLOGY_CODE_RE = re.compile(r"[A-Z][A-Za-z0-9.\-/]{1,40}")  # a bare code: no spaces
#: Placeholder texts that mean "no methodology given".
_METHODOLOGY_PLACEHOLDERS = frozenset({"not provided", "not defined", "n/a", "na", "none", "-"})


def parse_methodology_list(text: str | None) -> list[str] | None:
    """Split a methodology cell into items (normalised text, order kept, duplicates dropped).

    Items are separated by ``;``; a ``,`` separates items only when every piece is a bare
    methodology code (titles may contain commas). Placeholders such as ``"Not provided"``
    (Gold Standard) give ``None``.

    >>> parse_methodology_list("VMR0006; VM0050")
    ['VMR0006', 'VM0050']
    >>> parse_methodology_list("AMS-I.C., AMS-III.D.")
    ['AMS-I.C.', 'AMS-III.D.']
    >>> parse_methodology_list("ACM0002 Grid-connected electricity generation from renewable sources")
    ['ACM0002 Grid-connected electricity generation from renewable sources']
    >>> parse_methodology_list("Not provided") is None
    True
    """
    s = normalise_text(text)
    if s is None or s.casefold() in _METHODOLOGY_PLACEHOLDERS:
        return None
    if ";" in s:
        pieces = s.split(";")
    else:
        commas = [p.strip() for p in s.split(",")]
        pieces = commas if len(commas) > 1 and all(_METHODOLOGY_CODE_RE.fullmatch(p) for p in commas) else [s]
    out: list[str] = []
    for piece in pieces:
        item = normalise_text(piece)
        if item and item not in out:
            out.append(item)
    return out or None


# ------------------------------------------------------------------------ countries

#: Registry spellings that the reference CSV lacks, found in (or named for) the exports.
#: Keys are written as in the registries; they are normalised like every other key.
COUNTRY_EXTRA_NAMES: Mapping[str, str] = {
    "United States": "US",  # Verra Country/Area (CSV has "US", "United States of America")
    "Turkey": "TR",  # Verra, Gold Standard (CSV has only "Türkiye")
    "Republic of Turkey": "TR",
    "Swaziland": "SZ",  # former name, still in older registry rows
    "Cape Verde": "CV",
    "Czech Republic": "CZ",
    "Burma": "MM",
    "Korea, South": "KR",
    "Korea, North": "KP",
    "Republic of the Congo": "CG",  # Verra project names and some registries
    "Congo, Republic of the": "CG",
    "Congo, Democratic Republic of the": "CD",
    "DR Congo": "CD",
    "DRC": "CD",
    "Macedonia": "MK",
    "The Gambia": "GM",
    "East Timor": "TL",
    "UAE": "AE",
    "United Kingdom": "GB",  # CSV has "UK" and the long formal name only
}

#: Values that deliberately name no single country (Gold Standard lists multi-country
#: programmes as "International"); :func:`parse_country` returns ``None`` for them.
NO_COUNTRY_VALUES: frozenset[str] = frozenset({"international"})

_COUNTRY_COLUMNS = (
    "UNTERM English Short",
    "UNTERM English Formal",
    "CLDR display name",
    "official_name_en",
    "ISO4217-currency_country_name",
)
_PUNCT_RE = re.compile(r"[^\w\s]")
_THE_PAREN_RE = re.compile(r"\(\s*the\s*\)\s*\**", re.IGNORECASE)
_PAREN_RE = re.compile(r"\s*\([^)]*\)\s*\**\s*$")


def normalise_country_key(text: str) -> str:
    """Normalise a country name or code for lookup.

    Casefold, strip accents, turn punctuation into spaces, drop every word ``the``, collapse
    spaces. So ``"CONGO, THE DEMOCRATIC REPUBLIC OF THE"``, ``"Congo (the Democratic Republic of
    the)"`` and ``"Congo the Democratic Republic of the"`` share one key.

    >>> normalise_country_key("COTE D'IVOIRE") == normalise_country_key("Côte d’Ivoire")
    True
    >>> normalise_country_key("Korea (the Republic of)")
    'korea republic of'
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = _PUNCT_RE.sub(" ", stripped.replace("_", " ")).split()
    return " ".join(w for w in words if w != "the")


def _build_country_table() -> dict[str, str]:
    """Read ``ontology/reference/country-codes.csv`` once and index every spelling.

    Exact spellings (codes, UNTERM short and formal, CLDR, official and ISO 4217 names) are
    indexed first; then variants with a trailing parenthesis removed ("Micronesia (Federated
    States of)" -> "Micronesia") are added only where they do not clash with an exact key or
    with each other (so "Congo (the Democratic Republic of the)" never becomes "Congo").
    """
    path = resources.files("carbonkg.ontology") / "reference" / "country-codes.csv"
    table: dict[str, str] = {}
    derived: dict[str, set[str]] = {}
    with path.open("r", encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            code = (rec.get("ISO3166-1-Alpha-2") or "").strip().upper()
            if len(code) != 2:
                continue
            names = [code, (rec.get("ISO3166-1-Alpha-3") or "").strip()]
            names += [rec.get(col) or "" for col in _COUNTRY_COLUMNS]
            for name in names:
                if not name.strip():
                    continue
                exact = normalise_country_key(_THE_PAREN_RE.sub(" ", name))
                if exact:
                    table.setdefault(exact, code)
                base = _PAREN_RE.sub("", name)
                if base != name and base.strip():
                    derived.setdefault(normalise_country_key(base), set()).add(code)
    for key, codes in derived.items():
        if key not in table and len(codes) == 1:
            table[key] = next(iter(codes))
    for name, code in COUNTRY_EXTRA_NAMES.items():
        table[normalise_country_key(name)] = code
    return table


_COUNTRIES: dict[str, str] = _build_country_table()
_COUNTRY_CODES: frozenset[str] = frozenset(_COUNTRIES.values())


def parse_country(text: str | None) -> str | None:
    """Resolve a country code or name to its ISO 3166-1 alpha-2 code.

    Accepts alpha-2 and alpha-3 codes, UN short and formal names, CLDR and ISO 4217 names,
    upper-case registry spellings and the extra spellings in :data:`COUNTRY_EXTRA_NAMES`.
    Returns ``None`` for blank input and for :data:`NO_COUNTRY_VALUES` ("International").

    >>> [parse_country(x) for x in ["US", "USA", "Viet Nam", "Vietnam", "Türkiye", "Turkey"]]
    ['US', 'US', 'VN', 'VN', 'TR', 'TR']
    >>> [parse_country(x) for x in ["COTE D'IVOIRE", "KOREA, REPUBLIC OF", "Bolivia", "Tanzania"]]
    ['CI', 'KR', 'BO', 'TZ']
    >>> parse_country("Atlantis")
    Traceback (most recent call last):
    ...
    ValueError: is not a known country
    """
    if text is None:
        return None
    key = normalise_country_key(text)
    if not key:
        return None
    code = _COUNTRIES.get(key)
    if code is not None:
        return code
    if key in NO_COUNTRY_VALUES:
        return None
    raise ValueError("is not a known country")


def known_country_codes() -> frozenset[str]:
    """All alpha-2 codes the lookup table can return (for tests and validation)."""
    return _COUNTRY_CODES


# ------------------------------------------------------------------ methodologies

_METHOD_VERSION_RE = re.compile(r"(?P<head>.+?)\s+(?P<version>[vV]\d+(?:\.\d+)*)(?:\s*:\s*(?P<title>.*))?")
_METHOD_CODE_RE = re.compile(r"(?P<code>[A-Z][A-Z0-9]*(?:[-.][A-Z0-9]+)+\.?|[A-Z]+\d[A-Z0-9]*)(?:\s+(?P<title>.+))?")


def split_methodology(item: str) -> tuple[str, str | None, str | None]:
    """One methodology item → (code, version as written, title).

    >>> split_methodology("ACM0002 Grid-connected electricity generation from renewable sources")
    ('ACM0002', None, 'Grid-connected electricity generation from renewable sources')
    >>> split_methodology("GS TPDDTEC V4.0: REDUCED EMISSIONS FROM COOKING")
    ('GS TPDDTEC', 'V4.0', 'REDUCED EMISSIONS FROM COOKING')
    >>> split_methodology("AMS-III.AR. Substituting fossil fuel based lighting with LED lighting systems")[0]
    'AMS-III.AR.'
    """
    version = title = None
    head = item
    m = _METHOD_VERSION_RE.fullmatch(item)
    if m is not None:
        head, version, title = m["head"], m["version"], m["title"] or None
    m = _METHOD_CODE_RE.fullmatch(head)
    if m is not None:
        return m["code"], version, m["title"] or title
    return head, version, title
