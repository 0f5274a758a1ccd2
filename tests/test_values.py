"""Values that used to pass unchecked (issue 18, items 9, 14, 15, 17): huge integers, codes that do not
fit their code system, unknown attributes, and the memories' bound in bytes — each in the generated
package and in the reference interpreter alike."""

from __future__ import annotations

import csv
import datetime
import io
import json
import random
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from isfdsl import interpret
from isfdsl.commands.cli import main
from isfdsl.commands.group import run as group_run
from isfdsl.commands.pipeline import build, check_paths, load_package
from isfdsl.ir.model import Program, lower
from isfdsl.runtime import convert
from isfdsl.runtime.io import csv_main
from isfdsl.types import DATE, DECIMAL

from .conftest import DEFINITIONS


@pytest.fixture(scope="module")
def isf2025(tmp_path_factory: pytest.TempPathFactory) -> tuple[Program, ModuleType]:
    out = tmp_path_factory.mktemp("gen") / "isf2025"
    built = build(str(DEFINITIONS / "isf2025"), out)
    assert built.package is not None
    return lower(check_paths([str(DEFINITIONS / "isf2025")]).models[0]), load_package(out)


def both(version: tuple[Program, ModuleType], episode: dict[str, object]) -> tuple[str, str, tuple[tuple[str, str, str], ...]]:
    """(group, return code, problems) of the compiled grouper, asserted equal to the interpreter's."""
    program, package = version
    got = package.group(episode)
    want = interpret.group(program, dict(episode))
    assert (got.group, got.rule, got.return_code, got.problems) == (want.group, want.rule, want.return_code, want.problems)
    return got.group, got.return_code, got.problems


BEVACIZUMAB = {"pdx": "H35.3", "age": 70, "care_level": "outpatient", "procedures": ["CKD05"], "drugs": ["L01FG01"]}


def test_huge_integers_are_invalid_values(isf2025: tuple[Program, ModuleType]) -> None:
    for value in (10 ** 5000, -10 ** 40, "9" * 4400, [10 ** 5000]):
        group, _, problems = both(isf2025, {**BEVACIZUMAB, "age": value})
        assert group and problems and problems[0][0] == "age", value
    assert both(isf2025, {**BEVACIZUMAB, "age": 10 ** 5000})[2] == (
        ("age", "<an integer of more than 28 digits>", "an integer of more than 28 digits"),)


def test_a_long_value_is_shown_cut_in_a_problem(isf2025: tuple[Program, ModuleType]) -> None:
    """An over-long integer given as text (CSV) is shown cut, as a JSON integer is shown described:
    never 5,000 characters in `problems`."""
    (_, shown, reason), = both(isf2025, {**BEVACIZUMAB, "age": "9" * 5000})[2]
    assert (shown, reason) == ("9" * 100 + "… <5,000 characters>", "an integer of more than 28 digits")
    (_, shown, reason), = both(isf2025, {**BEVACIZUMAB, "care_level": "x" * 101})[2]
    assert shown == "x" * 100 + "… <101 characters>" and reason.startswith("not a value of")
    assert both(isf2025, {**BEVACIZUMAB, "care_level": "x" * 100})[2][0][1] == "x" * 100  # up to the limit: whole


@pytest.mark.parametrize("value", ["７８", "٧٨", "7_8", "+-78", "७८"])
def test_integers_take_ascii_digits_only(isf2025: tuple[Program, ModuleType], value: str) -> None:
    """Python's int() reads any Unicode digit (full-width ７８, Arabic-Indic ٧٨) and `7_8`: an integer
    is ASCII digits with an optional sign, in the compiled grouper and the interpreter alike."""
    assert both(isf2025, {**BEVACIZUMAB, "age": value})[2] == (("age", value, "not an integer"),)
    assert both(isf2025, {**BEVACIZUMAB, "age": " +78 "})[2] == ()


def test_decimals_take_ascii_digits_only(isf2025: tuple[Program, ModuleType]) -> None:
    attr = isf2025[0].attributes[0]  # the decimal type needs nothing of its attribute
    for value in ("１.５", "1_000", "٣"):
        with pytest.raises(ValueError, match="not a number"):
            convert.to_decimal(value)
        with pytest.raises(ValueError, match="not a number"):
            interpret.convert(attr, DECIMAL, value)
    assert convert.to_decimal(" +1.50 ") == interpret.convert(attr, DECIMAL, "1.5") == Decimal("1.5")


def _days() -> st.SearchStrategy[datetime.date]:
    return st.dates(datetime.date(1, 1, 1), datetime.date(9999, 12, 31))


#: Texts near a date: both forms with and without leading zeros, days the calendar lacks, other
#: separators and orders, Unicode digits, white space around, and any text at all.
DATE_TEXTS = st.one_of(
    _days().map(datetime.date.isoformat),
    _days().map(lambda d: f"{d.day:02}.{d.month:02}.{d.year:04}"),
    _days().map(lambda d: f"{d.day}.{d.month}.{d.year:04}"),
    st.builds(lambda y, m, d, sep, dotted: (f"{d}{sep}{m}{sep}{y}" if dotted else f"{y}{sep}{m}{sep}{d}"),
              st.sampled_from(["2024", "2025", "24", "0000", "202４", "12345"]), st.sampled_from(["1", "02", "12", "13", "00", "002"]),
              st.sampled_from(["1", "28", "29", "30", "31", "32", "00", "٣"]), st.sampled_from([".", "-", "/", ""]), st.booleans()),
    st.builds(lambda x, a, b: f"{a}{x}{b}", _days().map(datetime.date.isoformat), st.sampled_from(["", " ", "\t", "\n"]),
              st.sampled_from(["", " ", "\n", "T10:00", "Z"])),
    st.text(max_size=12),
)


@given(DATE_TEXTS)
def test_the_runtime_and_the_interpreter_read_dates_alike(text: str) -> None:
    """``to_date`` (runtime) and the interpreter's own conversion, written apart: the same ISO date or
    the same reason for every text."""
    try:  # the date conversion needs nothing of its attribute
        want: object = interpret.convert(None, DATE, text)  # type: ignore[arg-type]
    except ValueError as exc:
        want = ("refused", str(exc))
    try:
        got: object = convert.to_date(text)
    except ValueError as exc:
        got = ("refused", str(exc))
    assert got == want


@given(_days(), st.sampled_from(["{iso}", " {iso}\t", "{d.day:02}.{d.month:02}.{d.year:04}", "{d.day}.{d.month}.{d.year:04}"]))
def test_a_date_in_either_form_is_its_day(day: datetime.date, form: str) -> None:
    text = form.format(d=day, iso=day.isoformat())
    assert convert.to_date(text) == interpret.convert(None, DATE, text) == day.isoformat()  # type: ignore[arg-type]
    assert convert.to_date(day) == convert.to_date(datetime.datetime.combine(day, datetime.time(23, 59))) == day.isoformat()


@pytest.mark.parametrize(("value", "reason"), [
    ("31.02.2024", "not a day of the calendar"), ("29.02.2025", "not a day of the calendar"), ("2024-13-01", "not a day of the calendar"),
    ("31/12/2024", "not a date (YYYY-MM-DD or DD.MM.YYYY)"), ("31.12.24", "not a date (YYYY-MM-DD or DD.MM.YYYY)"),
    ("12.31.2024", "not a day of the calendar"), ("20241231", "not a date (YYYY-MM-DD or DD.MM.YYYY)"),
])
def test_a_date_the_calendar_lacks_is_refused_with_a_problem(isf2025: tuple[Program, ModuleType], value: str, reason: str) -> None:
    """An invalid date counts as missing and is named; the episode is grouped as without it."""
    group, rc, problems = both(isf2025, {**BEVACIZUMAB, "discharge_date": value})
    assert problems == (("discharge_date", value, reason),)
    assert (group, rc) == both(isf2025, BEVACIZUMAB)[:2]


def test_one_version_groups_every_date_by_its_own_rules(isf2025: tuple[Program, ModuleType]) -> None:
    """A package of one version groups an episode of any date, or of none, by its rules (the date picks
    a version only in a package of several): no problem for 2031 or 31.12.2024."""
    alone = both(isf2025, BEVACIZUMAB)
    assert alone[0] == "802U" and alone[2] == ()
    for day in ("2025-06-30", "31.12.2024", "2031-01-01", datetime.date(1999, 1, 1)):
        assert both(isf2025, {**BEVACIZUMAB, "discharge_date": day}) == alone, day


@pytest.mark.parametrize("pdx", ["H35\x00.3", "H35 .3", "H3\uff15.3", "XX99.9", "h35.3x!"])
def test_a_code_that_does_not_fit_its_code_system_is_invalid(isf2025: tuple[Program, ModuleType], pdx: str) -> None:
    group, rc, problems = both(isf2025, {**BEVACIZUMAB, "pdx": pdx})
    assert (group, rc) == ("470", "1"), pdx  # counts as missing: 470 "Hovedtilstand mangler"
    assert problems == (("pdx", pdx, "not a valid ICD10 code"),)


def test_a_valid_code_written_with_ignored_characters_or_in_lower_case_is_the_same_code(
        isf2025: tuple[Program, ModuleType]) -> None:
    for pdx in ("H35.3", "h353", " H35.3 ", "H3.5.3"):
        assert both(isf2025, {**BEVACIZUMAB, "pdx": pdx}) == ("802U", "0", ()), pdx


def test_an_invalid_item_of_a_list_is_left_out_and_named(isf2025: tuple[Program, ModuleType]) -> None:
    for drugs in (["L01FG01", "L01FG0\uff11"], "L01FG01, X!", ["XX", None, "L01FG01", ["L01FG01"]]):
        group, _, problems = both(isf2025, {**BEVACIZUMAB, "drugs": drugs})
        assert group == "802U", drugs  # the valid bevacizumab code still counts
        assert problems and all(p[0] == "drugs" and p[2] == "not a valid ATC code" for p in problems), problems
    assert both(isf2025, {**BEVACIZUMAB, "drugs": ["L01FG01", "L01 FG01", "S01LA04"]})[2] == (
        ("drugs", "L01 FG01", "not a valid ATC code"),)
    # every item invalid: the list is empty (no anti-VEGF drug), each item named
    group, _, problems = both(isf2025, {**BEVACIZUMAB, "drugs": ["L01FG01!", "?"]})
    assert group == "802P" and [p[1] for p in problems] == ["L01FG01!", "?"]


def test_the_same_invalid_list_is_named_every_time(isf2025: tuple[Program, ModuleType]) -> None:
    """A list with an invalid item is remembered with its problems, not among the known lists."""
    for _ in range(3):
        assert both(isf2025, {**BEVACIZUMAB, "sdx": ["E11.9", "E11 .9"]})[2] == (("sdx", "E11 .9", "not a valid ICD10 code"),)
        assert both(isf2025, {**BEVACIZUMAB, "sdx": "E11.9 E11\x00"})[2] == (("sdx", "E11\x00", "not a valid ICD10 code"),)


# ---------------------------------------------------------------------- unknown attributes (item 15)


def test_a_misspelt_attribute_is_named_with_the_closest_one(isf2025: tuple[Program, ModuleType]) -> None:
    episode = {k: v for k, v in BEVACIZUMAB.items() if k != "drugs"} | {"drugz": ["L01FG01"]}
    assert both(isf2025, episode) == ("802P", "0", (("drugz", "['L01FG01']", "not an attribute, ignored; did you mean drugs?"),))


def test_columns_of_another_schema_are_named(isf2025: tuple[Program, ModuleType]) -> None:
    """An NPR extract's hdiag/alder: every row 470 rc 1, and now the problems say why."""
    group, rc, problems = both(isf2025, {"hdiag": "H35.3", "alder": "70", 7: 10 ** 5000})
    assert (group, rc) == ("470", "1")
    assert [p[:2] for p in problems] == [("hdiag", "H35.3"), ("alder", "70"), ("7", "<an integer of more than 28 digits>")]
    assert all(p[2].startswith("not an attribute, ignored") for p in problems)


def test_unknown_keys_of_a_pathway_are_named(tmp_path_factory: pytest.TempPathFactory,
                                             isf2025: tuple[Program, ModuleType]) -> None:
    program, package = isf2025
    pathway, episodes = {"kind": "amd", "kidn": "amd"}, [BEVACIZUMAB, {**BEVACIZUMAB, "id": 7}]
    got = package.group_pathway(pathway, episodes)
    want = interpret.group_pathway(program, pathway, episodes)
    assert got.as_dict() == want.as_dict()
    assert ("kidn", "amd", "not an attribute, ignored; did you mean kind?") in got.result.problems
    assert got.members[1].problems == (("id", "7", "not an attribute, ignored"),)


def test_the_check_for_unknown_keys_costs_little(isf2025: tuple[Program, ModuleType]) -> None:
    """Every key an attribute: no problem, and the grouper's memory of unknown keys stays empty."""
    _, package = isf2025
    grouper = package._GROUPER
    assert package.group(dict(BEVACIZUMAB)).problems == ()
    assert grouper.ignoring(["drugz"]).group({**BEVACIZUMAB, "drugz": 1}).problems == ()
    for k in range(5000):  # distinct unknown keys: the reasons remembered stay bounded
        package.group({"x" * 100 + str(k): 1, f"k{k}": 1})
    assert len(grouper._unknown) <= 1 << 10


def test_batch_paths_group_only_the_attribute_columns(tmp_path: Path, isf2025: tuple[Program, ModuleType],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Pass-through columns (an id) give no problem in every row: they are noted once, a misspelt one
    with the attribute it is closest to — in `python -m PACKAGE`, `isf group` (CSV and JSON lines),
    `isf group-pathways` and `group_arrow`."""
    _, package = isf2025
    src = tmp_path / "in.csv"
    src.write_text("id,pdx,age,drugz\n1,H35.3,70,L01FG01\n2,H25.1,70,\n", encoding="utf-8")
    assert csv_main(package._GROUPER, "t", [str(src)], package.ATTRIBUTES) == 0
    captured = capsys.readouterr()
    assert [r["problems"] for r in csv.DictReader(io.StringIO(captured.out))] == ["", ""]
    assert captured.err.count("drugz (did you mean drugs?)") == 1 and "id" in captured.err

    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["group", str(DEFINITIONS / "isf2025"), str(src), "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert [r["problems"] for r in csv.DictReader(out.open(encoding="utf-8"))] == ["", ""]
    assert " ".join(result.output.split()).count("pass through unused: id, drugz (did you mean drugs?)") == 1
    # worker processes group with the same grouping(): the columns are filtered there too
    two = tmp_path / "two.csv"
    group_run(str(DEFINITIONS / "isf2025"), str(src), str(two), jobs=2, chunk=1, console=Console(file=io.StringIO()))
    assert [r["problems"] for r in csv.DictReader(two.open(encoding="utf-8"))] == ["", ""]

    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"id": 1, "pdx": "H35.3", "age": 70}\n{"id": 2, "pdx": "H35.3", "age": 70, "drugz": "L01FG01"}\n',
                     encoding="utf-8")
    result = CliRunner().invoke(main, ["group", str(DEFINITIONS / "isf2025"), str(jsonl), "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert [r["problems"] for r in csv.DictReader(out.open(encoding="utf-8"))] == ["", ""]
    assert "pass through unused: id" in " ".join(result.output.split())  # the first record's keys

    pathways = tmp_path / "pathways.jsonl"
    pathways.write_text(json.dumps({"id": "p1", "pathway": {"kind": "amd", "kidn": 1},
                                    "episodes": [{**BEVACIZUMAB, "id": 7}]}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["group-pathways", str(DEFINITIONS / "isf2025"), str(pathways), "-o", str(out),
                                       "--no-progress"])
    assert result.exit_code == 0, result.output
    assert [r["problems"] for r in csv.DictReader(out.open(encoding="utf-8"))] == [""]
    text = " ".join(result.output.split())
    assert "episodes are no episode attribute and were not grouped: id" in text
    assert "kidn (did you mean kind?)" in text

    batch = pa.RecordBatch.from_pylist([{"id": "1", "pdx": "H35.3", "age": "70", "drugz": "x"}] * 3)
    unknown_columns = sys.modules[f"{package.__name__}._runtime"].UnknownColumns
    with pytest.warns(unknown_columns, match=r"1 column\(s\) .* drugz \(did you mean drugs\?\)") as noted:
        results = list(package.group_arrow([batch, batch], keep=["id"]))
    assert len(noted) == 1  # once, not per batch
    assert [r.column("problems").to_pylist() for r in results] == [[None] * 3] * 2
    assert results[0].column("id").to_pylist() == ["1"] * 3


# ---------------------------------------------------------------------- memories bounded in bytes (item 17)


def test_distinct_long_lists_do_not_fill_the_memory(isf2025: tuple[Program, ModuleType]) -> None:
    """Distinct lists of thousands of codes: 300 of 10,000 took 210 MB before (every memory kept each
    list), 100 of 3,000 here 23 MB; now an entry over ENTRY_BYTES is not remembered (4 MB)."""
    _, package = isf2025
    rng = random.Random(7)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def codes(n: int) -> list[str]:
        return [f"{rng.choice(letters)}{rng.randrange(100):02d}{rng.randrange(10)}" for _ in range(n)]

    package.group({**BEVACIZUMAB, "sdx": codes(10)})  # the first episode's one-time costs
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(100):
            package.group({**BEVACIZUMAB, "sdx": codes(3000)})
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 12_000_000, f"{grown / 1e6:.1f} MB"


def test_a_memory_starts_afresh_past_its_byte_budget() -> None:
    memory: dict[object, object] = {}
    item = ("A" * 1000,) * 4  # about 4 kB
    for k in range(12_000):
        convert.remember(memory, (k, *item), k)
        if k % 1000 == 999:
            assert sum(2 * convert.footprint(key) for key in memory) <= convert.MEMORY_BYTES
    assert 0 < len(memory) < 12_000  # remembered, and started afresh (about 3,800 entries fit)
    convert.remember(memory, "x" * convert.ENTRY_BYTES, 1)
    assert "x" * convert.ENTRY_BYTES not in memory  # one entry over ENTRY_BYTES is never kept
    assert convert.footprint("abc") < convert.footprint(("abc", "def")) < convert.footprint((("abc", "def"), "g" * 100))


def test_footprint_weighs_what_marshal_cannot_write_item_by_item() -> None:
    """Keys are weighed from their ``marshal`` record (C speed); a key holding a value marshal does not
    write (a decimal, a date) is weighed item by item instead — never an error, never weightless."""
    import datetime
    from decimal import Decimal

    codes = tuple(f"A{k:03d}" for k in range(50))
    assert convert.footprint(codes) > 50 * len("A000")
    for odd in (Decimal("1.5"), datetime.date(2030, 1, 1)):
        key = (odd, codes, ("x" * 500,))
        assert convert.footprint(key) > convert.footprint(codes) + 500
    assert convert.footprint((("a", None),) * 3) < convert.footprint((("a", None),) * 30)


def test_a_combination_is_kept_when_it_comes_again() -> None:
    """Memories of combinations (DERIVED, a list converted by look-ups) keep a key the second time it
    comes: a year's first pass meets most combinations once. The hashes noted are bounded."""
    memory: dict[object, int] = {}
    seen: set[int] = set()
    convert.remember_again(memory, seen, ("a", ("b", None)), 1)
    assert memory == {} and len(seen) == 1
    convert.remember_again(memory, seen, ("a", ("b", None)), 1)
    assert memory == {("a", ("b", None)): 1}
    for k in range(10):
        convert.remember_again(memory, seen, (k,), k, limit=4)
    assert len(seen) <= 4 and (9,) not in memory
    known: dict[object, tuple[str, ...] | None] = {}
    items = {"A": "A", "B": "B"}
    lists = convert.memo_list(convert.memo(str, items), items, known)
    assert lists(("A", "B")) == ("A", "B") and ("A", "B") not in known
    assert lists(("A", "B")) == ("A", "B") and known[("A", "B")] == ("A", "B")


BACKTRACKING = """version ISF 2030 "t" valid 2030-01-01 .. 2030-12-31
codesystem X "t" syntax "(A|AA)+B"
episode { pdx: code X "t" more: list code X "t" }
codelist odd of X "t" { AB }
catalogue DRG "t" { 1A "t" points 1 2B "t" points 2 }
decision drg "t" for DRG policy first fallback 2B rc 8 {
  rule R1 "t" when pdx in odd -> 1A
}
"""


def test_codes_are_checked_in_linear_time_whatever_the_syntax(tmp_path: Path) -> None:
    """The code syntax `(A|AA)+B` (accepted: the checker matches in linear time) makes Python's `re`
    backtrack exponentially: 0.15 s for a code of 30 characters, minutes for 41. A grouper checking an
    episode's codes, and the interpreter, match with the same linear automaton instead."""
    folder = tmp_path / "defs"
    folder.mkdir()
    (folder / "p.isf").write_text(BACKTRACKING, encoding="utf-8")
    built = build(str(folder), tmp_path / "gen" / "backtracking")
    assert built.package is not None and built.program is not None
    package = load_package(built.package)
    for code in ("A" * 41, "A" * 5000 + "C", "AAAB"):
        episode = {"pdx": code, "more": [code, "AB"]}
        started = time.perf_counter()
        got, want = package.group(episode), interpret.group(built.program, episode)
        assert time.perf_counter() - started < 5, code[:50]
        assert (got.group, got.return_code, got.problems) == (want.group, want.return_code, want.problems)
        assert bool(got.problems) == (code != "AAAB")
