"""The analyses of decision tables: seeded defects in the bundled definitions give the exact diagnostic,
and every witness, run through the reference interpreter, really shows the problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from isfdsl import interpret
from isfdsl.analysis.analyse import Finding, Possible, analyse
from isfdsl.commands.cli import main
from isfdsl.commands.pipeline import check_paths
from isfdsl.ir.model import Program, lower

from .conftest import DEFINITIONS

VERSION = "isf2025"


def _seed(tmp_path: Path, old: str, new: str, file: str = "drg.isf", *more: tuple[str, str]) -> Path:
    """A copy of the bundled definitions with seeded changes."""
    folder = tmp_path / VERSION
    shutil.copytree(DEFINITIONS / VERSION, folder)
    text = (folder / file).read_text(encoding="utf-8")
    for a, b in ((old, new), *more):
        assert a in text, a
        text = text.replace(a, b, 1)
    (folder / file).write_text(text, encoding="utf-8")
    return folder


#: The seeded gap: no fallback, and no row for a principal diagnosis outside every MDC.
GAP = ("policy first fallback 470 rc 8 {", "policy first {")
NO_MDC_ROW = ('  rule 000D004 "Hovedtilstand ikke en ICD-10-kode i noen MDC" when mdc is absent -> 470 rc 9\n', "")


def _analyse(folder: Path) -> tuple[Program, list[Finding]]:
    checked = check_paths([str(folder)])
    assert checked.ok, checked.diags.errors
    program = lower(checked.models[0])
    return program, analyse(program).findings


def _matching_rows(program: Program, table: str, episode: dict[str, object]) -> list[str]:
    values, _ = interpret.normalize(program, episode)
    ev = interpret.Evaluator(program, values)
    chosen = next(t for t in program.decisions if t.name == table)
    return [row.id for row in chosen.rows if interpret.try_row(program, row, ev.feature).matched]


def test_bundled_definitions_are_clean() -> None:
    for folder in sorted(DEFINITIONS.iterdir()):
        _, findings = _analyse(folder)
        assert findings == [], (folder.name, findings)


def test_seeded_shadowed_row(tmp_path: Path) -> None:
    folder = _seed(tmp_path, "  rule 190D002", "  rule 102D012 when mdc == \"02\" and care_level == outpatient and "
                   "procedures has eye_procedures and age > 60 -> 802U\n  rule 190D002")
    _program, findings = _analyse(folder)
    [f] = [f for f in findings if f.code == "ISF451"]
    assert f.rule == "102D012" and f.rows == ("102D011",)
    line = (folder / "drg.isf").read_text().splitlines().index(next(
        x for x in (folder / "drg.isf").read_text().splitlines() if "rule 102D012" in x)) + 1
    assert f.where.endswith(f"drg.isf:{line}:3")


def test_seeded_overlap_in_a_unique_table_has_a_witness_episode(tmp_path: Path) -> None:
    folder = _seed(tmp_path, "decision drg", '''decision eye "Eye services" for DRG policy unique fallback 470 {
  rule E1 when anti_vegf_given and age >= 50 -> 802U
  rule E2 when procedures has intravitreal_injection and age < 80 -> 802P
}

decision drg''')
    program, findings = _analyse(folder)
    [f] = [f for f in findings if f.code == "ISF401"]
    assert f.rows == ("E1", "E2") and f.table == "eye"
    assert f.witness is not None and f.witness["anti_vegf_given"] is True
    assert f.episode is not None, "a concrete episode exists (an anti-VEGF drug and an injection, age 50-79)"
    # The witness really triggers it: the interpreter finds both rows matching.
    assert _matching_rows(program, "eye", dict(f.episode)) == ["E1", "E2"]
    # ... and `isf check` reports it as an error with the witness in the notes.
    checked = check_paths([str(folder)], analyse=True)
    [diag] = [d for d in checked.diags.errors if d.code == "ISF401"]
    assert any(n.startswith("witness (episode):") for n in diag.notes)


def test_seeded_gap_has_a_witness_episode(tmp_path: Path) -> None:
    folder = _seed(tmp_path, *GAP, "drg.isf", NO_MDC_ROW)
    program, findings = _analyse(folder)
    [f] = [f for f in findings if f.code == "ISF402"]
    assert f.episode is not None
    assert _matching_rows(program, "drg", dict(f.episode)) == []
    assert interpret.group(program, dict(f.episode)).rule == "fallback"


def test_seeded_unreachable_group_and_impossible_condition(tmp_path: Path) -> None:
    folder = _seed(tmp_path, "  rule 190D001", '  rule 102D013 when mdc == "99" -> 39O\n  rule 190D001')
    folder = _seed(tmp_path / "b", "  rule 102D001 when", "  rule 102D001 when mdc == \"99\" and")
    _, findings = _analyse(folder)
    codes = {(f.code, f.rule) for f in findings}
    assert ("ISF452", "102D001") in codes and ("ISF453", "102D001") in codes
    [f] = [f for f in findings if f.code == "ISF452"]
    assert "`mdc == \"99\"` can never hold" in f.message
    assert "one of" in f.notes[0] and "'02'" in f.notes[0]


def test_possible_values_of_derivations() -> None:
    program, _ = _analyse(DEFINITIONS / VERSION)
    possible = Possible(program)
    mdc = possible.of("mdc")
    assert isinstance(mdc, frozenset) and None in mdc and "02" in mdc
    assert possible.of("anti_vegf_given") == frozenset({True, False})


def test_verify_cli_reports_and_exits_1_on_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["verify", str(DEFINITIONS / VERSION), "--no-progress"])
    assert ok.exit_code == 0 and "0 errors, 0 warnings" in ok.output
    folder = _seed(tmp_path, *GAP, "drg.isf", NO_MDC_ROW)
    bad = runner.invoke(main, ["verify", str(folder), "--format", "json", "--no-progress"])
    assert bad.exit_code == 1
    data = json.loads(bad.stdout)
    assert data["errors"] == 1 and data["findings"][0]["code"] == "ISF402"
    assert data["findings"][0]["episode"]
    check = runner.invoke(main, ["check", str(folder)])
    assert check.exit_code == 1 and "ISF402" in check.output
