"""Values that used to pass unchecked (issue 18, items 9, 14, 15, 17): huge integers, codes that do not
fit their code system, unknown attributes, and the memories' bound in bytes — each in the generated
package and in the reference interpreter alike."""

from __future__ import annotations

from types import ModuleType

import pytest

from isfdsl import interpret
from isfdsl.commands.pipeline import build, check_paths, load_package
from isfdsl.ir.model import Program, lower

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
