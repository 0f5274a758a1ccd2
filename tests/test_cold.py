"""What makes a case never seen before cheap (issue 19, item 1), in the code the compiler writes:
costly parts of a feature that read fewer attributes are hoisted into those attributes' remembered
stages (``isfdsl/emit/hoist.py``); an exclusion test against a table's values is one set test; a loop
that needs an element of an empty list is skipped; ``max`` of a union joins the lists. Each keeps the
interpreter's answers."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

from hypothesis import given, settings
from hypothesis import strategies as st

from isfdsl.commands.pipeline import build, check_paths, load_package
from isfdsl.emit.hoist import PREFIX, hoist
from isfdsl.ir.model import Program, lower
from isfdsl.runtime.codes import CodeTable, combine
from isfdsl.runtime.operations import intersect, minus
from isfdsl.testing import episodes

from .properties import check_invariants

PROGRAM = '''version ISF 2030 "cold cases" valid 2030-01-01 .. 2030-12-31
codesystem DX "diagnoses" syntax "[A-Z][0-9]{2}"
codesystem PX "procedures" syntax "[A-Z]{3}[0-9]{2}"
episode { pdx: code DX "pdx"  sdx: list code DX "sdx"  px: list code PX "px"  sex: int 1..2 "sex" }
table dxprop of DX -> text "diagnosis properties" { A00 : d1  A01 : d2, d1  B10 : d3  C20 : c1 }
table pxprop of PX -> text "procedure properties" { ABC01 : d1, p1  ABC02 : p2 }
table level of PX -> int "levels" { ABC01 : 2  ABC02 : 1 }
table excl of text -> code DX "exclusions" { c1 : A00, A01  c2 : B10 }
table cats of text -> text "categories in order" { c1 : d1  c2 : d3  x1 : d2 }
derive props: list text = union(lookup(pxprop, px), lookup(dxprop, pdx), lookup(dxprop, sdx))
derive first_props: list text = minus(lookup(dxprop, pdx), lookup(pxprop, px))
derive comps: list text = [c for c in lookup(dxprop, sdx) where starts_with(c, "c")]
derive pdx_codes: list code DX = [pdx]
derive active: list text = [c for c in comps where none(x in lookup(excl, c) where x in pdx_codes)]
derive included: text = first([r.key for r in entries(cats) where r.key in comps and r.value in props])
derive top: int = max(union(lookup(level, px), if sex == 2 then [3] else []), 0)
catalogue DRG "d" { G1 "one" points 1  G2 "two" points 2  G3 "three" points 3  G0 "none" points 0 }
decision drg "t" for DRG policy first fallback G0 {
  rule R1 when active has "c1" and top >= 2 -> G1
  rule R2 when included is present -> G2
  rule R3 when props has "d1" and first_props has "d2" -> G3
}
'''


def _built(tmp_path: Path, name: str, text: str) -> tuple[Program, Path, ModuleType, ModuleType]:
    """``text`` as the one file of a program folder ``name``: its lowered program, and the package
    built from it (no analysis), imported, with its ``_model`` module."""
    src = tmp_path / name
    src.mkdir()
    (src / f"{name}.isf").write_text(text, encoding="utf-8")
    checked = check_paths([str(src)])
    assert checked.ok, checked.diags.sorted()
    built = build(str(src), tmp_path / "gen" / name, analyse=False)
    assert built.package is not None
    package = load_package(built.package)
    return lower(checked.models[0]), built.package, package, sys.modules[f"{package.__name__}._model"]


def test_cold_case_code_keeps_the_interpreters_answers(tmp_path: Path) -> None:
    program, built, package, model = _built(tmp_path, "cold", PROGRAM)
    text = (built / "_model.py").read_text(encoding="utf-8")

    hoisted, hidden = hoist(program)
    # the look-ups of px, pdx and sdx inside props (first_props repeats two of them: shared) and the
    # look-up of px inside top (which reads sex as well)
    assert len(hidden) == 4 and all(name.startswith(PREFIX) for name in hidden)
    assert len(hoisted.derivations) == len(program.derivations) + 4
    # hoisted into the stage of their one attribute, remembered there
    assert "def S_px(" in text and "def S_pdx(" in text and "def S_sdx(" in text
    assert ".isdisjoint(" in text and "if f_comps and f_props else ()" in text and "max((*" in text
    # the stage of px is look-ups only: item by item, each item's answers remembered; that of sdx
    # has a loop (comps) as well: the whole list at once
    assert "def I_px(" in text and "R.combine(records, 2)" in text and "def I_sdx(" not in text
    # what evaluate returns is the program's attributes and features, without the hidden ones
    names = [a.name for a in program.attributes] + [d.name for d in program.derivations]
    assert len(model.evaluate({}, [])) == len(names)

    @settings(max_examples=200)
    @given(episodes(program))
    def same(episode: dict[str, object]) -> None:
        check_invariants(program, package, episode)

    same()
    for episode in ({"pdx": "A00", "sdx": ["C20"], "px": ["ABC01"], "sex": "2"},   # excluded by the pdx
                    {"pdx": "B10", "sdx": ["C20"], "px": ["ABC01"], "sex": "1"},   # active, level 2
                    {"pdx": "B10", "sdx": ["C20", "A00"], "px": [], "sex": "1"},   # included through d1
                    {"pdx": "A01", "sdx": [], "px": ["ABC02"], "sex": "2"}):
        check_invariants(program, package, episode)
    assert model.K_px and model.K_pdx and model.K_sdx and model.KI_px  # the parts' memories were used


CELLS = '''version ISF 2030 "cells" valid 2030-01-01 .. 2030-12-31
codesystem DX "diagnoses" syntax "[A-Z][0-9]{2}"
episode { pdx: code DX "pdx"  sdx: list code DX "sdx"  age: int 0..120 "age" }
table dxprop of DX -> text "diagnosis properties" { A00 : d1  A01 : d2, d1  B10 : d3 }
derive props: list text = union(lookup(dxprop, pdx), lookup(dxprop, sdx))
derive many: bool = count(sdx) >= 2
catalogue DRG "d" { G1 "one" points 1  G2 "two" points 2  G3 "three" points 3  G0 "none" points 0 }
decision first "t" for DRG policy first fallback G0 {
  rule R1 when props has "d3" and age >= 60 -> G1
  rule R2 when props has "d2" and many -> G2
  rule R3 when pdx == A00 -> G3
}
decision second "u" for DRG policy unique otherwise first {
  rule U1 when props has "d1" and not many -> G2
}
'''


def test_a_case_seen_again_takes_its_features_mask_from_the_cell(tmp_path: Path) -> None:
    """With the features remembered together, each decision table keeps, in its slot of the cell
    DERIVED keeps with them, the mask of rows those features allow; the attributes no feature reads
    (age) are still probed on every case. A case seen again (the same features, another age) and the
    table that another table falls back to (`otherwise`) each give the interpreter's answer."""
    program, built, package, model = _built(tmp_path, "cells", CELLS)
    assert model.TABLE_first.cell is not None and model.TABLE_second.cell is not None
    assert model.TABLE_first.cell[1] != model.TABLE_second.cell[1]
    episode = {"pdx": "B10", "sdx": ["A01"], "age": "70"}
    first = model.evaluate(episode, [])  # a combination met once is noted, not kept (R.remember_again)
    case = model.evaluate(episode, [])  # met again: kept in DERIVED
    assert case == first and model.DERIVED[case[:2]][-1] is case[-1] is not first[-1]  # keyed by (pdx, sdx)
    position = model.TABLE_first.cell[0]
    assert position == len(case) - 1 and case[position] == [None, None]
    for age in ("70", "30", "70", "", "x"):  # the same features: the cell is filled once, then read
        check_invariants(program, package, {**episode, "age": age})  # every table
    cell = model.evaluate(episode, [])[position]
    assert cell is case[position] and None not in cell
    assert package.group({**episode, "age": "70"}, table="first").group == "G1"
    assert package.group({**episode, "age": "30"}, table="first").group == "G0"  # the age probe still decides
    # a list not known (looked up with a default), one unhashable, one not a list: converted as before
    text = (built / "_model.py").read_text(encoding="utf-8")
    assert "got = V_sdx.get(tuple(raw) if raw.__class__ is list else raw, _MISSING)" in text
    for sdx in (["B10", "A00"], [["A01"]], "A01 B10", 7, None, []):
        check_invariants(program, package, {**episode, "sdx": sdx})

    @settings(max_examples=150)
    @given(episodes(program))
    def same(episode: dict[str, object]) -> None:
        check_invariants(program, package, episode)
        check_invariants(program, package, episode)  # again: through the cell

    same()


_ITEMS = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=8)


@given(_ITEMS, _ITEMS)
def test_minus_and_intersect_at_c_speed_are_the_plain_definitions(a: list[str], b: list[str]) -> None:
    """``minus``/``intersect`` filter and deduplicate at C speed: the elements of the first list not
    in (in) the second, each once, in order of first appearance — lists or tuples, empty or not."""
    want_minus = tuple(dict.fromkeys(x for x in a if x not in b))
    want_intersect = tuple(dict.fromkeys(x for x in a if x in b))
    for xs, ys in ((a, b), (tuple(a), tuple(b))):
        assert minus(xs, ys) == want_minus and intersect(xs, ys) == want_intersect
        assert isinstance(minus(xs, ys), tuple) and isinstance(intersect(xs, ys), tuple)


SHORTCUTS = '''version ISF 2030 "shortcuts" valid 2030-01-01 .. 2030-12-31
codesystem DX "diagnoses" syntax "[A-Z][0-9]{2}"
codesystem PX "procedures" syntax "[A-Z]{3}[0-9]{2}"
episode { pdx: code DX "pdx"  sdx: list code DX "sdx"  px: list code PX "px" }
table dxprop of DX -> text "diagnosis properties" { A00 : d1  A01 : d2, d1  B10 : 98x  C20 : d3 }
table pxprop of PX -> text "procedure properties" { ABC01 : d1, p1  ABC02 : p2 }
table alias of DX -> code DX "aliases" { A00 : B10 }
derive with_pdx: list code DX = union(sdx, lookup(alias, pdx))
derive without_pdx: list code DX = minus(sdx, lookup(alias, pdx))
derive n_with: int = count(with_pdx)
derive n_without: int = count(without_pdx)
derive props: list text = union(lookup(dxprop, pdx), lookup(pxprop, px), lookup(dxprop, sdx))
derive own: list text = minus(lookup(dxprop, pdx), lookup(pxprop, px))
derive cat_raw: text = first(lookup(dxprop, pdx))
derive cat: text = replace_prefix(cat_raw, "98", "12")
derive levels: list int = [if starts_with(c, "A") then 2 else 1 for c in sdx where c != pdx]
derive level: int = max(levels, 0)
catalogue DRG "d" { G1 "one" points 1  G2 "two" points 2  G3 "three" points 3  G4 "four" points 4
                    G5 "five" points 5  G0 "none" points 0 }
decision drg "t" for DRG policy first fallback G0 {
  rule R1 when props has "d1" and props has "p1" and own lacks "d2" -> G1
  rule R2 when n_with == 1 and n_without == 1 -> G2
  rule R3 when cat == "12x" and props lacks "p2" -> G3
  rule R4 when props has "d2" and props has "p2" and props has "d3" -> G4
  rule R5 when level == 2 -> G5
}
'''


def test_shortcuts_for_empty_lists_keep_the_interpreters_answers(tmp_path: Path) -> None:
    """A union or difference whose other lists are empty is its first list only when that list holds
    each element once (a look-up; not an attribute, which may repeat a code); a loop over an empty
    list is not stepped through; ``replace_prefix`` by constants is inline; a list tested by several
    ``has`` per row (columns) and ``lacks`` is dispatched from packed element contributions."""
    program, built, package, model = _built(tmp_path, "shortcuts", SHORTCUTS)
    text = (built / "_model.py").read_text(encoding="utf-8")
    assert "f_with_pdx: tuple[str, ...] = tuple(dict.fromkeys(" in text  # sdx may repeat: no shortcut
    assert "f_without_pdx: tuple[str, ...] = R.minus(" in text
    assert " if not (f_hoisted_" in text and " else f_hoisted_" in text  # the look-ups': shortcuts
    assert "'12' + f_cat_raw[2:] if f_cat_raw is not None and f_cat_raw.startswith('98') else f_cat_raw" in text
    assert "if v_sdx else ()" in text
    table = model.TABLE_drg
    indexes = [index for _, _, index in table.all_probes] + [m for _, _, joint in table.all_joint for m in joint.members]
    props = next(index for index in indexes if len(getattr(index, "columns", ())) == 3)  # has d2, p2, d3
    assert props.negated and props.width == len(table.rows)
    for episode in ({"pdx": "A01", "sdx": ["B10", "B10"], "px": []},           # a repeated code: counted once
                    {"pdx": "A00", "sdx": ["B10", "B10", "A01"], "px": []},
                    {"pdx": "A00", "sdx": ["A00", "A01"], "px": ["ABC01"]},
                    {"pdx": "B10", "sdx": [], "px": ["ABC01"]},
                    {"pdx": "A01", "sdx": ["C20"], "px": ["ABC02"]},
                    {"pdx": "B10", "sdx": ["A01", "A01"], "px": []}):
        check_invariants(program, package, episode)

    @settings(max_examples=300)
    @given(episodes(program))
    def same(episode: dict[str, object]) -> None:
        check_invariants(program, package, episode)

    same()


_CODES = st.sampled_from(["A00", "A01", "B10", "C20", "Z99"])


@given(st.lists(st.tuples(_CODES, st.none() | _CODES), max_size=6))
def test_a_lists_look_ups_are_its_items_look_ups_combined(pairs: list[tuple[str, str | None]]) -> None:
    """``combine`` of the items' answers (each a tuple of look-ups) is the whole list looked up: what a
    stage computed item by item (``I_*``) gives what it gave computed over the list at once."""
    table = CodeTable("t", {"A00": ((None, "x"), (None, "y")), "A01": ((None, "y"), ("B10", "z")),
                            "B10": ((None, "w"),), "C20": (("A00", "v"), (None, "x"))})
    items = [(table.pair(p), table.many_texts(tuple(c for c in p if c is not None))) for p in pairs]
    assert combine(items, 2) == (table.many_pairs(pairs), table.many_texts(tuple(dict.fromkeys(
        c for p in pairs for c in p if c is not None))))
