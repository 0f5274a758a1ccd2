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
