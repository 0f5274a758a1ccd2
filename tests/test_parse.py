"""The parser builds the AST while it parses (Lark's embedded transformer, :class:`_Reducer`): the same AST,
spans and diagnostics as the reference way — a Lark tree with propagated positions, the limit check on it,
then the builder — on every .isf file of the repository, on grammar-generated and mutated programs, and
through error recovery and the limits (ISF107). The language server's parser, which parses again only the
declarations and rows an edit changed (:mod:`isfdsl.syntax.incremental`), gives what a whole parse gives."""

from __future__ import annotations

import string
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isfdsl import limits
from isfdsl.diagnostics import Collector, Diagnostic
from isfdsl.syntax import ast, incremental, parse
from isfdsl.syntax.incremental import IncrementalParser
from isfdsl.syntax.parse import parse_module

from .conftest import ROOT
from .mutations import HOSTILE, KINDS, Mutation, mutate
from .test_fuzz import _SOURCES
from .test_roundtrip import EVERY_CONSTRUCT

_FILES = sorted(p for p in ROOT.rglob("*.isf") if not {".git", ".venv", "node_modules"} & set(p.parts))


@contextmanager
def _reference_way() -> Iterator[None]:
    """Every parse the reference way: a Lark tree, :func:`parse._within_limits`, the builder over the tree."""
    with mock.patch.object(parse, "_long_number", lambda text: True):
        yield


def _both(text: str, path: str = "t.isf") -> tuple[tuple[ast.Module, list[Diagnostic]], tuple[ast.Module, list[Diagnostic]]]:
    fast, reference = Collector(), Collector()
    module = parse_module(text, path, fast)
    with _reference_way():
        expected = parse_module(text, path, reference)
    return (module, fast.items), (expected, reference.items)


def _same(text: str, path: str = "t.isf") -> list[Diagnostic]:
    got, expected = _both(text, path)
    assert got == expected and _out_spans(got[0]) == _out_spans(expected[0])
    return got[1]


def test_the_repository_has_isf_files_of_every_kind() -> None:
    kinds = {p.relative_to(ROOT).parts[0] for p in _FILES}
    assert {"definitions", "tests"} <= kinds and len(_FILES) > 40


@pytest.mark.parametrize("path", _FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_isf_file_parses_as_the_reference_way_does(path: Path) -> None:
    _same(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))


def test_bundled_definitions_are_parsed_without_a_tree() -> None:
    """The fast way is taken: no Lark tree is built for a definition within the limits."""
    with mock.patch.object(parse, "_parse_tree", side_effect=AssertionError("parsed to a tree")):
        for path in (ROOT / "definitions").rglob("*.isf"):
            parse_module(path.read_text(encoding="utf-8"), path.name, Collector())


@given(_SOURCES)
def test_generated_programs_parse_as_the_reference_way_does(text: str) -> None:
    _same(text)


@given(st.builds(Mutation, st.sampled_from(KINDS), st.just(0), st.floats(0, 1), st.floats(0, 1),
                 st.integers(0, len(HOSTILE) - 1)))
def test_mutated_programs_parse_as_the_reference_way_does(mutation: Mutation) -> None:
    _same(mutate(EVERY_CONSTRUCT, mutation))


@given(_SOURCES, st.lists(st.tuples(st.floats(0, 1), st.sampled_from(HOSTILE)), max_size=3))
def test_generated_programs_with_hostile_text_parse_as_the_reference_way_does(
        text: str, inserts: list[tuple[float, str]]) -> None:
    for at, hostile in inserts:
        cut = int(at * len(text))
        text = text[:cut] + hostile + text[cut:]
    _same(text)


@given(st.text(alphabet=string.printable + "æøå€", max_size=200))
def test_arbitrary_text_parses_as_the_reference_way_does(text: str) -> None:
    _same(text)


_RULES = """version V 1 "x"
catalogue G { 1 "one" 2 "two" }
decision d for G policy first {
  rule r1 when (a or b) and c -> 1
  rule r2 "title" when not x and y in {"1", "2"} and n in 1..5 and z is present -> 2 rc 1
  post { rule p1 when ((a)) -> rc 3 }
}
derive f: int = if ((a + 1) > 2) then [x for x in l where (x in s)] else (n)
"""


def test_spans_reach_over_parentheses_as_lark_places_them() -> None:
    _same(_RULES)
    module = parse_module(_RULES, "t.isf", Collector())
    rule = module.items[2].rules[0]  # type: ignore[attr-defined]
    line = _RULES.splitlines()[3]
    assert rule.when.span.col == line.index("(a or b)") + 1  # `(a or b) and c` starts at `(`
    assert rule.when.items[0].span.col == line.index("a or b") + 1


@pytest.mark.parametrize("text", [
    _RULES.replace("-> 1\n", "-> \n"),  # one error: the rest of the file is kept
    _RULES.replace("rule r1", "rule").replace("derive f", "derive"),  # errors in two declarations
    _RULES + "decision e for G policy first { rule q when a -> 1 } }\n",  # a stray brace at the end
    _RULES + "catalogue H {",  # the end of the file
    _RULES.replace("(a or b)", "(a or b"),  # an unclosed parenthesis
    _RULES.replace("when not x", "when not (x)"),
    "codelist L of C { A01 A0\x00 }\n" + _RULES,  # an unexpected character
    _RULES.replace("-> 1\n", "-> 1\n  rule r9 when n > " + "9" * (limits.DIGITS + 1) + " -> 1\n"),
    _RULES.replace("-> 1\n", "-> 1\n  rule r9 when n > 1." + "9" * limits.DIGITS + " -> 1\n"),
    _RULES.replace("-> 1\n", "-> 1\n  rule r9 when " + "(" * 70 + "a" + ")" * 70 + " -> 1\n"),
    _RULES.replace("-> 1\n", "-> 1\n  rule r9 when " + " and ".join(["a"] * 70) + " -> 1\n"),
    _RULES + "derive g: int = " + "(" * 80 + "1" + ")" * 80 + "\n" + "derive h: int = " + "1 + " * 70 + "1\n",
    _RULES + "derive g: int = " + "1 + " * 70 + "\nderive h: int = " + "9" * 40 + "\n",  # an error and the limits
])
def test_error_recovery_and_limits_give_what_the_reference_way_gives(text: str) -> None:
    _same(text)


def test_a_long_number_or_a_deep_nesting_is_found_the_reference_way() -> None:
    deep = "derive g: int = " + "[" * (limits.NESTING + 5) + "1" + "]" * (limits.NESTING + 5) + "\n"
    digits = "derive g: int = 1." + "2" * limits.DIGITS + "\n"
    for text in (deep, digits):
        with mock.patch.object(parse, "_parse_tree", wraps=parse._parse_tree) as reference:
            diags = _same(text)
        assert reference.called and [d.code for d in diags] == ["ISF107"]
    assert parse._long_number(digits) and not parse._long_number("x 1." + "2" * (limits.DIGITS - 2) + " 3")


def test_the_anonymous_terminals_are_those_a_tree_leaves_out() -> None:
    """The reducer drops the tokens Lark's tree filters out: the quoted strings inside rules."""
    reducer = parse._reducing_parser()[1]
    filtered = {s.name for r in parse.parser().rules for s in r.expansion if s.is_term and s.filter_out}
    kept = {s.name for r in parse.parser().rules for s in r.expansion if s.is_term and not s.filter_out}
    assert reducer.anonymous == filtered and not filtered & kept


def test_every_rule_has_a_callback() -> None:
    """Each rule reduced to a value of its own has a callback (an inlined `?rule` of one child needs none)."""
    lark, reducer = parse._reducing_parser()
    names = {r.alias or r.origin.name for r in lark.rules
             if r.alias or not (r.options.expand1 and len(r.expansion) == 1)}
    assert all(callable(getattr(reducer, n)) for n in names if not n.startswith("_"))


# ---------------------------------------------------------------------- parsing again what an edit changed


def _incremental_is_whole(parser: IncrementalParser, text: str, path: str = "t.isf") -> None:
    got, expected = Collector(), Collector()
    module, whole = parser.parse_module(text, path, got), parse_module(text, path, expected)
    assert module == whole and got.items == expected.items
    assert _out_spans(module) == _out_spans(whole)  # not compared by ==


def _out_spans(module: ast.Module) -> list[object]:
    return [r.out_span for d in module.items if isinstance(d, ast.Decision) for r in (*d.rules, *d.post)]


@pytest.mark.parametrize("path", _FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_isf_file_parses_in_pieces_as_whole(path: Path) -> None:
    _incremental_is_whole(IncrementalParser(), path.read_text(encoding="utf-8"), path.name)


_TABLE = """version V 1 "x"
catalogue G { 1 "one" 2 "two" 3 "three" }
# rows
decision d "rows" for G policy first fallback 3 {
  # the first part
  rule r1 when a and b -> 1
  rule r2 "two" when (a or b) and not c
    and n > 2 -> 2 rc 1
  rule r3 -> 2
  # the second part
  rule r4 when x in {"1", "2"} -> 1
  rule r5 when y is present -> 2
  post {
    rule p1 when a -> rc 4
  }
}
derive f: int = 1
"""


@pytest.mark.parametrize("edit", [
    ("rule r4 when x", "rule r4 when xy"),  # in one row
    ("rule r2", "rule r2b"),
    ("  rule r3 -> 2\n", "  rule r3 -> 2\n  rule r3b -> 1\n"),  # a row more: the rows below move down
    ("  rule r3 -> 2\n", ""),
    ("rule r3 -> 2", "rule r3 ->"),  # an error that shows at the next row
    ("rule r3 -> 2", "rule r3 -> 2 post {"),
    ("rule r1 when a and b -> 1", "rule r1 when a and b -> 1 rule r1b -> 2"),
    ("  post {\n    rule p1 when a -> rc 4\n  }\n", ""),
    ("  post {\n", "  post { rule p0 -> 1\n"),
    ("rule r5 when y is present -> 2", "rule r5 when y is present -> 2 }"),
    ("  rule r4", "rule r4"),
    ("derive f: int = 1", "derive f: int = " + "[" * 70 + "1" + "]" * 70),
    ("rule r5 when y", "rule r5 when " + " and ".join(["y"] * 70)),
    ("rule r5 when y is present", "rule r5 when n > " + "9" * 40),
    ("# rows\n", "episode {\nversion: int\n}\n"),  # a keyword at a line start inside a declaration
    ("{ 1 \"one\"", "{\n1 \"one\""),
])
def test_an_edit_parses_in_pieces_as_the_whole_file(edit: tuple[str, str]) -> None:
    parser = IncrementalParser()
    _incremental_is_whole(parser, _TABLE)
    old, new = edit
    assert old in _TABLE
    _incremental_is_whole(parser, _TABLE.replace(old, new, 1))
    _incremental_is_whole(parser, _TABLE)


def test_an_edit_in_one_row_parses_that_row_alone() -> None:
    parser = IncrementalParser()
    _incremental_is_whole(parser, _TABLE)
    with mock.patch.object(incremental, "parse_items", wraps=parse.parse_items) as parsed:
        _incremental_is_whole(parser, _TABLE.replace("rule r4 when x", "rule r4 when xy"))
    [call] = parsed.call_args_list  # one row, in a stand-in decision
    assert call.args[0].startswith(incremental._STAND_IN) and call.args[0].strip().endswith("-> 1\n}")


def test_a_line_added_above_rows_moves_them_without_parsing_them_again() -> None:
    parser = IncrementalParser()
    _incremental_is_whole(parser, _TABLE)
    with mock.patch.object(incremental, "parse_items", wraps=parse.parse_items) as parsed:
        _incremental_is_whole(parser, _TABLE.replace("  rule r2 ", "  rule r1b -> 3\n\n  rule r2 "))
    texts = [call.args[0] for call in parsed.call_args_list]  # the new row, the table's header, `derive f`
    assert len(texts) == 3 and any("rule r1b -> 3\n\n}" in t for t in texts)
    assert not any(f"rule r{n}" in t for t in texts for n in (2, 3, 4))  # the rows below, moved


@given(st.lists(st.builds(Mutation, st.sampled_from(KINDS), st.just(0), st.floats(0, 1), st.floats(0, 1),
                          st.integers(0, len(HOSTILE) - 1)), min_size=1, max_size=6))
def test_edit_after_edit_parses_in_pieces_as_whole(mutations: list[Mutation]) -> None:
    parser = IncrementalParser()
    text = _TABLE + EVERY_CONSTRUCT
    _incremental_is_whole(parser, text)
    for mutation in mutations:
        text = mutate(text, mutation)
        _incremental_is_whole(parser, text)


def test_the_bundled_decision_tables_edited_row_by_row_parse_as_whole() -> None:
    path = ROOT / "definitions" / "isf2025" / "drg.isf"
    text = path.read_text(encoding="utf-8")
    parser = IncrementalParser()
    _incremental_is_whole(parser, text, path.name)
    lines = text.split("\n")
    rows = [i for i, line in enumerate(lines) if line.lstrip().startswith("rule ")]
    for i in rows[:: max(1, len(rows) // 8)]:
        edited = lines[:i] + [lines[i].replace(" -> ", " and extra_feature -> ", 1)] + lines[i + 1:]
        _incremental_is_whole(parser, "\n".join(edited), path.name)
