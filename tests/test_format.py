"""`isf fmt`: one canonical layout that keeps every comment where it was and single blank lines, is
idempotent, leaves the meaning alone, and with --check changes nothing and shows a diff."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from isfdsl import interpret
from isfdsl.commands.cli import main
from isfdsl.commands.fmt import formatted
from isfdsl.commands.pipeline import check_paths
from isfdsl.diagnostics import Collector
from isfdsl.ir.model import lower
from isfdsl.syntax.parse import parse_module

from .conftest import DEFINITIONS, ROOT
from .test_roundtrip import EVERY_CONSTRUCT, strip_spans

PROGRAMS = sorted([*DEFINITIONS.rglob("*.isf"), *(ROOT / "tests" / "programs").rglob("*.isf"),
                   *(ROOT / "tests" / "diagnostics").glob("*.isf")])


def _comments(text: str) -> Counter[str]:
    return Counter(c.text for c in parse_module(text, "t.isf", Collector()).comments)


def _fmt(text: str) -> str:
    out, diags = formatted(text, "t.isf")
    assert out is not None, diags.items
    return out


def test_bundled_definitions_are_formatted() -> None:
    r = CliRunner().invoke(main, ["fmt", "--check", str(DEFINITIONS)])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_formatting_is_idempotent_and_keeps_every_comment(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    once, diags = formatted(text, path.name)
    if once is None:  # a golden file of syntax errors: never rewritten
        assert any(d.code.startswith("ISF1") for d in diags.items)
        return
    assert _fmt(once) == once
    assert _comments(once) == _comments(text)
    # The same program: only the deprecated spelling of a set (ISF253) is rewritten.
    assert strip_spans(parse_module(once, "t", Collector()), False) == strip_spans(parse_module(text, "t", Collector()), False)


def test_comments_inside_blocks_stay_beside_their_element() -> None:
    text = ('version T 1 "t"\n'
            'codelist a of X { # trailing on the header\n'
            '  A1 "one"\n'
            '\n'
            '\n'
            '  # about A2\n'
            '  A2   "two"   # trailing on A2\n'
            '  # before the end\n'
            '}\n'
            'derive m: text =\n'
            '  if p in a then "1"   # first\n'
            '  # second branch\n'
            '  else if p in b then "2"\n'
            '  else "0"\n')
    assert _fmt(text) == ('version T 1 "t"\n'
                          'codelist a of X {  # trailing on the header\n'
                          '  A1 "one"\n'
                          '\n'
                          '  # about A2\n'
                          '  A2 "two"  # trailing on A2\n'
                          '  # before the end\n'
                          '}\n'
                          'derive m: text =\n'
                          '  if p in a then "1"  # first\n'
                          '  # second branch\n'
                          '  else if p in b then "2"\n'
                          '  else "0"\n')


_LINES = EVERY_CONSTRUCT.strip("\n").split("\n")


@given(st.lists(st.tuples(st.integers(0, len(_LINES)), st.booleans(),
                          st.text("abcæøå -#", max_size=12)), max_size=12))
def test_comments_anywhere_survive_formatting(inserts: list[tuple[int, bool, str]]) -> None:
    """Comments put on any line, on a line of their own or after code, all survive; the result is
    idempotent and means the same program."""
    lines = list(_LINES)
    for at, trailing, words in sorted(inserts, reverse=True):
        comment = "# " + words.replace("#", "")
        if trailing and at < len(lines) and lines[at].strip() and '"' not in lines[at] and "#" not in lines[at]:
            lines[at] = f"{lines[at]}  {comment}"
        else:
            lines.insert(at, comment)
    text = "\n".join(lines) + "\n"
    once = _fmt(text)
    assert _comments(once) == _comments(text)
    assert _fmt(once) == once
    assert strip_spans(parse_module(once, "t", Collector())) == strip_spans(parse_module(text, "t", Collector()))


def test_reformatted_definitions_group_identically(tmp_path: Path) -> None:
    """A version laid out by hand differently (blank lines, spacing, one-line blocks) and then formatted
    checks clean and groups every example episode as the original does."""
    messy = tmp_path / "messy"
    shutil.copytree(DEFINITIONS / "isf2025", messy)
    for f in messy.glob("*.isf"):
        text = f.read_text(encoding="utf-8")
        f.write_text(text.replace("\n  ", "\n      ").replace("\n\n", "\n\n\n"), encoding="utf-8")
    r = CliRunner().invoke(main, ["fmt", "--check", str(messy)])
    assert r.exit_code == 1 and "+++" in r.output
    r = CliRunner().invoke(main, ["fmt", str(messy)])
    assert r.exit_code == 0, r.output
    for f in messy.glob("*.isf"):
        assert f.read_text(encoding="utf-8") == (DEFINITIONS / "isf2025" / f.name).read_text(encoding="utf-8")
    original = lower(check_paths([str(DEFINITIONS / "isf2025")]).models[0])
    again = check_paths([str(messy)])
    assert again.ok
    program = lower(again.models[0])
    with (ROOT / "examples" / "isf2025-episodes.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    for row in rows:
        for table in ("drg", "stg"):
            a, b = interpret.group(original, dict(row), table), interpret.group(program, dict(row), table)
            assert (a.group, a.rule, a.return_code, a.points) == (b.group, b.rule, b.return_code, b.points)


def test_check_changes_nothing_and_syntax_errors_are_never_rewritten(tmp_path: Path) -> None:
    f = tmp_path / "a.isf"
    f.write_text('version T 1 "t"\ncodelist a of X { A1 A2 }\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["fmt", "--check", str(f)])
    assert r.exit_code == 1 and "+  A1" in r.output
    assert f.read_text(encoding="utf-8") == 'version T 1 "t"\ncodelist a of X { A1 A2 }\n'
    bad = tmp_path / "bad.isf"
    bad.write_text('version T 1 "t"\nderve x: int = 1\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["fmt", str(tmp_path)])
    assert r.exit_code == 1 and "ISF101" in r.output
    assert bad.read_text(encoding="utf-8") == 'version T 1 "t"\nderve x: int = 1\n'
    assert f.read_text(encoding="utf-8") == 'version T 1 "t"\ncodelist a of X {\n  A1\n  A2\n}\n'
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left
