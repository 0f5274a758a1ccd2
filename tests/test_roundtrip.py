"""Round trips: source -> AST -> canonical source -> the same AST, for every construct."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from isfdsl.diagnostics import Collector, Span
from isfdsl.syntax import ast
from isfdsl.syntax.format import format_module
from isfdsl.syntax.parse import parse_module

from .conftest import DEFINITIONS

EVERY_CONSTRUCT = r'''
# a comment the formatter keeps
version ISF 2025 "2025 PR1a" valid 2025-01-01 .. 2025-12-31 language en
import "other.isf"
codesystem ICD10 "ICD-10" syntax "[A-Z][0-9]{2}[0-9A-Z]{0,4}" ignore "."
codesystem NCSP case sensitive
enum Sex "Kjønn" { male = "1" "Mann" female = "2" unknown = "9" }
episode {
  sex: Sex "Kjønn" default unknown
  age: int 0..125 default 0
  los: int 0..
  weight: decimal
  note: text "fri \"tekst\"\n"
  emergency: bool default false
  admitted: date
  pdx: pair ICD10
  sdx: list pair ICD10
  procedures: list code NCSP
}
codelist amd of ICD10 "AMD" { H35.3* "macula" C81-C96 "lymphoma" H36.0 }
table dgcat of ICD10 -> text "category" { A00 : 06M01, "with space" E10.3 & H36.0 : 02M03 }
table excl of text -> code ICD10 { 05C01 : I21.1, I21.2 }
table big of ICD10 -> text from "big.tsv"
derive cat: text "category" = coalesce(first(combo(dgcat, pdx)), first(lookup(dgcat, pdx.second)), first(lookup(dgcat, pdx.first)))
derive mdc: text = if cat is present then prefix(cat, 2) else absent
derive props: list text = union(lookup(dgcat, pdx), lookup(dgcat, sdx))
derive fam: list text = [substr(v, 0, 2) + substr(v, 3) for v in props where not (char(v, 2) in {"C", "G"})]
derive hit: bool = any(v in props where starts_with(v, "98")) and not all(v in props where v == "x") or none(s in sdx where s.first in amd)
derive found: text = find(v in props where v != "y")
derive level: int = max([if char(v, 2) == "C" then 1 else 2 for v in props], 0) + count(codes(sdx)) - 0
derive sex_ok: bool = sex in {male, female} and (age + 1) * 1 > 0
derive chapter: text "by lists" = classify pdx.first by { amd -> "AMD", # a comment inside
  amd2 -> "x" } else (if age > 1 then "a" else absent)
derive bare: bool = pdx.first == H35.3 or pdx.first in {I10, 802U} and [pdx.first] != []
catalogue DRG "DRGs" { 470 "Ugrupperbar" points 0 flags error, technical 802U "Inj" points 0.12 trim 3 perday 0.1 parent 02 source "x" }
decision drg "DRG logic" for DRG policy first fallback 470 rc 8 {
  rule 000D000010 "no pdx" when pdx is absent and sex != male and age < 2 -> 470 rc 1
  rule 2 when props has "05X01" and props lacks "05X02" and props has amd and age in 0..17 and not hit and sex in {male, female} and mdc not in {"01"} and cat in amd -> 802U
  rule 3 "or" when pdx is absent or (age > 1 or sex == male) and cat in {O80.1, O81} or props has 802U -> 802U
  rule 999D002 -> 470 rc A
  post { rule rtc9 "code present" when return_code == "1" and pdx is present -> rc 9 rule g when group == "470" -> 470 }
}
payment "Betaling" { unit_price 52248 source "Regelverk 2024" share by sector { somatic 0.4 illustrative phv 0.4 source "x" } stay los }
'''.replace("(age + 1) * 1 > 0", "age + 1 > 0").replace(" - 0\n", "\n")


def strip_spans(node: object, spelling: bool = True) -> object:
    """The node with every span removed, for comparing trees of different layouts. Without ``spelling``,
    also without what only spells the same meaning differently (a set's `[a, b]` or `{a, b}`, which
    `isf fmt` rewrites)."""
    if isinstance(node, Span):
        return None
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        dropped = ("span", "out_span", "comments") if spelling else ("span", "out_span", "comments", "braces")
        return (type(node).__name__, *(strip_spans(getattr(node, f.name), spelling) for f in dataclasses.fields(node)
                                       if f.name not in dropped))
    if isinstance(node, tuple):
        return tuple(strip_spans(x, spelling) for x in node)
    return node


def roundtrip(text: str, name: str = "t.isf") -> None:
    diags = Collector()
    first = parse_module(text, name, diags)
    assert not diags.items, diags.items
    printed = format_module(first)
    second = parse_module(printed, name, diags)
    assert not diags.items, (diags.items, printed)
    assert strip_spans(first) == strip_spans(second)
    assert format_module(second) == printed, "formatting is not idempotent"
    assert [c.text for c in first.comments] == [c.text for c in second.comments]


def test_every_construct_round_trips() -> None:
    module = parse_module(EVERY_CONSTRUCT, "t.isf", Collector())
    kinds = {type(d) for d in module.items}
    assert kinds == {ast.Version, ast.Import, ast.CodeSystem, ast.EnumDecl, ast.Episode, ast.CodeList, ast.Table,
                     ast.Derive, ast.Catalogue, ast.Decision, ast.Payment}
    roundtrip(EVERY_CONSTRUCT)


@pytest.mark.parametrize("path", sorted(DEFINITIONS.rglob("*.isf")), ids=lambda p: str(p.relative_to(DEFINITIONS)))
def test_bundled_definitions_round_trip(path: Path) -> None:
    roundtrip(path.read_text(encoding="utf-8"), path.name)


def test_conditions_keep_their_grouping() -> None:
    text = ('version T 1 "t"\ndecision d for G policy first {\n'
            '  rule r when (a or b) and (c or d and e) or not f and (g) -> X\n}\n')
    roundtrip(text)
    printed = format_module(parse_module(text, "t", Collector()))
    assert "when (a or b) and (c or d and e) or not f and g -> X" in printed


def test_deprecated_list_syntax_of_a_set_is_rewritten_with_braces() -> None:
    text = 'version T 1 "t"\nderive x: bool = sex in [male, female] or [a] == b\n'
    printed = format_module(parse_module(text, "t", Collector()))
    assert "sex in {male, female} or [a] == b" in printed  # only the set after `in`
    roundtrip(printed)
    before, after = (parse_module(x, "t", Collector()) for x in (text, printed))
    assert strip_spans(before) != strip_spans(after) and strip_spans(before, False) == strip_spans(after, False)


def test_expression_precedence_survives_formatting() -> None:
    text = ('version T 1 "t"\nderive x: bool = not (a or b) and (c or d) and (p + q) == r + s\n'
            'derive y: bool = (if a then b else c) == d\n')
    roundtrip(text)
    printed = format_module(parse_module(text, "t", Collector()))
    assert "not (a or b) and (c or d)" in printed and "(if a then b else c) == d" in printed
