"""Fuzzing the parser and the checker: grammar-generated sentences, mutated text and mutated copies of
the bundled definitions (tests/mutations.py) give diagnostics, never exceptions. bench/fuzz_campaign.py
runs the same mutations at scale, with a time limit per folder."""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from isfdsl.commands.pipeline import check_paths
from isfdsl.diagnostics import CODES, Collector, render_json, render_text
from isfdsl.resources import grammar_text
from isfdsl.syntax.parse import parse_module

from .conftest import DEFINITIONS
from .mutations import HOSTILE, KINDS, Mutation, write_mutant

# The generator needs an Earley-free grammar object; terminals with look-alike regexes get explicit
# strategies so that generated text lexes the way the contextual lexer reads it.
_GRAMMAR = Lark(grammar_text(), parser="lalr", lexer="contextual")
_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s not in {"any", "all", "none", "find", "first", "unique", "not", "and", "or", "in", "is", "if",
                        "then", "else", "true", "false", "absent", "for", "where", "has", "lacks", "rule", "when",
                        "post", "policy", "fallback", "rc", "of", "from", "text", "int", "bool", "date", "decimal",
                        "code", "pair", "list", "default", "valid", "syntax", "ignore", "points", "trim", "perday",
                        "parent", "flags", "source", "share", "by", "stay", "unit_price", "illustrative", "present",
                        "version", "import", "codesystem", "enum", "episode", "codelist", "table", "derive",
                        "catalogue", "decision", "payment"})
_SOURCES = from_lark(_GRAMMAR, explicit={
    "NAME": _NAMES,
    "GROUP": st.from_regex(r"[0-9A-Z][0-9A-Z]{0,3}", fullmatch=True),
    "RULEID": st.from_regex(r"[0-9A-Z][0-9A-Za-z]{0,5}", fullmatch=True),
    "CODE": st.from_regex(r"[A-Z][0-9]{2}(\.[0-9])?(\*|-[A-Z][0-9]{2})?", fullmatch=True),
    "STRING": st.text(string.ascii_letters + " æøå\\\"", max_size=8).map(
        lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    "DATE": st.dates().map(lambda d: d.isoformat()).filter(lambda s: len(s) == 10),
    "COMMENT": st.just("# c"),
})


@given(_SOURCES)
def test_generated_sources_parse_without_exceptions(text: str) -> None:
    diags = Collector()
    parse_module(text, "gen.isf", diags)
    assert all(d.code in CODES for d in diags.items)


@given(st.text(alphabet=string.printable + "æøå€", max_size=200))
def test_arbitrary_text_gives_only_diagnostics(text: str) -> None:
    diags = Collector()
    parse_module(text, "junk.isf", diags)
    assert all(d.code.startswith("ISF1") for d in diags.items)


@given(_SOURCES, st.integers(0, 10_000), st.sampled_from(["", "}", "{", "(", " and ", '"', "->", "..", "#"]))
def test_mutated_sources_run_through_the_checker_without_exceptions(text: str, at: int, insert: str) -> None:
    cut = at % (len(text) + 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.isf"
        path.write_text(text[:cut] + insert + text[cut:], encoding="utf-8")
        result = check_paths([str(path)])
    assert all(d.code in CODES for d in result.diags.items)


# ---------------------------------------------------------------------- mutated definitions (issue 18)

_MUTATIONS = st.builds(Mutation, st.sampled_from(KINDS), st.integers(0, 20), st.floats(0, 1), st.floats(0, 1),
                       st.integers(0, len(HOSTILE) - 1))
#: Each example checks a whole definition folder: bounded below the profile's count in CI, all of it under `deep`.
_FOLDERS = settings(max_examples=max(10, settings().max_examples // 3))


def _check_never_raises(folder: Path) -> None:
    """`isf check` on ``folder``, as the command runs it (with the analyses): diagnostics with registered
    codes, rendered as text and JSON, and nothing raised."""
    result = check_paths([str(folder)], analyse=True)
    assert all(d.code in CODES for d in result.diags.items)
    render_text(result.diags.sorted(), result.sources)
    render_json(result.diags.sorted())


@_FOLDERS
@given(st.sampled_from(["isf2024", "isf2025"]), st.lists(_MUTATIONS, min_size=1, max_size=4))
def test_mutated_definitions_give_diagnostics_never_a_traceback(version: str, mutations: list[Mutation]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "defs" / version
        write_mutant(DEFINITIONS / version, folder, mutations)
        _check_never_raises(folder)
        assert not list(Path(tmp).rglob("PWNED"))


@_FOLDERS
@given(_SOURCES, st.lists(st.tuples(st.floats(0, 1), st.sampled_from(HOSTILE)), max_size=3))
def test_grammar_sentences_with_hostile_text_give_diagnostics_never_a_traceback(
        text: str, inserts: list[tuple[float, str]]) -> None:
    for at, hostile in inserts:
        cut = int(at * len(text))
        text = text[:cut] + hostile + text[cut:]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "gen"
        folder.mkdir()
        (folder / "g.isf").write_text(text, encoding="utf-8")
        _check_never_raises(folder)
