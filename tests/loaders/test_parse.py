"""Cell parsers: every real value of the relevant columns, edge cases, and round trips."""

from __future__ import annotations

import csv
import doctest
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonkg.errors import RowError
from carbonkg.loaders import parse
from carbonkg.loaders.parse import (
    COUNTRY_EXTRA_NAMES,
    known_country_codes,
    normalise_text,
    parse_country,
    parse_date,
    parse_date_range,
    parse_datetime,
    parse_decimal,
    parse_integer,
    parse_json_cell,
    parse_literal_list,
    parse_methodology_list,
    parse_python_literal,
    parse_sdg_list,
    parse_when,
    parse_year,
    parse_yes_no,
    row_error,
    split_list,
    to_utc,
)
from carbonkg.loaders.readers import open_table

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "data" / "registry-exports"
ALL_FILES = sorted(p.relative_to(EXPORTS).as_posix() for p in EXPORTS.glob("*/*.csv"))


def values(rel: str, column: str) -> list[tuple[int, str]]:
    """Every (rownum, value) of one column of a real export."""
    table = open_table(EXPORTS / rel)
    name = table.column(column)
    assert name is not None, f"{rel} has no column {column!r}"
    return [(n, row[name]) for n, row in table.rows()]


def all_columns():
    for rel in ALL_FILES:
        table = open_table(EXPORTS / rel)
        rows = [row for _, row in table.rows()]
        for name in table.columns:
            yield rel, name, [row[name] for row in rows]


def test_doctests() -> None:
    result = doctest.testmod(parse, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 40 and result.failed == 0


# ------------------------------------------------------------------------- dates

# Every date/time column of the real exports, with the Python type its values must parse to
# ("date", "datetime" naive, "datetime+tz" aware, "range").
DATE_COLUMNS: dict[tuple[str, str], str] = {
    **{("american-carbon-registry/cancellations.csv", c): k for c, k in [
        ("Date Issued (GMT)", "datetime"), ("Vintage Assignment Period Start Date", "date"),
        ("Vintage Assignment Period End Date", "date"), ("Status Effective (GMT)", "datetime")]},
    **{("american-carbon-registry/issuances.csv", c): k for c, k in [
        ("Date Issued (GMT)", "datetime"), ("ReportingPeriodBegin", "date"), ("ReportingPeriodEnd", "date"),
        ("Project Crediting Period Start Date", "date")]},
    **{("american-carbon-registry/projects.csv", c): k for c, k in [
        ("Initial Crediting Period Start Date", "date"), ("Current Crediting Period Start Date", "date"),
        ("Current Crediting Period End Date", "date"), ("Project Status Date", "datetime")]},
    **{("american-carbon-registry/retirements.csv", c): k for c, k in [
        ("Date Issued (GMT)", "datetime"), ("Vintage Assignment Period Start Date", "date"),
        ("Vintage Assignment Period End Date", "date"), ("Status Effective (GMT)", "datetime")]},
    **{("arb/nc-arboc_issuance_sheet3.csv", c): "date" for c in [
        "Reporting Period Start Date", "Reporting Period End Date", "Issuance Date",
        "Date Invalidation Period Reduced", "Start of Invalidation Timeframe"]},
    ("art-trees/cancellations.csv", "Status Effective"): "date",
    ("art-trees/cancellations.csv", "Date Approved"): "datetime",
    ("art-trees/issuances.csv", "Date Approved"): "date",
    ("art-trees/projects.csv", "Initial Crediting Period Start Date"): "date",
    ("art-trees/retirements.csv", "Status Effective"): "date",
    ("art-trees/retirements.csv", "Date Approved"): "datetime",
    ("cercarbono/issuances.csv", "issuance_date"): "datetime+tz",
    ("cercarbono/issuances.csv", "vintage_of_credits"): "range",
    ("cercarbono/retirements.csv", "date"): "datetime",
    ("climate-action-reserve/cancellations.csv", "Status Effective"): "date",
    ("climate-action-reserve/issuances.csv", "Date Issued"): "date",
    ("climate-action-reserve/projects.csv", "Project Listed Date"): "date",
    ("climate-action-reserve/projects.csv", "Project Registered Date"): "date",
    ("climate-action-reserve/retirements.csv", "Status Effective"): "date",
    ("gold-standard/issuances.csv", "Issuance Date"): "datetime",
    ("gold-standard/issuances.csv", "Monitoring Period Start"): "date",
    ("gold-standard/issuances.csv", "Monitoring Period End"): "date",
    **{("gold-standard/retirements.csv", c): "date" for c in [
        "Issuance Date", "Retirement Date", "Monitoring Period Start", "Monitoring Period End"]},
    ("isometric/issuances.csv", "issued_at"): "datetime+tz",
    ("isometric/projects.csv", "crediting_period_start"): "date",
    ("isometric/projects.csv", "crediting_period_end"): "date",
    ("isometric/retirements.csv", "retired_at"): "datetime+tz",
    ("isometric/retirements.csv", "sequestered_on"): "date",
    ("verra/projects.csv", "Project Registration Date"): "date",
    ("verra/projects.csv", "Crediting Period Start Date"): "date",
    ("verra/projects.csv", "Crediting Period End Date"): "date",
    **{("verra/transactions.csv", c): "date" for c in [
        "Issuance Date", "Vintage Start", "Vintage End", "Retirement/Cancellation Date"]},
}
_DATE_LIKE = re.compile(r"\s*\d{1,4}[-/]\d{1,2}[-/]\d{1,4}")


def _kind(value: object) -> str:
    if isinstance(value, tuple):
        return "range"
    if isinstance(value, datetime):
        return "datetime+tz" if value.tzinfo is not None else "datetime"
    return "date"


def test_every_date_like_column_is_listed() -> None:
    """Guard: a date column added to the exports must be added to DATE_COLUMNS (and parse)."""
    found = {
        (rel, " ".join(name.split()))
        for rel, name, vals in all_columns()
        if any(_DATE_LIKE.match(v) for v in vals)
    }
    listed_in_files = {key for key in DATE_COLUMNS if key[0] in ALL_FILES}
    # 'Project Registration Date' (Verra) is empty in the sample but is a date column.
    assert found == listed_in_files - {("verra/projects.csv", "Project Registration Date")}


@pytest.mark.parametrize(("rel", "column"), sorted(DATE_COLUMNS))
def test_every_real_date_parses(rel: str, column: str) -> None:
    expected = DATE_COLUMNS[(rel, column)]
    for rownum, text in values(rel, column):
        value = parse_date_range(text) if expected == "range" else parse_when(text)
        if not text.strip():
            assert value is None
            continue
        assert _kind(value) == expected, (rownum, text)
        if expected == "datetime+tz":
            assert value.utcoffset() == timedelta(0)
        if expected == "date":
            assert parse_date(text) == value
        if expected.startswith("datetime"):
            assert parse_datetime(text) == value
            assert 2000 <= to_utc(value).year <= 2030, (rownum, text)


def test_acr_gmt_times_become_utc() -> None:
    (rownum, text), *_ = values("american-carbon-registry/cancellations.csv", "Status Effective (GMT)")
    assert text == "1/22/2026 7:12:08 PM"
    assert to_utc(parse_datetime(text)) == datetime(2026, 1, 22, 19, 12, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-03", date(2026, 4, 3)),
        ("2026-04-13T12:35:58.842275", datetime(2026, 4, 13, 12, 35, 58, 842275)),
        ("2024-05-01 00:00:00", datetime(2024, 5, 1)),
        ("03/19/2026", date(2026, 3, 19)),
        ("11/3/2025 7:10:41 PM", datetime(2025, 11, 3, 19, 10, 41)),
        ("11/3/2025 12:10:41 AM", datetime(2025, 11, 3, 0, 10, 41)),
        ("11/3/2025 12:10:41 PM", datetime(2025, 11, 3, 12, 10, 41)),
        ("11/3/2025 13:10", datetime(2025, 11, 3, 13, 10)),
        ("2019-03-07T18:33:46.000Z", datetime(2019, 3, 7, 18, 33, 46, tzinfo=UTC)),
        ("2019-03-07T18:33:46+05:30", datetime(2019, 3, 7, 18, 33, 46, tzinfo=timezone(timedelta(hours=5, minutes=30)))),
        ("2019-03-07T18:33", datetime(2019, 3, 7, 18, 33)),
        ("  2026-04-03 ", date(2026, 4, 3)),
        ("", None),
        ("   ", None),
    ],
)
def test_parse_when_styles(text, expected) -> None:
    assert parse_when(text) == expected
    if expected is not None:
        assert type(parse_when(text)) is type(expected)


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("13/02/2025", {}, "is not a valid M/D/YYYY (pass dayfirst=True for D/M/YYYY) date"),
        ("02/13/2025", {"dayfirst": True}, "is not a valid D/M/YYYY date"),
        ("2025-02-30", {}, "is not a valid calendar date"),
        ("2025-02-03T25:00", {}, "is not a valid time of day"),
        ("1/2/2025 13:00:00 PM", {}, "is not a valid 12-hour time"),
        ("2025/02/03", {}, "is not a date (expected YYYY-MM-DD[THH:MM[:SS[.ffffff]][Z|+HH:MM]], M/D/YYYY [h:mm[:ss] AM|PM])"),
        ("yesterday", {}, "is not a date (expected YYYY-MM-DD[THH:MM[:SS[.ffffff]][Z|+HH:MM]], M/D/YYYY [h:mm[:ss] AM|PM])"),
        ("2025-02-03T10:00:00+25:00", {}, "has an invalid UTC offset"),
    ],
)
def test_bad_dates(text, kwargs, message) -> None:
    with pytest.raises(ValueError) as info:
        parse_when(text, **kwargs)
    assert str(info.value) == message


def test_parse_date_refuses_a_time_of_day_but_not_midnight() -> None:
    assert parse_date("2024-05-01 00:00:00") == date(2024, 5, 1)
    assert parse_date("2024-05-01T00:00:00Z") == date(2024, 5, 1)
    with pytest.raises(ValueError, match="has a time of day"):
        parse_date("2024-05-01 00:00:01")
    with pytest.raises(ValueError, match="has a time of day"):
        parse_date("2024-05-01T00:00:00+02:00")


def test_dayfirst_only_when_asked() -> None:
    assert parse_date("03/04/2025") == date(2025, 3, 4)
    assert parse_date("03/04/2025", dayfirst=True) == date(2025, 4, 3)


def test_date_range() -> None:
    assert parse_date_range(" 2008-01-16 / 2008-12-31 ") == (date(2008, 1, 16), date(2008, 12, 31))
    assert parse_date_range("2008-01-16 to 2008-12-31") == (date(2008, 1, 16), date(2008, 12, 31))
    assert parse_date_range("") is None
    with pytest.raises(ValueError, match="is not a period"):
        parse_date_range("2008-01-16")


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_date_round_trip(d: date) -> None:
    assert parse_date(d.isoformat()) == d
    assert parse_date(f"{d.month}/{d.day}/{d.year}") == d
    assert parse_date(f"{d:%m/%d/%Y}") == d
    assert parse_date(f"{d.day}/{d.month}/{d.year}", dayfirst=True) == d


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31)))
def test_datetime_round_trip(t: datetime) -> None:
    assert parse_datetime(t.isoformat()) == t
    assert parse_datetime(t.isoformat(sep=" ") + "Z") == t.replace(tzinfo=UTC)
    hour12 = t.hour % 12 or 12
    ampm = "AM" if t.hour < 12 else "PM"
    text = f"{t.month}/{t.day}/{t.year} {hour12}:{t.minute:02d}:{t.second:02d} {ampm}"
    assert parse_datetime(text) == t.replace(microsecond=0)


def test_to_utc() -> None:
    naive = datetime(2025, 1, 1, 12)
    assert to_utc(naive) == datetime(2025, 1, 1, 12, tzinfo=UTC)
    assert to_utc(naive, assume=timezone(timedelta(hours=-5))) == datetime(2025, 1, 1, 17, tzinfo=UTC)
    assert set(parse.ASSUMED_TIME_ZONE) == {p.split("/")[0] for p in ALL_FILES}


# ----------------------------------------------------------------------- numbers

YEAR_COLUMNS = [
    ("american-carbon-registry/cancellations.csv", "Vintage"),
    ("american-carbon-registry/issuances.csv", "Vintage"),
    ("american-carbon-registry/retirements.csv", "Vintage"),
    ("arb/nc-arboc_issuance_sheet3.csv", "Vintage"),
    ("art-trees/cancellations.csv", "Vintage"),
    ("art-trees/issuances.csv", "Vintage"),
    ("art-trees/retirements.csv", "Vintage"),
    ("cercarbono/issuances.csv", "year"),
    ("cercarbono/retirements.csv", "vintage"),
    ("climate-action-reserve/cancellations.csv", "Vintage"),
    ("climate-action-reserve/issuances.csv", "Vintage"),
    ("climate-action-reserve/retirements.csv", "Vintage"),
    ("gold-standard/issuances.csv", "Vintage"),
    ("gold-standard/retirements.csv", "Vintage"),
]
INTEGER_COLUMNS = [
    ("american-carbon-registry/cancellations.csv", "Quantity of Credits"),
    ("american-carbon-registry/issuances.csv", "Total Credits Issued"),
    ("american-carbon-registry/issuances.csv", "Credits Issued to Project"),
    ("american-carbon-registry/issuances.csv", "Credits Issued to Buffer Pool"),
    ("american-carbon-registry/issuances.csv", "Credits Transferred to Buffer Pool"),
    ("american-carbon-registry/projects.csv", "Total Number of Credits Registered"),
    ("american-carbon-registry/retirements.csv", "Quantity of Credits"),
    ("american-carbon-registry/retirements.csv", "Numberoffiles"),
    ("arb/nc-arboc_issuance_sheet3.csv", "Reporting Period"),
    ("arb/nc-arboc_issuance_sheet3.csv", "ARB Offset Credits Issued"),
    ("arb/nc-arboc_issuance_sheet3.csv", "Forest Buffer Account Contribution"),
    ("arb/nc-arboc_issuance_sheet3.csv", "Intentional Reversal"),
    ("arb/nc-arboc_issuance_sheet3.csv", "Invalidated or Canceled"),
    ("arb/nc-arboc_issuance_sheet3.csv", "Buffer Pool Retired"),
    ("arb/nc-arboc_issuance_sheet3.csv", "Retired for Intentional Reversal"),
    ("arb/nc-arboc_issuance_sheet3.csv", "Retired Voluntarily"),
    *[("arb/nc-arboc_issuance_sheet3.csv", f"Retired {n} Compliance Period (CA)") for n in ("1st", "2nd", "3rd", "4th", "5th")],
    ("arb/nc-arboc_issuance_sheet3.csv", "Retired for Compliance in Quebec"),
    ("art-trees/cancellations.csv", "Quantity of Credits"),
    ("art-trees/issuances.csv", "Total Emission Reductions/Removals"),
    ("art-trees/issuances.csv", "Credits Deposited in Buffer"),
    ("art-trees/issuances.csv", "Credits Verified"),
    ("art-trees/retirements.csv", "Quantity of Credits"),
    ("cercarbono/issuances.csv", "issued_quantity"),
    ("cercarbono/projects.csv", "annualEstimated"),
    ("cercarbono/retirements.csv", "quantity"),
    ("cercarbono/retirements.csv", "from"),
    ("cercarbono/retirements.csv", "to"),
    ("climate-action-reserve/cancellations.csv", "Quantity of Offset Credits"),
    ("climate-action-reserve/issuances.csv", "Total Offset Credits Issued"),
    ("climate-action-reserve/issuances.csv", "Offset Credits Currently in Reserve Buffer Pool"),
    ("climate-action-reserve/issuances.csv", "Offset Credits Intended for Compliance Buffer Pool"),
    ("climate-action-reserve/issuances.csv", "Canceled for Compliance"),
    ("climate-action-reserve/projects.csv", "Total Number of Offset Credits Registered"),
    ("climate-action-reserve/retirements.csv", "Quantity of Offset Credits"),
    ("gold-standard/issuances.csv", "Quantity"),
    ("gold-standard/issuances.csv", "POA GSID"),
    ("gold-standard/projects.csv", "Estimated Annual Credits"),
    ("gold-standard/projects.csv", "POA GSID"),
    ("gold-standard/retirements.csv", "Quantity"),
    ("gold-standard/retirements.csv", "POA GSID"),
    ("isometric/issuances.csv", "credit_batch_size_total.credit_kgs"),
    ("isometric/retirements.csv", "credit_batch_size_total.credit_kgs"),
    ("verra/projects.csv", "Estimated Annual Emission Reductions"),
    ("verra/transactions.csv", "Total Vintage Quantity"),
    ("verra/transactions.csv", "Quantity Issued"),
]
# Isometric: tonnes with up to three decimals, and the same amount in kilograms.
ISOMETRIC_CREDIT_PAIRS = [
    ("isometric/issuances.csv", prefix)
    for prefix in ("supplier_credit_batch_size_total", "buffer_pool_credit_batch_size_total", "credit_batch_size_total")
] + [
    ("isometric/projects.csv", prefix)
    for prefix in ("issued_credits_total", "retired_credits_total", "issued_buffer_pool_credits_total", "retired_buffer_pool_credits_total")
] + [("isometric/retirements.csv", "credit_batch_size_total")]


@pytest.mark.parametrize(("rel", "column"), YEAR_COLUMNS)
def test_every_real_vintage_is_a_year(rel, column) -> None:
    for rownum, text in values(rel, column):
        if not text.strip():
            # ARB row 30 is an intentional-reversal record without a vintage.
            assert (rel, rownum) == ("arb/nc-arboc_issuance_sheet3.csv", 30)
            assert parse_year(text) is None
            continue
        assert 1990 <= parse_year(text) <= 2030, (rownum, text)


@pytest.mark.parametrize(("rel", "column"), INTEGER_COLUMNS)
def test_every_real_quantity_is_a_whole_number(rel, column) -> None:
    for rownum, text in values(rel, column):
        value = parse_integer(text)
        assert value is None if not text.strip() else isinstance(value, int), (rownum, text)


@pytest.mark.parametrize(("rel", "prefix"), ISOMETRIC_CREDIT_PAIRS)
def test_isometric_tonnes_match_kilograms(rel, prefix) -> None:
    tonnes = values(rel, f"{prefix}.credits")
    kgs = dict(values(rel, f"{prefix}.credit_kgs"))
    for rownum, text in tonnes:
        assert parse_decimal(text) * 1000 == parse_integer(kgs[rownum]), (rownum, text)


def test_every_numeric_looking_column_parses_as_a_decimal() -> None:
    numeric = re.compile(r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")
    checked = 0
    for rel, name, vals in all_columns():
        filled = [v for v in vals if v.strip()]
        if filled and all(numeric.fullmatch(v) for v in filled):
            for v in filled:
                assert isinstance(parse_decimal(v), Decimal), (rel, name, v)
            checked += 1
    assert checked > 60


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,454,054", Decimal("1454054")),
        ("2765.37", Decimal("2765.37")),
        ("1454054.0", Decimal("1454054.0")),
        (" 12 ", Decimal("12")),
        ("-27150.0", Decimal("-27150.0")),
        ("+5", Decimal("5")),
        ("0.5", Decimal("0.5")),
        (".5", Decimal("0.5")),
        ("1e-05", Decimal("0.00001")),
        ("", None),
    ],
)
def test_parse_decimal_accepts(text, expected) -> None:
    assert parse_decimal(text) == expected


@pytest.mark.parametrize("text", ["1,45x", "1.2.3", "1,45", "12,3456", "--1", "NaN", "inf", "1 000", "$5", ","])
def test_parse_decimal_rejects(text) -> None:
    with pytest.raises(ValueError) as info:
        parse_decimal(text)
    assert str(info.value) == "is not a number"


def test_parse_integer_and_year_edges() -> None:
    assert parse_integer("2019.0") == 2019 and parse_integer("-0") == 0 and parse_integer(" ") is None
    with pytest.raises(ValueError, match="^is not a whole number$"):
        parse_integer("2765.37")
    assert parse_year("2019") == 2019 and parse_year("2019.0") == 2019 and parse_year("") is None
    for bad in ("1899", "2101", "19"):
        with pytest.raises(ValueError, match="^is not a year between 1900 and 2100$"):
            parse_year(bad)
    with pytest.raises(ValueError, match="^is not a number$"):
        parse_year("20x9")


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_integer_round_trip(n: int) -> None:
    assert parse_integer(f"{n:,}") == n
    assert parse_integer(f"{n}.0") == n
    assert parse_decimal(str(n)) == n


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False, allow_infinity=False))
def test_decimal_round_trip(d: Decimal) -> None:
    assert parse_decimal(f"{d:f}") == d
    assert parse_decimal(f"{d:,f}") == d


# ------------------------------------------------------------------------- flags

YES_NO_COLUMNS = [
    *[("american-carbon-registry/cancellations.csv", c) for c in (
        "ARB Eligible", "Ecology Eligible", "CORSIA Eligible",
        "Eligible for CORSIA 2021-2023 Compliance Period (Pilot Phase)",
        "Eligible for CORSIA 2024-2026 Compliance Period (First Phase)", "CCP Approved", "Verified Removal")],
    *[("american-carbon-registry/issuances.csv", c) for c in (
        "ARB Eligible", "Ecology Eligible", "CCP Approved", "Verified Removal")],
    *[("american-carbon-registry/retirements.csv", c) for c in (
        "ARB Eligible", "Ecology Eligible", "CORSIA Eligible",
        "Eligible for CORSIA 2021-2023 Compliance Period (Pilot Phase)",
        "Eligible for CORSIA 2024-2026 Compliance Period (First Phase)", "CCP Approved", "Verified Removal")],
    *[(f"art-trees/{f}.csv", c) for f in ("cancellations", "retirements") for c in (
        "Eligible for CORSIA 2021-2023 Compliance Period (Pilot Phase)",
        "Eligible for CORSIA 2024-2026 Compliance Period (First Phase)", "CCP Approved")],
    ("art-trees/cancellations.csv", "CORSIA Eligible"),
    ("art-trees/issuances.csv", "CCP Approved"),
    ("art-trees/issuances.csv", "CORSIA Eligible"),
    ("cercarbono/issuances.csv", "is_buffer"),
    ("cercarbono/projects.csv", "is_public"),
    *[("climate-action-reserve/issuances.csv", c) for c in (
        "ARB Eligible", "WA ECO Eligible", "Eligible for CORSIA 2021-2023 Compliance Period",
        "Eligible for CORSIA 2024-2026 Compliance Period", "Corresponding Adjustment", "CCP Approved",
        "Zero-Credit Reporting Period")],
    *[("climate-action-reserve/retirements.csv", c) for c in (
        "Eligible for CORSIA 2021-2023 Compliance Period", "Eligible for CORSIA 2024-2026 Compliance Period",
        "Corresponding Adjustment", "CCP Approved")],
]


def test_every_flag_like_column_is_listed() -> None:
    flags = {"yes", "no", "true", "false"}
    found = {
        (rel, " ".join(name.split()))
        for rel, name, vals in all_columns()
        if any(v.strip() for v in vals) and all(v.strip().casefold() in flags | {""} for v in vals)
    }
    assert found <= set(YES_NO_COLUMNS)
    assert len(found) > 20


@pytest.mark.parametrize(("rel", "column"), YES_NO_COLUMNS)
def test_every_real_flag_parses(rel, column) -> None:
    for rownum, text in values(rel, column):
        value = parse_yes_no(text)
        assert value is None if not text.strip() else isinstance(value, bool), (rownum, text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Yes", True), ("No", False), ("Y", True), ("N", False), ("TRUE", True), ("False", False),
     ("x", True), ("X", True), ("1", True), ("0", False), ("", None), ("  yes ", True)],
)
def test_parse_yes_no(text, expected) -> None:
    assert parse_yes_no(text) is expected


@pytest.mark.parametrize("text", ["maybe", "Not Applicable", "yess", "2"])
def test_parse_yes_no_rejects(text) -> None:
    with pytest.raises(ValueError) as info:
        parse_yes_no(text)
    assert str(info.value) == "is not a yes/no value"


# -------------------------------------------------------------------------- SDGs

SDG_COLUMNS = [
    ("verra/transactions.csv", "Sustainable Development Goals"),
    ("gold-standard/projects.csv", "Sustainable Development Goals"),
    ("american-carbon-registry/cancellations.csv", "Sustainable Development Goal(s)"),
    ("american-carbon-registry/issuances.csv", "Sustainable Development Goal(s)"),
    ("american-carbon-registry/projects.csv", "Sustainable Development Goal(s)"),
    ("american-carbon-registry/retirements.csv", "Sustainable Development Goal(s)"),
    ("climate-action-reserve/projects.csv", "SDG Impact"),
    ("cercarbono/issuances.csv", "global_goals"),
]
_TITLED_GOAL = re.compile(r"0?(\d{1,2})[:.] ")


@pytest.mark.parametrize(("rel", "column"), SDG_COLUMNS)
def test_every_real_sdg_list_parses(rel, column) -> None:
    for rownum, text in values(rel, column):
        goals = parse_sdg_list(text)
        if not text.strip():
            assert goals is None
            continue
        assert goals == sorted(set(goals)) and all(1 <= g <= 17 for g in goals), (rownum, text)
        # cross-check with an independent reading of the same text
        if text.startswith("["):
            expected = sorted({entry["code"] for entry in parse_python_literal(text)})
        elif ":" in text or ". " in text:
            expected = sorted({int(n) for n in _TITLED_GOAL.findall(text)})
        else:
            expected = sorted({int(n) for n in text.split(",")})
        assert goals == expected, (rownum, text)


def test_cercarbono_project_serials_global_goals_parse() -> None:
    for rownum, text in values("cercarbono/projects.csv", "serials"):
        for entry in parse_python_literal(text) or []:
            goals = parse_sdg_list(repr(entry["global_goals"]))
            assert goals == sorted({g["code"] for g in entry["global_goals"]}), rownum


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01: No Poverty; 13: Climate Action", [1, 13]),
        ("4,13,6", [4, 6, 13]),
        ("03: Good Health and Well-Being;09: Industry, Innovation and Infrastructure", [3, 9]),
        ("9: Industry, Innovation and Infrastructure", [9]),
        ("2. Zero Hunger", [2]),
        ("SDG 13", [13]),
        ("Goal 7; Goal 13", [7, 13]),
        ("[]", []),
        ("[1, 13]", [1, 13]),
        ("['SDG 5']", [5]),
        ("13,13", [13]),
        ("", None),
    ],
)
def test_parse_sdg_list(text, expected) -> None:
    assert parse_sdg_list(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("18", "names SDG 18; goals are numbered 1 to 17"),
        ("0", "names SDG 0; goals are numbered 1 to 17"),
        ("Climate Action", "is not a list of SDGs ('Climate Action' has no goal number)"),
        ("[{'description': 'x'}]", "is not a list of SDGs (an entry has no 'code')"),
        ("[True]", "is not a list of SDGs"),
        ("{'code': 1}", "is not a list of SDGs (\"{'code': 1}\" has no goal number)"),
        ("[1,", "is not a list (neither JSON nor a Python literal)"),
    ],
)
def test_parse_sdg_list_rejects(text, message) -> None:
    with pytest.raises(ValueError) as info:
        parse_sdg_list(text)
    assert str(info.value) == message


@given(st.sets(st.integers(min_value=1, max_value=17), min_size=1), st.randoms(use_true_random=False))
def test_sdg_styles_round_trip(goals, rnd) -> None:
    order = sorted(goals)
    rnd.shuffle(order)
    title = "Industry, Innovation and Infrastructure"
    styles = [
        "; ".join(f"{g:02d}: {title}" for g in order),  # Verra
        ";".join(f"{g:02d}: {title}" for g in order),  # ACR
        ";".join(f"{g}. {title}" for g in order),  # CAR
        ",".join(str(g) for g in order),  # Gold Standard
        repr([{"code": g, "description": title} for g in order]),  # Cercarbono
    ]
    for text in styles:
        assert parse_sdg_list(text) == sorted(goals), text


# --------------------------------------------------------------------- countries

COUNTRY_COLUMNS = [
    (rel, name)
    for rel in ALL_FILES
    for name in open_table(EXPORTS / rel).columns
    if "country" in name.casefold()
]


def test_country_columns_found() -> None:
    assert len(COUNTRY_COLUMNS) >= 20


@pytest.mark.parametrize(("rel", "column"), COUNTRY_COLUMNS)
def test_every_real_country_resolves(rel, column) -> None:
    for rownum, text in values(rel, column):
        code = parse_country(text)
        if text.strip() and text.strip() != "International":
            assert code in known_country_codes(), (rownum, text)
        else:
            assert code is None


def test_cercarbono_location_countries_resolve() -> None:
    for rownum, text in values("cercarbono/projects.csv", "locations"):
        for location in parse_python_literal(text) or []:
            assert parse_country(location["country"]) == "CO", rownum


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("US", "US"), ("us", "US"), ("USA", "US"), ("United States", "US"), ("United States of America", "US"),
        ("Viet Nam", "VN"), ("Vietnam", "VN"), ("Türkiye", "TR"), ("Turkey", "TR"), ("TURKIYE", "TR"),
        ("Bolivia", "BO"), ("BOLIVIA", "BO"), ("Bolivia (Plurinational State of)", "BO"),
        ("Tanzania", "TZ"), ("Tanzania United Republic of", "TZ"), ("United Republic of Tanzania", "TZ"),
        ("CONGO, THE DEMOCRATIC REPUBLIC OF THE", "CD"), ("Congo the Democratic Republic of the", "CD"),
        ("Democratic Republic of the Congo", "CD"), ("Congo", "CG"), ("COG", "CG"),
        ("COTE D'IVOIRE", "CI"), ("Côte d’Ivoire", "CI"), ("Ivory Coast", "CI"),
        ("KOREA, REPUBLIC OF", "KR"), ("Republic of Korea", "KR"), ("South Korea", "KR"),
        ("Timor-Leste", "TL"), ("Taiwan", "TW"), ("Czechia", "CZ"), ("Micronesia", "FM"),
        ("UK", "GB"), ("United Kingdom", "GB"), ("Namibia", "NA"), ("NA", "NA"),
        ("  Costa   Rica ", "CR"), ("the Netherlands", "NL"),
    ],
)
def test_parse_country(text, code) -> None:
    assert parse_country(text) == code


@pytest.mark.parametrize("text", ["Atlantis", "Kosovo", "Europe", "ZZ", "Congo Republic Democratic"])
def test_parse_country_rejects(text) -> None:
    with pytest.raises(ValueError) as info:
        parse_country(text)
    assert str(info.value) == "is not a known country"


def test_parse_country_blank_and_international() -> None:
    assert parse_country("") is None and parse_country("  ") is None
    assert parse_country("International") is None


def test_every_reference_spelling_resolves_to_its_own_code() -> None:
    """Each code and each name column of the reference CSV maps back to the row's code."""
    path = ROOT / "ontology" / "reference" / "country-codes.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    checked = 0
    for rec in rows:
        code = rec["ISO3166-1-Alpha-2"]
        for column in ("ISO3166-1-Alpha-2", "ISO3166-1-Alpha-3", *parse._COUNTRY_COLUMNS):
            if rec[column].strip():
                assert parse_country(rec[column]) == code, (column, rec[column])
                checked += 1
    assert len(known_country_codes()) == len(rows) == 249
    assert checked > 1300


def test_extra_country_names_are_all_valid_codes() -> None:
    assert set(COUNTRY_EXTRA_NAMES.values()) <= known_country_codes()


# ---------------------------------------------------------------------- literals


@pytest.mark.parametrize("column", ["sector", "locations", "serials"])
def test_every_cercarbono_project_literal_parses(column) -> None:
    for rownum, text in values("cercarbono/projects.csv", column):
        value = parse_python_literal(text)
        assert isinstance(value, list) and all(isinstance(x, dict) for x in value), rownum


@pytest.mark.parametrize("column", ["global_goals", "elegible"])
def test_every_cercarbono_issuance_literal_parses(column) -> None:
    for rownum, text in values("cercarbono/issuances.csv", column):
        assert isinstance(parse_literal_list(text), list), rownum


def test_every_isometric_purposes_cell_parses() -> None:
    allowed = {"corporate_targets", "public_environmental_claims", "other"}
    for rownum, text in values("isometric/retirements.csv", "purposes"):
        purposes = parse_literal_list(text)
        assert set(purposes) <= allowed, (rownum, text)


def test_literal_parsers_never_evaluate_code() -> None:
    for text in ["__import__('os').system('true')", "open('x')", "[x for x in ()]", "1 + eval('2')"]:
        with pytest.raises(ValueError, match="^is not a Python literal$"):
            parse_python_literal(text)
    assert parse_python_literal("{'a': (1, None, True)}") == {"a": (1, None, True)}
    assert parse_python_literal("  ") is None
    assert parse_json_cell('[1, "a", null]') == [1, "a", None]
    assert parse_json_cell("") is None
    with pytest.raises(ValueError, match="^is not JSON$"):
        parse_json_cell("[1,")
    with pytest.raises(ValueError, match="^is not a list$"):
        parse_literal_list("'text'")


# ---------------------------------------------------------------- methodologies


METHODOLOGY_CODE = re.compile(r"(AR-)?(A?C?M|AMS|VMR?|VM)[-0-9IVX.A-Z]*")


@pytest.mark.parametrize("rel", ["verra/projects.csv", "verra/transactions.csv"])
def test_every_verra_methodology_is_a_list_of_codes(rel) -> None:
    for rownum, text in values(rel, "Methodology"):
        items = parse_methodology_list(text)
        assert items and all(METHODOLOGY_CODE.fullmatch(i) for i in items), (rownum, text)
        assert len(items) == text.count(";") + 1


@pytest.mark.parametrize("rel", ["gold-standard/issuances.csv", "gold-standard/retirements.csv"])
def test_every_gold_standard_methodology_is_one_titled_item(rel) -> None:
    for rownum, text in values(rel, "Methodology"):
        items = parse_methodology_list(text)
        if text.strip() in ("", "Not provided"):
            assert items is None
        else:
            assert items == [text.strip()], rownum


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("VMR0006; VM0050", ["VMR0006", "VM0050"]),
        ("AMS-I.F.; VMR0014; VM0038", ["AMS-I.F.", "VMR0014", "VM0038"]),
        ("VM0007,VM0033", ["VM0007", "VM0033"]),
        ("VM0007; VM0007", ["VM0007"]),
        ("Destruction of ODS, from International Sources", ["Destruction of ODS, from International Sources"]),
        (" Not defined ", None),
        ("", None),
    ],
)
def test_parse_methodology_list(text, expected) -> None:
    assert parse_methodology_list(text) == expected


# -------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("  a  b ", "a b"), ("Program  Country", "Program Country"), ("x\u00a0\ty\n", "x y"), ("", None), (" \n ", None), (None, None)],
)
def test_normalise_text(text, expected) -> None:
    assert normalise_text(text) == expected


def test_split_list() -> None:
    assert split_list("REDD; WRC") == ["REDD", "WRC"]
    assert split_list("Restoration; N/A;; ") == ["Restoration", "N/A"]
    assert split_list("a,b;c", ";,") == ["a", "b", "c"]
    assert split_list(" ") is None


def test_row_error_wraps_a_parser_failure() -> None:
    try:
        parse_decimal("1,45x")
    except ValueError as exc:
        err = row_error("verra/transactions.csv", 7, "Quantity Issued", "1,45x", exc)
    assert err == RowError("verra/transactions.csv", 7, "Quantity Issued", "1,45x", "is not a number")
    assert str(err) == "verra/transactions.csv, row 7, column 'Quantity Issued': '1,45x' is not a number"


def test_parsers_take_no_time_on_real_volumes() -> None:
    """Smoke check of speed: 100k mixed parses well under a second or two."""
    import time as _time

    t0 = _time.perf_counter()
    for _ in range(10_000):
        parse_decimal("1,454,054")
        parse_when("11/3/2025 7:10:41 PM")
        parse_when("2026-04-13T12:35:58.842275")
        parse_country("Viet Nam")
        parse_yes_no("Yes")
        parse_sdg_list("4,13,6")
        parse_year("2019.0")
        parse_integer("79565.0")
        parse_date("2026-04-03")
        normalise_text(" a  b ")
    assert _time.perf_counter() - t0 < 5
