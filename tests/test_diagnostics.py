"""The golden corpus: each file under tests/diagnostics/ yields exactly the diagnostics it expects."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from isfdsl.commands.pipeline import check_paths
from isfdsl.diagnostics import CODES

from .conftest import ROOT

CORPUS = sorted((Path(__file__).parent / "diagnostics").glob("*.isf"))
EXPECT = re.compile(r"^# expect: (ISF\d{3}) (\d+):(\d+)$", re.MULTILINE)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_fixture_yields_exactly_its_expected_diagnostics(path: Path) -> None:
    expected = sorted((c, int(line), int(col)) for c, line, col in EXPECT.findall(path.read_text()))
    assert expected, f"{path.name} has no `# expect:` lines"
    result = check_paths([str(path)], analyse=True)
    actual = sorted((d.code, d.span.line, d.span.col) for d in result.diags.items)
    assert actual == expected


def test_every_code_has_a_fixture_named_after_it() -> None:
    covered = {p.name[:6] for p in CORPUS}
    assert covered == set(CODES)
    for path in CORPUS:
        assert path.name[:6] in EXPECT.findall(path.read_text())[0][0], path.name


def test_every_code_is_documented() -> None:
    doc = (ROOT / "docs" / "language.md").read_text()
    missing = [code for code in CODES if f"### {code}" not in doc]
    assert not missing


def test_several_independent_errors_are_reported_in_one_run(tmp_path: Path) -> None:
    src = tmp_path / "many.isf"
    src.write_text('version T 2025 "t"\nderve x: int = 1\ncodelist a of C { A % }\nderive y: int = 1 +\n')
    result = check_paths([str(src)])
    assert [(d.code, d.span.line) for d in result.diags.sorted()] == [("ISF101", 2), ("ISF102", 3), ("ISF103", 4)]


def test_misspelt_names_get_a_did_you_mean(tmp_path: Path) -> None:
    src = tmp_path / "typo.isf"
    src.write_text('version T 2025 "t"\nepisode { age: int }\nderive adult: bool = agee > 17\n'
                   'catalogue G { Z "z" }\ndecision d for G policy first fallback Z { rule r when adult -> Z }\n')
    [diag] = check_paths([str(src)]).diags.items
    assert diag.code == "ISF201" and "did you mean `age`?" in diag.notes
