"""The analyses of decision tables: seeded defects in the bundled definitions give the exact diagnostic,
and every witness, run through the reference interpreter, really shows the problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from isfdsl import interpret
from isfdsl.analysis import coupling
from isfdsl.analysis.analyse import Finding, Possible, analyse
from isfdsl.analysis.cubes import CubeIndex, bits
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


# ---------------------------------------------------------------------- rules with `or`

OR_RULES = '''version T 2025 "t"
codesystem ICD10 syntax "[A-Z][0-9]{2}[0-9A-Z]{0,4}" ignore "."
enum Level { inpatient = "1"  day = "2"  outpatient = "3" }
episode { pdx: code ICD10  care: Level  age: int 0..120  adult: bool }
catalogue G { A "a"  B "b"  C "c"  Z "z" }
decision d for G policy first fallback Z {
  rule r1 when care == day or care == outpatient and not adult -> A
  rule r2 when care == outpatient and adult -> B
  rule r3 when care == outpatient or care == day -> C
}
decision u for G policy unique otherwise d {
  rule u1 when pdx == O80.1 or pdx == O81 -> A
  rule u2 when pdx == O82 or pdx == O80.1 and age > 40 -> B
}
'''


def test_an_or_rule_is_one_row_shadowed_only_by_other_rules_together(tmp_path: Path) -> None:
    """r3's alternatives are taken by r1 and r2 together (outpatients by r1's second alternative and r2,
    day cases by r1's first): r3 is shadowed, and the rows named are the two earlier rules — never itself.
    In the unique table, u1 and u2 overlap on O80.1 past 40; their own alternatives do not count."""
    (tmp_path / "t.isf").write_text(OR_RULES, encoding="utf-8")
    program, findings = _analyse(tmp_path)
    d = next(t for t in program.decisions if t.name == "d")
    assert [len(r.alternatives) for r in d.rows] == [2, 1, 2] and [r.id for r in d.rows] == ["r1", "r2", "r3"]
    shown = sorted((f.code, f.rule, f.rows) for f in findings)
    assert ("ISF451", "r3", ("r1", "r2")) in shown
    assert ("ISF401", "u2", ("u1", "u2")) in shown
    assert not [f for f in findings if f.code == "ISF451" and f.rule in f.rows]
    overlap = next(f for f in findings if f.code == "ISF401")
    assert overlap.episode is not None and _matching_rows(program, "u", dict(overlap.episode)) == ["u1", "u2"]


def test_a_rule_whose_alternatives_overlap_is_no_overlap_in_a_unique_table(tmp_path: Path) -> None:
    (tmp_path / "t.isf").write_text(OR_RULES.replace("pdx == O82 or pdx == O80.1 and age > 40", "pdx == O82"),
                                    encoding="utf-8")
    program, findings = _analyse(tmp_path)
    u1 = next(t for t in program.decisions if t.name == "u").rows[0]
    assert u1.text == "pdx == O80.1 or pdx == O81"
    assert not [f for f in findings if f.code == "ISF401"]


_COUPLED = """version Coupling 2025 "Coupled code tables" valid 2025-01-01 .. 2025-12-31
codesystem NCSP "Procedure codes" syntax "[A-Z0-9]+"
episode {
  procedures: list code NCSP "Procedures"
}
table procpr of NCSP -> text "Procedure properties" from "procpr.tsv"
table proc_dgprop of NCSP -> text "Diagnosis properties given by a procedure" from "proc_dgprop.tsv"
derive procprops: list text "Procedure properties" = lookup(procpr, procedures)
derive dgprops: list text "Diagnosis properties" = lookup(proc_dgprop, procedures)
catalogue G "Groups" {
  A "A"
  B "B"
  C "C"
  Z "Z"
}
decision g "Groups" for G policy first fallback Z {
  rule r1 when procprops has "S13" -> A
  rule r2 when dgprops has "X04" -> B
  rule r3 when dgprops has "X05" -> C
}
"""


def _coupled(tmp_path: Path, dgprop: str) -> tuple[Program, list[Finding]]:
    (tmp_path / "main.isf").write_text(_COUPLED, encoding="utf-8")
    (tmp_path / "procpr.tsv").write_text("key\tvalue\nZXA10\tS13\nZXA20\tS13\nZXB10\tS20\n", encoding="utf-8")
    (tmp_path / "proc_dgprop.tsv").write_text("key\tvalue\nZXA10\tX04\nZXB10\tX05\n" + dgprop, encoding="utf-8")
    return _analyse(tmp_path)


def test_a_row_the_code_tables_rule_out_is_shadowed(tmp_path: Path) -> None:
    """X04 comes only from ZXA10, which also gives S13: every episode with X04 goes to r1 (as with the
    NordDRG tables' 99X04 and 99S13). X05 comes from ZXB10 without S13, so r3 can match."""
    program, findings = _coupled(tmp_path, "")
    [shadowed] = [f for f in findings if f.code == "ISF451"]
    assert shadowed.rule == "r2" and shadowed.rows == ("r1",)
    note = "the code tables give `dgprops` an element like 'X04' only together with `procprops` 'S13'"
    assert shadowed.notes == (note,)
    assert _matching_rows(program, "g", {"procedures": ["ZXA10"]}) == ["r1", "r2"]
    assert _matching_rows(program, "g", {"procedures": ["ZXB10"]}) == ["r3"]


def test_a_second_source_of_the_value_uncouples_it(tmp_path: Path) -> None:
    program, findings = _coupled(tmp_path, "ZXC10\tX04\n")
    assert [f for f in findings if f.code in ("ISF451", "ISF452")] == []
    assert _matching_rows(program, "g", {"procedures": ["ZXC10"]}) == ["r2"]


@given(st.lists(st.dictionaries(st.integers(0, 7), st.integers(1, 3), max_size=5), max_size=12),
       st.dictionaries(st.integers(0, 7), st.integers(1, 3), max_size=4),
       st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=6), st.integers(0, 2 ** 12 - 1))
def test_coupling_cubes_found_through_the_index_are_those_found_from_the_cubes(
        indexed: list[dict[int, int]], cube: dict[int, int], pairs: list[tuple[int, int]], numbers: int) -> None:
    """`Never.among_indexed` (the variables an implication starts from, found through the index's record of
    which cubes name each variable) gives the cubes `Never.among` gives from the cubes themselves, in the
    same order: the order decides where the search for part of a row looks first."""
    space = SimpleNamespace(fulls=[0b11] * 8)
    never = coupling.Never(space, [({i.given: 0b10, i.then: 0b01}, i)  # type: ignore[arg-type]
                                   for i in (coupling.Implication(a, b) for a, b in pairs)])
    index = CubeIndex(8)
    for n, c in enumerate(indexed):
        index.add(c, n)
    numbers &= (1 << len(indexed)) - 1
    others = [index.cubes[k] for k in bits(numbers)]
    assert never.among_indexed(cube, index, numbers) == never.among(cube, others)
