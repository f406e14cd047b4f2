"""Serial parsers: every serial in the real exports, round trips and range arithmetic."""

from __future__ import annotations

import doctest
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonkg.loaders import serials
from carbonkg.loaders.parse import parse_country, parse_date, parse_integer, parse_python_literal
from carbonkg.loaders.readers import open_table
from carbonkg.loaders.serials import (
    SerialRange,
    parse_acr_serial,
    parse_apx_serial,
    parse_art_serial,
    parse_car_serial,
    parse_cercarbono_batch,
    parse_cercarbono_serial,
    parse_gold_standard_serial,
    parse_kyoto_serial,
    parse_serial,
    parse_verra_serial,
)

EXPORTS = Path(__file__).resolve().parents[2] / "data" / "registry-exports"

# file, registry slug, serial column, quantity column, project-id column, vintage column,
# country column (None: not comparable), expected row count (data-model section 4 counts).
SERIAL_FILES = [
    ("verra/transactions.csv", "verra", "Serial Number", "Quantity Issued", "ID", None, "Country/Area", 134),
    ("gold-standard/issuances.csv", "gold-standard", "Serial Number", "Quantity", "GSID", "Vintage", "Country", 67),
    ("gold-standard/retirements.csv", "gold-standard", "Serial Number", "Quantity", "GSID", "Vintage", "Country", 67),
    (
        "american-carbon-registry/retirements.csv",
        "american-carbon-registry",
        "Credit Serial Numbers",
        "Quantity of Credits",
        "Project ID",
        "Vintage",
        "Project Site Country",
        67,
    ),
    (
        "american-carbon-registry/cancellations.csv",
        "american-carbon-registry",
        "Credit Serial Numbers",
        "Quantity of Credits",
        "Project ID",
        "Vintage",
        "Project Site Country",
        34,
    ),
    (
        "climate-action-reserve/retirements.csv",
        "climate-action-reserve",
        "Offset Credit Serial Numbers",
        "Quantity of Offset Credits",
        "Project ID",
        "Vintage",
        "Project Site Country",
        67,
    ),
    (
        "climate-action-reserve/cancellations.csv",
        "climate-action-reserve",
        "Offset Credit Serial Numbers",
        "Quantity of Offset Credits",
        "Project ID",
        "Vintage",
        "Project Site Country",
        34,
    ),
    ("art-trees/retirements.csv", "art-trees", "Credit Serial Numbers", "Quantity of Credits", "Program ID", "Vintage", "Program Country", 6),
    ("art-trees/cancellations.csv", "art-trees", "Credit Serial Numbers", "Quantity of Credits", "Program ID", "Vintage", "Program Country", 2),
]


# Verra projects whose serials name a country other than their 'Country/Area' (checked by hand).
MULTI_COUNTRY_VERRA_PROJECTS = frozenset({"3432", "4151"})


def test_doctests() -> None:
    result = doctest.testmod(serials, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10 and result.failed == 0


# --------------------------------------------------------------------- real exports


@pytest.mark.parametrize(("rel", "registry", "scol", "qcol", "pcol", "vcol", "ccol", "count"), SERIAL_FILES)
def test_every_real_serial_parses_and_matches_its_row(rel, registry, scol, qcol, pcol, vcol, ccol, count) -> None:
    table = open_table(EXPORTS / rel)
    blocks: list[tuple[int, SerialRange]] = []
    problems: list[str] = []
    for rownum, row in table.rows():
        try:
            block = parse_serial(registry, row[table.column(scol)])
        except ValueError as exc:
            problems.append(f"row {rownum}: {row[table.column(scol)]!r} {exc}")
            continue
        quantity = parse_integer(row[table.column(qcol)])
        if block.quantity != quantity:
            problems.append(f"row {rownum}: serial quantity {block.quantity} != {qcol} {quantity}")
        if block.project is not None and block.project != row[table.column(pcol)]:
            problems.append(f"row {rownum}: serial project {block.project} != {row[table.column(pcol)]}")
        if vcol is not None and block.vintage is not None and block.vintage != int(row[table.column(vcol)]):
            problems.append(f"row {rownum}: serial vintage {block.vintage} != {row[table.column(vcol)]}")
        if "country" in block.parts and block.parts["country"] != parse_country(row[table.column(ccol)]):
            # Verra grouped projects span countries: the serial names the country of the
            # units, 'Country/Area' the project's main country (VCS 3432: PY units of a
            # Chilean project; VCS 4151: CD and ML units of a Rwandan one).
            if not (registry == "verra" and row["ID"] in MULTI_COUNTRY_VERRA_PROJECTS):
                problems.append(f"row {rownum}: serial country {block.parts['country']} != {row[table.column(ccol)]}")
        if "party" in block.parts and block.parts["party"] != parse_country(row[table.column(ccol)]):
            problems.append(f"row {rownum}: Kyoto party {block.parts['party']} != {row[table.column(ccol)]}")
        blocks.append((rownum, block))
    assert problems == []
    assert len(blocks) == count
    # Within one file the blocks are disjoint: no credit is listed twice.
    for i, (ra, a) in enumerate(blocks):
        for rb, b in blocks[i + 1 :]:
            assert not a.overlaps(b), (ra, rb)


def test_verra_serial_vintage_and_flag_match_the_row() -> None:
    table = open_table(EXPORTS / "verra/transactions.csv")
    for rownum, row in table.rows():
        block = parse_verra_serial(row["Serial Number"])
        assert block.vintage == parse_date(row["Vintage End"]).year, rownum
        vstart = parse_date(row["Vintage Start"])
        assert block.parts["vstart"] == vstart.strftime("%d%m%Y"), rownum
        # data-model: flag = 1 exactly when 'Additional Certifications' is non-empty
        assert (block.parts["flag"] == "1") == bool(row["Additional Certifications"].strip()), rownum


def test_verra_numbers_are_one_registry_wide_sequence() -> None:
    """Why the Verra prefix is just 'VCS-VCU': ordered by block record number, the unit numbers
    of all 48 projects in the sample rise strictly, one sequence shared by every project."""
    table = open_table(EXPORTS / "verra/transactions.csv")
    blocks = sorted(
        (int(b.parts["seq"]), b.start, b.end, b.project)
        for b in (parse_verra_serial(row["Serial Number"]) for _, row in table.rows())
    )
    assert len({project for *_, project in blocks}) == 48
    assert all(a[2] < b[1] for a, b in zip(blocks, blocks[1:]))


def test_gold_standard_cer_rows_use_the_kyoto_form() -> None:
    table = open_table(EXPORTS / "gold-standard/issuances.csv")
    kinds = {}
    for _, row in table.rows():
        block = parse_gold_standard_serial(row["Serial Number"])
        kinds.setdefault(row["Product Type"], set()).add(block.prefix.startswith("KP-"))
    assert kinds == {"VER": {False}, "CER": {True}}


def test_cercarbono_retirement_ranges_match_quantity() -> None:
    table = open_table(EXPORTS / "cercarbono/retirements.csv")
    blocks = []
    for rownum, row in table.rows():
        block = parse_serial("cercarbono", row["serial"], start=row["from"], end=row["to"])
        assert block.quantity == int(row["quantity"]), rownum
        assert block.project == row["project_id"], rownum
        if block.vintage is not None:
            assert block.vintage == int(row["vintage"]), rownum
        blocks.append(block)
    assert len(blocks) == 67
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])


def test_every_cercarbono_batch_key_parses() -> None:
    """Issuance keys, retirement keys and every key inside the projects' ``serials`` cells."""
    seen = 0
    issuances = open_table(EXPORTS / "cercarbono/issuances.csv")
    for rownum, row in issuances.rows():
        batch = parse_cercarbono_batch(row["serial"])
        assert batch.is_buffer == (row["is_buffer"] == "True"), rownum
        assert batch.vintage in (None, int(row["year"])), rownum
        seen += 1
    projects = open_table(EXPORTS / "cercarbono/projects.csv")
    for rownum, row in projects.rows():
        for entry in parse_python_literal(row["serials"]):
            batch = parse_cercarbono_batch(entry["serial"])
            assert batch.project == row["id"], (rownum, entry["serial"])
            assert batch.is_buffer == entry["is_buffer"], (rownum, entry["serial"])
            assert batch.vintage in (None, entry["year"]), (rownum, entry["serial"])
            seen += 1
    assert seen > 700
    # the two-letter "IC" standard and the "R_" marker occur in the real keys
    assert parse_cercarbono_batch("IC_49_1_1_321_14_CO_1_1_2007_BF").standard == "IC"
    assert parse_cercarbono_batch("CDC_R_17_1_1_321_14_CO_1_1_2010").parts["r"] == "R"


# ------------------------------------------------------------------- targeted cases


@pytest.mark.parametrize(
    ("registry", "text", "message"),
    [
        ("verra", "19385-941467007-VCS-VCU", "is not a Verra serial (expected SEQ-START-END-VCS-VCU-CODE-VER-CC-SCOPE-PROJECT-DDMMYYYY-DDMMYYYY-0|1)"),
        ("verra", "1-10-5-VCS-VCU-1-VER-ET-14-1340-01012020-31122020-1", "has its end number before its start number"),
        ("verra", "1-1-5-VCS-VCU-1-VER-ET-14-1340-31022020-31122020-1", "has an invalid vintage date '31022020' (expected DDMMYYYY)"),
        ("american-carbon-registry", "CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000", "is not an ACR serial (expected ACR-CC-PROJECT-YYYY-BATCH-START to END)"),
        ("climate-action-reserve", "CAR-2-US-1335-31-983-KS-2025-9205-1 to 5000", "is not a CAR serial (expected CAR-1|ROC-CC-PROJECT-TYPE-DEVELOPER-ST-YYYY-BATCH-START to END)"),
        ("art-trees", "ART-GY-102-2021-11-2759599-2760598", "is not an ART serial (expected ART|FCPF-CC-PROGRAM-YYYY-BATCH-START to END)"),
        ("gold-standard", "RW-5-1-2-2-0-7014 - RW-5-9-2-2-0-7015", "is not a Gold Standard serial (expected GSa-b-CC-GSproject-type-YYYY-batch-start-end or a Kyoto range PP-T-START-OCP-CP-LULUCF-PROJECT - PP-T-END-OCP-CP-LULUCF-PROJECT)"),
        ("cercarbono", "CDC_1_1_1_321_14_1", "is a Cercarbono batch key: the unit range needs the 'from' and 'to' columns"),
        ("arb", "CAOD1007-A", "is not a serial: arb exports carry no serial numbers"),
    ],
)
def test_bad_serials_name_the_expected_format(registry, text, message) -> None:
    with pytest.raises(ValueError) as info:
        parse_serial(registry, text)
    assert str(info.value) == message


def test_unknown_registry_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        parse_serial("no-such-registry", "x")


def test_cercarbono_range_rejects_bad_numbers() -> None:
    with pytest.raises(ValueError, match="has a start number 'x' that is not a whole number"):
        parse_cercarbono_serial("CDC_1_1_1_321_14_1", "x", "5")
    with pytest.raises(ValueError, match="has its end number before its start number"):
        parse_cercarbono_serial("CDC_1_1_1_321_14_1", "9", "5")
    assert parse_cercarbono_serial("CDC_1_1_1_321_14_1", "0.0", 4).quantity == 5


def test_apx_dispatch_and_whitespace() -> None:
    assert parse_apx_serial("  ACR-US-1185-2025-3078-1 to 85847 ").raw == "ACR-US-1185-2025-3078-1 to 85847"
    assert parse_apx_serial("CAR-ROC-US-2056-129-2283-WV-2025-8969-1 to 260294").project == "CAR2056"
    assert parse_apx_serial("FCPF-CR-126-2021-13-1 to 100000").project == "ART126"
    with pytest.raises(ValueError, match="is not an APX serial"):
        parse_apx_serial("VCS-1-2")


def test_serial_range_equality_ignores_parts_and_is_hashable() -> None:
    a = parse_acr_serial("ACR-US-1185-2025-3078-1 to 85847")
    b = SerialRange(a.raw, a.prefix, a.start, a.end, a.vintage, a.project, {})
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1


# ------------------------------------------------------------------ property tests

countries = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)
numbers = st.integers(min_value=0, max_value=10**12)
ids = st.integers(min_value=1, max_value=10**6)
years = st.integers(min_value=1990, max_value=2099)


@st.composite
def blocks(draw, prefix=None):
    start = draw(st.integers(min_value=0, max_value=10**6))
    end = draw(st.integers(min_value=start, max_value=start + 10**4))
    return SerialRange(f"x{start}-{end}", prefix or draw(st.sampled_from(["P", "Q"])), start, end, None, None, {})


@given(
    seq=ids,
    start=numbers,
    size=st.integers(min_value=1, max_value=10**7),
    code=ids,
    cc=countries,
    scope=st.integers(min_value=1, max_value=16),
    project=ids,
    vstart=st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 1, 1)),
    days=st.integers(min_value=0, max_value=3000),
    flag=st.sampled_from("01"),
)
def test_verra_round_trip(seq, start, size, code, cc, scope, project, vstart, days, flag) -> None:
    vend = date.fromordinal(min(vstart.toordinal() + days, date(2100, 12, 31).toordinal()))
    end = start + size - 1
    text = f"{seq}-{start}-{end}-VCS-VCU-{code}-VER-{cc}-{scope}-{project}-{vstart:%d%m%Y}-{vend:%d%m%Y}-{flag}"
    r = parse_verra_serial(text)
    assert (r.raw, r.prefix, r.start, r.end, r.quantity) == (text, "VCS-VCU", start, end, size)
    assert (r.vintage, r.project, r.parts["country"], r.parts["flag"]) == (vend.year, str(project), cc, flag)
    assert parse_serial("verra", text) == r


@given(a=st.integers(1, 9), b=st.integers(1, 9), cc=countries, project=ids, ptype=st.integers(1, 30), year=years,
       batch=ids, start=numbers, size=st.integers(1, 10**6))
def test_gold_standard_round_trip(a, b, cc, project, ptype, year, batch, start, size) -> None:
    head = f"GS{a}-{b}-{cc}-GS{project}-{ptype}-{year}-{batch}"
    text = f"{head}-{start}-{start + size - 1}"
    r = parse_gold_standard_serial(text)
    assert (r.prefix, r.start, r.quantity, r.vintage, r.project) == (head, start, size, year, str(project))


@given(party=countries, utype=st.integers(0, 9), start=numbers, size=st.integers(1, 10**6),
       ocp=st.integers(1, 3), cp=st.integers(1, 3), lulucf=st.integers(0, 20), project=ids)
def test_kyoto_round_trip(party, utype, start, size, ocp, cp, lulucf, project) -> None:
    end = start + size - 1
    text = f"{party}-{utype}-{start}-{ocp}-{cp}-{lulucf}-{project} - {party}-{utype}-{end}-{ocp}-{cp}-{lulucf}-{project}"
    r = parse_kyoto_serial(text)
    assert (r.prefix, r.start, r.end, r.project, r.parts["project"]) == (f"KP-{party}-{ocp}", start, end, None, str(project))
    assert parse_gold_standard_serial(text) == r


@given(cc=countries, project=ids, year=years, batch=ids, start=st.integers(1, 10**8), size=st.integers(1, 10**6))
def test_acr_and_art_round_trip(cc, project, year, batch, start, size) -> None:
    end = start + size - 1
    acr = parse_acr_serial(f"ACR-{cc}-{project}-{year}-{batch}-{start} to {end}")
    assert (acr.prefix, acr.quantity, acr.vintage, acr.project) == (f"ACR-{cc}-{project}-{year}-{batch}", size, year, f"ACR{project}")
    for standard in ("ART", "FCPF"):
        art = parse_art_serial(f"{standard}-{cc}-{project}-{year}-{batch}-{start} to {end}")
        assert (art.prefix, art.quantity, art.project, art.parts["standard"]) == (
            f"{standard}-{cc}-{project}-{year}-{batch}", size, f"ART{project}", standard)


@given(unit=st.sampled_from(["1", "ROC"]), cc=countries, project=ids, ptype=st.integers(1, 200), dev=ids,
       state=countries, year=years, batch=ids, start=st.integers(1, 10**8), size=st.integers(1, 10**6))
def test_car_round_trip(unit, cc, project, ptype, dev, state, year, batch, start, size) -> None:
    head = f"CAR-{unit}-{cc}-{project}-{ptype}-{dev}-{state}-{year}-{batch}"
    r = parse_car_serial(f"{head}-{start} to {start + size - 1}")
    assert (r.prefix, r.quantity, r.vintage, r.project) == (head, size, year, f"CAR{project}")
    assert (r.parts["unit"], r.parts["state"], r.parts["ptype"]) == (unit, state, str(ptype))


@given(std=st.sampled_from(["CDC", "CP", "CGS", "IC"]), r_mark=st.booleans(), project=ids,
       middle=st.lists(st.sampled_from(["1", "14", "321", "R1", "XX", "CO", "1X", "XA"]), min_size=1, max_size=8),
       year=st.none() | years, buffer=st.none() | st.sampled_from(["BF", "BFC", "BFI"]), year_after=st.booleans())
def test_cercarbono_batch_round_trip(std, r_mark, project, middle, year, buffer, year_after) -> None:
    pieces = [std] + (["R"] if r_mark else []) + [str(project)] + middle
    if buffer and year and year_after:
        pieces += [buffer, str(year)]  # "…_BFC_2019"
    else:
        pieces += ([str(year)] if year else []) + ([buffer] if buffer else [])  # "…_2019_BF"
    key = "_".join(pieces)
    b = parse_cercarbono_batch(key)
    assert (b.standard, b.project, b.vintage, b.buffer) == (std, str(project), year, buffer)


@given(blocks(), blocks())
def test_overlap_and_intersection_are_symmetric(a, b) -> None:
    assert a.overlaps(b) == b.overlaps(a)
    assert a.intersection(b) == b.intersection(a)
    assert (a.intersection(b) is None) == (not a.overlaps(b))


@given(blocks(prefix="P"), blocks(prefix="P"), st.integers(min_value=0, max_value=10**6 + 10**4))
def test_intersection_arithmetic(a, b, n) -> None:
    both = a.intersection(b)
    assert (both is not None and both.contains(n)) == (a.contains(n) and b.contains(n))
    if both is not None:
        assert both.quantity == min(a.end, b.end) - max(a.start, b.start) + 1
        assert both.quantity <= min(a.quantity, b.quantity)
        assert both.intersection(a) == both.intersection(b) == both.intersection(both)
    union = max(a.end, b.end) - min(a.start, b.start) + 1
    # inclusion-exclusion when the blocks touch or overlap
    if a.overlaps(b) or a.end + 1 == b.start or b.end + 1 == a.start:
        assert a.quantity + b.quantity - (both.quantity if both else 0) == union


@given(blocks(prefix="P"))
def test_different_prefixes_never_overlap(a) -> None:
    other = SerialRange(a.raw, "Q", a.start, a.end, None, None, {})
    assert not a.overlaps(other) and a.intersection(other) is None
    assert a.overlaps(a) and a.intersection(a).quantity == a.quantity


@settings(max_examples=50)
@given(st.integers(0, 10**9), st.integers(1, 10**6), st.integers(1, 10**6))
def test_adjacent_split_quantities_add_up(start, left, right) -> None:
    whole = SerialRange("w", "P", start, start + left + right - 1, None, None, {})
    first = SerialRange("a", "P", start, start + left - 1, None, None, {})
    second = SerialRange("b", "P", start + left, whole.end, None, None, {})
    assert first.quantity + second.quantity == whole.quantity
    assert not first.overlaps(second)
    assert whole.intersection(first).quantity == left and whole.intersection(second).quantity == right
