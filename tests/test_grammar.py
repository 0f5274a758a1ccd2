"""The grammar itself: LALR without terminal collisions, loaded from the installed package."""

from __future__ import annotations

from lark import Lark

from isfdsl.resources import grammar_text

from .conftest import ROOT


def test_grammar_builds_in_strict_mode() -> None:
    Lark(grammar_text(), parser="lalr", lexer="contextual", strict=True)


def test_packaged_grammar_is_the_repository_grammar() -> None:
    assert grammar_text() == (ROOT / "grammar" / "isf.lark").read_text(encoding="utf-8")
