"""Fuzzing the parser: grammar-generated and mutated inputs give diagnostics, never exceptions."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from isfdsl.commands.pipeline import check_paths
from isfdsl.diagnostics import CODES, Collector
from isfdsl.resources import grammar_text
from isfdsl.syntax.parse import parse_module

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
    import tempfile
    from pathlib import Path

    cut = at % (len(text) + 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.isf"
        path.write_text(text[:cut] + insert + text[cut:], encoding="utf-8")
        result = check_paths([str(path)])
    assert all(d.code in CODES for d in result.diags.items)
